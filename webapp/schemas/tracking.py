"""Schemas of the tracking API: instance filters, history steps and lifecycle actions."""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from engine.tracking import STATUSES
from webapp.schemas.common import PageArgsSchema, not_blank
from webapp.schemas.instances import InstanceSchema
from webapp.schemas.tasks import TaskSchema
from webapp.tracking import REASON_MAX


class TrackingListArgsSchema(PageArgsSchema):
    """Filters of the instances a tracking role follows (text filters: contains, any case)."""

    class Meta:
        unknown = EXCLUDE

    process = fields.String(validate=validate.Length(min=1, max=200))
    version = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    status = fields.String(validate=validate.OneOf(STATUSES))
    household = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "Business key."})
    task = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "A ready task's name."})
    overdue = fields.Boolean(load_default=False)
    started_from = fields.Date(metadata={"description": "Started on or after this day."})
    started_to = fields.Date(metadata={"description": "Started on or before this day."})
    q = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "Free search."})


class TrackedInstanceSchema(InstanceSchema):
    """An instance with its ready tasks and whether one of them is overdue."""

    tasks = fields.List(fields.Nested(TaskSchema), required=True)
    overdue = fields.Boolean(required=True)


class TrackingListSchema(Schema):
    items = fields.List(fields.Nested(TrackedInstanceSchema), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class ChangeSchema(Schema):
    field = fields.String(required=True)
    old = fields.Raw(allow_none=True, metadata={"description": "Null when the caller may not see values."})
    new = fields.Raw(allow_none=True)


class HistoryStepSchema(Schema):
    """One recorded step: who, when, what (facts about the process) and which fields changed."""

    at = fields.AwareDateTime(required=True)
    actor = fields.String(allow_none=True)
    kind = fields.String(required=True)
    task = fields.String(allow_none=True)
    facts = fields.Dict(required=True)
    changes = fields.List(fields.Nested(ChangeSchema), required=True)


class HistorySchema(Schema):
    items = fields.List(fields.Nested(HistoryStepSchema), required=True)


class ReasonSchema(Schema):
    """Why the instance is suspended, resumed or terminated (kept in its history)."""

    class Meta:
        unknown = RAISE

    reason = fields.String(required=True, validate=[validate.Length(min=1, max=REASON_MAX), not_blank])


class RetryArgsSchema(Schema):
    """Optional corrections to the failed step's data, applied before it runs again."""

    class Meta:
        unknown = RAISE

    data = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=200)), values=fields.Raw(allow_none=True),
        metadata={"description": "New values of existing top-level variables of the failed step "
                                 "(422 naming any variable it does not have)."})


class MigrateArgsSchema(Schema):
    """Move one instance to a newer version of its process (default: the latest)."""

    class Meta:
        unknown = RAISE

    to_version = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    dry_run = fields.Boolean(load_default=False, metadata={"description": "Only say whether it would migrate."})
    expected_version = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1),
                                      metadata={"description": "The lock version you read (409 if changed)."})


class BulkMigrationArgsSchema(Schema):
    """Move every unfinished instance of a process (optionally of one version) to a newer version."""

    class Meta:
        unknown = RAISE

    process = fields.String(required=True, validate=[validate.Length(min=1, max=200), not_blank])
    from_version = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    to_version = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    dry_run = fields.Boolean(load_default=False)


class MigrationReasonSchema(Schema):
    """One reason an instance cannot migrate: ``message`` in English, ``code`` and ``params`` to say it in
    another language (the web pages show it in Italian or English from these)."""

    code = fields.String(required=True, metadata={"example": "task_missing"})
    params = fields.Dict(keys=fields.String(), required=True,
                         metadata={"example": {"task": "review", "kind": "UserTask", "subprocess": None,
                                               "version": 7}})
    message = fields.String(required=True)


class MigrationReportSchema(Schema):
    """Whether one instance migrates (or migrated), and if not, why."""

    instance_id = fields.Integer(required=True)
    process_id = fields.String(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    migratable = fields.Boolean(required=True)
    migrated = fields.Boolean(required=True)
    reasons = fields.List(fields.String(), required=True, metadata={"description": "Why not, in English."})
    details = fields.List(fields.Nested(MigrationReasonSchema), required=True,
                          metadata={"description": "The same reasons, each with its code and params."})


class BulkMigrationSchema(Schema):
    items = fields.List(fields.Nested(MigrationReportSchema), required=True)
    dry_run = fields.Boolean(required=True)
    migrated = fields.Integer(required=True)
    refused = fields.Integer(required=True)
