"""Staff task list ("Le mie attività") and its actions, served from the human_task projection.

The task page itself (form, draft, completion) is in :mod:`webapp.views.task_form`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import select
from werkzeug.wrappers import Response

from casefile.models import Organisation, User
from engine import ConflictError, TaskNotReadyError
from engine.models import HumanTask, ProcessVersion
from engine.tasklist import TaskFilter, count_my_tasks, may_work_on, my_tasks, organisation_tasks
from webapp.accounts.auth import current_actor
from webapp.extensions import db
from webapp.i18n.labels import label
from webapp.i18n.localtime import end_of_day, format_date, format_datetime, local_day, start_of_day
from webapp.views import task_form
from webapp.views.taskpage import get_engine, households_by_reference

bp = Blueprint("tasks", __name__)
bp.add_app_template_filter(format_date, "localdate")
bp.add_app_template_filter(format_datetime, "localdatetime")
task_form.register(bp)

PAGE_SIZE = 25
# Who may hand a task of their organisation to a colleague (domain.md §2: the project coordinator).
REASSIGNING_ROLE = "coordinatore"


class TaskListArgsSchema(Schema):
    """The task list's query string: filters, scope and page."""

    class Meta:
        unknown = EXCLUDE

    process = fields.String(load_default=None, validate=validate.Length(max=200))
    household = fields.String(load_default=None, validate=validate.Length(max=200))
    overdue = fields.Boolean(load_default=False)
    due_by = fields.Date(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1000))
    scope = fields.String(load_default="mine", validate=validate.OneOf(["mine", "team"]))


@bp.app_context_processor
def _language_links() -> dict[str, Any]:
    def lang_url(code: str) -> str:
        """This page in another language (its query string kept)."""
        args = request.args.to_dict(flat=False)
        args["lang"] = [code]
        return request.path + "?" + urlencode(args, doseq=True)

    return {"lang_url": lang_url}


def _filter_error(name: str) -> str:
    return {
        "due_by": _("Data non valida."),
        "page": _("Pagina non valida."),
    }.get(name, _("Valore non valido."))


def _list_args() -> tuple[dict[str, Any], dict[str, str]]:
    """Valid arguments, and a readable message for each invalid one (which is then ignored)."""
    raw = {key: value for key, value in request.args.items() if value != ""}
    schema = TaskListArgsSchema()
    try:
        return schema.load(raw), {}
    except ValidationError as exc:
        bad = set(exc.messages)  # type: ignore[arg-type]
        args = schema.load({key: value for key, value in raw.items() if key not in bad})
        return args, {name: _filter_error(name) for name in sorted(bad)}


def _deadline_bound(args: dict[str, Any], now: datetime) -> datetime | None:
    bounds = []
    if args["overdue"]:
        bounds.append(now)
    if args["due_by"] is not None:
        bounds.append(start_of_day(args["due_by"] + timedelta(days=1)))  # due on that day included
    return min(bounds) if bounds else None


@dataclass(frozen=True)
class Colleague:
    """Someone a coordinator may hand a task to."""

    username: str
    full_name: str | None
    roles: frozenset[str]


def colleagues(organisation: str) -> list[Colleague]:
    users = db.session.scalars(select(User).join(Organisation, Organisation.id == User.organisation_id)
                               .where(Organisation.key == organisation, User.active.is_(True))
                               .order_by(User.username)).all()
    return [Colleague(u.username, u.full_name, u.roles) for u in users]


def _roles_of(tasks: list[HumanTask]) -> set[str]:
    return {task.role for task in tasks if task.role}


def process_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(select(ProcessVersion.process_id, ProcessVersion.name)
                              .order_by(ProcessVersion.process_id, ProcessVersion.id.desc())).all()
    names: dict[str, str] = {}
    for process_id, name in rows:
        names.setdefault(process_id, name or process_id)
    return sorted(names.items(), key=lambda item: item[1].lower())


def is_coordinator() -> bool:
    """Whether the logged-in user may see and reassign the whole organisation's tasks."""
    return REASSIGNING_ROLE in current_user.roles


@bp.route("/")
@login_required
def index() -> Response:
    """Home: the task list."""
    return redirect(url_for("tasks.list_tasks"))


