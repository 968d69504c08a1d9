"""System administration (role ``admin``): staff accounts and the journal of account changes.

The system admin manages every organisation's accounts. Each change is appended to the audit trail
(webapp.accounts.journal) and listed on the journal page. Organisations are in admin_orgs.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from casefile import accounts
from casefile.models import User
from webapp.accounts.auth import clock_now, hash_password, refuse_nul_characters
from webapp.accounts.journal import account_events, record_account_event
from webapp.accounts.messages import field_errors, message_for, password_rules, role_labels, template_helpers
from webapp.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.context_processor(template_helpers)
bp.before_request(refuse_nul_characters)

PAGE_SIZE = 50
STATUSES = ("active", "inactive", "locked")


@login_required
def admins_only() -> tuple[str, int] | None:
    """Anonymous callers go to the login page; logged-in non-admins get a 403 page."""
    if "admin" not in current_user.roles:
        return render_template("error.html", status=403,
                               message=_("Questa pagina è riservata agli amministratori di sistema.")), 403
    return None


bp.before_request(admins_only)


def acting() -> str:
    """The admin's username, recorded as the actor of each change."""
    return current_user.username  # type: ignore[no-any-return]


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _page_number() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isascii() and page.isdigit() and 0 < len(page) < 7 and int(page) > 0 else 1


@bp.route("/")
def index() -> Response:
    """The admin home is the user list."""
    return redirect(url_for("admin.list_users"))


