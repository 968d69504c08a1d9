"""The sections of a household file, loaded as plain dataclasses (whether to load them is casefile.file's call)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile.arrears import Arrears, contribution_arrears, rent_arrears
from casefile.models import (
    CaseTeamMember,
    Enrollment,
    ExitRecord,
    HouseholdMembership,
    LeaseContract,
    MediationCase,
    MonitoringVisit,
    PersonalisedPlan,
    Placement,
    User,
)

RECENT_VISITS = 20


@dataclass(frozen=True)
class MemberSection:
    """A current member of the household (names only for those who may read persons)."""

    person_id: int
    relationship_to_hoh: int
    is_hoh: bool
    since: date
    first_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None


@dataclass(frozen=True)
class TeamMemberSection:
    username: str
    role: str
    since: date


@dataclass(frozen=True)
class EnrollmentSection:
    """The latest presa in carico and its current team."""

    id: int
    status: str
    project_start_date: date
    move_in_date: date | None
    exit_date: date | None
    team: list[TeamMemberSection] | None = None


@dataclass(frozen=True)
class UnitSection:
    id: int
    address: str
    circoscrizione: str | None
    rooms: int


@dataclass(frozen=True)
class LeaseSection:
    id: int
    lease_type: str
    status: str
    start_date: date
    first_expiry: date
    monthly_rent_cents: int


@dataclass(frozen=True)
class PlacementSection:
    """Where the household lives now."""

    id: int
    start_date: date
    move_in_date: date | None
    unit: UnitSection | None = None
    lease: LeaseSection | None = None
    lease_id: int = 0
    agreement_id: int | None = None
    monthly_contribution_cents: int | None = None


@dataclass(frozen=True)
class MoneyStatus:
    """Monthly amount due and arrears on a day (derived from charges and payments, casefile.arrears)."""

    monthly_cents: int | None
    as_of: date
    arrears_cents: int
    oldest_due: date | None
    days_overdue: int
    months_unpaid: int

    @classmethod
    def of(cls, monthly_cents: int | None, as_of: date, arrears: Arrears) -> MoneyStatus:
        return cls(monthly_cents, as_of, arrears.amount_cents, arrears.oldest_due, arrears.days_overdue,
                   arrears.months_unpaid)


@dataclass(frozen=True)
class GoalSection:
    id: int
    domain: str
    description: str
    indicator: str | None
    target_date: date | None
    status: str


@dataclass(frozen=True)
class PlanSection:
    """The plan in force (the latest version not superseded) and its goals."""

    id: int
    version: int
    status: str
    drafted_on: date
    signed_on: date | None
    summary: str | None
    goals: list[GoalSection] = field(default_factory=list)


@dataclass(frozen=True)
class VisitSection:
    id: int
    visit_date: date
    mode: str
    housing_condition: str | None
    risk_level: str
    issues: str | None
    next_visit_due: date | None


@dataclass(frozen=True)
class MediationSection:
    id: int
    opened_on: date
    conflict_type: str
    severity: str
    status: str
    outcome: str | None
    closed_on: date | None
    sessions: list[dict[str, Any]] | None = None
    agreement: dict[str, Any] | None = None


@dataclass(frozen=True)
class ExitSection:
    id: int
    exit_type: str
    exit_date: date
    reason: str
    destination: str
    lease_disposition: str
    follow_ups: list[dict[str, Any]] | None = None


def load_members(session: Session, household_id: int, *, with_names: bool) -> list[MemberSection]:
    """Current members, head of household first."""
    rows = session.scalars(select(HouseholdMembership).where(
        HouseholdMembership.household_id == household_id, HouseholdMembership.valid_to.is_(None))
        .order_by(HouseholdMembership.is_hoh.desc(), HouseholdMembership.id))
    members = []
    for row in rows:
        person = row.person if with_names else None
        members.append(MemberSection(
            person_id=row.person_id, relationship_to_hoh=row.relationship_to_hoh, is_hoh=row.is_hoh,
            since=row.valid_from, first_name=person.first_name if person else None,
            last_name=person.last_name if person else None, birth_date=person.birth_date if person else None))
    return members


def load_enrollment(session: Session, enrollment: Enrollment | None, *, with_team: bool) -> EnrollmentSection | None:
    if enrollment is None:
        return None
    team = None
    if with_team:
        team = [TeamMemberSection(username, role, since) for username, role, since in session.execute(
            select(User.username, CaseTeamMember.role, CaseTeamMember.since)
            .join(User, User.id == CaseTeamMember.user_id)
            .where(CaseTeamMember.enrollment_id == enrollment.id, CaseTeamMember.until.is_(None))
            .order_by(CaseTeamMember.since, CaseTeamMember.id))]
    return EnrollmentSection(enrollment.id, enrollment.status, enrollment.project_start_date,
                             enrollment.move_in_date, enrollment.exit_date, team)


def load_placement(session: Session, enrollment: Enrollment | None, *, with_unit: bool,
                   with_lease: bool) -> PlacementSection | None:
    """The current placement (not ended) of the enrollment, if any."""
    if enrollment is None:
        return None
    placement = session.scalar(select(Placement).where(Placement.enrollment_id == enrollment.id,
                                                       Placement.end_date.is_(None))
                               .order_by(Placement.start_date.desc(), Placement.id.desc()).limit(1))
    if placement is None:
        return None
    lease = session.get(LeaseContract, placement.lease_id)
    unit = placement.unit
    agreement = placement.agreement
    return PlacementSection(
        id=placement.id, start_date=placement.start_date, move_in_date=placement.move_in_date,
        unit=UnitSection(unit.id, unit.address, unit.circoscrizione, unit.rooms) if with_unit else None,
        lease=LeaseSection(lease.id, lease.lease_type, lease.status, lease.start_date, lease.first_expiry,
                           lease.monthly_rent_cents) if with_lease and lease is not None else None,
        lease_id=placement.lease_id, agreement_id=agreement.id if agreement else None,
        monthly_contribution_cents=agreement.monthly_contribution_cents if agreement else None)


def load_rent(session: Session, placement: PlacementSection | None, as_of: date) -> MoneyStatus | None:
    """Rent the lease holder owes the landlord under the current flat's lease."""
    if placement is None:
        return None
    lease = session.get(LeaseContract, placement.lease_id)
    monthly = lease.monthly_rent_cents + lease.service_charges_cents if lease is not None else None
    return MoneyStatus.of(monthly, as_of, rent_arrears(session, placement.lease_id, as_of))