@bp.route("/tasks")
@login_required
def list_tasks() -> tuple[str, int]:
    """'Le mie attività': mine and my roles' queue (or, for coordinators, the whole organisation's)."""
    actor = current_actor()
    args, errors = _list_args()
    team = args["scope"] == "team" and is_coordinator() and actor.organisation is not None
    now = get_engine().clock_now()
    filters = TaskFilter(process_id=args["process"], business_key=args["household"],
                         due_before=_deadline_bound(args, now))
    offset = (args["page"] - 1) * PAGE_SIZE
    if team:
        query = organisation_tasks(actor.organisation or "", limit=PAGE_SIZE + 1, offset=offset, filters=filters)
    else:
        query = my_tasks(actor, limit=PAGE_SIZE + 1, offset=offset, filters=filters)
    rows = db.session.scalars(query).all()
    tasks = rows[:PAGE_SIZE]
    counts = count_my_tasks(db.session, actor, now=now, end_of_today=end_of_day(now))
    keys = {task.business_key for task in tasks if task.business_key}
    return render_template(
        "tasks/list.html", tasks=tasks, counts=counts, args=args, errors=errors, team=team,
        has_next=len(rows) > PAGE_SIZE, now=now, end_of_today=end_of_day(now), local_today=local_day(now),
        coordinator=is_coordinator(), role_names={role: label(role, "role") for role in actor.roles | _roles_of(tasks)},
        processes=process_choices(), households=households_by_reference(db.session, keys),
        colleagues=colleagues(actor.organisation) if team and actor.organisation else [],
        may_work_on=lambda task: may_work_on(task, actor), filtered=any(
            [args["process"], args["household"], args["overdue"], args["due_by"]]),
    ), 400 if errors else 200


def _back(default: str) -> Response:
    """Redirect to the page the form came from (a local path only), else ``default``."""
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = default
    return redirect(target, code=303)


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim_task(task_id: str) -> Response:
    """Take an unclaimed task of my role: it leaves the role's queue and becomes mine."""
    try:
        row = get_engine().claim(db.session, task_id, current_actor())
    except (ConflictError, TaskNotReadyError):
        db.session.rollback()
        flash(_("Un collega ha appena preso in carico questa attività, oppure è già stata svolta."), "error")
        return _back(url_for("tasks.list_tasks"))
    db.session.commit()
    flash(_("Attività presa in carico: %(name)s", name=row.name), "success")
    return _back(url_for("tasks.complete_task", task_id=task_id))


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim_task(task_id: str) -> Response:
    """Give a task of mine back to its role's queue."""
    row = get_engine().unclaim(db.session, task_id, current_actor())
    db.session.commit()
    flash(_("Attività rilasciata: torna tra quelle del ruolo (%(name)s).", name=row.name), "success")
    return _back(url_for("tasks.list_tasks"))


def _valid_assignee(row: HumanTask, username: str | None, organisation: str) -> bool:
    if username is None:
        return True
    user = db.session.scalars(select(User).where(User.username == username)).first()
    return (user is not None and user.active and user.organisation.key == organisation
            and row.role is not None and row.role in user.roles)


@bp.post("/tasks/<task_id>/reassign")
@login_required
def reassign_task(task_id: str) -> Response | tuple[str, int]:
    """A coordinator hands a task of their organisation to a colleague with its role (or back to the queue)."""
    actor = current_actor()
    engine = get_engine()
    row = engine.get_task(db.session, task_id)
    if not is_coordinator() or actor.organisation is None or row.organisation != actor.organisation:
        abort(403)
    username = (request.form.get("username") or "").strip() or None
    if not _valid_assignee(row, username, actor.organisation):
        return render_template("error.html", status=422, message=_(
            "Puoi assegnare l'attività solo a un collega del tuo ente che ha il ruolo richiesto.")), 422
    try:
        engine.reassign(db.session, task_id, username, actor)
    except TaskNotReadyError:
        db.session.rollback()
        flash(_("Questa attività è già stata svolta."), "error")
        return _back(url_for("tasks.list_tasks", scope="team"))
    db.session.commit()
    if username:
        flash(_("%(name)s assegnata a %(user)s.", name=row.name, user=username), "success")
    else:
        flash(_("%(name)s rimessa tra le attività del ruolo.", name=row.name), "success")
    return _back(url_for("tasks.list_tasks", scope="team"))

