"""Helpers of the account and admin tests: users made directly, forms posted with their CSRF token."""

from __future__ import annotations

import html
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from casefile import accounts
from casefile.models import User
from engine.models import AuditEvent
from webapp.accounts.auth import hash_password
from webapp.extensions import db

STRONG = "una-password-lunga"


def make_user(app: Flask, username: str, roles: list[str], org: str = "capofila", password: str = "demo",
              **fields: Any) -> None:
    """An account made straight in the database (the login form does not judge old passwords)."""
    with app.app_context():
        organisation = accounts.ensure_organisation(db.session, org)
        user = accounts.create_user(db.session, username, organisation=organisation, roles=roles,
                                    password_hash=hash_password(password))
        for name, value in fields.items():
            setattr(user, name, value)
        db.session.commit()


def user_state(app: Flask, username: str) -> dict[str, Any]:
    """The stored account, as plain values."""
    with app.app_context():
        user = accounts.find_user(db.session, username)
        assert user is not None
        return {"id": user.id, "full_name": user.full_name, "roles": set(user.roles), "active": user.active,
                "failed_logins": user.failed_logins, "locked_until": user.locked_until,
                "password_hash": user.password_hash, "password_changed_at": user.password_changed_at,
                "language": user.language, "organisation": user.organisation.key}


def user_id(app: Flask, username: str) -> int:
    with app.app_context():
        user = db.session.scalars(db.select(User).where(User.username == username)).one()
        return user.id


def account_events(app: Flask) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(kind, actor, details) of every account event, oldest first."""
    with app.app_context():
        rows = db.session.scalars(db.select(AuditEvent).where(AuditEvent.kind.startswith("account."))
                                  .order_by(AuditEvent.id)).all()
        return [(row.kind, row.actor, row.details) for row in rows]


def token_of(page: str) -> str:
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def post(client: FlaskClient, path: str, data: dict[str, Any], token_page: str = "/account/") -> TestResponse:
    """POST a form the way a browser would, with the CSRF token of the session."""
    token = token_of(client.get(token_page).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def try_login(client: FlaskClient, username: str, password: str, **kwargs: Any) -> TestResponse:
    token = token_of(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token}, **kwargs)


def flashes(response: TestResponse) -> list[str]:
    """The flash messages on a page."""
    return [html.unescape(re.sub(r"\s+", " ", text).strip())
            for text in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', response.get_data(as_text=True), re.S)]


def field_error(response: TestResponse, field: str) -> str | None:
    """The error shown next to ``field`` (its element id is e-<field>)."""
    match = re.search(rf'<small class="error" id="e-{re.escape(field)}">(.*?)</small>',
                      response.get_data(as_text=True), re.S)
    return html.unescape(match.group(1).strip()) if match else None
