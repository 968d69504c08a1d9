"""The task page: where the task belongs, its instructions, and its form — draft, complete, go on.

Registered on the tasks blueprint (endpoint ``tasks.complete_task``) by :func:`register`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from engine import ConflictError, FormValidationError, TaskNotReadyError
from engine.drafts import draft_of, save_draft
from engine.models import HumanTask, ProcessInstance, TaskDraft
from webapp.accounts.auth import current_actor
from webapp.extensions import db
from webapp.forms.messages import localized_errors
from webapp.forms.render import all_fields, build_fields, unplaced_errors
from webapp.forms.state import (
    apply_row_action,
    data_from_state,
    drop_untouched_rows,
    state_from_data,
    state_from_form,
)
from webapp.views.taskpage import get_engine, household_of, next_task_of, render_instructions, task_data_of

Page = str | Response | tuple[str, int]


def register(bp: Blueprint) -> None:
    """Add the task page's route to ``bp``."""
    bp.add_url_rule("/tasks/<task_id>", "complete_task", complete_task, methods=["GET", "POST"])
    bp.register_error_handler(CSRFError, _form_expired)


def _form_expired(error: CSRFError) -> Page | CSRFError:
    """A form left open past its CSRF token's life comes back as typed, with a fresh token, not lost."""
    task_id = (request.view_args or {}).get("task_id")
    if request.endpoint != "tasks.complete_task" or not current_user.is_authenticated or not task_id:
        return error
    row = db.session.get(HumanTask, task_id)
    if row is None or not get_engine().may_work_on(row, current_actor()):
        return error
    schema, ui_schema = _form_of(row)
    flash(_("Il modulo è rimasto aperto a lungo: controlla i dati e invia di nuovo."), "error")
    return _render(row, schema, ui_schema, state_from_form(schema, request.form), status=400)


def _task_for(task_id: str) -> HumanTask:
    row = db.session.get(HumanTask, task_id)
    if row is None:
        abort(404)
    if not get_engine().may_work_on(row, current_actor()):
        abort(403)
    return row


def _form_of(row: HumanTask) -> tuple[dict[str, Any], dict[str, Any]]:
    instance = db.session.get(ProcessInstance, row.instance_id)
    forms = instance.process_version.forms if instance is not None else {}
    return forms.get(row.form_key or "", {}), forms.get(row.ui_form_key or "", {})


@login_required
def complete_task(task_id: str) -> Page:
    """Show a task's form; on POST grow or shrink a group, save a draft, or validate and complete."""
    row = _task_for(task_id)
    schema, ui_schema = _form_of(row)
    if request.method == "POST" and row.status == "ready":
        state = state_from_form(schema, request.form)
        action = request.form.get("_action", "complete")
        if action.startswith(("add:", "remove:")):
            return _render(row, schema, ui_schema, apply_row_action(schema, state, action))
        if action == "draft":
            return _save_draft(row, schema, ui_schema, state)
        return _complete(row, schema, ui_schema, drop_untouched_rows(schema, state))
    actor = current_actor()
    draft = draft_of(db.session, row, actor) if row.status == "ready" else None
    task_data = task_data_of(db.session, get_engine(), row) if schema.get("properties") else {}
    return _render(row, schema, ui_schema, state_from_data(schema, draft, task_data))


def _save_draft(row: HumanTask, schema: dict[str, Any], ui_schema: dict[str, Any], state: dict[str, Any]) -> Page:
    try:
        save_draft(db.session, row, data_from_state(schema, state), current_actor(), get_engine().clock_now())
    except TaskNotReadyError:
        db.session.rollback()
        return _conflict(row, schema, ui_schema, state)
    db.session.commit()
    flash(_("Bozza salvata: la ritrovi quando riapri l'attività."), "success")
    return redirect(url_for("tasks.complete_task", task_id=row.id), code=303)


def _complete(row: HumanTask, schema: dict[str, Any], ui_schema: dict[str, Any], state: dict[str, Any]) -> Page:
    actor = current_actor()
    try:
        get_engine().complete_task(db.session, row.id, data_from_state(schema, state), actor)
    except FormValidationError as exc:
        db.session.rollback()
        return _render(row, schema, ui_schema, state, localized_errors(exc.rules), status=422)
    except (ConflictError, TaskNotReadyError):
        db.session.rollback()
        return _conflict(row, schema, ui_schema, state)
    db.session.commit()
    flash(_("Attività completata: %(name)s", name=row.name), "success")
    following = next_task_of(db.session, actor, row.instance_id)
    if following is None:
        return redirect(url_for("tasks.list_tasks"), code=303)
    return redirect(url_for("tasks.complete_task", task_id=following.id), code=303)


def _conflict(row: HumanTask, schema: dict[str, Any], ui_schema: dict[str, Any], state: dict[str, Any]) -> Page:
    # Somebody else moved the case on meanwhile: keep what was typed on screen and say so.
    flash(_("La pratica è stata aggiornata da qualcun altro nel frattempo: controlla e riprova."), "error")
    db.session.refresh(row)
    return _render(row, schema, ui_schema, state, status=409)


def _render(row: HumanTask, schema: dict[str, Any], ui_schema: dict[str, Any], state: dict[str, Any],
            errors: dict[str, list[str]] | None = None, status: int = 200) -> tuple[str, int]:
    errors = errors or {}
    fields = build_fields(schema, ui_schema, state, errors)
    draft = db.session.get(TaskDraft, row.id) if row.status == "ready" else None
    return render_template(
        "tasks/form.html", task=row, fields=fields, schema=schema, form_title=_form_title(schema, row),
        error_fields=[f for f in all_fields(fields) if f.errors], form_errors=unplaced_errors(fields, errors),
        instructions=render_instructions(row.instructions), household=household_of(db.session, row.business_key),
        draft_saved_at=draft.saved_at if draft is not None else None, now=get_engine().clock_now(),
    ), status


def _form_title(schema: dict[str, Any], row: HumanTask) -> str | None:
    title = schema.get("title")
    return _(str(title)) if title and title != row.name else None
