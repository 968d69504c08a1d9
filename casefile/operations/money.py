"""Money operations: rent the partner owes the landlord, contributions the household owes the partner.

Only charges, payments and repayment plans are written; arrears are derived (casefile.arrears).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from marshmallow import Schema, fields, validate, validates_schema
from sqlalchemy import select

from casefile.arrears import contribution_arrears, rent_arrears
from casefile.codes import ARREARS_CAUSES, PAYMENT_METHODS
from casefile.errors import RuleViolationError
from casefile.models import (
    ContributionCharge,
    ContributionPayment,
    LeaseContract,
    OccupancyAgreement,
    RentCharge,
    RentPayment,
    RepaymentPlan,
)
from casefile.operations.base import OperationContext, operation
from casefile.operations.fields import Code, Money
from casefile.operations.households import raise_field
from casefile.operations.housing import journal_lease, journal_placement, lease_end

_MONTH = re.compile(r"^(\d{4})-(\d{2})(-\d{2})?$")


class Period(fields.Field[date]):
    """A month, given as "2026-03", as any date in it ("2026-03-15") or a date; loaded as its first day."""

    default_error_messages = {"invalid": "Not a valid month (YYYY-MM)."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if isinstance(value, date):
            return date(value.year, value.month, 1)
        match = _MONTH.match(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise self.make_error("invalid")
        try:
            day = date.fromisoformat(value.strip()) if match.group(3) else date(int(match[1]), int(match[2]), 1)
        except ValueError:
            raise self.make_error("invalid") from None
        return day.replace(day=1)

    def _serialize(self, value: date | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.strftime("%Y-%m")


def positive_money(**kwargs: Any) -> Money:
    """A euro amount above zero."""
    return Money(validate=validate.Range(min=1, error="Must be more than 0."), **kwargs)


def check_period(period: date, start: date, end: date | None, field: str = "period") -> None:
    """Refuse a month outside [start, end] (end None: open-ended)."""
    if period < start.replace(day=1) or (end is not None and period > end.replace(day=1)):
        until = end.isoformat() if end is not None else "open-ended"
        raise RuleViolationError(f"{period.strftime('%Y-%m')} is outside {start.isoformat()}..{until}", field=field)


def agreement_end(agreement: OccupancyAgreement) -> date | None:
    """The last day of an agreement: its end date, or earlier if the household left the unit."""
    ends = [day for day in (agreement.end_date, agreement.placement.end_date) if day is not None]
    return min(ends) if ends else None


class IssueRentChargeSchema(Schema):
    """One month's rent of a lease."""

    lease_id = fields.Integer(required=True)
    period = Period(required=True)


@operation("issue_rent_charge", IssueRentChargeSchema, record_type="rent")
def issue_rent_charge(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Charge a month's rent and service charges of a lease."""
    lease: LeaseContract = op.get(LeaseContract, data["lease_id"], "lease_id")
    period = data["period"]
    check_period(period, lease.start_date, lease_end(lease))
    if op.session.scalars(select(RentCharge.id).where(RentCharge.lease_id == lease.id,
                                                      RentCharge.period == period)).first() is not None:
        raise RuleViolationError(f"the rent of {period.strftime('%Y-%m')} is already charged", field="period")
    amount = lease.monthly_rent_cents + lease.service_charges_cents
    if amount == 0:
        raise RuleViolationError(f"lease {lease.id} has no rent or service charges", field="lease_id")
    charge = op.add(RentCharge(lease_id=lease.id, period=period, due_date=period.replace(day=lease.rent_due_day),
                               amount_cents=amount))
    journal_lease(op, lease, charge.due_date, f"rent {period.strftime('%Y-%m')} charged", charge)
    return {"charge_id": charge.id, "period": period.isoformat(), "due_date": charge.due_date.isoformat(),
            "amount_cents": amount}


class RecordRentPaymentSchema(Schema):
    """A payment of rent to the landlord."""

    lease_id = fields.Integer(required=True)
    paid_on = fields.Date(required=True)
    amount = positive_money(required=True)
    reference = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))


