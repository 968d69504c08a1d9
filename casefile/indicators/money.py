"""Money indicators (domain.md §5): rent the partner pays late, contributions the households owe.

Both reuse casefile.arrears, so an indicator never disagrees with the arrears shown on a case file.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile.arrears import LATE_RENT_DAYS, compute_arrears, settlement_dates
from casefile.indicators.base import Indicator, Period, enrollments, share
from casefile.models import (
    ContributionCharge,
    ContributionPayment,
    LeaseContract,
    OccupancyAgreement,
    Placement,
    RentCharge,
    RentPayment,
    RepaymentPlan,
)


def _lease_ids(session: Session, period: Period) -> list[int]:
    # Rent is owed by the lease-holding partner: the organisation scope is the lease's tenant.
    query = select(LeaseContract.id).order_by(LeaseContract.id)
    if period.organisation_id is not None:
        query = query.where(LeaseContract.tenant_org_id == period.organisation_id)
    return list(session.scalars(query))


def _charges_and_payments(session: Session, charge_model: Any, payment_model: Any, key: str, owner_id: int,
                          paid_by: date) -> tuple[list[tuple[date, int]], list[tuple[date, int]]]:
    charges = session.execute(select(charge_model.due_date, charge_model.amount_cents)
                              .where(getattr(charge_model, key) == owner_id)
                              .order_by(charge_model.due_date, charge_model.id)).all()
    payments = session.execute(select(payment_model.paid_on, payment_model.amount_cents)
                               .where(getattr(payment_model, key) == owner_id, payment_model.paid_on <= paid_by)
                               .order_by(payment_model.paid_on, payment_model.id)).all()
    return list(charges), list(payments)


def rent_paid_late(session: Session, period: Period) -> Indicator:
    """On-time rate of the rent charges due in the period, and how many were paid (or are unpaid at period
    end) more than 20 days late. Payments after the period end are ignored, so the figure does not change
    when it is run again later."""
    due = on_time = late = 0
    for lease_id in _lease_ids(session, period):
        charges, payments = _charges_and_payments(session, RentCharge, RentPayment, "lease_id", lease_id,
                                                  period.end)
        for (due_date, _), settled in zip(charges, settlement_dates(charges, payments), strict=True):
            if not period.contains(due_date):
                continue
            due += 1
            on_time += settled is not None and settled <= due_date
            days_late = ((settled or period.end) - due_date).days
            late += days_late > LATE_RENT_DAYS
    return Indicator("rent_paid_late", "Canoni pagati in ritardo (ente → proprietario)",
                     "Quota dei canoni in scadenza nel periodo pagati entro la scadenza; numero di canoni pagati "
                     f"oltre {LATE_RENT_DAYS} giorni dopo la scadenza o ancora non pagati oltre tale termine "
                     "alla fine del periodo (deve essere 0).", "share", share(on_time, due), on_time, due,
                     details={"late_over_20_days": late})


def _agreements_by_enrollment(session: Session, period: Period) -> dict[int, list[int]]:
    ids = [e.id for e in enrollments(session, period)]
    if not ids:
        return {}
    rows = session.execute(select(Placement.enrollment_id, OccupancyAgreement.id)
                           .join(OccupancyAgreement, OccupancyAgreement.placement_id == Placement.id)
                           .where(Placement.enrollment_id.in_(ids)).order_by(OccupancyAgreement.id))
    grouped: dict[int, list[int]] = defaultdict(list)
    for enrollment_id, agreement_id in rows:
        grouped[enrollment_id].append(agreement_id)
    return grouped


def contribution_arrears(session: Session, period: Period) -> Indicator:
    """Households' contribution arrears at period end: amount, share of what was billed, how many households
    are more than one and two monthly contributions behind, and repayment plans agreed in the period."""
    outstanding = billed = over_one = over_two = 0
    agreement_ids: list[int] = []
    for ids in _agreements_by_enrollment(session, period).values():
        months = 0
        for agreement_id in ids:
            charges, payments = _charges_and_payments(session, ContributionCharge, ContributionPayment,
                                                      "agreement_id", agreement_id, period.end)
            arrears = compute_arrears(charges, payments, period.end)
            outstanding += arrears.amount_cents
            months += arrears.months_unpaid
            # As in casefile.arrears, a charge falls due the day after its due date.
            billed += sum(amount for due_date, amount in charges if due_date < period.end)
        over_one += months > 1
        over_two += months > 2
        agreement_ids.extend(ids)
    plans = 0
    if agreement_ids:
        plans = len(session.scalars(select(RepaymentPlan.id).where(
            RepaymentPlan.agreement_id.in_(agreement_ids), RepaymentPlan.agreed_on >= period.start,
            RepaymentPlan.agreed_on <= period.end)).all())
    return Indicator("contribution_arrears", "Morosità sulle quote di compartecipazione",
                     "Importo delle quote scadute e non pagate alla fine del periodo (centesimi) e quota sul "
                     "fatturato scaduto; nuclei con più di una e più di due mensilità non pagate; piani di "
                     "rientro concordati nel periodo.", "cents", outstanding,
                     details={"billed_cents": billed, "share_of_billed": share(outstanding, billed),
                              "households_over_1_month": over_one, "households_over_2_months": over_two,
                              "repayment_plans": plans})
