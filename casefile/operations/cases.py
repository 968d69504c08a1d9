"""Operations on the case: referral, enrollment (presa in carico), case team, assessments, enrollment status.

The personalised plan's operations live in :mod:`casefile.operations.plans`, imported at the end.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from casefile.codes import (
    ASSESSMENT_DOMAINS,
    ASSESSMENT_KINDS,
    ENROLLMENT_STATUSES,
    HOUSING_NEED_TYPES,
    REFERRAL_RESULTS,
    REFERRAL_SOURCES,
    URGENCY,
)
from casefile.errors import RuleViolationError
from casefile.models import (
    Assessment,
    AssessmentScore,
    CaseTeamMember,
    Enrollment,
    Household,
    Referral,
    User,
)
from casefile.operations.base import OperationContext, local_today, operation
from casefile.operations.fields import Code
from casefile.roles import NON_TASK_ROLES, ROLES

# Roles that can be on a case team: those that receive process tasks.
TEAM_ROLES = tuple(role for role in ROLES if role not in NON_TASK_ROLES)
# The only way forward through an enrollment; "chiuso" is reached at exit, never here.
NEXT_STATUS = {"in_valutazione": "in_attesa_alloggio", "in_attesa_alloggio": "inserito", "inserito": "in_uscita"}


def active_user_with_role(op: OperationContext, username: str, role: str, field: str, role_field: str) -> User:
    """An active user holding ``role``; refusals name the username or the role field."""
    user = op.session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise RuleViolationError(f"no user '{username}'", field=field)
    if not user.active:
        raise RuleViolationError(f"user '{username}' is not active", field=field)
    if role not in user.roles:
        raise RuleViolationError(f"user '{username}' does not hold the role '{role}'", field=role_field)
    return user


def open_enrollment_of(op: OperationContext, enrollment_id: int, field: str = "enrollment_id") -> Enrollment:
    """An enrollment that is not closed."""
    enrollment: Enrollment = op.get(Enrollment, enrollment_id, field)
    if enrollment.status == "chiuso":
        raise RuleViolationError(f"enrollment {enrollment_id} is closed", field=field)
    return enrollment


# --- referral ----------------------------------------------------------------------------------------

class ReferralSchema(Schema):
    """An *invio* received for a household."""

    household_id = fields.Integer(required=True, strict=True)
    referral_date = fields.Date(required=True)
    source = Code(REFERRAL_SOURCES, required=True)
    referring_org = fields.String(required=True, validate=validate.Length(min=1, max=200))
    referring_worker = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    urgency = Code(URGENCY, required=True)
    housing_need_type = Code(HOUSING_NEED_TYPES, required=True)


@operation("register_referral", ReferralSchema, record_type="referral")
def register_referral(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Register a referral of a household (one pending referral per household)."""
    household = op.get(Household, data["household_id"], "household_id")
    pending = op.session.scalars(select(Referral.id).where(Referral.household_id == household.id,
                                                           Referral.result.is_(None))).first()
    if pending is not None:
        raise RuleViolationError(f"the household already has referral {pending} awaiting a result",
                                 field="household_id")
    referral = op.add(Referral(**data))
    op.journal(household.id, data["referral_date"], f"referral from {data['source']} ({data['urgency']})",
               record=referral)
    return {"referral_id": referral.id}


class AcknowledgeSchema(Schema):
    """The acknowledgement of a referral."""

    referral_id = fields.Integer(required=True, strict=True)
    ack_date = fields.Date(required=True)


@operation("acknowledge_referral", AcknowledgeSchema, record_type="referral")
def acknowledge_referral(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Acknowledge a referral (once)."""
    referral = op.get(Referral, data["referral_id"], "referral_id")
    if referral.acknowledged_date is not None:
        raise RuleViolationError(f"referral already acknowledged on {referral.acknowledged_date.isoformat()}",
                                 field="referral_id")
    if data["ack_date"] < referral.referral_date:
        raise RuleViolationError("a referral cannot be acknowledged before it was made", field="ack_date")
    referral.acknowledged_date = data["ack_date"]
    op.session.flush()
    op.journal(referral.household_id, data["ack_date"], "referral acknowledged", record=referral)
    return {"referral_id": referral.id, "ack_days": (data["ack_date"] - referral.referral_date).days}


class ReferralResultSchema(Schema):
    """The programme's answer to a referral; a reason is required unless it is accepted."""

    referral_id = fields.Integer(required=True, strict=True)
    result = Code(REFERRAL_RESULTS, required=True)
    result_date = fields.Date(required=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))

    @validates_schema
    def reason_unless_accepted(self, data: dict[str, Any], **_: Any) -> None:
        if data["result"] != "accettato" and not (data.get("reason") or "").strip():
            raise ValidationError({"reason": ["A reason is required unless the referral is accepted."]})


