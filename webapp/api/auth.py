"""Who is calling the API (a personal access token), and the request's transaction boundary."""

from __future__ import annotations

from flask import current_app, g, request
from flask_smorest import Blueprint
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import BadRequest, Unauthorized
from werkzeug.wrappers import Response

from casefile.access import Viewer
from casefile.accounts import user_for_token
from casefile.models import User
from engine import Actor, Engine
from webapp.extensions import db


def get_engine() -> Engine:
    """The app's engine."""
    return current_app.extensions["engine"]  # type: ignore[no-any-return]


def _refuse(message: str) -> Unauthorized:
    return Unauthorized(message, www_authenticate=WWWAuthenticate("bearer", {"realm": "pis2"}))


def authenticate() -> None:
    """Find the token's user, or answer 401 (no token, malformed, unknown, revoked, expired, inactive user)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _refuse("Send a personal access token: 'Authorization: Bearer <token>'.")
    user = user_for_token(db.session, token.strip(), get_engine().clock_now())
    if user is None:
        raise _refuse("The access token is not valid (unknown, revoked or expired).")
    g.api_user = user


def refuse_nul_characters() -> None:
    """400 for a NUL character anywhere in the request: no database keeps one in text, so it is never data."""
    if "\x00" in request.path or b"%00" in request.query_string or b"\\u0000" in request.get_data():
        raise BadRequest("NUL characters (\\u0000) are not accepted in paths, queries or bodies.")


def finish(response: Response) -> Response:
    """The transaction boundary: commit what a successful request did, drop what a failed one did."""
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def resource_blueprint(name: str, url_prefix: str, description: str) -> Blueprint:
    """A blueprint of the API whose every request needs a token and ends in one commit or rollback."""
    bp = Blueprint(name, __name__, url_prefix=url_prefix, description=description)
    bp.before_request(refuse_nul_characters)
    bp.before_request(authenticate)
    bp.after_request(finish)
    return bp


def api_user() -> User:
    """The authenticated user of this request."""
    return g.api_user  # type: ignore[no-any-return]


def api_actor() -> Actor:
    """The engine's view of the caller."""
    user = api_user()
    return Actor(username=user.username, roles=frozenset(user.roles), organisation=user.organisation.key)


def api_viewer() -> Viewer:
    """The access policy's view of the caller."""
    user = api_user()
    return Viewer(user.username, frozenset(user.roles), user.organisation.key)
