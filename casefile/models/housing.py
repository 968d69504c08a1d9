"""Housing: landlords, units, leases held by a partner, placements and occupancy agreements."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casefile.models.base import Base, utcnow


class Landlord(Base):
    """A *proprietario*: deals only with the lease-holding partner, never sees case data."""

    __tablename__ = "landlord"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # persona, societa, ente
    kind: Mapped[str] = mapped_column(String(20))
    tax_code: Mapped[str | None] = mapped_column(String(16))
    # Contact details are kept by the lease-holding partner only (domain.md §4).
    contact: Mapped[str | None] = mapped_column(Text)
    managed_by_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)


class HousingUnit(Base):
    """A flat found for the programme, with its cadastral and physical description."""

    __tablename__ = "housing_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(300))
    circoscrizione: Mapped[str | None] = mapped_column(String(40))
    cadastral_ref: Mapped[str | None] = mapped_column(String(100))
    cadastral_category: Mapped[str | None] = mapped_column(String(10))
    sqm: Mapped[int | None]
    rooms: Mapped[int]
    floor: Mapped[int | None]
    lift: Mapped[bool] = mapped_column(default=False)
    furnished: Mapped[bool] = mapped_column(default=False)
    ape_class: Mapped[str | None] = mapped_column(String(5))
    availability_date: Mapped[date | None]
    # co_progettazione, locare, mercato_privato, erp_provvisoria, altro_ente
    source: Mapped[str] = mapped_column(String(30))
    landlord_id: Mapped[int | None] = mapped_column(ForeignKey("landlord.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LeaseContract(Base):
    """A lease whose tenant of record is the lease-holding partner, which pays the rent."""

    __tablename__ = "lease_contract"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("housing_unit.id"), index=True)
    landlord_id: Mapped[int] = mapped_column(ForeignKey("landlord.id"), index=True)
    tenant_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # 4+4, 3+2, transitorio, art42, comodato
    lease_type: Mapped[str] = mapped_column(String(20))
    signed_on: Mapped[date]
    start_date: Mapped[date]
    first_expiry: Mapped[date]
    notice_period_months: Mapped[int] = mapped_column(default=6)
    monthly_rent_cents: Mapped[int]
    service_charges_cents: Mapped[int] = mapped_column(default=0)
    rent_due_day: Mapped[int]
    deposit_cents: Mapped[int] = mapped_column(default=0)
    sublet_clause: Mapped[bool] = mapped_column(default=False)
    cedolare_secca: Mapped[bool] = mapped_column(default=False)
    registration_date: Mapped[date | None]
    registration_code: Mapped[str | None] = mapped_column(String(60))
    # attivo, in_disdetta, scaduto, risolto, volturato
    status: Mapped[str] = mapped_column(String(20), default="attivo")
    ended_on: Mapped[date | None]

    unit: Mapped[HousingUnit] = relationship(lazy="joined")


class Placement(Base):
    """A household living in a unit over a period; it may move without re-enrolling."""

    __tablename__ = "placement"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollment.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("housing_unit.id"), index=True)
    lease_id: Mapped[int] = mapped_column(ForeignKey("lease_contract.id"), index=True)
    start_date: Mapped[date]
    keys_handed_over_on: Mapped[date | None]
    keys_count: Mapped[int | None]
    move_in_date: Mapped[date | None]
    end_date: Mapped[date | None]
    end_reason: Mapped[str | None] = mapped_column(String(60))

    agreement: Mapped[OccupancyAgreement | None] = relationship(back_populates="placement", uselist=False)
    unit: Mapped[HousingUnit] = relationship(lazy="joined")


class OccupancyAgreement(Base):
    """How the household occupies the partner's unit, and the monthly contribution it pays."""

    __tablename__ = "occupancy_agreement"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id"), unique=True)
    # sublocazione, ospitalita, comodato
    kind: Mapped[str] = mapped_column(String(20))
    signed_on: Mapped[date]
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    monthly_contribution_cents: Mapped[int]
    contribution_due_day: Mapped[int] = mapped_column(default=5)
    house_rules_ack: Mapped[bool] = mapped_column(default=False)

    placement: Mapped[Placement] = relationship(back_populates="agreement")
