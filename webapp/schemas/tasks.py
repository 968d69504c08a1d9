"""Task schemas: list arguments, what a task looks like, and the bodies of claim/complete/reassign."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from webapp.schemas.common import PageArgsSchema

# Moments outside these bounds are typing mistakes, and near year 1 or 9999 a time zone shift overflows.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


class TaskListArgsSchema(PageArgsSchema):
    """Filters of "my tasks"."""

    class Meta:
        unknown = EXCLUDE

    process = fields.String(validate=validate.Length(min=1, max=200),
                            metadata={"description": "Only tasks of this process id."})
    household = fields.String(validate=validate.Length(min=1, max=200),
                              metadata={"description": "Business key (household reference) contains this text."})
    overdue = fields.Boolean(load_default=False, metadata={"description": "Only tasks past their due date."})
    due_before = fields.AwareDateTime(default_timezone=UTC, validate=validate.Range(min=EARLIEST, max=LATEST),
                                      metadata={"description": "Only tasks due before this moment (ISO 8601)."})


class TaskSchema(Schema):
    """A human task as the task list shows it."""

    id = fields.String(required=True)
    instance_id = fields.Integer(required=True)
    process_id = fields.String(required=True)
    process_name = fields.String(allow_none=True)
    business_key = fields.String(allow_none=True)
    task_spec_id = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)
    assigned_user = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"description": "ready, completed or cancelled"})
    created_at = fields.AwareDateTime(required=True)
    due_at = fields.AwareDateTime(allow_none=True)
    completed_at = fields.AwareDateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)
    form_key = fields.String(allow_none=True)


TASK_FIELDS = tuple(TaskSchema().fields)
TASK_MOMENTS = ("created_at", "due_at", "completed_at")


def task_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """What ``TaskSchema().dump(row)`` gives, built directly from a task row.

    The task list's hot path: marshmallow's per-field machinery cost more than the query for a page of
    50 (bench/http.py). Tests assert both give the same, and the fuzz test checks responses against
    the documented schema.
    """
    item = {name: row[name] for name in TASK_FIELDS}
    for name in TASK_MOMENTS:
        if item[name] is not None:
            item[name] = item[name].isoformat()
    return item


class TaskListSchema(Schema):
    """A page of tasks, soonest due first."""

    items = fields.List(fields.Nested(TaskSchema), required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)
    has_more = fields.Boolean(required=True)


class TaskFormSchema(Schema):
    """The task's form: its JSON Schema and its UI schema (empty objects when the task has no form)."""

    schema = fields.Dict(required=True)
    ui_schema = fields.Dict(required=True)


class TaskDetailSchema(TaskSchema):
    """A task with what it takes to complete it."""

    instructions = fields.String(allow_none=True, metadata={"description": "Markdown"})
    form = fields.Nested(TaskFormSchema, required=True)
    draft = fields.Dict(allow_none=True, metadata={"description": "Data saved without completing, if any."})
    instance_version = fields.Integer(required=True, metadata={
        "description": "Send it back as expected_version to be told (409) if the case moved on meanwhile."})


class CompleteTaskSchema(Schema):
    """The form data that completes a task."""

    class Meta:
        unknown = RAISE

    data = fields.Dict(keys=fields.String(), required=True, metadata={"description": "Values of the task's form."})
    expected_version = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=0))


class DraftSchema(Schema):
    """Form data kept without completing the task (not validated: a draft may be incomplete)."""

    class Meta:
        unknown = RAISE

    data = fields.Dict(keys=fields.String(), required=True)


class DraftSavedSchema(Schema):
    task_id = fields.String(required=True)
    saved_at = fields.AwareDateTime(required=True)
    data = fields.Dict(required=True)


class ReassignSchema(Schema):
    """Who gets the task: a username of the task's organisation and role, or null for the role's queue."""

    class Meta:
        unknown = RAISE

    username = fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=150))


class CompletionSchema(Schema):
    """The completed task, where its instance stands, and the caller's next tasks in it."""

    task = fields.Nested(TaskSchema, required=True)
    instance_id = fields.Integer(required=True)
    instance_status = fields.String(required=True)
    next_tasks = fields.List(fields.Nested(TaskSchema), required=True,
                             metadata={"description": "Ready tasks of the same instance the caller may work on."})
