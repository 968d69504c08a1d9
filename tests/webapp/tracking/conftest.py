"""Tracking fixtures: the staff-screen app (small models, demo programme, staff of several organisations)
plus a process whose service task fails until the external service is "fixed"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from engine import Actor
from engine.services import ServiceContext, ServiceRegistry
from engine.specs import read_models
from tests.webapp.staff.conftest import login, programme, staff_app, staff_clock, staff_config  # noqa: F401
from webapp.extensions import db

FLAKY_MODELS = Path(__file__).resolve().parent / "bpmn"
ANNA = Actor("anna", frozenset({"coordinatore"}), "capofila")
ZENO = Actor("zeno", frozenset({"coordinatore"}), "altro")


class FlakyService:
    """An external service that is down until ``fixed`` is set."""

    def __init__(self) -> None:
        self.fixed = False

    def __call__(self, context: ServiceContext) -> str:
        if not self.fixed:
            raise RuntimeError("servizio esterno non raggiungibile")
        return "ok"


def install_flaky(app: Flask) -> FlakyService:
    """Register the flaky operation and deploy the process that calls it."""
    service = FlakyService()
    engine = app.extensions["engine"]
    registry: ServiceRegistry = engine.services
    registry.register("tracking_probe", service)
    with app.app_context():
        engine.deploy(db.session, read_models([FLAKY_MODELS], FLAKY_MODELS / "forms"), actor="tester")
        db.session.commit()
    return service


@pytest.fixture
def flaky(staff_app: Flask) -> FlakyService:  # noqa: F811 (the imported fixture)
    return install_flaky(staff_app)


@pytest.fixture
def start(staff_app: Flask) -> Callable[..., int]:  # noqa: F811
    """Start an instance (as anna of capofila, or another actor); returns its id."""

    def starting(process_id: str = "casework", actor: Actor = ANNA, **kwargs: Any) -> int:
        with staff_app.app_context():
            instance = staff_app.extensions["engine"].start(db.session, process_id, {}, actor, **kwargs)
            db.session.commit()
            return instance.id

    return starting


@pytest.fixture
def as_user(staff_app: Flask) -> Callable[[str], Any]:  # noqa: F811
    """A logged-in test client per username."""
    def client_for(username: str) -> Any:
        client = staff_app.test_client()
        login(client, username)
        return client

    return client_for
