"""Firing due timers: claim rows with row locks so several workers can run side by side."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import ConflictError
from engine.models import ProcessInstance, Timer
from engine.runtime import ACTIVE, Actor

if TYPE_CHECKING:
    from engine.engine import Engine

logger = logging.getLogger(__name__)
# How long a timer whose firing failed for an unexpected reason waits before the next attempt.
RETRY_DELAY = timedelta(minutes=5)


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
    """Fire up to ``limit`` due timers.

    With ``commit`` (the worker) each firing is its own transaction, and a timer whose firing fails
    unexpectedly is logged and postponed by RETRY_DELAY, so it cannot block the timers behind it.
    """
    fired = 0
    now = engine.clock_now()
    with clock.use_clock(engine.now):
        while fired < limit:
            timer = claim_due_timer(session, now)
            if timer is None:
                break
            if not commit:
                fire_timer(engine, session, timer)
            elif not _fire_and_commit(engine, session, timer, now):
                break
            fired += 1
    return fired


def _fire_and_commit(engine: Engine, session: Session, timer: Timer, now: datetime) -> bool:
    """Fire one timer in its own transaction; False when the pass should stop here."""
    timer_id = timer.id
    try:
        fire_timer(engine, session, timer)
        session.commit()
    except ConflictError:
        # Someone changed the instance meanwhile; its timer is still due and is fired next pass.
        session.rollback()
        return False
    except Exception:
        session.rollback()
        logger.exception("firing timer %s failed; retrying in %s", timer_id, RETRY_DELAY)
        session.execute(update(Timer).where(Timer.id == timer_id).values(due_at=now + RETRY_DELAY))
        session.commit()
    return True
