"""Login, logout and who the caller is (roles, organisation)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from casefile.models import User
from engine import Actor
from webapp.extensions import db, login_manager

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = None


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
        """Session key of the user."""
        return str(self.id)


@login_manager.user_loader
def load_user(user_id: str) -> LoginUser | None:
    """The logged-in user, rebuilt from the session cookie."""
    user = db.session.get(User, int(user_id))
    return LoginUser(user) if user is not None and user.active else None


def hash_password(password: str) -> str:
    """A salted scrypt hash (werkzeug's current default)."""
    return generate_password_hash(password)


def current_actor() -> Actor:
    """The engine's view of the logged-in user."""
    return Actor(username=current_user.username, roles=frozenset(current_user.roles),
                 organisation=current_user.organisation)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Username and password form."""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        user = db.session.scalars(select(User).where(User.username == username)).first()
        valid = user is not None and user.active and bool(user.password_hash)
        if valid and check_password_hash(user.password_hash, password):
            login_user(LoginUser(user))
            return redirect(url_for("tasks.list_tasks"))
        flash(_("Nome utente o password non corretti."), "error")
        return render_template("login.html", username=username), 401
    return render_template("login.html", username="")


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """End the session."""
    logout_user()
    return redirect(url_for("auth.login"))
