"""Money: rent the partner owes the landlord, contributions the household owes the partner.

Only charges and payments are stored; arrears are derived from them (casefile.arrears).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casefile.models.base import Base, utcnow


class RentCharge(Base):
    """One month's rent due from the lease-holding partner to the landlord."""

    __tablename__ = "rent_charge"
    __table_args__ = (UniqueConstraint("lease_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lease_id: Mapped[int] = mapped_column(ForeignKey("lease_contract.id"), index=True)
    # The first day of the month charged.
    period: Mapped[date]
    due_date: Mapped[date]
    amount_cents: Mapped[int]


class RentPayment(Base):
    """A payment of rent to the landlord (applied to the oldest charges first)."""

    __tablename__ = "rent_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    lease_id: Mapped[int] = mapped_column(ForeignKey("lease_contract.id"), index=True)
    paid_on: Mapped[date]
    amount_cents: Mapped[int]
    reference: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContributionCharge(Base):
    """One month's contribution due from the household under its occupancy agreement."""

    __tablename__ = "contribution_charge"
    __table_args__ = (UniqueConstraint("agreement_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("occupancy_agreement.id"), index=True)
    period: Mapped[date]
    due_date: Mapped[date]
    amount_cents: Mapped[int]


class ContributionPayment(Base):
    """A payment by the household (applied to the oldest contribution charges first)."""

    __tablename__ = "contribution_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("occupancy_agreement.id"), index=True)
    paid_on: Mapped[date]
    amount_cents: Mapped[int]
    method: Mapped[str | None] = mapped_column(String(30))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class RepaymentPlan(Base):
    """An agreed plan to repay the household's contribution arrears in instalments."""

    __tablename__ = "repayment_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("occupancy_agreement.id"), index=True)
    agreed_on: Mapped[date]
    # incolpevole_*, colpevole, errore_amministrativo (domain.md §3.3 step 7)
    cause: Mapped[str] = mapped_column(String(40))
    total_cents: Mapped[int]
    instalment_cents: Mapped[int]
    first_due: Mapped[date]
    notes: Mapped[str | None] = mapped_column(Text)
