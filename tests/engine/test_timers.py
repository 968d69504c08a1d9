"""Timers: due times projected into rows, fired by the worker with an injected clock."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Engine
from engine.db import make_db_engine
from engine.models import AuditEvent, HumanTask, MessageSubscription, Timer
from engine.timers import claim_due_timer, fire_due_timers
from tests.engine.conftest import COORD, deploy_all


def test_waiting_timer_is_projected_with_its_due_time(deployed: Engine, session: Session, clock) -> None:
    instance = deployed.start(session, "deadline", {}, COORD)
    timer = session.scalars(select(Timer).where(Timer.instance_id == instance.id)).one()
    assert timer.task_spec_id == "late"
    assert timer.due_at == clock() + timedelta(days=5)


def test_timer_fires_only_when_due(deployed: Engine, session: Session, clock, ready_task) -> None:
    instance = deployed.start(session, "deadline", {}, COORD)
    clock.advance(days=4)
    assert fire_due_timers(deployed, session) == 0
    assert ready_task(session, instance.id, "ack").status == "ready"
    clock.advance(days=1, seconds=1)
    assert fire_due_timers(deployed, session) == 1
    escalate = ready_task(session, instance.id, "escalate")
    assert escalate.role == "coordinatore"
    acks = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                   HumanTask.task_spec_id == "ack")).all()
    assert [a.status for a in acks] == ["cancelled"]
    assert session.scalars(select(Timer).where(Timer.instance_id == instance.id)).all() == []
    fired = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                     AuditEvent.kind == "timer_fired")).one()
    assert fired.details["task_spec"] == "late"


def test_completing_before_the_deadline_drops_the_timer(deployed: Engine, session: Session, clock,
                                                        ready_task) -> None:
    instance = deployed.start(session, "deadline", {}, COORD)
    deployed.complete_task(session, ready_task(session, instance.id, "ack").id, {"approved": True}, COORD)
    assert instance.status == "completed"
    clock.advance(days=10)
    assert fire_due_timers(deployed, session) == 0


def test_suspended_instances_do_not_fire(deployed: Engine, session: Session, clock) -> None:
    instance = deployed.start(session, "deadline", {}, COORD)
    deployed.set_suspended(session, instance.id, COORD, True)
    clock.advance(days=6)
    assert fire_due_timers(deployed, session) == 0
    deployed.set_suspended(session, instance.id, COORD, False)
    assert fire_due_timers(deployed, session) == 1


@pytest.mark.skipif(os.environ.get("PIS2_TEST_DB") != "postgres", reason="row locks need PostgreSQL")
def test_two_workers_claim_different_timers(make_database, engine: Engine, clock) -> None:
    db_engine = make_db_engine(make_database())
    with Session(db_engine) as setup:
        deploy_all(engine, setup)
        for _ in range(2):
            engine.start(setup, "deadline", {}, COORD)
        setup.commit()
    now = clock() + timedelta(days=6)
    with Session(db_engine) as first, Session(db_engine) as second, Session(db_engine) as third:
        mine = claim_due_timer(first, now)
        theirs = claim_due_timer(second, now)
        assert mine is not None
        assert theirs is not None
        assert mine.id != theirs.id
        assert claim_due_timer(third, now) is None  # both rows are locked by the other two
    db_engine.dispose()


def test_event_based_gateway_takes_the_timer_branch(deployed: Engine, session: Session, clock,
                                                    ready_task) -> None:
    instance = deployed.start(session, "reply_or_timeout", {"household_id": 5}, COORD)
    timer = session.scalars(select(Timer).where(Timer.instance_id == instance.id)).one()
    assert timer.due_at == clock() + timedelta(days=10)
    clock.advance(days=10, seconds=1)
    assert fire_due_timers(deployed, session) == 1
    assert ready_task(session, instance.id, "chase").role == "coordinatore"
    assert session.scalars(select(MessageSubscription).where(
        MessageSubscription.instance_id == instance.id)).all() == []


def test_a_timer_that_fails_to_fire_does_not_block_the_others(deployed: Engine, session: Session, clock,
                                                              ready_task, monkeypatch) -> None:
    broken = deployed.start(session, "deadline", {}, COORD)
    clock.advance(hours=1)
    healthy = deployed.start(session, "deadline", {}, COORD)
    session.commit()  # the worker commits and rolls back per timer: keep the set-up out of that
    real_load = deployed.load

    def load(instance):  # type: ignore[no-untyped-def]
        if instance.id == broken.id:
            raise RuntimeError("storage hiccup")
        return real_load(instance)

    monkeypatch.setattr(deployed, "load", load)
    clock.advance(days=6)
    assert fire_due_timers(deployed, session, commit=True) == 2  # both attempted, one postponed
    assert ready_task(session, healthy.id, "escalate").status == "ready"
    postponed = session.scalars(select(Timer).where(Timer.instance_id == broken.id)).one()
    assert postponed.due_at == clock() + timedelta(minutes=5)
    monkeypatch.setattr(deployed, "load", real_load)
    clock.advance(minutes=6)
    assert fire_due_timers(deployed, session, commit=True) == 1
    assert ready_task(session, broken.id, "escalate").status == "ready"
