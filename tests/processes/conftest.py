"""Driving the programme's processes as staff would: the real models, forms and case-file operations.

Every step goes through ``ProcessDriver``: it finds the task in the ``human_task`` projection, checks
that the instance reloaded from the database offers exactly the projected tasks and serializes back
to what is stored, and completes it with a *fresh* engine, as after a restart.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile.models import CaseEvent, Household, Organisation, User
from casefile.roles import ROLES
from engine import Actor, Engine
from engine.clock import FrozenClock
from engine.models import HumanTask, Message, ProcessInstance
from engine.services import ServiceRegistry
from engine.specs import read_models
from engine.timers import fire_due_timers
from tests.casefile.conftest import ROLE_ORGS, orgs, users  # noqa: F401  (fixtures reused)
from webapp.casefile_services import register_casefile_operations

from . import FORMS, PROCESSES


def actor_for(role: str) -> Actor:
    """The test user holding ``role`` (named after it), in its demo organisation."""
    return Actor(role, frozenset({role}), ROLE_ORGS[role])


class ProcessDriver:
    """Runs the deployed processes step by step and answers questions about tasks and records."""

    def __init__(self, session: Session, clock: FrozenClock, services: ServiceRegistry) -> None:
        self.session, self.clock, self.services = session, clock, services
        self.engine = self.fresh_engine()

    def fresh_engine(self) -> Engine:
        return Engine(roles=ROLES, services=self.services, now=self.clock)

    # --- starting and messages -------------------------------------------------------------------

    def start(self, process_id: str, data: dict[str, Any] | None = None, role: str = "coordinatore",
              **kwargs: Any) -> ProcessInstance:
        return self.engine.start(self.session, process_id, data or {}, actor_for(role), **kwargs)

    def send(self, name: str, payload: dict[str, Any], correlations: dict[str, Any] | None = None,
             role: str = "coordinatore") -> Message:
        """A message from outside the processes (the UI, the API, another system)."""
        actor = actor_for(role)
        return self.engine.messages.send(self.session, name, payload, correlations, actor=actor,
                                         organisation=actor.organisation)

    def instances(self, process_id: str, status: str | None = None) -> list[ProcessInstance]:
        query = select(ProcessInstance).where(ProcessInstance.process_id == process_id)
        if status:
            query = query.where(ProcessInstance.status == status)
        return list(self.session.scalars(query.order_by(ProcessInstance.id)))

    def instance(self, process_id: str) -> ProcessInstance:
        """The one instance of a process (fails when there are none or several)."""
        found = self.instances(process_id)
        assert len(found) == 1, [(i.id, i.status) for i in found]
        return found[0]

    # --- tasks -----------------------------------------------------------------------------------

    def ready(self, instance: ProcessInstance | None = None) -> list[HumanTask]:
        """Ready task rows (of one instance, or of all), each checked against its reloaded workflow."""
        self.session.flush()
        query = select(HumanTask).where(HumanTask.status == "ready")
        if instance is not None:
            query = query.where(HumanTask.instance_id == instance.id)
        rows = list(self.session.scalars(query.order_by(HumanTask.created_at, HumanTask.task_spec_id)))
        for instance_id in {row.instance_id for row in rows}:
            self._check_restored(self.session.get(ProcessInstance, instance_id),
                                 {row.id for row in rows if row.instance_id == instance_id})
        return rows

    def ready_specs(self, instance: ProcessInstance | None = None) -> list[str]:
        return sorted(row.task_spec_id for row in self.ready(instance))

    def task(self, task_spec_id: str, instance: ProcessInstance | None = None) -> HumanTask:
        """The one ready task of that BPMN id."""
        rows = [row for row in self.ready(instance) if row.task_spec_id == task_spec_id]
        assert len(rows) == 1, (task_spec_id, [r.task_spec_id for r in self.ready(instance)])
        return rows[0]

    def complete(self, task_spec_id: str, data: dict[str, Any], role: str | None = None,
                 instance: ProcessInstance | None = None) -> HumanTask:
        """Complete the ready task ``task_spec_id`` as the user of its own role (or ``role``)."""
        row = self.task(task_spec_id, instance)
        actor = actor_for(role or row.role or "coordinatore")
        self.session.expire_all()  # the completion reads the stored instance, as a new request would
        self.engine = self.fresh_engine()
        self.engine.complete_task(self.session, row.id, data, actor)
        self.session.flush()
        return row

    def _check_restored(self, instance: ProcessInstance | None, row_ids: set[str]) -> None:
        assert instance is not None
        self.session.refresh(instance)
        engine = self.fresh_engine()
        workflow = engine.load(instance)
        ready = {str(task.id) for task in workflow.get_tasks(state=TaskState.READY, manual=True)}
        assert ready == row_ids, "the task projection disagrees with the stored workflow"
        assert json.loads(engine.serializer.dumps(workflow)) == json.loads(instance.state)

    # --- time ------------------------------------------------------------------------------------

    def advance(self, **delta: float) -> int:
        """Move the clock and fire every timer due by then; returns how many fired."""
        self.clock.advance(**delta)
        fired = fire_due_timers(self.engine, self.session)
        self.session.flush()
        return fired

    def advance_to(self, moment: datetime) -> int:
        assert moment >= self.clock.moment, "time only moves forward"
        self.clock.moment = moment
        fired = fire_due_timers(self.engine, self.session)
        self.session.flush()
        return fired

    # --- the case file ---------------------------------------------------------------------------

    def data(self, instance: ProcessInstance) -> dict[str, Any]:
        """The instance's data as its latest task sees it."""
        workflow = self.fresh_engine().load(instance)
        # A parallel join still waiting for its other branches holds no data yet: skip such tasks.
        for state in (TaskState.READY, TaskState.WAITING):
            tasks = [task for task in workflow.get_tasks(state=state) if task.data]
            if tasks:
                return dict(tasks[-1].data)
        return dict(workflow.data)

    def journal(self, household_id: int) -> list[str]:
        """The operations journalled for the household, oldest first."""
        return list(self.session.scalars(select(CaseEvent.operation).where(CaseEvent.household_id == household_id)
                                         .order_by(CaseEvent.id)))

    def household(self, reference: str) -> Household:
        found = self.session.scalar(select(Household).where(Household.reference == reference))
        assert found is not None, reference
        return found

    def rows(self, model: Any, **where: Any) -> list[Any]:
        query = select(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return list(self.session.scalars(query))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def services() -> ServiceRegistry:
    registry = ServiceRegistry()
    register_casefile_operations(registry)
    return registry


@pytest.fixture
def driver(session: Session, clock: FrozenClock, services: ServiceRegistry,
           users: dict[str, User], orgs: dict[str, Organisation]) -> ProcessDriver:  # noqa: F811
    """All five processes deployed, the demo partners and one user per role (named after it)."""
    driver = ProcessDriver(session, clock, services)
    driver.engine.deploy(session, read_models([PROCESSES], FORMS, roles=ROLES), actor="tester")
    session.flush()
    return driver


def task_summary(rows: Iterable[HumanTask]) -> list[tuple[str, str | None, str | None]]:
    """(BPMN id, role, organisation) of task rows, sorted: who was handed what."""
    return sorted((row.task_spec_id, row.role, row.organisation) for row in rows)
