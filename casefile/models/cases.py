"""The case: referral, enrollment (presa in carico) and its team, assessments, the personalised plan."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casefile.models.base import Base, utcnow


class Referral(Base):
    """An *invio* from the territorial services (or others) and what the programme answered."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    referral_date: Mapped[date]
    source: Mapped[str] = mapped_column(String(40))
    referring_org: Mapped[str] = mapped_column(String(200))
    referring_worker: Mapped[str | None] = mapped_column(String(200))
    urgency: Mapped[str] = mapped_column(String(40))
    housing_need_type: Mapped[str] = mapped_column(String(40))
    acknowledged_date: Mapped[date | None]
    # accettato, lista_attesa, non_idoneo, rifiutato, ritirato (HMIS 4.20 referral result).
    result: Mapped[str | None] = mapped_column(String(20))
    result_date: Mapped[date | None]
    result_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Enrollment(Base):
    """The presa in carico of a household: from project start through move-in to exit."""

    __tablename__ = "enrollment"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    project_start_date: Mapped[date]
    move_in_date: Mapped[date | None]
    exit_date: Mapped[date | None]
    # in_valutazione, in_attesa_alloggio, inserito, in_uscita, chiuso
    status: Mapped[str] = mapped_column(String(30), index=True)
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[list[CaseTeamMember]] = relationship(back_populates="enrollment", order_by="CaseTeamMember.id")


class CaseTeamMember(Base):
    """A staff member working on an enrollment, in one role (need-to-know access follows from it)."""

    __tablename__ = "case_team_member"
    __table_args__ = (UniqueConstraint("enrollment_id", "user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollment.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[str] = mapped_column(String(100))
    since: Mapped[date]
    until: Mapped[date | None]

    enrollment: Mapped[Enrollment] = relationship(back_populates="team")


class Assessment(Base):
    """A multidimensional assessment with a 1–5 score per domain."""

    __tablename__ = "assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollment.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    assessment_date: Mapped[date]
    assessor: Mapped[str | None] = mapped_column(String(150))
    strengths: Mapped[str | None] = mapped_column(Text)
    risks: Mapped[str | None] = mapped_column(Text)

    scores: Mapped[list[AssessmentScore]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                         order_by="AssessmentScore.domain")


class AssessmentScore(Base):
    """One domain's score in an assessment (abitare, reddito, lavoro, salute…)."""

    __tablename__ = "assessment_score"
    __table_args__ = (UniqueConstraint("assessment_id", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(30))
    score: Mapped[int]


class PersonalisedPlan(Base):
    """One version of the *progetto personalizzato*; a new version supersedes the previous one."""

    __tablename__ = "personalised_plan"
    __table_args__ = (UniqueConstraint("enrollment_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollment.id"), index=True)
    version: Mapped[int]
    # bozza, firmato, sostituito
    status: Mapped[str] = mapped_column(String(20))
    drafted_on: Mapped[date]
    signed_on: Mapped[date | None]
    co_signed_by: Mapped[str | None] = mapped_column(String(150))
    household_contribution_cents: Mapped[int | None]
    summary: Mapped[str | None] = mapped_column(Text)

    goals: Mapped[list[PlanGoal]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                 order_by="PlanGoal.id")


class PlanGoal(Base):
    """A goal of a plan in one life domain, with its indicator and target date."""

    __tablename__ = "plan_goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("personalised_plan.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text)
    indicator: Mapped[str | None] = mapped_column(Text)
    target_date: Mapped[date | None]
    # non_avviato, in_corso, raggiunto, sospeso, abbandonato
    status: Mapped[str] = mapped_column(String(20), default="non_avviato")

    actions: Mapped[list[PlanAction]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                     order_by="PlanAction.id")


class PlanAction(Base):
    """A support, action or household commitment towards a goal."""

    __tablename__ = "plan_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("plan_goal.id", ondelete="CASCADE"), index=True)
    # sostegno (from the partners), azione, impegno (the household's commitment)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    responsible_role: Mapped[str | None] = mapped_column(String(100))
    frequency: Mapped[str | None] = mapped_column(String(60))


class PlanReview(Base):
    """A periodic review of a plan: each goal's status at that date and what comes next."""

    __tablename__ = "plan_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("personalised_plan.id"), index=True)
    review_date: Mapped[date]
    reviewed_by: Mapped[str | None] = mapped_column(String(150))
    # {"<goal id>": "<status>"}
    goal_statuses: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    next_review_due: Mapped[date | None]
