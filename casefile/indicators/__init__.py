"""The programme's indicators (domain.md §5), computed from the case-file tables for a period.

Framework-free: the dashboard, the CLI and the funder exports all call :func:`compute_indicators`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from casefile.indicators.accompaniment import mediation, plans_signed_in_time, visits_on_schedule
from casefile.indicators.base import Indicator, Period
from casefile.indicators.export import indicator_rows, to_csv, to_xlsx
from casefile.indicators.funder import exits_by_destination, funder_exits_by_destination
from casefile.indicators.housing import (
    exits_to_autonomy,
    exits_to_homelessness,
    households_housed,
    retention,
    time_to_enrollment,
    time_to_housing,
)
from casefile.indicators.money import contribution_arrears, rent_paid_late
from casefile.indicators.suppression import CountTable, SuppressedTable, suppress_small_cells

RETENTION_MONTHS = (6, 12)


def compute_indicators(session: Session, period: Period) -> list[Indicator]:
    """Every indicator for ``period``, in the order of domain.md §5."""
    return [
        households_housed(session, period),
        time_to_enrollment(session, period),
        time_to_housing(session, period),
        *(retention(session, period, months) for months in RETENTION_MONTHS),
        exits_to_autonomy(session, period),
        exits_to_homelessness(session, period),
        rent_paid_late(session, period),
        contribution_arrears(session, period),
        mediation(session, period),
        visits_on_schedule(session, period),
        plans_signed_in_time(session, period),
    ]


__all__ = [
    "CountTable", "Indicator", "Period", "SuppressedTable", "compute_indicators", "contribution_arrears",
    "exits_by_destination", "exits_to_autonomy", "exits_to_homelessness", "funder_exits_by_destination",
    "households_housed", "indicator_rows", "mediation", "plans_signed_in_time", "rent_paid_late", "retention",
    "suppress_small_cells", "time_to_enrollment", "time_to_housing", "to_csv", "to_xlsx", "visits_on_schedule",
]
