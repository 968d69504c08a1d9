"""Households and the people in them; special-category data kept in a table of its own."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casefile.models.base import Base, utcnow


class Household(Base):
    """A *nucleo familiare*: the unit the programme accompanies, whose members change over time."""

    __tablename__ = "household"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Human-readable, stable and free of personal data: "NUC-2026-0007".
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # The partner organisation that manages the case (its staff see it; domain.md §6).
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    pseudonymised_at: Mapped[datetime | None]

    memberships: Mapped[list[HouseholdMembership]] = relationship(
        back_populates="household", order_by="HouseholdMembership.id")


class Person(Base):
    """Someone in a household. Ordinary personal data only: health lives in PersonSensitive."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    codice_fiscale: Mapped[str | None] = mapped_column(String(16), unique=True)
    birth_date: Mapped[date | None]
    sex: Mapped[str | None] = mapped_column(String(20))
    citizenship: Mapped[str | None] = mapped_column(String(60))
    residence_status: Mapped[str | None] = mapped_column(String(30))
    permit_type: Mapped[str | None] = mapped_column(String(60))
    permit_expiry: Mapped[date | None]
    language: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sensitive: Mapped[PersonSensitive | None] = relationship(back_populates="person", uselist=False)


class HouseholdMembership(Base):
    """A person's place in a household over a period (composition changes without losing history)."""

    __tablename__ = "household_membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    # HMIS 3.15: 1 head of household, 2 child, 3 spouse/partner, 4 other relative, 5 unrelated.
    relationship_to_hoh: Mapped[int]
    is_hoh: Mapped[bool] = mapped_column(default=False)
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]

    household: Mapped[Household] = relationship(back_populates="memberships")
    person: Mapped[Person] = relationship(lazy="joined")


class PersonSensitive(Base):
    """GDPR art. 9 special-category data of one person: read and written only through the access policy."""

    __tablename__ = "person_sensitive"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True)
    disability: Mapped[bool | None]
    chronic_condition: Mapped[str | None] = mapped_column(Text)
    mental_health_service: Mapped[bool | None]
    addiction_service: Mapped[bool | None]
    dv_survivor: Mapped[bool | None]
    pregnancy: Mapped[bool | None]
    notes: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(back_populates="sensitive")


class PrivacyNotice(Base):
    """The GDPR art. 13 notice given to a person, in which language and by whom."""

    __tablename__ = "privacy_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    given_at: Mapped[datetime]
    language: Mapped[str] = mapped_column(String(40))
    document_ref: Mapped[str | None] = mapped_column(String(200))
    interpreter_used: Mapped[bool] = mapped_column(default=False)
    given_by: Mapped[str | None] = mapped_column(String(150))


class Consent(Base):
    """Consent to an optional purpose (photos, sharing with an employer…); never the basis of the case."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(60))
    legal_basis: Mapped[str] = mapped_column(String(60), default="consenso")
    given_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
    document_ref: Mapped[str | None] = mapped_column(String(200))
