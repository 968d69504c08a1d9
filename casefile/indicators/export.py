"""An indicator table as CSV or XLSX: one row per indicator, secondary values in their own rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook

from casefile.indicators.base import Indicator, Number, Period

HEADER = ("indicatore", "etichetta", "valore", "numeratore", "denominatore", "unita", "definizione")


def indicator_rows(indicators: Iterable[Indicator]) -> list[tuple[str, str, Number | None, int | None,
                                                                   int | None, str, str]]:
    """Rows of the table: the indicator itself, then one row per detail keyed ``indicator.detail``."""
    rows: list[tuple[str, str, Number | None, int | None, int | None, str, str]] = []
    for item in indicators:
        rows.append((item.key, item.label, item.value, item.numerator, item.denominator, item.unit, item.definition))
        for name, value in item.details.items():
            rows.append((f"{item.key}.{name}", item.label, value, None, None, "", ""))
    return rows


def _title(period: Period) -> tuple[str, ...]:
    return ("periodo", period.start.isoformat(), period.end.isoformat())


def to_csv(indicators: Sequence[Indicator], period: Period) -> str:
    """The table as CSV text (UTF-8, comma-separated, empty cell for a missing value)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_title(period))
    writer.writerow(HEADER)
    for row in indicator_rows(indicators):
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue()


def to_xlsx(indicators: Sequence[Indicator], period: Period) -> bytes:
    """The table as an XLSX workbook with one sheet, "Indicatori"; numbers stay numbers."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Indicatori"
    sheet.append(list(_title(period)))
    sheet.append(list(HEADER))
    for row in indicator_rows(indicators):
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
