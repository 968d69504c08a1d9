"""Accompaniment operations: home visits and their cadence, home support, work inclusion, incidents.

Mediation (``mediation.py``) and exit with follow-ups (``exits.py``) share the helpers defined here:
the enrollment must exist and not be closed, and a placement named in the input must be its own.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from casefile.codes import (
    HOUSING_CONDITIONS,
    INCIDENT_KINDS,
    RISK_LEVELS,
    SEVERITIES,
    SUPPORT_KINDS,
    VISIT_MODES,
    WORK_ACTIVITY_KINDS,
    WORK_OUTCOMES,
)
from casefile.dates import add_months
from casefile.errors import RuleViolationError
from casefile.models import (
    CaseIncident,
    Enrollment,
    HouseholdMembership,
    MonitoringVisit,
    Person,
    Placement,
    SupportActivity,
    WorkInclusionActivity,
)
from casefile.operations.base import OperationContext, local_today, operation
from casefile.operations.fields import Code

# --- shared helpers --------------------------------------------------------------------------------


def open_enrollment(op: OperationContext, enrollment_id: int, field: str = "enrollment_id") -> Enrollment:
    """The enrollment, refused when it is closed: a closed case takes no more work."""
    enrollment: Enrollment = op.get(Enrollment, enrollment_id, field)
    ensure_not_closed(enrollment, field)
    return enrollment


def ensure_not_closed(enrollment: Enrollment, field: str) -> None:
    """Refuse work on a closed enrollment, naming the input field that led to it."""
    if enrollment.status == "chiuso":
        raise RuleViolationError(f"enrollment {enrollment.id} is closed", field=field)


def placement_of(op: OperationContext, enrollment: Enrollment, placement_id: int | None,
                 field: str = "placement_id") -> Placement | None:
    """The placement named in the input, which must belong to the enrollment (None when not given)."""
    if placement_id is None:
        return None
    placement: Placement = op.get(Placement, placement_id, field)
    if placement.enrollment_id != enrollment.id:
        raise RuleViolationError(f"placement {placement_id} does not belong to enrollment {enrollment.id}",
                                 field=field)
    return placement


def after(data: dict[str, Any], later: str, earlier: str, *, strict: bool = False) -> None:
    """Schema check: ``data[later]`` on or after (strictly after with ``strict``) ``data[earlier]``, when both given."""
    first, second = data.get(earlier), data.get(later)
    if first is None or second is None:
        return
    if second < first or (strict and second == first):
        word = "after" if strict else "on or after"
        raise ValidationError({later: [f"Must be {word} {earlier}."]})


# --- visits ----------------------------------------------------------------------------------------

WEEKLY_MONTHS = 3  # the first three months after move-in are the most critical (domain.md §3.3)
CADENCE_DAYS = {"alto": 7, "medio": 14, "basso": 30}


def next_visit_due(move_in_date: date | None, visit_date: date, risk_level: str) -> date:
    """When the next visit is due: weekly in the first 3 months after move-in, then by risk (7/14/30 days)."""
    if move_in_date is not None and move_in_date <= visit_date < add_months(move_in_date, WEEKLY_MONTHS):
        return visit_date + timedelta(days=7)
    return visit_date + timedelta(days=CADENCE_DAYS[risk_level])


class RecordVisitSchema(Schema):
    """A home visit or contact and what was found."""

    enrollment_id = fields.Integer(required=True)
    placement_id = fields.Integer(load_default=None, allow_none=True)
    visit_date = fields.Date(required=True)
    mode = Code(VISIT_MODES, required=True)
    housing_condition = Code(HOUSING_CONDITIONS, load_default=None, allow_none=True)
    risk_level = Code(RISK_LEVELS, required=True)
    checklist = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=60)), values=fields.Boolean(),
                            load_default=dict)
    issues = fields.String(load_default=None, allow_none=True)
    wellbeing_notes = fields.String(load_default=None, allow_none=True)
    next_visit_due = fields.Date(load_default=None, allow_none=True)

    @validates_schema
    def check(self, data: dict[str, Any], **_: Any) -> None:
        # Only a visit at home shows the state of the flat; a phone call cannot judge it.
        if data.get("mode") == "domiciliare" and data.get("housing_condition") is None:
            raise ValidationError({"housing_condition": ["Required for a home visit."]})
        after(data, "next_visit_due", "visit_date", strict=True)


@operation("record_visit", RecordVisitSchema, record_type="visit")
def record_visit(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record a home visit or contact and schedule the next one."""
    enrollment = open_enrollment(op, data["enrollment_id"])
    placement = placement_of(op, enrollment, data["placement_id"])
    due = data["next_visit_due"] or next_visit_due(enrollment.move_in_date, data["visit_date"], data["risk_level"])
    visit = op.add(MonitoringVisit(
        enrollment_id=enrollment.id, placement_id=placement.id if placement else None,
        visit_date=data["visit_date"], mode=data["mode"], housing_condition=data["housing_condition"],
        risk_level=data["risk_level"], checklist=data["checklist"], issues=data["issues"],
        wellbeing_notes=data["wellbeing_notes"], next_visit_due=due, done_by=op.caller.username))
    # Wellbeing notes are restricted: the timeline only says that a visit happened and what comes next.
    op.journal(enrollment.household_id, data["visit_date"],
               f"Visit ({data['mode']}), risk {data['risk_level']}, next due {due.isoformat()}",
               record=visit, enrollment_id=enrollment.id)
    return {"visit_id": visit.id, "next_visit_due": due.isoformat()}


# --- home support ----------------------------------------------------------------------------------


