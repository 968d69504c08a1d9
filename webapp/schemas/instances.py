"""Process-instance schemas: starting one, listing them, and what one looks like."""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from webapp.schemas.common import PageArgsSchema, not_blank
from webapp.schemas.tasks import TaskSchema

INSTANCE_STATUSES = ("running", "waiting", "completed", "error", "suspended", "terminated")


class StartInstanceSchema(Schema):
    """Which process to start, with its start data; it belongs to the caller's organisation."""

    class Meta:
        unknown = RAISE

    process_id = fields.String(required=True, validate=[validate.Length(min=1, max=200), not_blank])
    data = fields.Dict(keys=fields.String(), load_default=dict, metadata={"description": "Start data."})
    business_key = fields.String(allow_none=True, load_default=None, validate=validate.Length(min=1, max=200))


class InstanceListArgsSchema(PageArgsSchema):
    """Filters of the organisation's instances."""

    class Meta:
        unknown = EXCLUDE

    process = fields.String(validate=validate.Length(min=1, max=200))
    status = fields.String(validate=validate.OneOf(INSTANCE_STATUSES))


class IncidentSchema(Schema):
    """An error that stopped the instance until someone retries."""

    id = fields.Integer(required=True)
    task_spec_id = fields.String(allow_none=True)
    message = fields.String(required=True)
    status = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)


class InstanceSchema(Schema):
    """An instance's status, without its data (household data is read through /households)."""

    id = fields.Integer(required=True)
    process_id = fields.String(required=True)
    process_name = fields.String(allow_none=True)
    process_version_id = fields.Integer(required=True)
    process_version_number = fields.Integer(required=True)
    status = fields.String(required=True)
    organisation = fields.String(allow_none=True)
    business_key = fields.String(allow_none=True)
    started_by = fields.String(allow_none=True)
    started_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    ended_at = fields.AwareDateTime(allow_none=True)
    version = fields.Integer(required=True, metadata={"description": "Changes at every step (optimistic lock)."})


class InstanceDetailSchema(InstanceSchema):
    """An instance with its current tasks and open incidents."""

    tasks = fields.List(fields.Nested(TaskSchema), required=True, metadata={"description": "Ready tasks."})
    incidents = fields.List(fields.Nested(IncidentSchema), required=True)


class InstanceListSchema(Schema):
    items = fields.List(fields.Nested(InstanceSchema), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)
