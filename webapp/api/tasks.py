"""/api/v1/tasks: my tasks, one task with its form, claim, unclaim, draft, complete, reassign.

A task is visible to its assignee and completer, to the staff of its role in its organisation, and to
the coordinators of its organisation (who reassign); anyone else gets 404, as for a task that does not
exist. Visible but not theirs to act on: 403; moved on meanwhile (claimed, completed, stale): 409.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from sqlalchemy import select

from casefile.accounts import find_user
from engine import Actor, ConflictError, FormValidationError, NotAllowedError, TaskNotFoundError, TaskNotReadyError
from engine.drafts import draft_of, save_draft
from engine.models import HumanTask, ProcessInstance
from engine.tasklist import TaskFilter, may_work_on, my_tasks
from webapp.api.auth import api_actor, get_engine, resource_blueprint
from webapp.api.common import errors
from webapp.extensions import db
from webapp.schemas.tasks import (
    CompleteTaskSchema,
    CompletionSchema,
    DraftSavedSchema,
    DraftSchema,
    ReassignSchema,
    TaskDetailSchema,
    TaskListArgsSchema,
    TaskListSchema,
    TaskSchema,
    task_json,
)

bp = resource_blueprint("api_tasks", "/api/v1/tasks", "Human tasks: mine, their forms, and what I do with them.")

COORDINATOR = "coordinatore"


def may_see(row: HumanTask, actor: Actor) -> bool:
    """Assignee, completer, staff of the task's role and organisation, or a coordinator of that organisation."""
    if actor.username in (row.assigned_user, row.completed_by):
        return True
    if row.organisation is None or row.organisation != actor.organisation:
        return False
    return (row.role is not None and row.role in actor.roles) or COORDINATOR in actor.roles


def visible_task(task_id: str, actor: Actor) -> HumanTask:
    """The task, or TaskNotFoundError (404) when it does not exist or is not the caller's to see."""
    row = db.session.get(HumanTask, task_id) if len(task_id) <= 36 else None
    if row is None or not may_see(row, actor):
        raise TaskNotFoundError(f"no task {task_id}", task_id=task_id)
    return row


def _ready_and_free(row: HumanTask, actor: Actor) -> None:
    if row.status != "ready":
        raise TaskNotReadyError(f"task {row.id} is {row.status}", task_id=row.id, status=row.status)
    if row.assigned_user is not None and row.assigned_user != actor.username:
        raise ConflictError(f"task {row.id} is claimed by {row.assigned_user}", task_id=row.id,
                            assigned_user=row.assigned_user)


@bp.route("", methods=["GET"])
@bp.arguments(TaskListArgsSchema, location="query")
@bp.response(200, TaskListSchema)
@errors(bp)
def list_tasks(args: dict[str, Any]) -> Response:
    """My tasks: assigned to me, or unclaimed in my roles and organisation; soonest due first."""
    due_before = args.get("due_before")
    if args["overdue"]:
        now = get_engine().clock_now()
        due_before = min(due_before, now) if due_before is not None else now
    filters = TaskFilter(process_id=args.get("process"), business_key=args.get("household"), due_before=due_before)
    limit, offset = args["limit"], args["offset"]
    # Plain rows, not ORM objects: the list only reads them, and hydrating 50 entities per page costs
    # about as much as the query itself (bench/http.py).
    rows = db.session.connection().execute(
        my_tasks(api_actor(), limit=limit + 1, offset=offset, filters=filters)).mappings().all()
    # Serialised directly (see task_json); the response is still documented by TaskListSchema.
    return jsonify({"items": [task_json(row) for row in rows[:limit]], "limit": limit, "offset": offset,
                    "has_more": len(rows) > limit})


@bp.route("/<task_id>", methods=["GET"])
@bp.response(200, TaskDetailSchema)
@errors(bp, 404)
def get_task(task_id: str) -> dict[str, Any]:
    """A task with its instructions, its form (JSON Schema and UI schema) and my saved draft."""
    actor = api_actor()
    row = visible_task(task_id, actor)
    instance = db.session.get(ProcessInstance, row.instance_id)
    forms = instance.process_version.forms if instance is not None else {}
    return {**{name: getattr(row, name) for name in TaskSchema().fields}, "instructions": row.instructions,
            "form": {"schema": forms.get(row.form_key or "", {}), "ui_schema": forms.get(row.ui_form_key or "", {})},
            "draft": draft_of(db.session, row, actor), "instance_version": instance.version if instance else 0}


