"""API fixtures: an app with this folder's small BPMN models, the demo programme, staff of several
organisations, and a personal access token for each of them."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from werkzeug.test import TestResponse

from casefile import accounts
from casefile.demo import seed_organisations, seed_programme
from casefile.roles import ROLES
from engine.clock import FrozenClock
from engine.specs import read_models
from webapp import create_app
from webapp.extensions import db

MODELS = Path(__file__).resolve().parent / "bpmn"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# Demo users are named after their role (as in `make run`); the others test organisation boundaries.
ROLE_ORGS = {
    "assistente_sociale": "comune", "coordinatore": "capofila", "case_manager": "capofila",
    "referente_abitativo": "locatario", "amministrazione": "locatario", "mediatore": "partner",
    "operatore_lavoro": "partner", "equipe": "capofila", "supervisore": "comune",
    "analista": "capofila", "admin": "capofila",
}
EXTRA_USERS = {
    "carla": ("altro", "coordinatore"),  # a coordinator of another organisation
    "dario": ("altro", "case_manager"),  # a case manager of another organisation
    "elena": ("capofila", "case_manager"),  # a second case manager of the lead partner
}


@dataclass
class Tokens:
    """Personal access tokens by username, plus a revoked and an expired one of the coordinator."""

    by_user: dict[str, str]
    revoked: str
    expired: str

    def __getitem__(self, username: str) -> str:
        return self.by_user[username]


def _seed(app: Flask) -> Tokens:
    engine = app.extensions["engine"]
    session = db.session
    engine.deploy(session, read_models([MODELS], MODELS / "forms"), actor="tester")
    seed_organisations(session)
    altro = accounts.ensure_organisation(session, "altro", "Altro ente")
    altro.programme_roles = ["partner"]
    orgs = {org.key: org for org in (accounts.ensure_organisation(session, key) for key in
                                     (*set(ROLE_ORGS.values()), "altro"))}
    users = {role: accounts.create_user(session, role, organisation=orgs[org], roles=[role], password_hash=None)
             for role, org in ROLE_ORGS.items()}
    for username, (org, role) in EXTRA_USERS.items():
        users[username] = accounts.create_user(session, username, organisation=orgs[org], roles=[role],
                                               password_hash=None)
    assert set(ROLE_ORGS) == set(ROLES)
    seed_programme(session, NOW.date())
    tokens = {username: accounts.create_api_token(session, user, "tests")[1] for username, user in users.items()}
    revoked_row, revoked = accounts.create_api_token(session, users["coordinatore"], "revoked")
    accounts.revoke_api_token(session, users["coordinatore"], revoked_row.id, NOW)
    _, expired = accounts.create_api_token(session, users["coordinatore"], "expired",
                                           expires_at=NOW - timedelta(minutes=1))
    session.commit()
    return Tokens(tokens, revoked, expired)


def _app(url: str) -> Flask:
    return create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "PROCESSES_DIR": MODELS,
        "FORMS_DIR": MODELS / "forms",
        "ENGINE_CLOCK": FrozenClock(NOW),
    })


@pytest.fixture(scope="session")
def seeded_database(make_database: Any) -> tuple[str, Tokens]:
    """One migrated and seeded database per run, copied for each test (seeding takes a second)."""
    url = make_database()
    app = _app(url)
    with app.app_context():
        tokens = _seed(app)
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:  # everything into the main file before it is copied
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.session.remove()
        db.engine.dispose()
    return url, tokens


_copies = itertools.count(1)


def copy_database(url: str) -> str:
    """A fresh copy of the database at ``url``: a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL."""
    if url.startswith("sqlite:///"):
        source = Path(url.removeprefix("sqlite:///"))
        target = source.with_name(f"{source.stem}_copy{next(_copies)}.sqlite")
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"
    base, template = url.rsplit("/", 1)
    name = f"{template}_copy{next(_copies)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return f"{base}/{name}"


@pytest.fixture
def app(seeded_database: tuple[str, Tokens]) -> Iterator[Flask]:
    url, tokens = seeded_database
    app = _app(copy_database(url))
    app.config["TEST_TOKENS"] = tokens
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def tokens(app: Flask) -> Tokens:
    return app.config["TEST_TOKENS"]  # type: ignore[no-any-return]


class Api:
    """A test client that speaks JSON with a user's token: ``api.get(path, as_="coordinatore")``."""

    def __init__(self, client: FlaskClient, tokens: Tokens) -> None:
        self.client, self.tokens = client, tokens

    def call(self, method: str, path: str, *, as_: str | None = None, token: str | None = None,
             **kwargs: Any) -> TestResponse:
        headers = dict(kwargs.pop("headers", {}))
        if as_ is not None:
            token = self.tokens[as_]
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("PUT", path, **kwargs)

    def start(self, process_id: str = "api_flow", as_: str = "coordinatore", **body: Any) -> dict[str, Any]:
        """Start an instance and return its JSON (asserting it started)."""
        response = self.post("/api/v1/instances", as_=as_, json={"process_id": process_id, **body})
        assert response.status_code == 201, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]


@pytest.fixture
def api(client: FlaskClient, tokens: Tokens) -> Api:
    return Api(client, tokens)


def assert_error(response: TestResponse, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is the error envelope with this status (and code); returns its ``error`` object."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]  # type: ignore[no-any-return]
