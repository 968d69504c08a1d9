"""Web app fixtures: an app on a fresh migrated database with the engine test models deployed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from casefile import accounts
from engine.clock import FrozenClock
from engine.specs import read_models
from webapp import create_app
from webapp.accounts.auth import hash_password
from webapp.extensions import db

MODELS = Path(__file__).resolve().parent.parent / "engine" / "bpmn"


@pytest.fixture
def app_clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def app(make_database, app_clock: FrozenClock) -> Iterator[Flask]:
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": make_database(),
        "PROCESSES_DIR": MODELS,
        "FORMS_DIR": MODELS / "forms",
        "ENGINE_CLOCK": app_clock,
    })
    with app.app_context():
        engine = app.extensions["engine"]
        engine.deploy(db.session, read_models([MODELS], MODELS / "forms"), actor="tester")
        capofila = accounts.ensure_organisation(db.session, "capofila", "Ente capofila")
        other = accounts.ensure_organisation(db.session, "altro", "Altro ente")
        password = hash_password("demo")
        for username, org, role in (("anna", capofila, "coordinatore"), ("bruno", capofila, "case_manager"),
                                    ("carla", other, "coordinatore")):
            accounts.create_user(db.session, username, organisation=org, roles=[role], password_hash=password)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, username: str, password: str = "demo") -> None:
    """Log in through the form (CSRF token read from the page)."""
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token embedded in a page's form."""
    page = client.get(path).get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
