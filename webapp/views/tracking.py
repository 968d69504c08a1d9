"""'Istanze': coordinators, supervisors and administrators follow process instances.

The list (filters, search, pages, CSV export) and one instance's detail (tasks, history, incidents).
The actions on an instance are in :mod:`webapp.views.tracking_actions`. Queries are engine.tracking's.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_login import login_required
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from engine import progress, tracking
from engine.runtime import Actor
from webapp.accounts.auth import current_actor
from webapp.extensions import db
from webapp.i18n.localtime import format_datetime, start_of_day
from webapp.tracking import (
    FACT_LABELS,
    STATUS_LABELS,
    VERSION_FACTS,
    history_steps,
    may_read_households,
    may_reassign,
    organisation_scope,
    require_tracking,
    tracked_instance,
)
from webapp.views import model_versions, tracking_actions
from webapp.views.taskpage import get_engine, households_by_reference
from webapp.views.tasks import colleagues, process_choices

bp = Blueprint("tracking", __name__)
tracking_actions.register(bp)
model_versions.register_tracking(bp)

PAGE_SIZE = 25
# An export is for a spreadsheet, not a data dump: past this, narrow the filters.
CSV_MAX_ROWS = 10000


class InstanceListArgsSchema(Schema):
    """The instance list's query string: filters, search and page."""

    class Meta:
        unknown = EXCLUDE

    process = fields.String(load_default=None, validate=validate.Length(max=200))
    version = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    status = fields.String(load_default=None, validate=validate.OneOf(tracking.STATUSES))
    household = fields.String(load_default=None, validate=validate.Length(max=200))
    task = fields.String(load_default=None, validate=validate.Length(max=200))
    overdue = fields.Boolean(load_default=False)
    started_from = fields.Date(load_default=None)
    started_to = fields.Date(load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(max=200))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1000))


def list_args() -> tuple[dict[str, Any], dict[str, str]]:
    """Valid arguments, and a readable message for each invalid one (which is then ignored)."""
    raw = {key: value for key, value in request.args.items() if value.strip() != ""}
    schema = InstanceListArgsSchema()
    try:
        return schema.load(raw), {}
    except ValidationError as exc:
        bad = set(exc.messages)  # type: ignore[arg-type]
        args = schema.load({key: value for key, value in raw.items() if key not in bad})
        messages = {"started_from": _("Data non valida."), "started_to": _("Data non valida."),
                    "page": _("Pagina non valida."), "status": _("Stato non valido."),
                    "version": _("Versione non valida.")}
        return args, {name: messages.get(name, _("Valore non valido.")) for name in sorted(bad)}


def instance_filter(args: dict[str, Any], actor: Actor) -> tracking.InstanceFilter:
    """The filter the arguments describe, narrowed to what the actor may follow."""
    return tracking.InstanceFilter(
        organisation=organisation_scope(actor), process_id=args["process"], version_id=args["version"],
        status=args["status"], business_key=args["household"], current_task=args["task"], overdue=args["overdue"],
        started_from=start_of_day(args["started_from"]) if args["started_from"] else None,
        # "Started by" a day includes that whole day.
        started_before=start_of_day(args["started_to"] + timedelta(days=1)) if args["started_to"] else None,
        search=args["q"])


@bp.route("/instances")
@login_required
def list_instances() -> tuple[str, int]:
    """The instances I follow, newest first, with their current tasks."""
    actor = current_actor()
    require_tracking(actor)
    args, errors = list_args()
    filters = instance_filter(args, actor)
    now = get_engine().clock_now()
    offset = (args["page"] - 1) * PAGE_SIZE
    rows = db.session.scalars(tracking.instances(filters, now, limit=PAGE_SIZE, offset=offset)).all()
    total = tracking.count_instances(db.session, filters, now)
    keys = {row.business_key for row in rows if row.business_key}
    households = households_by_reference(db.session, keys) if may_read_households(actor) else {}
    query = {key: value for key, value in request.args.items() if key != "page" and value.strip() != ""}
    return render_template(
        "tracking/list.html", instances=rows, total=total, args=args, errors=errors, now=now,
        tasks=tracking.ready_tasks_of(db.session, [row.id for row in rows]), households=households,
        processes=process_choices(), versions=tracking.versions(db.session), statuses=tracking.STATUSES,
        status_labels=STATUS_LABELS, has_next=offset + PAGE_SIZE < total, query=query,
        counts=tracking.count_by_status(db.session, filters, now), is_overdue=tracking.is_overdue,
        filtered=any(args[name] for name in args if name != "page"), scope=filters.organisation,
    ), 400 if errors else 200