def load_contribution(session: Session, placement: PlacementSection | None, as_of: date) -> MoneyStatus | None:
    """What the household owes under its occupancy agreement."""
    if placement is None or placement.agreement_id is None:
        return None
    return MoneyStatus.of(placement.monthly_contribution_cents, as_of,
                          contribution_arrears(session, placement.agreement_id, as_of))


def load_plan(session: Session, enrollment: Enrollment | None) -> PlanSection | None:
    if enrollment is None:
        return None
    plan = session.scalar(select(PersonalisedPlan).where(PersonalisedPlan.enrollment_id == enrollment.id,
                                                         PersonalisedPlan.status != "sostituito")
                          .order_by(PersonalisedPlan.version.desc()).limit(1))
    if plan is None:
        return None
    goals = [GoalSection(g.id, g.domain, g.description, g.indicator, g.target_date, g.status) for g in plan.goals]
    return PlanSection(plan.id, plan.version, plan.status, plan.drafted_on, plan.signed_on, plan.summary, goals)


def _enrollment_ids(household_id: int):  # type: ignore[no-untyped-def]
    return select(Enrollment.id).where(Enrollment.household_id == household_id)


def load_visits(session: Session, household_id: int) -> list[VisitSection]:
    """The most recent visits of all the household's enrollments, latest first."""
    visits = session.scalars(select(MonitoringVisit).where(MonitoringVisit.enrollment_id.in_(
        _enrollment_ids(household_id))).order_by(MonitoringVisit.visit_date.desc(), MonitoringVisit.id.desc())
        .limit(RECENT_VISITS))
    return [VisitSection(v.id, v.visit_date, v.mode, v.housing_condition, v.risk_level, v.issues, v.next_visit_due)
            for v in visits]


def load_mediation(session: Session, household_id: int, *, with_sessions: bool,
                   with_agreement: bool) -> list[MediationSection]:
    cases = session.scalars(select(MediationCase).where(MediationCase.enrollment_id.in_(
        _enrollment_ids(household_id))).order_by(MediationCase.opened_on.desc(), MediationCase.id.desc()))
    sections = []
    for item in cases:
        sessions = [{"id": s.id, "kind": s.kind, "session_date": s.session_date, "summary": s.summary}
                    for s in item.sessions] if with_sessions else None
        agreement = None
        if with_agreement and item.agreement is not None:
            agreement = {"signed_on": item.agreement.signed_on, "followup_due": item.agreement.followup_due,
                         "followup_result": item.agreement.followup_result}
        sections.append(MediationSection(item.id, item.opened_on, item.conflict_type, item.severity, item.status,
                                         item.outcome, item.closed_on, sessions, agreement))
    return sections


def load_exit(session: Session, enrollment: Enrollment | None, *, with_follow_ups: bool) -> ExitSection | None:
    if enrollment is None:
        return None
    record = session.scalar(select(ExitRecord).where(ExitRecord.enrollment_id == enrollment.id))
    if record is None:
        return None
    follow_ups = [{"due_date": f.due_date, "done_date": f.done_date, "still_housed": f.still_housed}
                  for f in record.follow_ups] if with_follow_ups else None
    return ExitSection(record.id, record.exit_type, record.exit_date, record.reason, record.destination,
                       record.lease_disposition, follow_ups)
