"""``pis2 indicators``: the programme's indicators (domain.md §5) for a period, as text, JSON, CSV or XLSX."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from casefile import accounts
from casefile.indicators import Period, compute_indicators, to_csv, to_xlsx
from webapp.cli.support import emit, fail, json_option
from webapp.extensions import db


def _day(as_json: bool, value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(as_json, "bad_date", f"{name} must be a date YYYY-MM-DD, not '{value}'")
        raise  # unreachable: fail() exits


@click.command("indicators")
@click.option("--from", "start", required=True, help="First day of the period (YYYY-MM-DD).")
@click.option("--to", "end", required=True, help="Last day of the period (YYYY-MM-DD).")
@click.option("--org", "organisation", default=None, help="Only the households managed by this organisation key.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the table to this CSV file.")
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the table to this XLSX file.")
@json_option
@with_appcontext
def indicators_command(start: str, end: str, organisation: str | None, csv_path: Path | None,
                       xlsx_path: Path | None, as_json: bool) -> None:
    """Compute the programme's indicators for a period (both days included)."""
    first, last = _day(as_json, start, "--from"), _day(as_json, end, "--to")
    if last < first:
        fail(as_json, "bad_period", "--to must not be before --from")
    organisation_id = None
    if organisation is not None:
        org = accounts.find_organisation(db.session, organisation)
        if org is None:
            fail(as_json, "organisation_not_found", f"no organisation '{organisation}'")
        organisation_id = org.id  # type: ignore[union-attr]
    period = Period(first, last, organisation_id)
    results = compute_indicators(db.session, period)
    if csv_path is not None:
        csv_path.write_text(to_csv(results, period), encoding="utf-8")
    if xlsx_path is not None:
        xlsx_path.write_bytes(to_xlsx(results, period))
    lines = [f"{item.key}: {'-' if item.value is None else item.value}"
             + (f" ({item.numerator}/{item.denominator})" if item.denominator is not None else "")
             for item in results]
    emit(as_json, {"from": first.isoformat(), "to": last.isoformat(), "organisation": organisation,
                   "indicators": [item.as_dict() for item in results]}, "\n".join(lines))
