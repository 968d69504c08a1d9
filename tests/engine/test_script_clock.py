"""Scripts read the date from the engine clock, as timers do, so that both agree in tests and under PIS2_NOW."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from engine import clock
from engine.clock import FrozenClock
from engine.scripting import RestrictedEnvironment


def test_today_follows_the_injected_clock() -> None:
    frozen = FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    data: dict[str, Any] = {}
    with clock.use_clock(frozen):
        RestrictedEnvironment().execute("first = today().isoformat()", data)
        frozen.advance(days=3)
        RestrictedEnvironment().execute("later = add_working_days(today(), 3).isoformat()", data)
    assert data == {"first": "2026-03-02", "later": "2026-03-10"}  # Thursday + 3 working days = Tuesday


def test_today_is_the_utc_date_whatever_the_clock_zone() -> None:
    late_evening_in_new_york = datetime(2026, 3, 2, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    with clock.use_clock(lambda: late_evening_in_new_york):
        assert RestrictedEnvironment().evaluate("today()", {}) == date(2026, 3, 3)


def test_today_without_an_injected_clock_is_the_real_date() -> None:
    before = datetime.now(UTC).date()
    value = RestrictedEnvironment().evaluate("today()", {})
    assert before <= value <= datetime.now(UTC).date()