@bp.route("/<task_id>/claim", methods=["POST"])
@bp.response(200, TaskSchema)
@errors(bp, 403, 404, 409)
def claim_task(task_id: str) -> HumanTask:
    """Take a task of my role's queue."""
    actor = api_actor()
    row = visible_task(task_id, actor)
    _ready_and_free(row, actor)
    if row.assigned_user == actor.username:
        raise ConflictError(f"task {row.id} is already yours", task_id=row.id, assigned_user=actor.username)
    return get_engine().claim(db.session, task_id, actor)


@bp.route("/<task_id>/unclaim", methods=["POST"])
@bp.response(200, TaskSchema)
@errors(bp, 403, 404, 409)
def unclaim_task(task_id: str) -> HumanTask:
    """Give a task I claimed back to my role's queue."""
    actor = api_actor()
    row = visible_task(task_id, actor)
    _ready_and_free(row, actor)
    if row.assigned_user is None:
        raise ConflictError(f"task {row.id} is not claimed", task_id=row.id)
    return get_engine().unclaim(db.session, task_id, actor)


@bp.route("/<task_id>/draft", methods=["PUT"])
@bp.arguments(DraftSchema)
@bp.response(200, DraftSavedSchema)
@errors(bp, 403, 404, 409)
def save_task_draft(body: dict[str, Any], task_id: str) -> Any:
    """Keep form data without completing the task (not validated)."""
    actor = api_actor()
    row = visible_task(task_id, actor)
    _ready_and_free(row, actor)
    return save_draft(db.session, row, body["data"], actor, get_engine().clock_now())


@bp.route("/<task_id>/complete", methods=["POST"])
@bp.arguments(CompleteTaskSchema)
@bp.response(200, CompletionSchema)
@errors(bp, 403, 404, 409, 422)
def complete_task(body: dict[str, Any], task_id: str) -> dict[str, Any]:
    """Complete a task with its form data; field errors come back as 422 with ``details.fields``."""
    actor = api_actor()
    row = visible_task(task_id, actor)
    _ready_and_free(row, actor)
    if not may_work_on(row, actor):
        raise NotAllowedError(f"{actor.username} may not complete task {task_id}", task_id=task_id)
    instance = get_engine().complete_task(db.session, task_id, body["data"], actor,
                                          expected_version=body["expected_version"])
    next_tasks = [task for task in db.session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status == "ready")
        .order_by(HumanTask.queue_order, HumanTask.created_at)) if may_work_on(task, actor)]
    return {"task": row, "instance_id": instance.id, "instance_status": instance.status, "next_tasks": next_tasks}


@bp.route("/<task_id>/reassign", methods=["POST"])
@bp.arguments(ReassignSchema)
@bp.response(200, TaskSchema)
@errors(bp, 403, 404, 409, 422)
def reassign_task(body: dict[str, Any], task_id: str) -> HumanTask:
    """Hand a task to a colleague of its role and organisation, or back to the queue (coordinators only)."""
    actor = api_actor()
    row = visible_task(task_id, actor)
    if COORDINATOR not in actor.roles or row.organisation != actor.organisation:
        raise NotAllowedError("only a coordinator of the task's organisation may reassign it", task_id=task_id)
    if row.status != "ready":
        raise TaskNotReadyError(f"task {row.id} is {row.status}", task_id=row.id, status=row.status)
    username = body["username"]
    if username is not None:
        user = find_user(db.session, username)
        if user is None or not user.active or user.organisation.key != row.organisation or row.role not in user.roles:
            raise FormValidationError("no such colleague", fields={
                "username": ["no active user of the task's organisation holds the task's role"]})
    return get_engine().reassign(db.session, task_id, username, actor)
