"""The indicators on the dashboard: the same figures as compute_indicators, the period, the downloads."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from casefile.indicators import Period, compute_indicators
from casefile.models import Organisation
from tests.casefile.indicators_seed import PERIOD_END, PERIOD_START
from webapp.extensions import db
from webapp.views.dashboard import default_period

HALF_YEAR = "from=2026-01-01&to=2026-06-30"


def _row(page: str, key: str) -> str:
    return page.split(f'<tr id="indicator-{key}">', 1)[1].split("</tr>", 1)[0]


def _expected(app, organisation: str | None):  # type: ignore[no-untyped-def]
    with app.app_context():
        org_id = None
        if organisation:
            org_id = db.session.scalars(select(Organisation.id).where(Organisation.key == organisation)).one()
        return {item.key: item for item in compute_indicators(db.session, Period(PERIOD_START, PERIOD_END, org_id))}


def test_coordinator_sees_own_organisations_indicators(case_file, as_user) -> None:
    expected = _expected(case_file, "capofila")
    response = as_user("coordinatore").get(f"/dashboard?{HALF_YEAR}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # The lead partner's households only: retention at 6 months is 1 of 2 (as `pis2 indicators --org`).
    assert (expected["retention_6m"].numerator, expected["retention_6m"].denominator) == (1, 2)
    assert '<td class="value">50,0%</td>' in _row(page, "retention_6m")
    assert "<td>1 / 2</td>" in _row(page, "retention_6m")
    assert expected["time_to_housing"].value == 44.5
    assert "44,5 giorni" in _row(page, "time_to_housing")
    # A share gets a bar filled to its value.
    assert '<rect width="50.0" height="8" fill="currentColor"/>' in _row(page, "retention_6m")
    for key, item in expected.items():
        if item.denominator is not None:
            assert f"<td>{item.numerator} / {item.denominator}</td>" in _row(page, key), key


def test_admin_sees_the_whole_programme(case_file, as_user) -> None:
    expected = _expected(case_file, None)
    page = as_user("admin").get(f"/dashboard?{HALF_YEAR}").get_data(as_text=True)
    plans = expected["plans_signed_in_time"]
    assert (plans.numerator, plans.denominator) == (1, 3)
    assert "<td>1 / 3</td>" in _row(page, "plans_signed_in_time")


def test_default_period_is_the_last_twelve_months(case_file, as_user) -> None:
    assert default_period(date(2026, 3, 2)) == (date(2025, 3, 3), date(2026, 3, 2))
    page = as_user("coordinatore").get("/dashboard").get_data(as_text=True)
    assert 'name="from" type="date" value="2025-03-03"' in page
    assert 'name="to" type="date" value="2026-03-02"' in page


@pytest.mark.parametrize(("query", "message"), [
    ("from=ieri", "Data non valida: usa il formato AAAA-MM-GG."),
    ("from=2026-02-30", "Data non valida: usa il formato AAAA-MM-GG."),
    ("from=2026-06-30&to=2026-01-01", "La data finale precede quella iniziale."),
    ("from=2000-01-01&to=2026-01-01", "Il periodo può durare al massimo 10 anni."),
])
def test_bad_periods_are_400_with_a_readable_message(staff_app, as_user, query: str, message: str) -> None:
    client = as_user("coordinatore")
    response = client.get(f"/dashboard?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert "indicators-title" not in page
    download = client.get(f"/dashboard/indicators.csv?{query}")
    assert download.status_code == 400
    assert message in download.get_data(as_text=True)


def test_csv_download_holds_the_same_figures(case_file, as_user) -> None:
    expected = _expected(case_file, "capofila")
    response = as_user("coordinatore").get(f"/dashboard/indicators.csv?{HALF_YEAR}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "indicatori_2026-01-01_2026-06-30.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["periodo", "2026-01-01", "2026-06-30"]
    by_key = {row[0]: row for row in rows[2:]}
    assert by_key["retention_6m"][2:5] == ["0.5", "1", "2"]
    assert by_key["time_to_housing"][2] == str(expected["time_to_housing"].value)


def test_xlsx_download_holds_the_same_figures(case_file, as_user) -> None:
    response = as_user("admin").get(f"/dashboard/indicators.xlsx?{HALF_YEAR}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data))["Indicatori"]
    values = {row[0]: row for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert values["plans_signed_in_time"][3:5] == (1, 3)
    assert values["households_housed.stock"][2] == 2


def test_funder_view_hides_small_cells(case_file, as_user) -> None:
    client = as_user("supervisore")  # of the comune, which funds the programme
    page = client.get(f"/dashboard?{HALF_YEAR}").get_data(as_text=True)
    assert "Vista per il finanziatore" in page
    # Six households in all: every count is under 5, so no indicator figure is published.
    assert "nascosto (meno di 5 casi)" in _row(page, "retention_6m")
    assert not re.search(r"<td>\d+ / \d+</td>", page)
    exits = page.split('<table class="exits">', 1)[1].split("</table>", 1)[0]
    assert "n.d." in exits
    assert not re.search(r"<td>[1-4]</td>", exits)
    # No operational detail about single instances or tasks.
    assert 'class="waiting"' not in page
    assert 'class="overdue"' not in page
    rows = list(csv.reader(io.StringIO(client.get(f"/dashboard/indicators.csv?{HALF_YEAR}")
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    by_key = {row[0]: row for row in rows[2:]}
    assert by_key["retention_6m"][2:5] == ["", "", ""]
    assert by_key["plans_signed_in_time"][2:5] == ["", "", ""]