@operation("record_rent_payment", RecordRentPaymentSchema, record_type="rent")
def record_rent_payment(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record a rent payment to the landlord (it pays the oldest charges first)."""
    lease: LeaseContract = op.get(LeaseContract, data["lease_id"], "lease_id")
    payment = op.add(RentPayment(lease_id=lease.id, paid_on=data["paid_on"], amount_cents=data["amount"],
                                 reference=data["reference"]))
    journal_lease(op, lease, payment.paid_on, "rent paid", payment)
    return {"payment_id": payment.id, "arrears_cents": rent_arrears(op.session, lease.id, payment.paid_on).amount_cents}


class IssueContributionChargeSchema(Schema):
    """One month's contribution of a household."""

    agreement_id = fields.Integer(required=True)
    period = Period(required=True)


@operation("issue_contribution_charge", IssueContributionChargeSchema, record_type="contribution")
def issue_contribution_charge(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Charge a month's contribution under an occupancy agreement."""
    agreement: OccupancyAgreement = op.get(OccupancyAgreement, data["agreement_id"], "agreement_id")
    period = data["period"]
    if agreement.monthly_contribution_cents == 0:
        raise RuleViolationError(f"agreement {agreement.id} asks for no contribution", field="agreement_id")
    check_period(period, agreement.start_date, agreement_end(agreement))
    if op.session.scalars(select(ContributionCharge.id).where(
            ContributionCharge.agreement_id == agreement.id, ContributionCharge.period == period)).first() is not None:
        raise RuleViolationError(f"the contribution of {period.strftime('%Y-%m')} is already charged",
                                 field="period")
    charge = op.add(ContributionCharge(agreement_id=agreement.id, period=period,
                                       due_date=period.replace(day=agreement.contribution_due_day),
                                       amount_cents=agreement.monthly_contribution_cents))
    journal_placement(op, agreement.placement, charge.due_date, f"contribution {period.strftime('%Y-%m')} charged",
                      charge)
    return {"charge_id": charge.id, "period": period.isoformat(), "due_date": charge.due_date.isoformat(),
            "amount_cents": charge.amount_cents}


class RecordContributionPaymentSchema(Schema):
    """A payment by the household to the partner."""

    agreement_id = fields.Integer(required=True)
    paid_on = fields.Date(required=True)
    amount = positive_money(required=True)
    method = Code(PAYMENT_METHODS, required=True)


@operation("record_contribution_payment", RecordContributionPaymentSchema, record_type="contribution")
def record_contribution_payment(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record a household's contribution payment (it pays the oldest charges first)."""
    agreement: OccupancyAgreement = op.get(OccupancyAgreement, data["agreement_id"], "agreement_id")
    payment = op.add(ContributionPayment(agreement_id=agreement.id, paid_on=data["paid_on"],
                                         amount_cents=data["amount"], method=data["method"]))
    journal_placement(op, agreement.placement, payment.paid_on, "contribution paid", payment)
    arrears = contribution_arrears(op.session, agreement.id, payment.paid_on)
    return {"payment_id": payment.id, "arrears_cents": arrears.amount_cents}


class AgreeRepaymentPlanSchema(Schema):
    """A plan for the household to repay its contribution arrears in instalments."""

    agreement_id = fields.Integer(required=True)
    agreed_on = fields.Date(required=True)
    cause = Code(ARREARS_CAUSES, required=True)
    instalment = positive_money(required=True)
    first_due = fields.Date(required=True)
    notes = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))

    @validates_schema
    def first_due_after_agreement(self, data: dict[str, Any], **_: Any) -> None:
        if data["first_due"] < data["agreed_on"]:
            raise_field("first_due", "The first instalment cannot be due before the plan is agreed.")


@operation("agree_repayment_plan", AgreeRepaymentPlanSchema, record_type="repayment_plan")
def agree_repayment_plan(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Agree a repayment plan for the household's contribution arrears."""
    agreement: OccupancyAgreement = op.get(OccupancyAgreement, data["agreement_id"], "agreement_id")
    arrears = contribution_arrears(op.session, agreement.id, data["agreed_on"])
    if not arrears:
        raise RuleViolationError(f"agreement {agreement.id} has no arrears on {data['agreed_on'].isoformat()}",
                                 field="agreement_id")
    if data["instalment"] > arrears.amount_cents:
        raise RuleViolationError("the instalment is larger than the arrears", field="instalment")
    plan = op.add(RepaymentPlan(agreement_id=agreement.id, agreed_on=data["agreed_on"], cause=data["cause"],
                                total_cents=arrears.amount_cents, instalment_cents=data["instalment"],
                                first_due=data["first_due"], notes=data["notes"]))
    journal_placement(op, agreement.placement, plan.agreed_on, "repayment plan agreed", plan)
    return {"plan_id": plan.id, "total_cents": plan.total_cents,
            "instalments": -(-plan.total_cents // plan.instalment_cents),
            "oldest_due": arrears.oldest_due.isoformat() if arrears.oldest_due else None}
