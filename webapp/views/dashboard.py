"""'Cruscotto': where the processes stand and how the programme is doing, for those who follow it.

Coordinators, supervisors and administrators see their organisation's process figures (administrators:
every organisation's) and the programme's indicators for a period, with CSV/XLSX downloads. A supervisor of
an organisation that funds the programme sees the funder view: programme-wide aggregates only, with small
counts hidden so that no household can be recognised (domain.md §5–6). Queries are engine.dashboard's and
casefile.indicators'.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import format_currency, format_decimal, format_percent
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from casefile.dates import add_months
from casefile.indicators import (
    Indicator,
    Period,
    compute_indicators,
    funder_exits_by_destination,
    to_csv,
    to_xlsx,
)
from casefile.indicators.funder import DESTINATION_GROUP_ORDER
from casefile.models import Organisation
from engine import dashboard
from engine.errors import ProcessNotFoundError
from engine.runtime import Actor
from engine.store import latest_version
from webapp.accounts.auth import current_actor
from webapp.accounts.messages import role_labels
from webapp.extensions import db
from webapp.i18n.localtime import local_day, start_of_day
from webapp.tracking import organisation_scope, require_tracking
from webapp.views.taskpage import get_engine
from webapp.views.tasks import process_choices

bp = Blueprint("dashboard", __name__)

# Counts from 1 to SMALL_CELL - 1 are hidden in the funder view (zero identifies nobody).
SMALL_CELL = 5
# A longer period is a data dump, not a dashboard question (and slow to compute).
MAX_PERIOD_YEARS = 10
# Colour classes of the heat map, from a few waiting instances (1) to the busiest element (HEAT_CLASSES).
HEAT_CLASSES = 5


def destination_labels() -> dict[str, str]:
    """The funder table's destination groups, in the user's language."""
    return {"permanent": _("Stabile"), "temporary": _("Temporanea"), "institutional": _("Istituzionale"),
            "homeless": _("Senza dimora"), "other": _("Altro o non nota")}


def kind_labels() -> dict[str, str]:
    """What an instance waits at, in the user's language."""
    return {"task": _("Attività"), "timer": _("Timer"), "message": _("Messaggio")}


# --- who sees what ----------------------------------------------------------------------------------------

def _organisation(key: str | None) -> Organisation | None:
    if key is None:
        return None
    return db.session.scalars(select(Organisation).where(Organisation.key == key)).first()


def is_funder_view(actor: Actor) -> bool:
    """Whether the actor gets the funder view: a supervisor (not an admin) of an organisation that funds."""
    if "admin" in actor.roles or "supervisore" not in actor.roles:
        return False
    organisation = _organisation(actor.organisation)
    return organisation is not None and organisation.plays("funder")


def indicator_scope(actor: Actor, funder: bool) -> int | None:
    """The casefile organisation id the indicators are narrowed to; None: the whole programme."""
    key = organisation_scope(actor)
    if key is None or funder:
        return None
    organisation = _organisation(key)
    # An organisation with no case-file record manages no household: narrow to nothing, never to everything.
    return organisation.id if organisation is not None else 0


# --- the period ---------------------------------------------------------------------------------------------

def default_period(today: date) -> tuple[date, date]:
    """The last 12 months up to today, both days included."""
    return add_months(today, -12) + timedelta(days=1), today


def read_period(today: date) -> tuple[date, date, dict[str, str]]:
    """The period the query string asks for (defaults: the last 12 months), and a message per bad field."""
    start, end = default_period(today)
    errors: dict[str, str] = {}
    values = {"from": start, "to": end}
    for name in values:
        raw = request.args.get(name, "").strip()
        if not raw:
            continue
        try:
            values[name] = date.fromisoformat(raw)
        except ValueError:
            errors[name] = _("Data non valida: usa il formato AAAA-MM-GG.")
    start, end = values["from"], values["to"]
    if not errors and end < start:
        errors["to"] = _("La data finale precede quella iniziale.")
    elif not errors and end > add_months(start, 12 * MAX_PERIOD_YEARS):
        errors["to"] = _("Il periodo può durare al massimo %(years)s anni.", years=MAX_PERIOD_YEARS)
    return start, end, errors


# --- the funder view's suppression --------------------------------------------------------------------------

