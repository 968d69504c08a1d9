"""System administration of the programme's organisations: list, create, edit name, kind and roles."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from casefile import accounts
from casefile.codes import PROGRAMME_ROLES
from casefile.models import Organisation, User
from webapp.accounts.auth import refuse_nul_characters
from webapp.accounts.journal import record_account_event
from webapp.accounts.messages import field_errors, template_helpers
from webapp.extensions import db
from webapp.views.admin import acting, admins_only

bp = Blueprint("admin_orgs", __name__, url_prefix="/admin/orgs")
bp.context_processor(template_helpers)
bp.before_request(refuse_nul_characters)
bp.before_request(admins_only)


def programme_role_labels() -> dict[str, str]:
    """What each programme role (casefile.codes.PROGRAMME_ROLES) is called on screen."""
    labels = {
        "capofila": _("Ente capofila"), "partner": _("Partner"),
        "lease_holder": _("Titolare dei contratti di locazione"), "referrer": _("Ente inviante"),
        "funder": _("Finanziatore"), "mediation": _("Servizio di mediazione"),
        "work_inclusion": _("Inserimento lavorativo"),
    }
    return {role: labels.get(role, role) for role in PROGRAMME_ROLES}


def _form_page(template_values: dict[str, Any], errors: dict[str, str], org: Organisation | None) -> tuple[str, int]:
    return render_template("admin/org_form.html", org=org, values=template_values, errors=errors,
                           kinds=accounts.ORGANISATION_KINDS,
                           programme_roles=programme_role_labels()), 422 if errors else 200


def _submitted() -> dict[str, Any]:
    return {"key": (request.form.get("key") or "").strip(), "name": request.form.get("name") or "",
            "kind": request.form.get("kind") or "", "programme_roles": request.form.getlist("programme_roles")}


@bp.route("")
def list_organisations() -> str:
    """Every organisation with its kind, programme roles and number of users."""
    counts = {org_id: count for org_id, count in
              db.session.execute(select(User.organisation_id, func.count()).group_by(User.organisation_id))}
    return render_template("admin/orgs.html", organisations=accounts.list_organisations(db.session),
                           user_counts=counts, programme_roles=programme_role_labels())


@bp.route("/new", methods=["GET", "POST"])
def create_organisation() -> str | Response | tuple[str, int]:
    """A new organisation; its key is permanent."""
    if request.method == "GET":
        return _form_page({"key": "", "name": "", "kind": "ETS", "programme_roles": []}, {}, None)
    values = _submitted()
    try:
        org = accounts.create_organisation(db.session, values["key"], name=values["name"], kind=values["kind"],
                                           programme_roles=values["programme_roles"])
    except accounts.AccountError as exc:
        db.session.rollback()
        return _form_page(values, field_errors(exc), None)
    record_account_event("org_created", acting(), key=org.key, name=org.name, kind=org.kind,
                         programme_roles=org.programme_roles)
    db.session.commit()
    flash(_("Ente %(name)s creato.", name=org.name), "success")
    return redirect(url_for("admin_orgs.list_organisations"))


@bp.route("/<int:org_id>", methods=["GET", "POST"])
def edit_organisation(org_id: int) -> str | Response | tuple[str, int]:
    """Name, kind and programme roles of an organisation."""
    org = db.session.get(Organisation, org_id)
    if org is None:
        abort(404)
    if request.method == "GET":
        return _form_page({"key": org.key, "name": org.name, "kind": org.kind,
                           "programme_roles": list(org.programme_roles or [])}, {}, org)
    values = {**_submitted(), "key": org.key}
    try:
        changes = accounts.update_organisation(org, name=values["name"], kind=values["kind"],
                                               programme_roles=values["programme_roles"])
    except accounts.AccountError as exc:
        db.session.rollback()
        return _form_page(values, field_errors(exc), db.session.get(Organisation, org_id))
    if changes:
        record_account_event("org_updated", acting(), key=org.key, changes=changes)
    db.session.commit()
    flash(_("Modifiche salvate.") if changes else _("Nessuna modifica."), "success")
    return redirect(url_for("admin_orgs.list_organisations"))
