"""Staff-screen fixtures: an app with this folder's small models, the demo programme and staff of
several organisations, plus helpers to start cases and drive pages like a browser would."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casefile import accounts
from casefile.demo import seed_organisations, seed_programme
from casefile.models import Household
from casefile.roles import ROLES
from engine import Actor
from engine.clock import FrozenClock
from engine.models import HumanTask
from engine.specs import read_models
from webapp import create_app
from webapp.accounts.auth import hash_password
from webapp.demo import DEMO_ROLE_ORGS
from webapp.extensions import db

MODELS = Path(__file__).resolve().parent / "models"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# Besides one user per role named after it, in its demo organisation (as `make run` has them):
# staff to test organisation and team boundaries.
EXTRA_USERS = {
    "anna": ("capofila", ["coordinatore"]),
    "bice": ("capofila", ["case_manager"]),  # a case manager of the lead partner on no case team
    "carla": ("capofila", ["case_manager"]),
    "zeno": ("altro", ["coordinatore"]),
    "ugo": ("altro", ["case_manager"]),
}
ACTORS = {
    "anna": Actor("anna", frozenset({"coordinatore"}), "capofila"),
    "zeno": Actor("zeno", frozenset({"coordinatore"}), "altro"),
}


@pytest.fixture
def staff_clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def staff_config() -> dict[str, Any]:
    """Extra settings for the app (a test module overrides this fixture to add its own)."""
    return {}


@pytest.fixture
def staff_app(make_database: Callable[[], str], staff_clock: FrozenClock,
              staff_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app({
        "TESTING": True, "SECRET_KEY": "staff-test", "SQLALCHEMY_DATABASE_URI": make_database(),
        "PROCESSES_DIR": MODELS, "FORMS_DIR": MODELS / "forms", "ENGINE_CLOCK": staff_clock, **staff_config,
    })
    with app.app_context():
        engine = app.extensions["engine"]
        engine.deploy(db.session, read_models([MODELS], MODELS / "forms"), actor="tester")
        seed_organisations(db.session)
        password = hash_password("demo")
        users = {**{role: (DEMO_ROLE_ORGS[role], [role]) for role in ROLES}, **EXTRA_USERS}
        for username, (org_key, roles) in users.items():
            org = accounts.ensure_organisation(db.session, org_key, org_key.title())
            accounts.create_user(db.session, username, organisation=org, roles=roles, password_hash=password)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def programme(staff_app: Flask) -> Flask:
    """The demo programme: flats, leases and six households at every stage, with their case teams."""
    with staff_app.app_context():
        seed_programme(db.session, NOW.date())
        db.session.commit()
    return staff_app


@pytest.fixture
def client(staff_app: Flask) -> FlaskClient:
    return staff_app.test_client()


def token_of(page: str) -> str:
    """The CSRF token embedded in a page."""
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def login(client: FlaskClient, username: str) -> None:
    """Log in through the form (every demo and extra user has the password 'demo')."""
    token = token_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": "demo", "csrf_token": token})
    assert response.status_code in (302, 303), response.get_data(as_text=True)


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, *, page: str = "/tasks") -> Any:
    """POST a form the way a browser does: with the CSRF token of a page the user has open."""
    token = token_of(client.get(page).get_data(as_text=True))
    return client.post(path, data={**(data or {}), "csrf_token": token})


def start_case(app: Flask, process_id: str = "casework", *, org: str = "capofila", business_key: str | None = None,
               data: dict[str, Any] | None = None) -> str:
    """Start an instance as the coordinator of ``org``; returns its first ready task's id."""
    with app.app_context():
        actor = Actor("anna" if org == "capofila" else "zeno", frozenset({"coordinatore"}), org)
        instance = app.extensions["engine"].start(db.session, process_id, data or {}, actor,
                                                  business_key=business_key)
        db.session.commit()
        return db.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance.id,
                                                             HumanTask.status == "ready")).one()


def task_row(app: Flask, task_id: str) -> HumanTask:
    with app.app_context():
        row = db.session.get(HumanTask, task_id)
        db.session.expunge(row)
        return row


def household_id(app: Flask, display_name: str) -> int:
    with app.app_context():
        return db.session.scalars(select(Household.id).where(Household.display_name == display_name)).one()


def household_reference(app: Flask, display_name: str) -> str:
    with app.app_context():
        return db.session.scalars(select(Household.reference).where(Household.display_name == display_name)).one()


def texts(page: str, pattern: str) -> list[str]:
    """All matches of a regular expression's first group in a page."""
    return re.findall(pattern, page)


def as_date(value: str) -> date:
    return date.fromisoformat(value)
