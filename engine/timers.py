"""Firing due timers: claim rows with row locks so several workers can run side by side."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.models import ProcessInstance, Timer
from engine.runtime import ACTIVE, Actor

if TYPE_CHECKING:
    from engine.engine import Engine


def claim_due_timer(session: Session, now: datetime) -> Timer | None:
    """Lock and return the most overdue timer of an active instance, skipping rows others hold.

    On PostgreSQL this is ``SELECT … FOR UPDATE SKIP LOCKED``; SQLite has one writer anyway.
    """
    query = (
        select(Timer)
        .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
        .where(Timer.due_at < now, ProcessInstance.status.in_(ACTIVE))
        .order_by(Timer.due_at, Timer.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=Timer)
    )
    return session.scalars(query).first()


def fire_timer(engine: Engine, session: Session, timer: Timer) -> ProcessInstance:
    """Let the timer's instance see the time and move on."""
    instance = session.get(ProcessInstance, timer.instance_id)
    assert instance is not None  # the timer row cascades with its instance
    workflow = engine.load(instance)
    audit.record(session, "timer_fired", instance_id=instance.id, actor="system", task_id=timer.task_id,
                 task_spec=timer.task_spec_id, due_at=timer.due_at.isoformat())
    engine.advance(session, instance, workflow, Actor.system("timer"))
    return instance


def fire_due_timers(engine: Engine, session: Session, *, limit: int = 100, commit: bool = False) -> int:
    """Fire up to ``limit`` due timers; with ``commit`` each firing is its own transaction."""
    fired = 0
    now = engine.clock_now()
    with clock.use_clock(engine.now):
        while fired < limit:
            timer = claim_due_timer(session, now)
            if timer is None:
                break
            fire_timer(engine, session, timer)
            fired += 1
            if commit:
                session.commit()
    return fired
