"""Dates as staff read them: in Turin's time zone, whatever the server's clock says.

The engine keeps every moment in UTC; "due today" and "due by 12/03" are local questions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _zone() -> ZoneInfo | type[UTC]:
    try:
        return ZoneInfo("Europe/Rome")
    except ZoneInfoNotFoundError:  # a system without tzdata: UTC is an hour or two off, never wrong by days
        return UTC


LOCAL_ZONE = _zone()


def local_day(moment: datetime) -> date:
    """The local calendar day of a UTC moment."""
    return moment.astimezone(LOCAL_ZONE).date()


def start_of_day(day: date) -> datetime:
    """Local midnight starting ``day``, as a UTC moment."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_ZONE).astimezone(UTC)


def end_of_day(moment: datetime) -> datetime:
    """Local midnight ending the day of ``moment``, as a UTC moment."""
    return start_of_day(local_day(moment) + timedelta(days=1))


def format_date(value: datetime | date | None) -> str:
    """dd/mm/yyyy (local day for moments), or an empty string."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_day(value)
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime | None) -> str:
    """dd/mm/yyyy hh:mm in local time, or an empty string."""
    if value is None:
        return ""
    return value.astimezone(LOCAL_ZONE).strftime("%d/%m/%Y %H:%M")