@operation("record_referral_result", ReferralResultSchema, record_type="referral")
def record_referral_result(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record the result of a referral (once; a waiting-list result may later change)."""
    referral = op.get(Referral, data["referral_id"], "referral_id")
    if referral.result is not None and referral.result != "lista_attesa":
        raise RuleViolationError(f"the referral already has the result '{referral.result}'", field="referral_id")
    if referral.result == data["result"]:
        raise RuleViolationError("the referral is already on the waiting list", field="result")
    earliest = referral.result_date or referral.referral_date
    if data["result_date"] < earliest:
        raise RuleViolationError(f"the result date cannot be before {earliest.isoformat()}", field="result_date")
    referral.result, referral.result_date, referral.result_reason = data["result"], data["result_date"], data["reason"]
    op.session.flush()
    op.journal(referral.household_id, data["result_date"], f"referral result: {data['result']}", record=referral)
    return {"referral_id": referral.id, "result": referral.result}


# --- enrollment and case team ------------------------------------------------------------------------

class TeamMemberSchema(Schema):
    """A staff member and the role they play on the case."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=150))
    role = Code(TEAM_ROLES, required=True)


class OpenEnrollmentSchema(Schema):
    """The presa in carico of a household on an accepted referral, with its first team."""

    household_id = fields.Integer(required=True, strict=True)
    referral_id = fields.Integer(required=True, strict=True)
    project_start_date = fields.Date(required=True)
    team = fields.List(fields.Nested(TeamMemberSchema), load_default=list, validate=validate.Length(max=20))

    @validates_schema
    def no_repeated_member(self, data: dict[str, Any], **_: Any) -> None:
        pairs = [(m["username"], m["role"]) for m in data.get("team", [])]
        if len(pairs) != len(set(pairs)):
            raise ValidationError({"team": ["The same user is listed twice in the same role."]})


@operation("open_enrollment", OpenEnrollmentSchema, record_type="enrollment")
def open_enrollment(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Open the enrollment (presa in carico) of a household on its accepted referral."""
    household = op.get(Household, data["household_id"], "household_id")
    referral = op.get(Referral, data["referral_id"], "referral_id")
    if referral.household_id != household.id:
        raise RuleViolationError("the referral belongs to another household", field="referral_id")
    if referral.result != "accettato":
        raise RuleViolationError("only an accepted referral opens an enrollment", field="referral_id")
    if data["project_start_date"] < referral.referral_date:
        raise RuleViolationError("the project cannot start before the referral", field="project_start_date")
    others = op.session.scalars(select(Enrollment).where(Enrollment.household_id == household.id)
                                .order_by(Enrollment.id)).all()
    if any(e.referral_id == referral.id for e in others):
        raise RuleViolationError("this referral already opened an enrollment", field="referral_id")
    if any(e.status != "chiuso" for e in others):
        raise RuleViolationError("the household already has an enrollment that is not closed", field="household_id")
    enrollment = op.add(Enrollment(household_id=household.id, referral_id=referral.id,
                                   project_start_date=data["project_start_date"], status="in_attesa_alloggio"))
    member_ids = []
    for index, member in enumerate(data["team"]):
        user = active_user_with_role(op, member["username"], member["role"], f"team.{index}.username",
                                     f"team.{index}.role")
        member_ids.append(op.add(CaseTeamMember(enrollment_id=enrollment.id, user_id=user.id, role=member["role"],
                                                since=data["project_start_date"])).id)
    op.journal(household.id, data["project_start_date"], f"enrollment opened, team of {len(member_ids)}",
               record=enrollment, enrollment_id=enrollment.id)
    return {"enrollment_id": enrollment.id, "status": enrollment.status, "team_member_ids": member_ids}


class AssignTeamMemberSchema(Schema):
    """A staff member joining a case team from a date."""

    enrollment_id = fields.Integer(required=True, strict=True)
    username = fields.String(required=True, validate=validate.Length(min=1, max=150))
    role = Code(TEAM_ROLES, required=True)
    since = fields.Date(required=True)


@operation("assign_case_team_member", AssignTeamMemberSchema, record_type="case_team")
def assign_case_team_member(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Add a staff member to a case team in a role they hold."""
    enrollment = open_enrollment_of(op, data["enrollment_id"])
    user = active_user_with_role(op, data["username"], data["role"], "username", "role")
    if data["since"] < enrollment.project_start_date:
        raise RuleViolationError("a team member cannot join before the project started", field="since")
    existing = op.session.scalars(select(CaseTeamMember).where(
        CaseTeamMember.enrollment_id == enrollment.id, CaseTeamMember.user_id == user.id,
        CaseTeamMember.role == data["role"])).first()
    if existing is not None:
        # One row per user and role per enrollment (table constraint): re-opening an ended one would
        # erase the gap in their membership, so it is refused rather than silently rewritten.
        when = "is already" if existing.until is None else f"was until {existing.until.isoformat()}"
        raise RuleViolationError(f"'{user.username}' {when} on this team as {data['role']}", field="username")
    member = op.add(CaseTeamMember(enrollment_id=enrollment.id, user_id=user.id, role=data["role"],
                                   since=data["since"]))
    op.journal(enrollment.household_id, data["since"], f"{user.username} joined the team as {data['role']}",
               record=member, enrollment_id=enrollment.id)
    return {"team_member_id": member.id}


class EndTeamMemberSchema(Schema):
    """A staff member leaving a case team (``until`` is their last day)."""

    team_member_id = fields.Integer(required=True, strict=True)
    until = fields.Date(required=True)


@operation("end_case_team_member", EndTeamMemberSchema, record_type="case_team")
def end_case_team_member(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Take a staff member off a case team."""
    member = op.get(CaseTeamMember, data["team_member_id"], "team_member_id")
    if member.until is not None:
        raise RuleViolationError(f"already left the team on {member.until.isoformat()}", field="team_member_id")
    if data["until"] < member.since:
        raise RuleViolationError("a team member cannot leave before joining", field="until")
    enrollment = member.enrollment
    # The journal checks the caller's reach before the member leaves: a caller on the team can remove themselves.
    op.journal(enrollment.household_id, data["until"], f"{member.role} left the team", record=member,
               enrollment_id=enrollment.id)
    member.until = data["until"]
    op.session.flush()
    return {"team_member_id": member.id, "until": data["until"].isoformat()}


# --- assessment --------------------------------------------------------------------------------------

class DomainScores(fields.Dict):
    """{domain: score 1..5} over the assessment domains; errors are reported as ``scores.<domain>``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, int]:
        if not isinstance(value, dict):
            raise ValidationError("Not a valid mapping of domains to scores.")
        if not value:
            raise ValidationError("Score at least one domain.")
        errors: dict[str, list[str]] = {}
        for domain, score in value.items():
            if domain not in ASSESSMENT_DOMAINS:
                errors[str(domain)] = [f"Unknown domain; known: {', '.join(ASSESSMENT_DOMAINS)}."]
            elif isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
                errors[domain] = ["The score must be a whole number from 1 to 5."]
        if errors:
            raise ValidationError(errors)
        return dict(value)


class AssessmentSchema(Schema):
    """A multidimensional assessment of an enrolled household."""

    enrollment_id = fields.Integer(required=True, strict=True)
    kind = Code(ASSESSMENT_KINDS, required=True)
    assessment_date = fields.Date(required=True)
    assessor = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=150))
    scores = DomainScores(required=True)
    strengths = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    risks = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))


