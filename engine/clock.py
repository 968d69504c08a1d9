"""An injectable clock for timer events.

SpiffWorkflow reads the time with ``datetime.now(timezone.utc)`` inside its timer module and offers no
hook. We replace that module's ``datetime`` name, once, with a subclass whose ``now`` asks a context
variable, so tests and the worker can say what time it is without sleeping and per thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, tzinfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


_current_clock: ContextVar[Clock] = ContextVar("pis2_clock", default=system_clock)


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _ClockedDatetime:
        moment = _current_clock.get()()
        moment = moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)
        return cls.fromisoformat(moment.isoformat())


def now() -> datetime:
    """What time it is for the engine in this context."""
    return _current_clock.get()()


@contextmanager
def use_clock(clock: Clock | None) -> Iterator[None]:
    """Run the enclosed engine steps with ``clock`` as the time source (None: the real time)."""
    token = _current_clock.set(clock or system_clock)
    try:
        yield
    finally:
        _current_clock.reset(token)


def install() -> None:
    """Make SpiffWorkflow's timer module read the context clock (idempotent)."""
    if spiff_timer.datetime is not _ClockedDatetime:
        spiff_timer.datetime = _ClockedDatetime


class FrozenClock:
    """A settable clock for tests and benchmarks: ``clock.advance(days=31)``."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> datetime:
        from datetime import timedelta

        self.moment = self.moment + timedelta(**delta)
        return self.moment
