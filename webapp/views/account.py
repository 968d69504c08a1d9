"""'Il mio profilo': password, language and personal access tokens of the logged-in user."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required, login_user
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from casefile import accounts
from casefile.models import User
from webapp.accounts.auth import LoginUser, clock_now, hash_password, password_matches, refuse_nul_characters
from webapp.accounts.journal import record_account_event
from webapp.accounts.messages import field_errors, password_rules, role_labels, template_helpers
from webapp.extensions import db

bp = Blueprint("account", __name__, url_prefix="/account")
bp.context_processor(template_helpers)
bp.before_request(refuse_nul_characters)

LANGUAGES = {"it": "Italiano", "en": "English"}


def _me() -> User:
    return current_user.user  # type: ignore[no-any-return]


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    """The profile page; ``errors``/``values`` hold what a refused form said and what was typed."""
    user = _me()
    context.setdefault("errors", {})
    context.setdefault("values", {})
    my_roles = [label for key, label in role_labels().items() if key in user.roles]
    return render_template("account/profile.html", me=user, role_labels=my_roles,
                           tokens=accounts.tokens_of(db.session, user), now=clock_now(), languages=LANGUAGES,
                           password_rules=password_rules(), token_state=accounts.token_state, **context), status


@bp.route("/")
@login_required
def profile() -> tuple[str, int]:
    """The profile page."""
    return _page()


@bp.route("/password", methods=["POST"])
@login_required
def change_password() -> Response | tuple[str, int]:
    """Current password once, the new one twice."""
    user = _me()
    new = request.form.get("new_password") or ""
    try:
        if not password_matches(user, request.form.get("current_password") or ""):
            raise accounts.AccountError("wrong current password", "current_password", "password_wrong")
        accounts.check_new_password(user.username, new, request.form.get("new_password_repeat") or "")
    except accounts.AccountError as exc:
        # Passwords are never written back into the page; the user retypes them.
        return _page(422, errors=field_errors(exc))
    accounts.set_password(user, hash_password(new), clock_now())
    record_account_event("password_changed", user.username, username=user.username)
    db.session.commit()
    # The session key carries a fingerprint of the password hash: renew it, or this session would end too.
    login_user(LoginUser(user))
    flash(_("Password cambiata."), "success")
    return redirect(url_for("account.profile"))


@bp.route("/language", methods=["POST"])
@login_required
def set_language() -> Response | tuple[str, int]:
    """The language of the interface, kept on the account for the next sessions too."""
    language = request.form.get("language")
    if language not in LANGUAGES:
        return _page(422, errors={"language": _("Scegli una lingua dall'elenco.")})
    _me().language = language
    db.session.commit()
    session["lang"] = language  # the ?lang= switch of this session would otherwise win
    refresh()
    flash(_("Lingua salvata."), "success")
    return redirect(url_for("account.profile"))


@bp.route("/tokens", methods=["POST"])
@login_required
def create_token() -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    """A new personal access token, shown on this response only."""
    user = _me()
    name = request.form.get("name") or ""
    days_text = (request.form.get("expires_days") or "").strip()
    values = {"name": name, "expires_days": days_text}
    try:
        days = _days(days_text)
        row, token = accounts.create_api_token(db.session, user, name,
                                               expires_at=accounts.token_expiry(clock_now(), days))
    except accounts.AccountError as exc:
        db.session.rollback()
        return _page(422, errors=field_errors(exc), values=values)
    record_account_event("token_created", user.username, username=user.username, token_id=row.id, name=row.name,
                         prefix=row.prefix, expires_at=row.expires_at)
    db.session.commit()
    body, status = _page(200, new_token=token, new_token_row=row)
    # Shown on this response only: keep it out of the browser's cache and history snapshots.
    return body, status, {"Cache-Control": "no-store"}


def _days(text: str) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 6):
        raise accounts.AccountError("days must be a whole number", "expires_days", "token_days")
    return int(text)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int) -> Response:
    """Revoke one of my tokens (another user's token is 'not found')."""
    user = _me()
    try:
        row = accounts.revoke_api_token(db.session, user, token_id, clock_now())
    except accounts.AccountError as exc:
        db.session.rollback()
        raise NotFound(_("Token non trovato.")) from exc
    record_account_event("token_revoked", user.username, username=user.username, token_id=row.id, name=row.name)
    db.session.commit()
    flash(_("Token «%(name)s» revocato.", name=row.name), "success")
    return redirect(url_for("account.profile"))
