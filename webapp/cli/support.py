"""What every ``pis2`` command shares: the engine of the app, JSON or text output, clean failures."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from sqlalchemy.exc import IntegrityError

from casefile import accounts
from engine import Actor, Engine, EngineError
from webapp.extensions import db


def current_engine() -> Engine:
    """The engine of the running app."""
    return current_app.extensions["engine"]  # type: ignore[no-any-return]


def emit(as_json: bool, payload: Any, text: str) -> None:
    """Print ``payload`` as JSON for scripts, or ``text`` for people."""
    click.echo(json.dumps(payload, default=str, indent=2) if as_json else text)


def fail(as_json: bool, code: str, message: str, details: Any = None) -> None:
    """Report an error without a traceback and exit 1."""
    if as_json:
        click.echo(json.dumps({"error": {"code": code, "message": message, "details": details or {}}}))
    else:
        click.echo(f"error: {message}", err=True)
    sys.exit(1)


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--json`` to a command."""
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(func)


def parse_json_arg(as_json: bool, value: str | None, name: str) -> dict[str, Any]:
    """A JSON object given on the command line, or a clear error."""
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        fail(as_json, "bad_json", f"{name} is not valid JSON: {exc}")
    if not isinstance(parsed, dict):
        fail(as_json, "bad_json", f"{name} must be a JSON object")
    return parsed


def actor_for(as_json: bool, username: str | None) -> Actor:
    """The engine actor of a user account (the system when no user is named)."""
    if not username:
        return Actor.system("cli")
    user = accounts.find_user(db.session, username)
    if user is None:
        fail(as_json, "user_not_found", f"no user '{username}'")
    return Actor(username=user.username, roles=user.roles, organisation=user.organisation.key)


def run_engine(as_json: bool, action: Callable[[], Any]) -> Any:
    """Run an engine action in one transaction; engine errors become a clean exit 1."""
    try:
        result = action()
        db.session.commit()
        return result
    except EngineError as exc:
        db.session.rollback()
        fail(as_json, exc.code, exc.message, exc.details)
    except IntegrityError as exc:
        # A concurrent change took what this one was storing (e.g. the next version number).
        db.session.rollback()
        fail(as_json, "conflict", "another change landed at the same moment: run the command again",
             {"constraint": str(exc.orig)})
