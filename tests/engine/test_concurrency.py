"""Two people completing the same task at once: exactly one wins, nothing is applied twice."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import ConflictError, Engine, TaskNotReadyError
from engine.db import make_db_engine
from engine.models import AuditEvent, HumanTask, ProcessInstance
from tests.engine.conftest import COORD, deploy_all

SECOND_COORD = COORD.__class__("elena", COORD.roles, COORD.organisation)


@pytest.fixture
def committed(make_database, engine: Engine):
    """A fresh database with one 'approval' instance committed; yields (db_engine, instance id, task id)."""
    db_engine = make_db_engine(make_database())
    with Session(db_engine) as setup:
        deploy_all(engine, setup)
        instance = engine.start(setup, "approval", {}, COORD)
        task = setup.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).one()
        setup.commit()
        ids = instance.id, task.id
    yield db_engine, *ids
    db_engine.dispose()


def _completions(db_engine, instance_id: int) -> int:
    with Session(db_engine) as check:
        return check.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.instance_id == instance_id, AuditEvent.kind == "task_completed"))


def test_interleaved_completions_conflict(committed, engine: Engine) -> None:
    db_engine, instance_id, task_id = committed
    with Session(db_engine) as first, Session(db_engine) as second:
        # Both have read the task and the instance before either writes.
        # (held in variables: the identity map only keeps objects somebody references)
        task_seen, instance_seen = second.get(HumanTask, task_id), second.get(ProcessInstance, instance_id)
        assert task_seen.status == "ready"
        version_read = instance_seen.version
        engine.complete_task(first, task_id, {"title": "prima"}, COORD)
        first.commit()
        with pytest.raises(ConflictError):
            engine.complete_task(second, task_id, {"title": "seconda"}, SECOND_COORD)
        second.rollback()
        assert second.get(ProcessInstance, instance_id).version > version_read
    assert _completions(db_engine, instance_id) == 1
    with Session(db_engine) as check:
        assert check.get(HumanTask, task_id).completed_by == "anna"
        review = check.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.status == "ready")).all()
        assert [r.task_spec_id for r in review] == ["review"]


def test_threads_racing_on_one_task(committed, engine: Engine) -> None:
    db_engine, instance_id, task_id = committed
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def complete(actor, title: str) -> None:
        with Session(db_engine) as session:
            seen = session.get(HumanTask, task_id), session.get(ProcessInstance, instance_id)
            assert all(seen)
            barrier.wait()
            try:
                engine.complete_task(session, task_id, {"title": title}, actor)
                session.commit()
                outcomes.append("ok")
            except (ConflictError, TaskNotReadyError) as exc:
                session.rollback()
                outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=complete, args=(a, t)) for a, t in ((COORD, "uno"), (SECOND_COORD, "due"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["ConflictError", "ok"]
    assert _completions(db_engine, instance_id) == 1


def test_two_claims_at_once_one_wins(committed, engine: Engine) -> None:
    db_engine, instance_id, task_id = committed
    with Session(db_engine) as first, Session(db_engine) as second:
        task_seen = second.get(HumanTask, task_id)  # read before the other claims
        assert task_seen.assigned_user is None
        engine.claim(first, task_id, COORD)
        first.commit()
        with pytest.raises(ConflictError):
            engine.claim(second, task_id, SECOND_COORD)
        second.rollback()
    with Session(db_engine) as check:
        assert check.get(HumanTask, task_id).assigned_user == "anna"
        claims = check.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.instance_id == instance_id, AuditEvent.kind == "task_claimed"))
        assert claims == 1
