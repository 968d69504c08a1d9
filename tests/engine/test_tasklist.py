"""Task-list queries: what each user sees, in which order, page by page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy.orm import Session

from engine.models import HumanTask, ProcessInstance, ProcessVersion
from engine.runtime import NO_DUE_DATE, Actor
from engine.tasklist import TaskCounts, TaskFilter, count_my_tasks, my_tasks, organisation_tasks, role_tasks

ANNA = Actor("anna", frozenset({"coordinatore", "mediatore"}), "capofila")
BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_ids = count(1)


@pytest.fixture
def instance(session: Session) -> ProcessInstance:
    version = ProcessVersion(process_id="p", number=1, content_hash="h", source_file="p.bpmn", bpmn_xml="<x/>")
    instance = ProcessInstance(process_version=version, process_id="p", status="running", state="{}",
                               serializer_version="1.5")
    session.add(instance)
    session.flush()
    return instance


def add_task(session: Session, instance: ProcessInstance, name: str, *, role: str | None = None,
             organisation: str | None = "capofila", assigned: str | None = None, due_days: int | None = None,
             status: str = "ready") -> None:
    due = BASE + timedelta(days=due_days) if due_days is not None else None
    session.add(HumanTask(id=f"t{next(_ids):04d}", instance_id=instance.id, process_id="p", task_spec_id=name,
                          name=name, role=role, organisation=organisation, assigned_user=assigned, status=status,
                          due_at=due, queue_order=due or NO_DUE_DATE, created_at=BASE))


def names(session: Session, query) -> list[str]:  # type: ignore[no-untyped-def]
    return [task.name for task in session.scalars(query)]


def test_my_tasks_merges_my_queues_soonest_first(session: Session, instance: ProcessInstance) -> None:
    add_task(session, instance, "mine-late", assigned="anna", due_days=9)
    add_task(session, instance, "coord-soon", role="coordinatore", due_days=1)
    add_task(session, instance, "mediation-no-due", role="mediatore")
    add_task(session, instance, "coord-no-org", role="coordinatore", organisation=None, due_days=5)
    add_task(session, instance, "other-org", role="coordinatore", organisation="altro", due_days=0)
    add_task(session, instance, "other-role", role="amministrazione", due_days=0)
    add_task(session, instance, "claimed-by-bruno", role="coordinatore", assigned="bruno", due_days=0)
    add_task(session, instance, "done", role="coordinatore", due_days=0, status="completed")
    session.flush()
    # A task of no organisation is nobody's: engine.start refuses to create such an instance.
    assert names(session, my_tasks(ANNA)) == ["coord-soon", "mine-late", "mediation-no-due"]


def test_pages_do_not_repeat_or_skip(session: Session, instance: ProcessInstance) -> None:
    for day in range(7):
        add_task(session, instance, f"c{day}", role="coordinatore", due_days=day)
        add_task(session, instance, f"a{day}", assigned="anna", due_days=day)
    session.flush()
    pages = [names(session, my_tasks(ANNA, limit=5, offset=offset)) for offset in (0, 5, 10)]
    assert [len(page) for page in pages] == [5, 5, 4]
    everything = [name for page in pages for name in page]
    assert sorted(everything) == sorted([f"c{d}" for d in range(7)] + [f"a{d}" for d in range(7)])
    assert everything[:2] in (["c0", "a0"], ["a0", "c0"])


def test_role_tasks(session: Session, instance: ProcessInstance) -> None:
    add_task(session, instance, "b", role="mediatore", due_days=3)
    add_task(session, instance, "a", role="mediatore", due_days=1)
    add_task(session, instance, "claimed", role="mediatore", assigned="anna", due_days=0)
    add_task(session, instance, "elsewhere", role="mediatore", organisation="altro", due_days=0)
    session.flush()
    assert names(session, role_tasks("mediatore", "capofila")) == ["a", "b"]


def test_filters_narrow_each_queue(session: Session, instance: ProcessInstance) -> None:
    add_task(session, instance, "mine-soon", assigned="anna", due_days=1)
    add_task(session, instance, "coord-late", role="coordinatore", due_days=8)
    add_task(session, instance, "coord-no-due", role="coordinatore")
    session.flush()
    before = TaskFilter(due_before=BASE + timedelta(days=2))
    assert names(session, my_tasks(ANNA, filters=before)) == ["mine-soon"]
    assert names(session, my_tasks(ANNA, filters=TaskFilter(process_id="other"))) == []
    assert len(names(session, my_tasks(ANNA, filters=TaskFilter(process_id="p")))) == 3


def test_business_key_filter_is_a_plain_substring_in_any_case(session: Session, instance: ProcessInstance) -> None:
    for key in ("NUC-2026-0007", "NUC_2026%0008", None):
        session.add(HumanTask(id=f"k{next(_ids):04d}", instance_id=instance.id, process_id="p", task_spec_id="t",
                              name=str(key), role="coordinatore", organisation="capofila", status="ready",
                              business_key=key, queue_order=NO_DUE_DATE, created_at=BASE))
    session.flush()
    assert names(session, my_tasks(ANNA, filters=TaskFilter(business_key="nuc-2026"))) == ["NUC-2026-0007"]
    assert names(session, my_tasks(ANNA, filters=TaskFilter(business_key="_2026%"))) == ["NUC_2026%0008"]


def test_organisation_tasks_include_claimed_ones_of_every_role(session: Session, instance: ProcessInstance) -> None:
    add_task(session, instance, "b", role="amministrazione", assigned="bruno", due_days=2)
    add_task(session, instance, "a", role="case_manager", due_days=1)
    add_task(session, instance, "elsewhere", role="case_manager", organisation="altro", due_days=0)
    add_task(session, instance, "done", role="case_manager", due_days=0, status="completed")
    session.flush()
    assert names(session, organisation_tasks("capofila")) == ["a", "b"]


def test_counts_mine_roles_overdue_and_today(session: Session, instance: ProcessInstance) -> None:
    add_task(session, instance, "mine-late", assigned="anna", due_days=-1)
    add_task(session, instance, "mine-later", assigned="anna", due_days=5)
    add_task(session, instance, "coord-today", role="coordinatore", due_days=0)
    add_task(session, instance, "mediation-late", role="mediatore", due_days=-3)
    add_task(session, instance, "mediation-no-due", role="mediatore")
    add_task(session, instance, "other-org-late", role="coordinatore", organisation="altro", due_days=-3)
    add_task(session, instance, "claimed-by-bruno", role="coordinatore", assigned="bruno", due_days=-3)
    session.flush()
    now = BASE - timedelta(hours=1)  # "coord-today" is due in an hour
    counts = count_my_tasks(session, ANNA, now=now, end_of_today=BASE + timedelta(hours=12))
    assert counts == TaskCounts(mine=2, my_roles=3, overdue=2, due_today=1)


def test_counts_stop_at_the_cap(session: Session, instance: ProcessInstance, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.tasklist.COUNT_CAP", 3)
    for _ in range(5):
        add_task(session, instance, "coord", role="coordinatore", due_days=-1)
        add_task(session, instance, "mediation", role="mediatore", due_days=-1)
    session.flush()
    counts = count_my_tasks(session, ANNA, now=BASE, end_of_today=BASE + timedelta(hours=12))
    assert counts == TaskCounts(mine=0, my_roles=3, overdue=3, due_today=0)
