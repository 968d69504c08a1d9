"""Mediation operations: a conflict case, its individual and joint sessions, the agreement and its follow-up.

Violence or threats are never mediated (domain.md §3.4): such a case is closed at once and sent on to
specialised services.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from casefile.codes import (
    CONFLICT_TYPES,
    FOLLOWUP_RESULTS,
    MEDIATION_OUTCOMES,
    MEDIATION_REPORTERS,
    MEDIATION_SESSION_KINDS,
    SEVERITIES,
)
from casefile.errors import RuleViolationError
from casefile.models import Enrollment, MediationAgreement, MediationCase, MediationSession
from casefile.operations.accompaniment import after, ensure_not_closed, open_enrollment, placement_of
from casefile.operations.base import OperationContext, local_today, operation
from casefile.operations.fields import Code

SAFETY_OUTCOME = "inviato_servizi_specialistici"
FOLLOWUP_DAYS = 30
KEPT_RESULTS = ("rispettato", "parzialmente")


def open_case(op: OperationContext, case_id: int) -> tuple[MediationCase, Enrollment]:
    """The mediation case, which must still be open, and its enrollment, which must not be closed."""
    case: MediationCase = op.get(MediationCase, case_id, "case_id")
    enrollment: Enrollment = op.get(Enrollment, case.enrollment_id, "case_id")
    ensure_not_closed(enrollment, "case_id")
    if case.status != "aperto":
        raise RuleViolationError(f"mediation case {case.id} is closed", field="case_id")
    return case, enrollment


def has_session(op: OperationContext, case: MediationCase, kind: str, on_or_before: date) -> bool:
    """Whether the case had a session of ``kind`` on or before a date."""
    return op.session.scalars(select(MediationSession.id).where(
        MediationSession.case_id == case.id, MediationSession.kind == kind,
        MediationSession.session_date <= on_or_before)).first() is not None


def agreement_of(op: OperationContext, case: MediationCase) -> MediationAgreement | None:
    """The case's agreement, read from the database (the loaded relationship may predate it)."""
    return op.session.scalars(select(MediationAgreement).where(MediationAgreement.case_id == case.id)).first()


class OpenMediationCaseSchema(Schema):
    """A conflict reported by a landlord, a neighbour, the household or a worker."""

    enrollment_id = fields.Integer(required=True)
    placement_id = fields.Integer(load_default=None, allow_none=True)
    opened_on = fields.Date(required=True)
    reported_by = Code(MEDIATION_REPORTERS, required=True)
    channel = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30))
    conflict_type = Code(CONFLICT_TYPES, required=True)
    severity = Code(SEVERITIES, required=True)
    safety_concern = fields.Boolean(required=True)


