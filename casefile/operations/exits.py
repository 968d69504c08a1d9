"""Exit operations: how and where a household leaves, the handover to the territorial services, follow-ups.

An exit ends the household's placements and schedules follow-up contacts at +3, +6 and +12 months;
the handover closes the enrollment. Follow-ups are recorded after that, on a closed enrollment.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from casefile.codes import (
    DESTINATIONS,
    EMPLOYMENT_STATUSES,
    EXIT_REASONS,
    EXIT_TYPES,
    FOLLOW_UP_MONTHS,
    HOUSING_AT_EXIT,
    LEASE_DISPOSITIONS,
    LIVING_SITUATIONS,
    PROJECT_COMPLETION,
    SUBSIDY_TYPES,
)
from casefile.dates import add_months
from casefile.errors import RuleViolationError
from casefile.models import Enrollment, ExitRecord, FollowUp, Placement, User, utcnow
from casefile.operations.accompaniment import open_enrollment
from casefile.operations.base import OperationContext, operation
from casefile.operations.fields import Code

SUBSIDISED_DESTINATION = "435"
CO_SIGNER_ROLE = "assistente_sociale"


class RecordExitSchema(Schema):
    """The exit decision and interview: why, where to, and what happens to the lease."""

    enrollment_id = fields.Integer(required=True)
    exit_type = Code(EXIT_TYPES, required=True)
    decision_date = fields.Date(required=True)
    exit_date = fields.Date(required=True)
    reason = Code(EXIT_REASONS, required=True)
    project_completion = Code(PROJECT_COMPLETION, required=True)
    destination = Code(DESTINATIONS, required=True)
    subsidy_type = Code(SUBSIDY_TYPES, load_default=None, allow_none=True)
    housing_at_exit = Code(HOUSING_AT_EXIT, load_default=None, allow_none=True)
    employment_status_at_exit = Code(EMPLOYMENT_STATUSES, load_default=None, allow_none=True)
    lease_disposition = Code(LEASE_DISPOSITIONS, required=True)
    co_signed_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=150))

    @validates_schema
    def check(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        subsidised = data.get("destination") == SUBSIDISED_DESTINATION
        if subsidised and data.get("subsidy_type") is None:
            errors["subsidy_type"] = ["Required for a rental with a subsidy (435)."]
        if not subsidised and data.get("subsidy_type") is not None:
            errors["subsidy_type"] = ["Only for a rental with a subsidy (435)."]
        if data.get("destination") == "subentro" and data.get("lease_disposition") != "subentro":
            errors["lease_disposition"] = ["Taking over the lease needs the disposition 'subentro'."]
        # A planned exit is a joint decision with the public social worker (domain.md §3.5).
        if data.get("exit_type") == "programmata" and not data.get("co_signed_by"):
            errors["co_signed_by"] = ["A planned exit is co-signed by the social worker."]
        if data.get("exit_date") and data.get("decision_date") and data["exit_date"] < data["decision_date"]:
            errors["exit_date"] = ["Must be on or after decision_date."]
        if errors:
            raise ValidationError(errors)


def check_exit_dates(enrollment: Enrollment, placements: list[Placement], exit_date: Any) -> None:
    """The exit falls after the project start, the move-in and the start of every open placement."""
    if exit_date < enrollment.project_start_date:
        raise RuleViolationError(f"the project started on {enrollment.project_start_date.isoformat()}",
                                 field="exit_date")
    if enrollment.move_in_date is not None and exit_date < enrollment.move_in_date:
        raise RuleViolationError(f"the household moved in on {enrollment.move_in_date.isoformat()}",
                                 field="exit_date")
    for placement in placements:
        if placement.end_date is None and exit_date < placement.start_date:
            raise RuleViolationError(f"placement {placement.id} starts on {placement.start_date.isoformat()}",
                                     field="exit_date")


def check_lease_disposition(disposition: str, had_placement: bool) -> None:
    """'nessuna' only without any placement; 'subentro' only with one (there is a lease to take over)."""
    if disposition == "nessuna" and had_placement:
        raise RuleViolationError("the household had a placement: say what happens to its lease",
                                 field="lease_disposition")
    if disposition == "subentro" and not had_placement:
        raise RuleViolationError("there is no lease to take over: the household never had a placement",
                                 field="lease_disposition")


def check_co_signer(op: OperationContext, username: str | None) -> None:
    """A co-signer must be an active user holding the social-worker role."""
    if username is None:
        return
    user = op.session.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active or CO_SIGNER_ROLE not in user.roles:
        raise RuleViolationError(f"'{username}' is not an active social worker", field="co_signed_by")


@operation("record_exit", RecordExitSchema, record_type="exit")
def record_exit(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record a household's exit: placements end, follow-ups are scheduled."""
    enrollment = open_enrollment(op, data["enrollment_id"])
    if op.session.scalars(select(ExitRecord.id).where(ExitRecord.enrollment_id == enrollment.id)).first():
        raise RuleViolationError(f"enrollment {enrollment.id} already has an exit", field="enrollment_id")
    placements = list(op.session.scalars(select(Placement).where(Placement.enrollment_id == enrollment.id)
                                         .order_by(Placement.id)))
    exit_date = data["exit_date"]
    check_exit_dates(enrollment, placements, exit_date)
    check_lease_disposition(data["lease_disposition"], bool(placements))
    check_co_signer(op, data["co_signed_by"])
    record = op.add(ExitRecord(**data))
    for placement in placements:
        if placement.end_date is None:
            placement.end_date, placement.end_reason = exit_date, "uscita"
    enrollment.exit_date, enrollment.status = exit_date, "in_uscita"
    due_dates = [add_months(exit_date, months) for months in FOLLOW_UP_MONTHS]
    follow_ups = [op.add(FollowUp(exit_id=record.id, due_date=due)) for due in due_dates]
    op.session.expire(record, ["follow_ups"])
    op.journal(enrollment.household_id, exit_date,
               f"Exit ({data['exit_type']}): {data['reason']}, destination {data['destination']}",
               record=record, enrollment_id=enrollment.id)
    return {"exit_id": record.id, "follow_up_ids": [f.id for f in follow_ups],
            "follow_up_due_dates": [due.isoformat() for due in due_dates]}


