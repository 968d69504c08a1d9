"""Accompaniment: visits, home support, work inclusion, incidents, mediation, exit and follow-ups."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casefile.models.base import Base


class MonitoringVisit(Base):
    """A home visit or contact, with the condition found and the risk level that sets the cadence."""

    __tablename__ = "monitoring_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollment.id"), index=True)
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placement.id"), index=True)
    visit_date: Mapped[date]
    # domiciliare, ufficio, telefonica, accompagnamento_esterno
    mode: Mapped[str] = mapped_column(String(30))
    # buono, discreto, critico
    housing_condition: Mapped[str | None] = mapped_column(String(20))
    # basso, medio, alto
    risk_level: Mapped[str] = mapped_column(String(10))
    checklist: Mapped[dict[str, Any]] = mapped_column(default=dict)
    issues: Mapped[str | None] = mapped_column(Text)
    wellbeing_notes: Mapped[str | None] = mapped_column(Text)
    next_visit_due: Mapped[date | None]
    done_by: Mapped[str | None] = mapped_column(String(150))


class SupportActivity(Base):
    """A home-support session (*sostegno domiciliare*, Nomenclatore F2)."""

    __tablename__ = "support_activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollment.id"), index=True)
    activity_date: Mapped[date]
    kind: Mapped[str] = mapped_column(String(40))
    duration_min: Mapped[int]
    notes: Mapped[str | None] = mapped_column(Text)
    done_by: Mapped[str | None] = mapped_column(String(150))


class WorkInclusionActivity(Base):
    """A step towards work for one adult: guidance, training, traineeship, job search, hiring."""

    __tablename__ = "work_inclusion_activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollment.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    provider: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    hours_per_week: Mapped[int | None]
    # in_corso, completato, interrotto, assunto_td, assunto_ti
    outcome: Mapped[str] = mapped_column(String(20), default="in_corso")


class CaseIncident(Base):
    """A critical incident (violence, serious damage, hospitalisation, arrest) to escalate within 24 h."""

    __tablename__ = "case_incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollment.id"), index=True)
    occurred_on: Mapped[date]
    kind: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[str | None] = mapped_column(String(150))


class MediationCase(Base):
    """A conflict with a landlord, neighbours or inside the household, and how it ended."""

    __tablename__ = "mediation_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollment.id"), index=True)
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placement.id"), index=True)
    opened_on: Mapped[date]
    reported_by: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str | None] = mapped_column(String(30))
    conflict_type: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    # Violence or threats go to specialised services, never to mediation.
    safety_concern: Mapped[bool] = mapped_column(default=False)
    # aperto, chiuso
    status: Mapped[str] = mapped_column(String(10), default="aperto")
    outcome: Mapped[str | None] = mapped_column(String(40))
    closed_on: Mapped[date | None]

    sessions: Mapped[list[MediationSession]] = relationship(order_by="MediationSession.id", lazy="selectin")
    agreement: Mapped[MediationAgreement | None] = relationship(uselist=False, lazy="selectin")


class MediationSession(Base):
    """An individual or joint meeting of a mediation case."""

    __tablename__ = "mediation_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id"), index=True)
    # individuale, congiunta
    kind: Mapped[str] = mapped_column(String(20))
    session_date: Mapped[date]
    party_role: Mapped[str | None] = mapped_column(String(30))
    attendees_roles: Mapped[list[Any]] = mapped_column(default=list)
    summary: Mapped[str | None] = mapped_column(Text)


class MediationAgreement(Base):
    """What the parties agreed to do, and whether they did it at the follow-up."""

    __tablename__ = "mediation_agreement"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_case.id"), unique=True)
    signed_on: Mapped[date]
    # [{"who": ..., "what": ..., "by_date": "YYYY-MM-DD"}]
    actions: Mapped[list[Any]] = mapped_column(default=list)
    signed_by_roles: Mapped[list[Any]] = mapped_column(default=list)
    followup_due: Mapped[date]
    # rispettato, parzialmente, non_rispettato
    followup_result: Mapped[str | None] = mapped_column(String(20))


class ExitRecord(Base):
    """How and where a household left the programme, and what happened to the lease."""

    __tablename__ = "exit_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollment.id"), unique=True)
    # programmata, non_programmata
    exit_type: Mapped[str] = mapped_column(String(20))
    decision_date: Mapped[date]
    exit_date: Mapped[date]
    reason: Mapped[str] = mapped_column(String(40))
    project_completion: Mapped[str] = mapped_column(String(30))
    # HMIS 3.12 destination code, or "subentro" (the household takes over the lease).
    destination: Mapped[str] = mapped_column(String(20))
    subsidy_type: Mapped[str | None] = mapped_column(String(30))
    housing_at_exit: Mapped[str | None] = mapped_column(String(40))
    employment_status_at_exit: Mapped[str | None] = mapped_column(String(30))
    # subentro, riassegnazione, disdetta, risoluzione_consensuale, nessuna (no lease yet)
    lease_disposition: Mapped[str] = mapped_column(String(30))
    co_signed_by: Mapped[str | None] = mapped_column(String(150))
    handover_date: Mapped[date | None]
    handover_notes: Mapped[str | None] = mapped_column(Text)

    follow_ups: Mapped[list[FollowUp]] = relationship(order_by="FollowUp.due_date", lazy="selectin")


class FollowUp(Base):
    """A post-exit contact at +3, +6 or +12 months: is the household still housed?"""

    __tablename__ = "follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    exit_id: Mapped[int] = mapped_column(ForeignKey("exit_record.id"), index=True)
    due_date: Mapped[date]
    done_date: Mapped[date | None]
    reached: Mapped[bool | None]
    living_situation: Mapped[str | None] = mapped_column(String(20))
    still_housed: Mapped[bool | None]
    returned_to_services: Mapped[bool | None]
    notes: Mapped[str | None] = mapped_column(Text)