@operation("open_mediation_case", OpenMediationCaseSchema, record_type="mediation_case")
def open_mediation_case(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Open a mediation case; one with a safety concern is closed at once and sent to specialised services."""
    enrollment = open_enrollment(op, data["enrollment_id"])
    placement = placement_of(op, enrollment, data["placement_id"])
    placement_id = placement.id if placement else None
    same = select(MediationCase.id).where(
        MediationCase.enrollment_id == enrollment.id, MediationCase.status == "aperto",
        MediationCase.conflict_type == data["conflict_type"],
        MediationCase.placement_id.is_(None) if placement_id is None else MediationCase.placement_id == placement_id)
    duplicate = op.session.scalars(same).first()
    if duplicate is not None:
        raise RuleViolationError(f"mediation case {duplicate} about {data['conflict_type']} is still open",
                                 field="conflict_type")
    safety = data["safety_concern"]
    case = op.add(MediationCase(
        enrollment_id=enrollment.id, placement_id=placement_id, opened_on=data["opened_on"],
        reported_by=data["reported_by"], channel=data["channel"], conflict_type=data["conflict_type"],
        severity=data["severity"], safety_concern=safety, status="chiuso" if safety else "aperto",
        outcome=SAFETY_OUTCOME if safety else None, closed_on=data["opened_on"] if safety else None))
    summary = f"Mediation case: {data['conflict_type']} reported by {data['reported_by']}"
    if safety:
        summary += "; safety concern, sent to specialised services"
    op.journal(enrollment.household_id, data["opened_on"], summary, record=case, enrollment_id=enrollment.id)
    return {"case_id": case.id, "mediation": not safety}


class RecordMediationSessionSchema(Schema):
    """An individual interview with one party, or a joint meeting of several."""

    case_id = fields.Integer(required=True)
    kind = Code(MEDIATION_SESSION_KINDS, required=True)
    session_date = fields.Date(required=True)
    party_role = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=30))
    attendees_roles = fields.List(fields.String(validate=validate.Length(min=1, max=30)), load_default=list)
    summary = fields.String(load_default=None, allow_none=True)

    @validates_schema
    def check(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("kind") == "individuale" and not data.get("party_role"):
            raise ValidationError({"party_role": ["Required for an individual session."]})
        if data.get("kind") == "congiunta" and len(set(data.get("attendees_roles", []))) < 2:
            raise ValidationError({"attendees_roles": ["A joint meeting has at least two parties."]})


@operation("record_mediation_session", RecordMediationSessionSchema, record_type="mediation_session")
def record_mediation_session(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record an individual or joint mediation session."""
    case, enrollment = open_case(op, data["case_id"])
    if data["session_date"] < case.opened_on:
        raise RuleViolationError(f"the case was opened on {case.opened_on.isoformat()}", field="session_date")
    # Each party is heard alone before they meet (domain.md §3.4).
    if data["kind"] == "congiunta" and not has_session(op, case, "individuale", data["session_date"]):
        raise RuleViolationError("a joint meeting needs at least one individual session first", field="kind")
    session = op.add(MediationSession(
        case_id=case.id, kind=data["kind"], session_date=data["session_date"], party_role=data["party_role"],
        attendees_roles=data["attendees_roles"], summary=data["summary"]))
    op.session.expire(case, ["sessions"])
    # The session summary is restricted: the timeline only says that a session took place.
    op.journal(enrollment.household_id, data["session_date"], f"Mediation session ({data['kind']})",
               record=session, enrollment_id=enrollment.id)
    return {"session_id": session.id}


class AgreementActionSchema(Schema):
    """Who does what, by when."""

    who = fields.String(required=True, validate=validate.Length(min=1, max=100))
    what = fields.String(required=True, validate=validate.Length(min=1))
    by_date = fields.Date(required=True)


class RecordMediationAgreementSchema(Schema):
    """What the parties agreed and signed."""

    case_id = fields.Integer(required=True)
    signed_on = fields.Date(required=True)
    actions = fields.List(fields.Nested(AgreementActionSchema), required=True, validate=validate.Length(min=1))
    signed_by_roles = fields.List(fields.String(validate=validate.Length(min=1, max=30)), required=True)
    followup_due = fields.Date(load_default=None, allow_none=True)

    @validates_schema
    def check(self, data: dict[str, Any], **_: Any) -> None:
        if len(set(data.get("signed_by_roles", []))) < 2:
            raise ValidationError({"signed_by_roles": ["An agreement is signed by at least two parties."]})
        after(data, "followup_due", "signed_on", strict=True)


@operation("record_mediation_agreement", RecordMediationAgreementSchema, record_type="mediation_agreement")
def record_mediation_agreement(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record the agreement reached in a joint meeting and when to check it was kept."""
    case, enrollment = open_case(op, data["case_id"])
    if agreement_of(op, case) is not None:
        raise RuleViolationError(f"mediation case {case.id} already has an agreement", field="case_id")
    if not has_session(op, case, "congiunta", data["signed_on"]):
        raise RuleViolationError("an agreement needs a joint meeting on or before its signature", field="case_id")
    due = data["followup_due"] or data["signed_on"] + timedelta(days=FOLLOWUP_DAYS)
    actions = [{**action, "by_date": action["by_date"].isoformat()} for action in data["actions"]]
    agreement = op.add(MediationAgreement(case_id=case.id, signed_on=data["signed_on"], actions=actions,
                                          signed_by_roles=data["signed_by_roles"], followup_due=due))
    op.session.expire(case, ["agreement"])
    op.journal(enrollment.household_id, data["signed_on"],
               f"Mediation agreement: {len(actions)} actions, follow-up due {due.isoformat()}",
               record=agreement, enrollment_id=enrollment.id)
    return {"agreement_id": agreement.id, "followup_due": due.isoformat()}


class RecordMediationFollowupSchema(Schema):
    """Whether the parties kept the agreement."""

    case_id = fields.Integer(required=True)
    followup_result = Code(FOLLOWUP_RESULTS, required=True)
    # Not stored on the agreement (no column): it dates the journal entry.
    checked_on = fields.Date(load_default=None, allow_none=True)


@operation("record_mediation_followup", RecordMediationFollowupSchema, record_type="mediation_agreement")
def record_mediation_followup(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record whether the parties kept the mediation agreement."""
    case, enrollment = open_case(op, data["case_id"])
    agreement = agreement_of(op, case)
    if agreement is None:
        raise RuleViolationError(f"mediation case {case.id} has no agreement to follow up", field="case_id")
    if agreement.followup_result is not None:
        raise RuleViolationError(f"the follow-up was already recorded as {agreement.followup_result}",
                                 field="case_id")
    checked_on = data["checked_on"] or local_today()
    if checked_on < agreement.signed_on:
        raise RuleViolationError(f"the agreement was signed on {agreement.signed_on.isoformat()}", field="checked_on")
    agreement.followup_result = data["followup_result"]
    op.journal(enrollment.household_id, checked_on, f"Mediation follow-up: {data['followup_result']}",
               record=agreement, enrollment_id=enrollment.id)
    return {"agreement_id": agreement.id, "followup_result": agreement.followup_result}


class CloseMediationCaseSchema(Schema):
    """How a mediation case ended."""

    case_id = fields.Integer(required=True)
    outcome = Code(MEDIATION_OUTCOMES, required=True)
    closed_on = fields.Date(required=True)


@operation("close_mediation_case", CloseMediationCaseSchema, record_type="mediation_case")
def close_mediation_case(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Close a mediation case with its outcome."""
    case, enrollment = open_case(op, data["case_id"])
    if data["closed_on"] < case.opened_on:
        raise RuleViolationError(f"the case was opened on {case.opened_on.isoformat()}", field="closed_on")
    agreement = agreement_of(op, case)
    if data["outcome"] == "risolto_con_accordo" and (
            agreement is None or agreement.followup_result not in KEPT_RESULTS):
        raise RuleViolationError("resolved with agreement needs an agreement kept at its follow-up", field="outcome")
    case.status, case.outcome, case.closed_on = "chiuso", data["outcome"], data["closed_on"]
    op.journal(enrollment.household_id, data["closed_on"], f"Mediation case closed: {data['outcome']}",
               record=case, enrollment_id=enrollment.id)
    return {"case_id": case.id, "outcome": case.outcome}
