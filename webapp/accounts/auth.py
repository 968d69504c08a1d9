"""Login, logout and who the caller is (roles, organisation).

Login hardening: after ``LOGIN_MAX_FAILURES`` wrong passwords in a row an account is locked for
``LOGIN_LOCK_MINUTES`` (stored on the user row); unknown usernames lock the same way in memory, so the
page never reveals whether a name exists; and a client address with too many recent failures is
refused for a while (in-process, see webapp/login_guard.py).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from functools import cache
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from casefile import accounts
from casefile.models import User
from engine import Actor
from webapp.accounts.journal import record_account_event
from webapp.accounts.login_guard import LoginGuard
from webapp.extensions import db, login_manager

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = None


def refuse_nul_characters() -> tuple[str, int] | None:
    """400 for a NUL character in the query or form: nobody types one, and no database keeps one in text."""
    fields = [*request.args.items(multi=True), *request.form.items(multi=True)]
    if any("\x00" in key or "\x00" in value for key, value in fields):
        return render_template("error.html", status=400,
                               message=_("La richiesta contiene caratteri non validi.")), 400
    return None


bp.before_request(refuse_nul_characters)


@bp.record_once
def _install_login_guard(state: BlueprintSetupState) -> None:
    config = state.app.config
    policy = accounts.LoginPolicy(max_failures=config["LOGIN_MAX_FAILURES"],
                                  lock_for=timedelta(minutes=config["LOGIN_LOCK_MINUTES"]))
    state.app.extensions["login_guard"] = LoginGuard(
        policy, config["LOGIN_ADDRESS_MAX_FAILURES"], timedelta(minutes=config["LOGIN_ADDRESS_WINDOW_MINUTES"]))


class LoginUser:
    """Flask-Login's view of a case-file User."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.id = user.id
        self.username = user.username
        self.language = user.language
        self.roles = user.roles
        self.organisation = user.organisation.key
        self.is_active = user.active
        self.is_authenticated = True
        self.is_anonymous = False

    def get_id(self) -> str:
        """Session key of the user: a new password ends the sessions opened with the old one."""
        return f"{self.id}:{password_stamp(self.user)}"


def password_stamp(user: User) -> str:
    """A short fingerprint of the stored password hash (itself salted), kept in the session."""
    return hashlib.sha256((user.password_hash or "-").encode()).hexdigest()[:16]


@login_manager.user_loader
def load_user(session_key: str) -> LoginUser | None:
    """The logged-in user, rebuilt from the session cookie."""
    user_id, _sep, stamp = session_key.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or stamp != password_stamp(user):
        return None
    return LoginUser(user)


def hash_password(password: str) -> str:
    """A salted scrypt hash (werkzeug's current default)."""
    return generate_password_hash(password)


@cache
def _decoy_hash() -> str:
    # Checked against when there is no real hash, so that a wrong username costs as long as a wrong password.
    return generate_password_hash("decoy password, never valid")


def password_matches(user: User | None, password: str) -> bool:
    """Whether ``password`` is the user's, taking the same time whether the user exists or not."""
    if user is None or not user.password_hash:
        check_password_hash(_decoy_hash(), password)
        return False
    return check_password_hash(user.password_hash, password)


def current_actor() -> Actor:
    """The engine's view of the logged-in user."""
    return Actor(username=current_user.username, roles=frozenset(current_user.roles),
                 organisation=current_user.organisation)


def clock_now() -> datetime:
    """The app's time (the engine clock, which tests can set)."""
    return current_app.extensions["engine"].clock_now()  # type: ignore[no-any-return]


def start_session(user: User) -> None:
    """Log ``user`` in on a fresh session (nothing carried over but the chosen language)."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME
    login_user(LoginUser(user))


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """Username and password form."""
    if request.method == "POST":
        return _attempt_login()
    return render_template("login.html", username="")


def _attempt_login() -> Response | tuple[str, int]:
    guard: LoginGuard = current_app.extensions["login_guard"]
    now = clock_now()
    address = request.remote_addr or "unknown"
    username = (request.form.get("username") or "").strip()[:150]
    password = request.form.get("password") or ""
    wait = guard.address_retry_after(address, now)
    if wait is not None:
        flash(_("Troppi tentativi di accesso non riusciti da questa rete. Riprova tra qualche minuto."), "error")
        response = make_response(render_template("login.html", username=username), 429)
        response.headers["Retry-After"] = str(wait)
        return response
    user = accounts.find_user(db.session, username) if username else None
    if user is None:
        locked = guard.unknown_name_locked(username, now)
        if not locked:
            password_matches(None, password)
            locked = guard.note_unknown_name_failure(username, now)
    elif accounts.is_locked(user, now):
        locked = True
    elif user.active and password_matches(user, password):
        accounts.record_login_success(user)
        db.session.commit()
        start_session(user)
        return redirect(_safe_next(request.args.get("next")) or url_for("tasks.list_tasks"))
    else:
        locked = accounts.record_login_failure(user, now, guard.policy)
        if locked:
            record_account_event("locked", None, username=user.username, failures=user.failed_logins,
                                 until=user.locked_until, address=address)
        db.session.commit()
    guard.note_address_failure(address, now)
    return _refused(username, locked, guard)


def _refused(username: str, locked: bool, guard: LoginGuard) -> tuple[str, int]:
    # Same words and status whether the name exists or not: only "locked" or "wrong" is told.
    if locked:
        minutes = int(guard.policy.lock_for.total_seconds() // 60)
        flash(_("Troppi tentativi non riusciti: per sicurezza l'accesso con questo nome utente è sospeso per "
                "%(minutes)s minuti. Riprova più tardi o chiedi all'amministratore di sbloccarlo.",
                minutes=minutes), "error")
    else:
        flash(_("Nome utente o password non corretti."), "error")
    return render_template("login.html", username=username), 401


def _safe_next(target: str | None) -> str | None:
    # Only a path on this site: an absolute or scheme-relative URL would make the form an open redirect.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """End the session."""
    logout_user()
    return redirect(url_for("auth.login"))
