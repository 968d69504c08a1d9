"""What a tracking role may do to an instance: retry after an incident, suspend, resume, terminate,
and (coordinators, administrators) hand a task to a colleague.

Every action is a POST with the CSRF token, is audited by the engine (with the reason given, when one
is asked for), commits on success and answers 409 with a readable page when the instance moved on.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from casefile.models import User
from engine import ConflictError, NotAllowedError, TaskNotReadyError, tracking
from engine.models import ProcessInstance
from engine.runtime import Actor
from webapp.accounts.auth import current_actor
from webapp.extensions import db
from webapp.tracking import REASON_MAX, may_reassign, organisation_scope, record_reason, require_tracking
from webapp.views.taskpage import get_engine

ID = "<int(max=2147483647):instance_id>"


def register(bp: Blueprint) -> None:
    """Add the action routes to the tracking blueprint."""
    bp.add_url_rule(f"/instances/{ID}/retry", view_func=retry_instance, methods=["POST"])
    bp.add_url_rule(f"/instances/{ID}/suspend", view_func=suspend_instance, methods=["POST"])
    bp.add_url_rule(f"/instances/{ID}/resume", view_func=resume_instance, methods=["POST"])
    bp.add_url_rule(f"/instances/{ID}/terminate", view_func=terminate_instance, methods=["POST"])
    bp.add_url_rule(f"/instances/{ID}/tasks/<task_id>/reassign", view_func=reassign_instance_task,
                    methods=["POST"])


def _instance(instance_id: int) -> tuple[Actor, ProcessInstance]:
    actor = current_actor()
    require_tracking(actor)
    return actor, tracking.visible_instance(db.session, instance_id, organisation_scope(actor))


def _back(instance_id: int) -> Response:
    return redirect(url_for("tracking.show_instance", instance_id=instance_id), code=303)


def _refused(instance_id: int, status: int, message: str) -> tuple[str, int]:
    db.session.rollback()
    return render_template("tracking/refused.html", status=status, message=message, instance_id=instance_id), status


def _reason() -> str | None:
    """The reason typed in the form, confirmed; None when it is missing or too long."""
    reason = (request.form.get("reason") or "").strip()
    if not reason or len(reason) > REASON_MAX or request.form.get("confirm") != "yes":
        return None
    return reason


def _act(instance_id: int, action: Callable[[Actor], object], done: str, *,
         reason_kind: str | None = None) -> Response | tuple[str, int]:
    """Run one lifecycle action: reason checked, conflicts turned into a 409 page, success committed."""
    actor, _row = _instance(instance_id)
    reason = None
    if reason_kind is not None:
        reason = _reason()
        if reason is None:
            return _refused(instance_id, 422, _(
                "Scrivi il motivo (al massimo %(max)s caratteri) e conferma l'operazione.", max=REASON_MAX))
    try:
        action(actor)
    except (ConflictError, TaskNotReadyError):
        return _refused(instance_id, 409, _(
            "L'istanza è cambiata nel frattempo (o è già in questo stato): ricarica la pagina e riprova."))
    if reason_kind is not None and reason_kind != "terminated":
        # The engine records the action (a termination with its reason); the reason goes into the same trail.
        record_reason(db.session, get_engine(), instance_id, actor, reason_kind, reason or "")
    db.session.commit()
    flash(done, "success")
    return _back(instance_id)


@login_required
def retry_instance(instance_id: int) -> Response | tuple[str, int]:
    """'Riprova': run the failed step again, once its cause has been fixed."""
    return _act(instance_id, lambda actor: get_engine().retry(db.session, instance_id, actor),
                _("Nuovo tentativo eseguito: lo stato dell'istanza è aggiornato qui sotto."))


@login_required
def suspend_instance(instance_id: int) -> Response | tuple[str, int]:
    """Suspend: no task can be completed and no timer fires until it is resumed."""
    return _act(instance_id, lambda actor: get_engine().set_suspended(db.session, instance_id, actor, True),
                _("Istanza sospesa."), reason_kind="suspended")


@login_required
def resume_instance(instance_id: int) -> Response | tuple[str, int]:
    """Resume a suspended instance."""
    return _act(instance_id, lambda actor: get_engine().set_suspended(db.session, instance_id, actor, False),
                _("Istanza ripresa."), reason_kind="resumed")


@login_required
def terminate_instance(instance_id: int) -> Response | tuple[str, int]:
    """Terminate for good: its tasks are cancelled."""
    reason = (request.form.get("reason") or "").strip()
    return _act(instance_id, lambda actor: get_engine().terminate(db.session, instance_id, actor, reason),
                _("Istanza terminata."), reason_kind="terminated")


def _valid_assignee(username: str | None, organisation: str | None, role: str | None) -> bool:
    if username is None:
        return True
    user = db.session.scalars(select(User).where(User.username == username)).first()
    return (user is not None and user.active and user.organisation.key == organisation
            and role is not None and role in user.roles)


@login_required
def reassign_instance_task(instance_id: int, task_id: str) -> Response | tuple[str, int]:
    """Hand a ready task of the instance to a colleague with its role in its organisation (or back to the queue)."""
    actor, instance = _instance(instance_id)
    if not may_reassign(actor):
        raise NotAllowedError("only coordinators and administrators reassign tasks")
    engine = get_engine()
    row = engine.get_task(db.session, task_id)
    if row.instance_id != instance.id:
        return _refused(instance_id, 404, _("Questa attività non appartiene all'istanza."))
    username = (request.form.get("username") or "").strip() or None
    if not _valid_assignee(username, row.organisation, row.role):
        return _refused(instance_id, 422, _(
            "Puoi assegnare l'attività solo a un collega dell'ente che ha il ruolo richiesto."))
    try:
        engine.reassign(db.session, task_id, username, actor)
    except (ConflictError, TaskNotReadyError):
        return _refused(instance_id, 409, _("Questa attività è già stata svolta: ricarica la pagina."))
    db.session.commit()
    flash(_("%(name)s assegnata a %(user)s.", name=row.name, user=username) if username
          else _("%(name)s rimessa tra le attività del ruolo.", name=row.name), "success")
    return _back(instance_id)
