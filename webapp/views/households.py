"""Household files: the households in my case load, and one household's whole story.

What is shown comes from the case file's read model (casefile.file) and timeline, both deciding
through the one access policy; reads of protected data are logged there, with this page's purpose.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_currency
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import select
from werkzeug.wrappers import Response

from casefile import access
from casefile.errors import AccessDeniedError, NotFoundError
from casefile.file import SECTION_RECORD_TYPES, household_file, visible_households
from casefile.timeline import household_timeline
from engine import ProcessNotFoundError
from engine.models import HumanTask
from engine.tasklist import may_work_on
from webapp.accounts.auth import current_actor
from webapp.casefile_services import process_events
from webapp.extensions import db
from webapp.i18n.labels import LABELS, label
from webapp.i18n.localtime import local_day
from webapp.views.taskpage import get_engine

bp = Blueprint("households", __name__)

PAGE_SIZE = 25
# The file opens on the latest events; the whole story is one link away.
RECENT_EVENTS = 30
# Stored in the access log next to every protected read this page makes.
PURPOSE = "consultazione del fascicolo del nucleo (web)"
INTAKE_PROCESS = "intake"
# Who may start a new referral from the UI (domain.md §3.1: the coordinator registers referrals).
INTAKE_STARTERS = frozenset({"coordinatore"})


@bp.app_template_filter("money")
def format_money(cents: int | None) -> str:
    """Integer cents as euros in the reader's locale."""
    return "" if cents is None else format_currency(cents / 100, "EUR")


@bp.app_template_global("label")
def _label(code: Any, group: str) -> str:
    return label(code, group)


def viewer() -> access.Viewer:
    """The access policy's view of the logged-in user."""
    return access.Viewer(current_user.username, frozenset(current_user.roles), current_user.organisation)


@bp.app_template_global("reads_households")
def reads_households() -> bool:
    """Whether the logged-in user's roles read household files at all: the navigation offers the list only then."""
    return bool(access.decide(viewer(), "read", "household"))


def may_start_intake() -> bool:
    """Whether the logged-in user may start a new referral."""
    return bool(INTAKE_STARTERS & set(current_user.roles))


class HouseholdListArgsSchema(Schema):
    """The household list's query string."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default=None, validate=validate.Length(max=100))
    status = fields.String(load_default=None, validate=validate.OneOf(list(LABELS["enrollment_status"])))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1000))


@bp.route("/households")
@login_required
def list_households() -> tuple[str, int]:
    """The households in my case load, searchable by reference or name."""
    raw = {key: value for key, value in request.args.items() if value != ""}
    schema = HouseholdListArgsSchema()
    errors: dict[str, str] = {}
    try:
        args = schema.load(raw)
    except ValidationError as exc:
        bad = set(exc.messages)  # type: ignore[arg-type]
        errors = {name: _("Valore non valido.") for name in bad}
        args = schema.load({key: value for key, value in raw.items() if key not in bad})
    page = visible_households(db.session, viewer(), search=(args["q"] or "").strip() or None,
                              status=args["status"], limit=PAGE_SIZE, offset=(args["page"] - 1) * PAGE_SIZE)
    return render_template("households/list.html", page=page, args=args, errors=errors,
                           has_next=args["page"] * PAGE_SIZE < page.total, may_start_intake=may_start_intake(),
                           statuses=list(LABELS["enrollment_status"])), 400 if errors else 200


@bp.route("/households/<int:household_id>")
@login_required
def show_household(household_id: int) -> str:
    """One household's file, as far as I may read it, with its timeline and active tasks."""
    me = viewer()
    today = local_day(get_engine().clock_now())
    try:
        file = household_file(db.session, household_id, me, PURPOSE, as_of=today)
        steps = process_events(db.session, household_id)
        timeline = household_timeline(db.session, household_id, viewer=me, purpose=PURPOSE, process_events=steps)
    except (NotFoundError, AccessDeniedError):
        # The same answer for "no such household" and "not yours": existence is not disclosed.
        abort(404)
    show_process = bool(access.decide(me, "read", "timeline", access.case_scope(db.session, household_id)))
    tasks = _active_tasks({step.instance_id for step in steps if step.instance_id}) if show_process else []
    db.session.commit()  # the access log of what was just read
    actor = current_actor()
    latest_first = list(reversed(timeline))
    whole = request.args.get("storia") == "tutta"
    return render_template("households/show.html", file=file, tasks=tasks, whole_story=whole,
                           timeline=latest_first if whole else latest_first[:RECENT_EVENTS],
                           more_events=max(0, len(latest_first) - RECENT_EVENTS) if not whole else 0,
                           may_work_on=lambda task: may_work_on(task, actor), today=today,
                           partial=len(file.sections) < len(SECTION_RECORD_TYPES))


def _active_tasks(instance_ids: set[int]) -> list[HumanTask]:
    if not instance_ids:
        return []
    return list(db.session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(instance_ids),
                                                           HumanTask.status == "ready")
                                   .order_by(HumanTask.queue_order, HumanTask.created_at)))


@bp.post("/households/referrals")
@login_required
def start_referral() -> Response:
    """'Nuovo invio': start the latest intake process and go straight to its first task."""
    if not may_start_intake():
        abort(403)
    actor = current_actor()
    engine = get_engine()
    try:
        instance = engine.start(db.session, INTAKE_PROCESS, {}, actor)
    except ProcessNotFoundError:
        db.session.rollback()
        flash(_("Il processo di invio non è ancora stato pubblicato: rivolgiti all'analista."), "error")
        return redirect(url_for("households.list_households"), code=303)
    db.session.commit()
    first = next((task for task in db.session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status == "ready")
        .order_by(HumanTask.queue_order, HumanTask.created_at)) if may_work_on(task, actor)), None)
    if first is None:
        flash(_("Nuovo invio avviato: il primo passo spetta a un altro ruolo."), "success")
        return redirect(url_for("tasks.list_tasks"), code=303)
    return redirect(url_for("tasks.complete_task", task_id=first.id), code=303)
