"""Funder views: counts broken down by managing organisation, published with small cells hidden."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile.codes import DESTINATION_GROUPS
from casefile.indicators.base import Period
from casefile.indicators.suppression import CountTable, SuppressedTable, suppress_small_cells
from casefile.models import Enrollment, ExitRecord, Household, Organisation

DESTINATION_GROUP_ORDER = ("permanent", "temporary", "institutional", "homeless", "other")


def exits_by_destination(session: Session, period: Period) -> CountTable:
    """Exits in the period by managing organisation (rows, by name) and destination group (columns)."""
    query = (select(Organisation.name, ExitRecord.destination)
             .join(Enrollment, Enrollment.id == ExitRecord.enrollment_id)
             .join(Household, Household.id == Enrollment.household_id)
             .join(Organisation, Organisation.id == Household.organisation_id)
             .where(ExitRecord.exit_date >= period.start, ExitRecord.exit_date <= period.end))
    if period.organisation_id is not None:
        query = query.where(Household.organisation_id == period.organisation_id)
    counts: dict[str, list[int]] = {}
    for name, destination in session.execute(query):
        line = counts.setdefault(name, [0] * len(DESTINATION_GROUP_ORDER))
        line[DESTINATION_GROUP_ORDER.index(DESTINATION_GROUPS.get(destination, "other"))] += 1
    names = tuple(sorted(counts))
    return CountTable(names, DESTINATION_GROUP_ORDER, tuple(tuple(counts[name]) for name in names))


def funder_exits_by_destination(session: Session, period: Period, threshold: int = 5) -> SuppressedTable:
    """The exits table as a funder sees it: counts under ``threshold`` hidden, with their complements."""
    return suppress_small_cells(exits_by_destination(session, period), threshold)
