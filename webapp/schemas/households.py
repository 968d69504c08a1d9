"""Household schemas: the list, the household file section by section, and the timeline.

A section the caller may not read is null (``sections`` lists those they may read).
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from casefile.codes import ENROLLMENT_STATUSES
from casefile.file import REFERRED
from webapp.schemas.common import PageArgsSchema
from webapp.schemas.tasks import TaskSchema


class HouseholdListArgsSchema(PageArgsSchema):
    class Meta:
        unknown = EXCLUDE

    search = fields.String(validate=validate.Length(min=1, max=100),
                           metadata={"description": "Reference or name contains this text."})
    status = fields.String(validate=validate.OneOf((*ENROLLMENT_STATUSES, REFERRED)))


class HouseholdSummarySchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    organisation = fields.String(required=True)
    display_name = fields.String(allow_none=True)
    status = fields.String(allow_none=True)


class HouseholdListSchema(Schema):
    items = fields.List(fields.Nested(HouseholdSummarySchema), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class MemberSchema(Schema):
    person_id = fields.Integer(required=True)
    relationship_to_hoh = fields.Integer(required=True)
    is_hoh = fields.Boolean(required=True)
    since = fields.Date(required=True)
    first_name = fields.String(allow_none=True)
    last_name = fields.String(allow_none=True)
    birth_date = fields.Date(allow_none=True)


class TeamMemberSchema(Schema):
    username = fields.String(required=True)
    role = fields.String(required=True)
    since = fields.Date(required=True)


class EnrollmentSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    project_start_date = fields.Date(required=True)
    move_in_date = fields.Date(allow_none=True)
    exit_date = fields.Date(allow_none=True)
    team = fields.List(fields.Nested(TeamMemberSchema), allow_none=True)


class UnitSchema(Schema):
    id = fields.Integer(required=True)
    address = fields.String(required=True)
    circoscrizione = fields.String(allow_none=True)
    rooms = fields.Integer(required=True)


class LeaseSchema(Schema):
    id = fields.Integer(required=True)
    lease_type = fields.String(required=True)
    status = fields.String(required=True)
    start_date = fields.Date(required=True)
    first_expiry = fields.Date(required=True)
    monthly_rent_cents = fields.Integer(required=True)


class PlacementSchema(Schema):
    id = fields.Integer(required=True)
    start_date = fields.Date(required=True)
    move_in_date = fields.Date(allow_none=True)
    unit = fields.Nested(UnitSchema, allow_none=True)
    lease = fields.Nested(LeaseSchema, allow_none=True)


class MoneyStatusSchema(Schema):
    """Monthly amount and arrears on ``as_of`` (amounts in euro cents)."""

    monthly_cents = fields.Integer(allow_none=True)
    as_of = fields.Date(required=True)
    arrears_cents = fields.Integer(required=True)
    oldest_due = fields.Date(allow_none=True)
    days_overdue = fields.Integer(required=True)
    months_unpaid = fields.Integer(required=True)


class GoalSchema(Schema):
    id = fields.Integer(required=True)
    domain = fields.String(required=True)
    description = fields.String(required=True)
    indicator = fields.String(allow_none=True)
    target_date = fields.Date(allow_none=True)
    status = fields.String(required=True)


class PlanSchema(Schema):
    id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True)
    drafted_on = fields.Date(required=True)
    signed_on = fields.Date(allow_none=True)
    summary = fields.String(allow_none=True)
    goals = fields.List(fields.Nested(GoalSchema), required=True)


class VisitSchema(Schema):
    id = fields.Integer(required=True)
    visit_date = fields.Date(required=True)
    mode = fields.String(required=True)
    housing_condition = fields.String(allow_none=True)
    risk_level = fields.String(required=True)
    issues = fields.String(allow_none=True)
    next_visit_due = fields.Date(allow_none=True)


class MediationSessionSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    session_date = fields.Date(required=True)
    summary = fields.String(allow_none=True)


class MediationAgreementSchema(Schema):
    signed_on = fields.Date(required=True)
    followup_due = fields.Date(required=True)
    followup_result = fields.String(allow_none=True)


class MediationCaseSchema(Schema):
    id = fields.Integer(required=True)
    opened_on = fields.Date(required=True)
    conflict_type = fields.String(required=True)
    severity = fields.String(required=True)
    status = fields.String(required=True)
    outcome = fields.String(allow_none=True)
    closed_on = fields.Date(allow_none=True)
    sessions = fields.List(fields.Nested(MediationSessionSchema), allow_none=True)
    agreement = fields.Nested(MediationAgreementSchema, allow_none=True)


class FollowUpSchema(Schema):
    due_date = fields.Date(required=True)
    done_date = fields.Date(allow_none=True)
    still_housed = fields.Boolean(allow_none=True)


class ExitSchema(Schema):
    id = fields.Integer(required=True)
    exit_type = fields.String(required=True)
    exit_date = fields.Date(required=True)
    reason = fields.String(required=True)
    destination = fields.String(required=True)
    lease_disposition = fields.String(required=True)
    follow_ups = fields.List(fields.Nested(FollowUpSchema), allow_none=True)


class ActiveInstanceSchema(Schema):
    id = fields.Integer(required=True)
    process_id = fields.String(required=True)
    process_name = fields.String(allow_none=True)
    status = fields.String(required=True)


class HouseholdFileSchema(Schema):
    """The household file as the caller may read it."""

    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    organisation = fields.String(required=True)
    display_name = fields.String(allow_none=True)
    sections = fields.List(fields.String(), required=True)
    members = fields.List(fields.Nested(MemberSchema), allow_none=True)
    enrollment = fields.Nested(EnrollmentSchema, allow_none=True)
    placement = fields.Nested(PlacementSchema, allow_none=True)
    rent = fields.Nested(MoneyStatusSchema, allow_none=True)
    contribution = fields.Nested(MoneyStatusSchema, allow_none=True)
    plan = fields.Nested(PlanSchema, allow_none=True)
    visits = fields.List(fields.Nested(VisitSchema), allow_none=True)
    mediation_cases = fields.List(fields.Nested(MediationCaseSchema), allow_none=True)
    exit = fields.Nested(ExitSchema, allow_none=True)
    active_instances = fields.List(fields.Nested(ActiveInstanceSchema), allow_none=True,
                                   metadata={"description": "Running processes about the household."})
    active_tasks = fields.List(fields.Nested(TaskSchema), allow_none=True,
                               metadata={"description": "Their ready tasks."})


class TimelineEntrySchema(Schema):
    occurred_on = fields.Date(required=True)
    recorded_at = fields.AwareDateTime(required=True)
    source = fields.String(required=True, metadata={"description": "record or process"})
    kind = fields.String(required=True)
    summary = fields.String(required=True)
    record_type = fields.String(required=True)
    record_id = fields.Integer(allow_none=True)
    actor = fields.String(allow_none=True)
    process_id = fields.String(allow_none=True)
    instance_id = fields.Integer(allow_none=True)


class TimelineSchema(Schema):
    household_id = fields.Integer(required=True)
    items = fields.List(fields.Nested(TimelineEntrySchema), required=True)
