"""Arrears, derived from charges and payments (never stored), so that they can never disagree with them.

Payments are applied to charges oldest-first (FIFO), whatever the charge a payer had in mind: this is
how Italian rent accounting imputes a payment without a declared purpose (c.c. art. 1193), and it keeps
the figures reproducible from the rows alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile.models import ContributionCharge, ContributionPayment, RentCharge, RentPayment

# Rent arrears become grounds for termination after 20 days (L. 392/78 art. 5).
LATE_RENT_DAYS = 20


@dataclass(frozen=True)
class Arrears:
    """What is overdue on a day: the amount, the oldest unpaid due date, and how far behind it is."""

    amount_cents: int
    oldest_due: date | None
    days_overdue: int
    months_unpaid: int

    def __bool__(self) -> bool:
        return self.amount_cents > 0


NO_ARREARS = Arrears(0, None, 0, 0)


def _oldest_first(charges: Iterable[tuple[date, int]]) -> list[tuple[date, int]]:
    # sorted() is stable: charges due the same day keep the order they were given in.
    return sorted(charges, key=lambda charge: charge[0])


def compute_arrears(charges: Iterable[tuple[date, int]], payments: Iterable[tuple[date, int]],
                    as_of: date) -> Arrears:
    """Arrears on ``as_of`` of ``charges`` (due_date, cents) after ``payments`` (paid_on, cents).

    Payments made by ``as_of`` pay charges oldest-first, also charges not yet due (payment in advance);
    a charge is overdue when due before ``as_of`` and not fully paid. Credit is not arrears.
    """
    available = sum(amount for paid_on, amount in payments if paid_on <= as_of)
    unpaid: list[tuple[date, int]] = []
    for due_date, amount in _oldest_first(charges):
        applied = min(available, amount)
        available -= applied
        if amount - applied > 0 and due_date < as_of:
            unpaid.append((due_date, amount - applied))
    if not unpaid:
        return NO_ARREARS
    oldest_due = unpaid[0][0]
    return Arrears(sum(amount for _, amount in unpaid), oldest_due, (as_of - oldest_due).days, len(unpaid))


def settlement_dates(charges: Sequence[tuple[date, int]],
                     payments: Iterable[tuple[date, int]]) -> list[date | None]:
    """For each charge (in the order given), the date of the payment that completed it under FIFO, or None."""
    order = sorted(range(len(charges)), key=lambda index: charges[index][0])
    settled: list[date | None] = [None] * len(charges)
    remaining = [charges[index][1] for index in order]
    position = 0
    for paid_on, amount in sorted(payments, key=lambda payment: payment[0]):
        while amount > 0 and position < len(order):
            applied = min(amount, remaining[position])
            amount -= applied
            remaining[position] -= applied
            if remaining[position] == 0:
                settled[order[position]] = paid_on
                position += 1
    # What is left of the payments after the last charge is credit: it settles nothing yet.
    return settled


def _rent_rows(session: Session, lease_id: int) -> tuple[list[RentCharge], list[tuple[date, int]]]:
    charges = session.scalars(select(RentCharge).where(RentCharge.lease_id == lease_id)
                              .order_by(RentCharge.due_date, RentCharge.period, RentCharge.id)).all()
    payments = session.execute(select(RentPayment.paid_on, RentPayment.amount_cents)
                               .where(RentPayment.lease_id == lease_id)
                               .order_by(RentPayment.paid_on, RentPayment.id)).all()
    return list(charges), [(row.paid_on, row.amount_cents) for row in payments]


def rent_arrears(session: Session, lease_id: int, as_of: date) -> Arrears:
    """What the lease-holding partner owes the landlord under a lease on ``as_of``."""
    charges, payments = _rent_rows(session, lease_id)
    return compute_arrears([(c.due_date, c.amount_cents) for c in charges], payments, as_of)


def contribution_arrears(session: Session, agreement_id: int, as_of: date) -> Arrears:
    """What the household owes the partner under an occupancy agreement on ``as_of``."""
    charges = session.execute(select(ContributionCharge.due_date, ContributionCharge.amount_cents)
                              .where(ContributionCharge.agreement_id == agreement_id)
                              .order_by(ContributionCharge.due_date, ContributionCharge.id)).all()
    payments = session.execute(select(ContributionPayment.paid_on, ContributionPayment.amount_cents)
                               .where(ContributionPayment.agreement_id == agreement_id)
                               .order_by(ContributionPayment.paid_on, ContributionPayment.id)).all()
    return compute_arrears([(row.due_date, row.amount_cents) for row in charges],
                           [(row.paid_on, row.amount_cents) for row in payments], as_of)


@dataclass(frozen=True)
class LatePayment:
    """A rent charge settled more than the allowed number of days after it fell due."""

    charge_id: int
    period: date
    due_date: date
    paid_on: date
    days_late: int


def late_rent_payments(session: Session, lease_id: int, threshold_days: int = LATE_RENT_DAYS) -> list[LatePayment]:
    """The rent charges of a lease settled (FIFO) more than ``threshold_days`` after their due date.

    Charges not settled yet are arrears, not late payments: see :func:`rent_arrears`.
    """
    charges, payments = _rent_rows(session, lease_id)
    settled = settlement_dates([(c.due_date, c.amount_cents) for c in charges], payments)
    late = []
    for charge, paid_on in zip(charges, settled, strict=True):
        if paid_on is not None and (paid_on - charge.due_date).days > threshold_days:
            late.append(LatePayment(charge.id, charge.period, charge.due_date, paid_on,
                                    (paid_on - charge.due_date).days))
    return late