class RecordSupportActivitySchema(Schema):
    """A home-support session (Nomenclatore F2)."""

    enrollment_id = fields.Integer(required=True)
    activity_date = fields.Date(required=True)
    kind = Code(SUPPORT_KINDS, required=True)
    duration_min = fields.Integer(required=True, validate=validate.Range(min=1, max=600))
    notes = fields.String(load_default=None, allow_none=True)


@operation("record_support_activity", RecordSupportActivitySchema, record_type="support_activity")
def record_support_activity(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record a home-support session and how long it took."""
    enrollment = open_enrollment(op, data["enrollment_id"])
    activity = op.add(SupportActivity(
        enrollment_id=enrollment.id, activity_date=data["activity_date"], kind=data["kind"],
        duration_min=data["duration_min"], notes=data["notes"], done_by=op.caller.username))
    op.journal(enrollment.household_id, data["activity_date"],
               f"Home support: {data['kind']}, {data['duration_min']} min", record=activity,
               enrollment_id=enrollment.id)
    return {"activity_id": activity.id}


# --- work inclusion --------------------------------------------------------------------------------


def final_outcome_needs_end(data: dict[str, Any]) -> None:
    """Schema check: a completed, interrupted or hiring outcome says when the activity ended."""
    if data.get("outcome", "in_corso") != "in_corso" and data.get("end_date") is None:
        raise ValidationError({"end_date": ["Required when the outcome is final."]})


class RecordWorkActivitySchema(Schema):
    """A step towards work for one adult of the household."""

    enrollment_id = fields.Integer(required=True)
    person_id = fields.Integer(required=True)
    kind = Code(WORK_ACTIVITY_KINDS, required=True)
    provider = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    start_date = fields.Date(required=True)
    end_date = fields.Date(load_default=None, allow_none=True)
    hours_per_week = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=60))
    outcome = Code(WORK_OUTCOMES, load_default="in_corso")

    @validates_schema
    def check(self, data: dict[str, Any], **_: Any) -> None:
        after(data, "end_date", "start_date")
        final_outcome_needs_end(data)


@operation("record_work_activity", RecordWorkActivitySchema, record_type="work_activity")
def record_work_activity(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record a work-inclusion activity (guidance, training, traineeship, hiring) of a household member."""
    enrollment = open_enrollment(op, data["enrollment_id"])
    op.get(Person, data["person_id"], "person_id")
    member = op.session.scalars(select(HouseholdMembership.id).where(
        HouseholdMembership.household_id == enrollment.household_id,
        HouseholdMembership.person_id == data["person_id"], HouseholdMembership.valid_to.is_(None))).first()
    if member is None:
        raise RuleViolationError(f"person {data['person_id']} is not a current member of the household",
                                 field="person_id")
    activity = op.add(WorkInclusionActivity(
        enrollment_id=enrollment.id, person_id=data["person_id"], kind=data["kind"], provider=data["provider"],
        start_date=data["start_date"], end_date=data["end_date"], hours_per_week=data["hours_per_week"],
        outcome=data["outcome"]))
    op.journal(enrollment.household_id, data["start_date"], f"Work inclusion: {data['kind']} ({data['outcome']})",
               record=activity, enrollment_id=enrollment.id)
    return {"activity_id": activity.id}


class UpdateWorkOutcomeSchema(Schema):
    """The outcome of a work-inclusion activity, and when it ended."""

    activity_id = fields.Integer(required=True)
    outcome = Code(WORK_OUTCOMES, required=True)
    end_date = fields.Date(load_default=None, allow_none=True)

    @validates_schema
    def check(self, data: dict[str, Any], **_: Any) -> None:
        final_outcome_needs_end(data)


@operation("update_work_outcome", UpdateWorkOutcomeSchema, record_type="work_activity")
def update_work_outcome(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record the outcome of a work-inclusion activity."""
    activity: WorkInclusionActivity = op.get(WorkInclusionActivity, data["activity_id"], "activity_id")
    enrollment = open_enrollment(op, activity.enrollment_id, "activity_id")
    if data["end_date"] is not None and data["end_date"] < activity.start_date:
        raise RuleViolationError(f"the activity started on {activity.start_date.isoformat()}", field="end_date")
    activity.outcome, activity.end_date = data["outcome"], data["end_date"]
    op.journal(enrollment.household_id, data["end_date"] or local_today(),
               f"Work inclusion {activity.kind}: {data['outcome']}", record=activity, enrollment_id=enrollment.id)
    return {"activity_id": activity.id, "outcome": activity.outcome}


# --- incidents -------------------------------------------------------------------------------------

ESCALATING_KINDS = frozenset({"violenza", "arresto", "ricovero"})
ESCALATING_SEVERITIES = frozenset({"alto", "critico"})


class ReportIncidentSchema(Schema):
    """A critical incident: violence, serious damage, hospitalisation, arrest."""

    enrollment_id = fields.Integer(required=True)
    occurred_on = fields.Date(required=True)
    kind = Code(INCIDENT_KINDS, required=True)
    severity = Code(SEVERITIES, required=True)
    description = fields.String(required=True, validate=validate.Length(min=1))
    reported_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=150))


@operation("report_incident", ReportIncidentSchema, record_type="incident")
def report_incident(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Report a critical incident; serious ones escalate to the coordinator and social worker within 24 h."""
    enrollment = open_enrollment(op, data["enrollment_id"])
    incident = op.add(CaseIncident(
        enrollment_id=enrollment.id, occurred_on=data["occurred_on"], kind=data["kind"], severity=data["severity"],
        description=data["description"], reported_by=data["reported_by"] or op.caller.username))
    escalate = data["kind"] in ESCALATING_KINDS or data["severity"] in ESCALATING_SEVERITIES
    op.journal(enrollment.household_id, data["occurred_on"], f"Incident: {data['kind']}, severity {data['severity']}",
               record=incident, enrollment_id=enrollment.id)
    return {"incident_id": incident.id, "escalate": escalate}