def _small(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < SMALL_CELL


def is_small_cell(indicator: Indicator) -> bool:
    """Whether an indicator rests on so few households (or events) that publishing it could identify one."""
    counts: list[Any] = [indicator.numerator, indicator.denominator]
    if indicator.unit in ("households", "count"):
        counts.append(indicator.value)
    counts += [value for name, value in indicator.details.items() if not name.endswith("_cents")]
    return any(_small(value) for value in counts)


def suppressed(indicator: Indicator) -> Indicator:
    """The indicator with every figure hidden (None) when it is a small cell; otherwise unchanged.

    The share and its parts go together: a hidden numerator could be recomputed from the share.
    """
    if not is_small_cell(indicator):
        return indicator
    return dataclasses.replace(indicator, value=None, numerator=None, denominator=None,
                               details=dict.fromkeys(indicator.details))


# --- display -------------------------------------------------------------------------------------------------

def display_value(indicator: Indicator) -> str:
    """The main figure as people read it, in the user's language."""
    value = indicator.value
    if value is None:
        return "—"
    if indicator.unit == "share":
        return format_percent(value, "#,##0.0%")
    if indicator.unit == "cents":
        return format_currency(value / 100, "EUR")
    if indicator.unit == "days":
        return _("%(days)s giorni", days=format_decimal(value))
    return format_decimal(value)


def display_hours(seconds: float) -> str:
    """A duration in hours with one decimal."""
    return _("%(hours)s h", hours=format_decimal(seconds / 3600, "#,##0.0"))


def bar_percent(value: float | None, top: float | None = 1) -> float:
    """How much of a bar to fill (0–100) for a value out of ``top``."""
    if value is None or not top:
        return 0
    return round(max(0.0, min(1.0, value / top)) * 100, 1)


# --- the heat map --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class HeatMap:
    """Where one process's active instances wait, drawn on the diagram of its latest version."""

    process_id: str
    version_number: int
    counts: dict[str, int]  # element id -> waiting instances

    @property
    def top(self) -> int:
        """The most instances waiting at one element (0 when none wait)."""
        return max(self.counts.values(), default=0)

    def heat_class(self, count: int) -> int:
        """The colour class (1 to HEAT_CLASSES) of a count, relative to the busiest element."""
        return max(1, math.ceil(count / self.top * HEAT_CLASSES)) if self.top else 1

    def markers(self) -> dict[str, list[str]]:
        """The viewer's markers: each element with waiting instances gets its heat class."""
        return {element: ["heat", f"heat-{self.heat_class(count)}"] for element, count in self.counts.items()}

    def overlays(self) -> dict[str, str]:
        """The viewer's count badges."""
        return {element: str(count) for element, count in self.counts.items()}

    def legend(self) -> list[tuple[int, int, int]]:
        """(class, fewest, most) for each class some count could fall in, given the busiest element."""
        ranges = []
        for level in range(1, HEAT_CLASSES + 1):
            fewest = math.floor(self.top * (level - 1) / HEAT_CLASSES) + 1
            most = math.floor(self.top * level / HEAT_CLASSES)
            if fewest <= most:
                ranges.append((level, fewest, most))
        return ranges


def heat_map(waiting: list[dashboard.WaitingAt], process_id: str, version_number: int) -> HeatMap:
    """The heat map of one process from the dashboard's waiting counts (same scope, same figures)."""
    counts: dict[str, int] = {}
    for row in waiting:
        if row.process_id == process_id:
            counts[row.element_id] = counts.get(row.element_id, 0) + row.instances
    return HeatMap(process_id, version_number, counts)


def chosen_process(waiting: list[dashboard.WaitingAt], names: dict[str, str]) -> tuple[str | None, str | None]:
    """The process whose heat map to draw (asked for, else the one with most waits), and an error message."""
    asked = request.args.get("process", "").strip()
    if asked:
        if asked in names:
            return asked, None
        return None, _("Processo sconosciuto: scegli un processo dall'elenco.")
    totals: dict[str, int] = {}
    for row in waiting:
        totals[row.process_id] = totals.get(row.process_id, 0) + row.instances
    if totals:
        return max(sorted(totals), key=lambda process_id: totals[process_id]), None
    return next(iter(names), None), None


# --- pages ---------------------------------------------------------------------------------------------------

def _indicators(actor: Actor, funder: bool, start: date, end: date) -> tuple[list[Indicator], Period, set[str]]:
    """The period's indicators as the actor may see them, the period, and the keys of those hidden."""
    period = Period(start, end, indicator_scope(actor, funder))
    indicators = compute_indicators(db.session, period)
    if not funder:
        return indicators, period, set()
    return ([suppressed(item) for item in indicators], period,
            {item.key for item in indicators if is_small_cell(item)})


def _process_figures(actor: Actor, start: date, end: date) -> dict[str, Any]:
    organisation = organisation_scope(actor)
    now = get_engine().clock_now()
    waiting = dashboard.waiting_by_element(db.session, organisation)
    busiest = {row.process_id: 0 for row in waiting}
    for row in waiting:
        busiest[row.process_id] = max(busiest[row.process_id], row.instances)
    names = dict(process_choices())
    process_id, process_error = chosen_process(waiting, names)
    heat = None
    if process_id is not None:
        heat = heat_map(waiting, process_id, latest_version(db.session, process_id).number)
    return {
        "waiting": waiting, "busiest": busiest, "heat": heat, "process_error": process_error,
        "durations": dashboard.task_durations(db.session, organisation, start_of_day(start),
                                              start_of_day(end + timedelta(days=1))),
        "overdue": dashboard.overdue_by_role(db.session, organisation, now, per_organisation=organisation is None),
        "per_organisation": organisation is None, "process_names": names,
        "role_labels": role_labels(),
    }


@bp.route("/dashboard")
@login_required
def index() -> tuple[str, int]:
    """The dashboard for the chosen period."""
    actor = current_actor()
    require_tracking(actor)
    funder = is_funder_view(actor)
    start, end, errors = read_period(local_day(get_engine().clock_now()))
    context: dict[str, Any] = {"funder": funder, "errors": errors, "start": start, "end": end,
                               "raw": {name: request.args.get(name, "") for name in ("from", "to")}}
    if not errors:
        context["indicators"], period, context["hidden"] = _indicators(actor, funder, start, end)
        if funder:
            context["exits"] = funder_exits_by_destination(db.session, period, SMALL_CELL)
        else:
            context.update(_process_figures(actor, start, end))
    return render_template(
        "dashboard/index.html", display_value=display_value, display_hours=display_hours, bar_percent=bar_percent,
        destination_labels=destination_labels(), destination_order=DESTINATION_GROUP_ORDER, kind_labels=kind_labels(),
        **context), 400 if errors or context.get("process_error") else 200


def _download(kind: str) -> Response:
    actor = current_actor()
    require_tracking(actor)
    start, end, errors = read_period(local_day(get_engine().clock_now()))
    if errors:
        return Response("\n".join(errors.values()) + "\n", status=400, mimetype="text/plain")
    indicators, period, _hidden = _indicators(actor, is_funder_view(actor), start, end)
    filename = f"indicatori_{start.isoformat()}_{end.isoformat()}.{kind}"
    headers = {"Content-Disposition": f"attachment; filename={filename}"}
    if kind == "csv":
        # With a BOM, spreadsheets read the accents of the labels.
        return Response("\ufeff" + to_csv(indicators, period), mimetype="text/csv", headers=headers)
    return Response(to_xlsx(indicators, period), headers=headers,
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/dashboard/indicators.csv")
@login_required
def indicators_csv() -> Response:
    """The period's indicators as CSV (the funder view's with small cells hidden)."""
    return _download("csv")


@bp.route("/dashboard/indicators.xlsx")
@login_required
def indicators_xlsx() -> Response:
    """The period's indicators as an XLSX workbook (the funder view's with small cells hidden)."""
    return _download("xlsx")


@bp.route("/dashboard/processes/<string(maxlength=200):process_id>/bpmn")
@login_required
def process_bpmn(process_id: str) -> Response:
    """The BPMN XML of a process's latest version, for the dashboard's heat map."""
    actor = current_actor()
    require_tracking(actor)
    organisation_scope(actor)  # refuses a tracking role without an organisation, as the dashboard does
    try:
        version = latest_version(db.session, process_id)
    except ProcessNotFoundError as exc:
        raise ProcessNotFoundError(_("Processo %(process)s non trovato.", process=process_id),
                                   process_id=process_id) from exc
    return Response(version.bpmn_xml, mimetype="application/xml")
