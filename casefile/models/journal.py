"""What happened to a household (the timeline's journal) and who touched protected data (access log)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casefile.models.base import Base, utcnow


class CaseEvent(Base):
    """One operation on a household's records, with the process instance it came from, if any."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_household_order", "household_id", "occurred_on", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    enrollment_id: Mapped[int | None] = mapped_column(Integer)
    # The business date (a visit's date, a lease's signature), not the moment it was typed in.
    occurred_on: Mapped[date]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    operation: Mapped[str] = mapped_column(String(60))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(150))
    process_id: Mapped[str | None] = mapped_column(String(200))
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)


class DataAccessEvent(Base):
    """A read, write or export of restricted or special-category data: append-only (who, what, why)."""

    __tablename__ = "data_access_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(150))
    organisation: Mapped[str | None] = mapped_column(String(100))
    roles: Mapped[list[Any]] = mapped_column(default=list)
    # read, write, export, pseudonymise
    action: Mapped[str] = mapped_column(String(20))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int | None] = mapped_column(Integer)
    household_id: Mapped[int | None] = mapped_column(Integer, index=True)
    data_class: Mapped[str] = mapped_column(String(30))
    purpose: Mapped[str] = mapped_column(Text)
    fields: Mapped[list[Any]] = mapped_column(default=list)