class RecordHandoverSchema(Schema):
    """The handover of the household to the territorial services."""

    exit_id = fields.Integer(required=True)
    handover_date = fields.Date(required=True)
    handover_notes = fields.String(load_default=None, allow_none=True)


@operation("record_handover", RecordHandoverSchema, record_type="exit")
def record_handover(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record the handover to the territorial services and close the enrollment."""
    record: ExitRecord = op.get(ExitRecord, data["exit_id"], "exit_id")
    if record.handover_date is not None:
        raise RuleViolationError(f"the handover was recorded on {record.handover_date.isoformat()}", field="exit_id")
    enrollment = open_enrollment(op, record.enrollment_id, "exit_id")
    if data["handover_date"] < record.exit_date:
        raise RuleViolationError(f"the exit is dated {record.exit_date.isoformat()}", field="handover_date")
    record.handover_date, record.handover_notes = data["handover_date"], data["handover_notes"]
    enrollment.status, enrollment.closed_at = "chiuso", utcnow()
    # Handover notes are restricted: the timeline only says the case was handed over.
    op.journal(enrollment.household_id, data["handover_date"], "Handed over to the territorial services",
               record=record, enrollment_id=enrollment.id)
    return {"exit_id": record.id, "enrollment_id": enrollment.id, "status": enrollment.status}


class RecordFollowUpSchema(Schema):
    """A post-exit contact: was the household reached, and is it still housed?"""

    follow_up_id = fields.Integer(required=True)
    done_date = fields.Date(required=True)
    reached = fields.Boolean(required=True)
    living_situation = Code(LIVING_SITUATIONS, load_default=None, allow_none=True)
    still_housed = fields.Boolean(load_default=None, allow_none=True)
    returned_to_services = fields.Boolean(load_default=None, allow_none=True)
    notes = fields.String(load_default=None, allow_none=True)

    @validates_schema
    def check(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("reached") and data.get("living_situation") is None:
            raise ValidationError({"living_situation": ["Required when the household was reached."]})


@operation("record_follow_up", RecordFollowUpSchema, record_type="follow_up")
def record_follow_up(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record a post-exit follow-up contact."""
    follow_up: FollowUp = op.get(FollowUp, data["follow_up_id"], "follow_up_id")
    # Follow-ups come after the handover: the enrollment is normally closed by now, and that is fine.
    record: ExitRecord = op.get(ExitRecord, follow_up.exit_id, "follow_up_id")
    enrollment: Enrollment = op.get(Enrollment, record.enrollment_id, "follow_up_id")
    if follow_up.done_date is not None:
        raise RuleViolationError(f"this follow-up was recorded on {follow_up.done_date.isoformat()}",
                                 field="follow_up_id")
    if data["done_date"] < record.exit_date:
        raise RuleViolationError(f"the exit is dated {record.exit_date.isoformat()}", field="done_date")
    for key in ("done_date", "reached", "living_situation", "still_housed", "returned_to_services", "notes"):
        setattr(follow_up, key, data[key])
    summary = f"Follow-up due {follow_up.due_date.isoformat()}: " + (
        f"reached, living situation {data['living_situation']}" if data["reached"] else "not reached")
    op.journal(enrollment.household_id, data["done_date"], summary, record=follow_up, enrollment_id=enrollment.id)
    return {"follow_up_id": follow_up.id, "reached": follow_up.reached}