@operation("record_assessment", AssessmentSchema, record_type="assessment")
def record_assessment(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record a multidimensional assessment with a 1–5 score per domain."""
    enrollment = open_enrollment_of(op, data["enrollment_id"])
    assessment = op.add(Assessment(
        enrollment_id=enrollment.id, kind=data["kind"], assessment_date=data["assessment_date"],
        assessor=data["assessor"], strengths=data["strengths"], risks=data["risks"],
        scores=[AssessmentScore(domain=d, score=s) for d, s in sorted(data["scores"].items())]))
    # Neither the scores nor the free texts: the journal is read more widely than the assessment.
    op.journal(enrollment.household_id, data["assessment_date"],
               f"assessment ({data['kind']}): {len(data['scores'])} domains scored", record=assessment,
               enrollment_id=enrollment.id)
    return {"assessment_id": assessment.id}


# --- enrollment status -------------------------------------------------------------------------------

class EnrollmentStatusSchema(Schema):
    """The next status of an enrollment; ``status_date`` is the business date (default: today)."""

    enrollment_id = fields.Integer(required=True, strict=True)
    status = Code([s for s in ENROLLMENT_STATUSES if s != "chiuso"], required=True)
    status_date = fields.Date(load_default=None, allow_none=True)


@operation("update_enrollment_status", EnrollmentStatusSchema, record_type="enrollment")
def update_enrollment_status(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Move an enrollment to its next status (closing happens at exit)."""
    enrollment = op.get(Enrollment, data["enrollment_id"], "enrollment_id")
    allowed = NEXT_STATUS.get(enrollment.status)
    if data["status"] != allowed:
        then = f"only to '{allowed}'" if allowed else "not at all"
        raise RuleViolationError(f"from '{enrollment.status}' the status can change {then}", field="status")
    on: date = data["status_date"] or local_today()
    if on < enrollment.project_start_date:
        raise RuleViolationError("the status cannot change before the project started", field="status_date")
    previous, enrollment.status = enrollment.status, data["status"]
    op.session.flush()
    op.journal(enrollment.household_id, on, f"status {previous} → {enrollment.status}", record=enrollment,
               enrollment_id=enrollment.id)
    return {"enrollment_id": enrollment.id, "status": enrollment.status, "previous_status": previous}
