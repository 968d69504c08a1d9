"""What every indicator shares: the reporting period, the result record, medians, shares, scoping.

Indicators are computed from the case-file rows alone (never stored), so a figure can always be traced
back to the records it counts. Dates are business dates; a period includes both its first and last day.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from casefile.models import Enrollment, Household

Number = int | float


@dataclass(frozen=True)
class Period:
    """A reporting period (both days included), optionally narrowed to one managing organisation."""

    start: date
    end: date
    organisation_id: int | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})")

    def contains(self, day: date | None) -> bool:
        """Whether ``day`` falls within the period."""
        return day is not None and self.start <= day <= self.end


@dataclass(frozen=True)
class Indicator:
    """One indicator's result: its main value, the share's parts when it is a share, and secondary values.

    ``label`` is the Italian text (and translation key) shown to users; ``definition`` says exactly what
    was counted, so that a funder can read the figure without asking.
    """

    key: str
    label: str
    definition: str
    # days, households, share, cents, count, rate
    unit: str
    value: Number | None
    numerator: int | None = None
    denominator: int | None = None
    details: dict[str, Number | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able form."""
        return {"key": self.key, "label": self.label, "definition": self.definition, "unit": self.unit,
                "value": self.value, "numerator": self.numerator, "denominator": self.denominator,
                "details": dict(self.details)}


def median_days(days: Iterable[int]) -> float | int | None:
    """The median of a list of day counts, None when there is none (an empty cohort is not zero days)."""
    values = sorted(days)
    if not values:
        return None
    middle = statistics.median(values)
    return int(middle) if float(middle).is_integer() else float(middle)


def share(numerator: int, denominator: int) -> float | None:
    """numerator / denominator rounded to 4 places; None when nothing was counted."""
    return round(numerator / denominator, 4) if denominator else None


def add_working_days(day: date, count: int) -> date:
    """The date ``count`` working days (Monday to Friday) after ``day``, as the processes' timers count them."""
    current = day
    while count > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            count -= 1
    return current


def scoped_enrollments(period: Period) -> Select[Enrollment]:
    """All enrollments, or those of the households managed by the period's organisation."""
    query = select(Enrollment)
    if period.organisation_id is not None:
        query = query.join(Household, Household.id == Enrollment.household_id).where(
            Household.organisation_id == period.organisation_id)
    return query.order_by(Enrollment.id)


def enrollments(session: Session, period: Period) -> list[Enrollment]:
    """The enrollments in the period's scope, whatever their dates."""
    return list(session.scalars(scoped_enrollments(period)))