def _csv_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: a leading = + - @ would otherwise be run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.route("/instances.csv")
@login_required
def export_instances() -> Response:
    """The same list, every page, as CSV (UTF-8 with BOM so that spreadsheets read the accents)."""
    actor = current_actor()
    require_tracking(actor)
    args, _errors = list_args()
    filters = instance_filter(args, actor)
    now = get_engine().clock_now()
    rows = db.session.scalars(tracking.instances(filters, now, limit=CSV_MAX_ROWS)).all()
    tasks = tracking.ready_tasks_of(db.session, [row.id for row in rows])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "process_id", "process_version_id", "status", "business_key", "organisation",
                     "started_at", "updated_at", "ended_at", "current_tasks", "overdue"])
    for row in rows:
        current = tasks.get(row.id, [])
        writer.writerow([_csv_cell(value) for value in (
            row.id, row.process_id, row.process_version_id, row.status, row.business_key, row.organisation,
            row.started_at.isoformat(), row.updated_at.isoformat(), row.ended_at.isoformat() if row.ended_at else "",
            "; ".join(task.name for task in current),
            "yes" if any(tracking.is_overdue(task, now) for task in current) else "no")])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=istanze.csv"})


@bp.route("/instances/<int(max=2147483647):instance_id>")
@login_required
def show_instance(instance_id: int) -> str:
    """One instance: where it stands, who has its tasks, every step so far and what went wrong."""
    actor = current_actor()
    instance = tracked_instance(db.session, actor, instance_id)
    now = get_engine().clock_now()
    events = tracking.history(db.session, instance.id)
    names = tracking.task_names(db.session, {event.task_id for event in events if event.task_id})
    reads_households = may_read_households(actor)
    household_id = None
    if reads_households and instance.business_key:
        household_id = households_by_reference(db.session, {instance.business_key}).get(instance.business_key)
    tasks = tracking.ready_tasks_of(db.session, [instance.id])[instance.id]
    reassigning = may_reassign(actor) and instance.organisation is not None
    # The diagram: each reached element marked with its state, loops with a badge of their passes.
    diagram = progress.element_progress(get_engine().load(instance),
                                        progress.open_incident_elements(db.session, instance.id))
    return render_template(
        "tracking/show.html", instance=instance, tasks=tasks, now=now, household_id=household_id,
        steps=history_steps(events, names, show_values=reads_households), show_values=reads_households,
        incidents=tracking.incidents(db.session, instance.id), status_labels=STATUS_LABELS,
        is_overdue=tracking.is_overdue, reassigning=reassigning, format_datetime=format_datetime,
        colleagues=colleagues(instance.organisation) if reassigning and instance.organisation else [],
        diagram=diagram, diagram_markers={key: [f"progress-{item.state}"] for key, item in diagram.elements.items()},
        diagram_overlays={key: f"×{times}" for key, times in diagram.repeated().items()},
        fact_labels=FACT_LABELS, version_facts=VERSION_FACTS,
        version_numbers={version_id: number for version_id, process_id, number, _ in tracking.versions(db.session)
                         if process_id == instance.process_id})


@bp.route("/instances/<int(max=2147483647):instance_id>/bpmn")
@login_required
def instance_bpmn(instance_id: int) -> Response:
    """The BPMN XML of the version an instance runs, for the diagram on its page."""
    actor = current_actor()
    instance = tracked_instance(db.session, actor, instance_id)
    # Not cached: migrating the instance to a new version changes the answer.
    return Response(instance.process_version.bpmn_xml, mimetype="application/xml")