@bp.route("/users")
def list_users() -> str:
    """Users, filtered by text, organisation, role and status; paged."""
    filters = {"q": (request.args.get("q") or "").strip()[:100], "org": request.args.get("org") or "",
               "role": request.args.get("role") or "", "status": request.args.get("status") or ""}
    query = accounts.search_users(text=filters["q"] or None, organisation_key=filters["org"] or None,
                                  role=filters["role"] or None,
                                  status=filters["status"] if filters["status"] in STATUSES else None,
                                  now=clock_now())
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = min(_page_number(), max(1, -(-total // PAGE_SIZE)))
    users = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("admin/users.html", users=users, total=total, page=page, page_size=PAGE_SIZE,
                           filters=filters, organisations=accounts.list_organisations(db.session),
                           roles=role_labels(), now=clock_now(), is_locked=accounts.is_locked)


@bp.route("/users/new", methods=["GET", "POST"])
def create_user() -> str | Response | tuple[str, int]:
    """A new account with its organisation, roles and initial password."""
    values: dict[str, Any] = {"username": "", "full_name": "", "organisation": "", "roles": []}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {"username": (request.form.get("username") or "").strip(),
                  "full_name": request.form.get("full_name") or "",
                  "organisation": request.form.get("organisation") or "", "roles": request.form.getlist("roles")}
        organisation = accounts.find_organisation(db.session, values["organisation"])
        if organisation is None:
            errors["organisation"] = message_for(accounts.AccountError("", "organisation", "organisation_required"))
        for problem in accounts.new_user_problems(db.session, values["username"], values["roles"],
                                                  values["full_name"]):
            errors.setdefault(problem.field, message_for(problem))
        for field, message in _password_errors(values["username"]).items():
            errors.setdefault(field, message)
        if not errors and organisation is not None:
            user = accounts.create_user(db.session, values["username"], organisation=organisation,
                                        roles=values["roles"], full_name=values["full_name"], password_hash=None)
            accounts.set_password(user, hash_password(request.form["new_password"]), clock_now())
            record_account_event("user_created", acting(), username=user.username, organisation=organisation.key,
                                 roles=sorted(user.roles), full_name=user.full_name)
            db.session.commit()
            flash(_("Utente %(username)s creato.", username=user.username), "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/user_new.html", values=values, errors=errors, roles=role_labels(),
                           organisations=accounts.list_organisations(db.session),
                           password_rules=password_rules()), 422 if errors else 200


def _password_errors(username: str) -> dict[str, str]:
    try:
        accounts.check_new_password(username, request.form.get("new_password") or "",
                                    request.form.get("new_password_repeat") or "")
    except accounts.AccountError as exc:
        return field_errors(exc)
    return {}


def _edit_page(user: User, status: int = 200, errors: dict[str, str] | None = None,
               values: dict[str, Any] | None = None) -> tuple[str, int]:
    values = values or {"full_name": user.full_name or "", "roles": sorted(user.roles)}
    return render_template("admin/user_edit.html", user=user, values=values, errors=errors or {},
                           roles=role_labels(), now=clock_now(), locked=accounts.is_locked(user, clock_now()),
                           password_rules=password_rules()), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int) -> Response | tuple[str, int]:
    """Full name and roles; the page also holds the activation, password and unlock actions."""
    user = _user_or_404(user_id)
    if request.method == "GET":
        return _edit_page(user)
    values = {"full_name": request.form.get("full_name") or "", "roles": request.form.getlist("roles")}
    try:
        changes = accounts.update_user(db.session, user, full_name=values["full_name"], roles=values["roles"],
                                       acting_username=acting())
    except accounts.AccountError as exc:
        db.session.rollback()
        return _edit_page(_user_or_404(user_id), 422, field_errors(exc), values)
    if changes:
        record_account_event("user_updated", acting(), username=user.username, changes=changes)
    db.session.commit()
    flash(_("Modifiche salvate.") if changes else _("Nessuna modifica."), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def set_user_active(user_id: int) -> Response | tuple[str, int]:
    """Deactivate or reactivate an account."""
    user = _user_or_404(user_id)
    active = request.form.get("active") == "1"
    try:
        accounts.set_active(db.session, user, active, acting_username=acting())
    except accounts.AccountError as exc:
        db.session.rollback()
        return _edit_page(_user_or_404(user_id), 422, {"active": message_for(exc)})
    record_account_event("user_activated" if active else "user_deactivated", acting(), username=user.username)
    db.session.commit()
    flash(_("Utente %(username)s riattivato.", username=user.username) if active
          else _("Utente %(username)s disattivato: non può più accedere.", username=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def reset_password(user_id: int) -> Response | tuple[str, int]:
    """Set a new password for the user (to be changed by them from their profile)."""
    user = _user_or_404(user_id)
    errors = _password_errors(user.username)
    if errors:
        return _edit_page(user, 422, errors)
    accounts.set_password(user, hash_password(request.form["new_password"]), clock_now())
    record_account_event("password_reset", acting(), username=user.username)
    db.session.commit()
    flash(_("Nuova password impostata per %(username)s.", username=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
def unlock_user(user_id: int) -> Response:
    """Lift a lockout caused by wrong passwords."""
    user = _user_or_404(user_id)
    if accounts.unlock(user):
        record_account_event("unlocked", acting(), username=user.username)
    db.session.commit()
    flash(_("Utente %(username)s sbloccato.", username=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/journal")
def journal() -> str:
    """The latest account changes, newest first."""
    page = _page_number()
    events = account_events(limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return render_template("admin/journal.html", events=events[:PAGE_SIZE], page=page,
                           has_more=len(events) > PAGE_SIZE, labels=event_labels())


def event_labels() -> dict[str, str]:
    """What each kind of account event is called on the journal page."""
    return {
        "account.user_created": _("Utente creato"), "account.user_updated": _("Utente modificato"),
        "account.user_deactivated": _("Utente disattivato"), "account.user_activated": _("Utente riattivato"),
        "account.password_reset": _("Password reimpostata"), "account.password_changed": _("Password cambiata"),
        "account.unlocked": _("Utente sbloccato"), "account.locked": _("Bloccato per troppi tentativi"),
        "account.token_created": _("Token creato"), "account.token_revoked": _("Token revocato"),
        "account.org_created": _("Ente creato"), "account.org_updated": _("Ente modificato"),
    }
