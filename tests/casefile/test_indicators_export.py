"""The indicator table exported to CSV and XLSX (read back with openpyxl)."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook

from casefile.indicators import Indicator, Period, compute_indicators, indicator_rows, to_csv, to_xlsx
from tests.casefile.indicators_seed import PERIOD_END, PERIOD_START, seed

PERIOD = Period(date(2026, 1, 1), date(2026, 6, 30))
HOUSED = Indicator("households_housed", "Nuclei inseriti in alloggio", "Definizione.", "households", 2,
                   details={"stock": 2, "flow": 1})
RENT = Indicator("rent_paid_late", "Canoni pagati in ritardo", "Entro la scadenza.", "share", 0.25, 1, 4,
                 details={"late_over_20_days": 2})


def test_rows_put_details_under_their_indicator() -> None:
    assert indicator_rows([HOUSED, RENT]) == [
        ("households_housed", "Nuclei inseriti in alloggio", 2, None, None, "households", "Definizione."),
        ("households_housed.stock", "Nuclei inseriti in alloggio", 2, None, None, "", ""),
        ("households_housed.flow", "Nuclei inseriti in alloggio", 1, None, None, "", ""),
        ("rent_paid_late", "Canoni pagati in ritardo", 0.25, 1, 4, "share", "Entro la scadenza."),
        ("rent_paid_late.late_over_20_days", "Canoni pagati in ritardo", 2, None, None, "", ""),
    ]


def test_csv_content() -> None:
    rows = list(csv.reader(io.StringIO(to_csv([HOUSED, RENT], PERIOD))))
    assert rows[0] == ["periodo", "2026-01-01", "2026-06-30"]
    assert rows[1] == ["indicatore", "etichetta", "valore", "numeratore", "denominatore", "unita", "definizione"]
    assert rows[2] == ["households_housed", "Nuclei inseriti in alloggio", "2", "", "", "households", "Definizione."]
    assert rows[5] == ["rent_paid_late", "Canoni pagati in ritardo", "0.25", "1", "4", "share", "Entro la scadenza."]
    assert len(rows) == 7


def test_xlsx_content_keeps_numbers() -> None:
    workbook = load_workbook(io.BytesIO(to_xlsx([HOUSED, RENT], PERIOD)))
    assert workbook.sheetnames == ["Indicatori"]
    values = [list(row) for row in workbook["Indicatori"].iter_rows(values_only=True)]
    assert values[0][:3] == ["periodo", "2026-01-01", "2026-06-30"]
    assert values[1][0] == "indicatore"
    assert values[5] == ["rent_paid_late", "Canoni pagati in ritardo", 0.25, 1, 4, "share", "Entro la scadenza."]
    assert values[3][:5] == ["households_housed.stock", "Nuclei inseriti in alloggio", 2, None, None]
    assert len(values) == 7


def test_export_of_the_seeded_data_set(session, users) -> None:
    seed(session)
    period = Period(PERIOD_START, PERIOD_END)
    indicators = compute_indicators(session, period)
    sheet = load_workbook(io.BytesIO(to_xlsx(indicators, period)))["Indicatori"]
    by_key = {row[0]: row for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert by_key["visits_on_schedule"][2:5] == (0.6, 3, 5)
    assert by_key["contribution_arrears.households_over_2_months"][2] == 1
    assert by_key["time_to_housing.median_from_referral"][2] == 74.5
    text_rows = {row[0]: row for row in csv.reader(io.StringIO(to_csv(indicators, period)))}
    assert text_rows["retention_12m"][2:5] == ["0.5", "1", "2"]
    # An indicator without a value (no cohort) is an empty cell, not "None".
    assert text_rows["time_to_housing"][3] == ""
