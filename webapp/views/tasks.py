"""Staff task list and task forms, served from the human_task projection."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from engine import ConflictError, Engine, FormValidationError, TaskNotReadyError
from engine.models import HumanTask, ProcessInstance
from engine.tasklist import my_tasks
from webapp.auth import current_actor
from webapp.extensions import db
from webapp.formrender import build_fields, localized_errors, read_form

bp = Blueprint("tasks", __name__)


def get_engine() -> Engine:
    """The app's engine."""
    return current_app.extensions["engine"]  # type: ignore[no-any-return]


@bp.route("/")
@login_required
def index() -> Response:
    """Home: the task list."""
    return redirect(url_for("tasks.list_tasks"))


@bp.route("/tasks")
@login_required
def list_tasks() -> str:
    """'Le mie attività': mine first, then my roles' queue."""
    actor = current_actor()
    tasks = db.session.scalars(my_tasks(actor, limit=100)).all()
    return render_template("tasks/list.html", tasks=tasks, now=get_engine().clock_now())


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


@bp.route("/tasks/<task_id>", methods=["GET", "POST"])
@login_required
def complete_task(task_id: str) -> str | Response | tuple[str, int]:
    """Show a task's form; on POST validate and complete it."""
    row = _task_for(task_id)
    schema, ui_schema = _form_of(row)
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST" and row.status == "ready":
        values = read_form(schema, request.form)
        try:
            get_engine().complete_task(db.session, task_id, values, current_actor())
        except FormValidationError as exc:
            db.session.rollback()
            errors, status = localized_errors(exc.rules), 422
        except (ConflictError, TaskNotReadyError):
            # Somebody else moved the case on meanwhile: keep what was typed on screen and say so.
            db.session.rollback()
            flash(_("La pratica è stata aggiornata da qualcun altro nel frattempo: controlla e riprova."), "error")
            status = 409
        else:
            db.session.commit()
            flash(_("Attività completata: %(name)s", name=row.name), "success")
            return redirect(url_for("tasks.list_tasks"))
    fields = build_fields(schema, ui_schema, values or request.form, errors)
    return render_template("tasks/form.html", task=row, fields=fields, schema=schema,
                           user=current_user), status
