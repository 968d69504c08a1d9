"""Engine fixtures: the test models in tests/engine/bpmn, deployed into the lane's database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from engine import Actor, Engine
from engine.clock import FrozenClock
from engine.services import ServiceRegistry
from engine.specs import read_models

MODELS = Path(__file__).parent / "bpmn"
FORMS = MODELS / "forms"
ROLES = {"coordinatore": "Coordinatore di progetto", "case_manager": "Case manager"}

COORD = Actor("anna", frozenset({"coordinatore"}), "capofila")
CASE_MANAGER = Actor("bruno", frozenset({"case_manager"}), "capofila")
OTHER_ORG_COORD = Actor("carla", frozenset({"coordinatore"}), "altro_ente")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def services() -> ServiceRegistry:
    return ServiceRegistry()


@pytest.fixture
def engine(clock: FrozenClock, services: ServiceRegistry) -> Engine:
    return Engine(roles=ROLES, services=services, now=clock)


def deploy_all(engine: Engine, session: Session) -> None:
    engine.deploy(session, read_models([MODELS], FORMS), actor="tester")


@pytest.fixture
def deployed(engine: Engine, session: Session) -> Engine:
    deploy_all(engine, session)
    return engine


@pytest.fixture
def ready_task() -> Callable[[Session, int, str], object]:
    """The ready human-task row of an instance with a given BPMN id."""
    from sqlalchemy import select

    from engine.models import HumanTask

    def find(session: Session, instance_id: int, spec_id: str) -> HumanTask:
        return session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.task_spec_id == spec_id,
            HumanTask.status == "ready")).one()

    return find
