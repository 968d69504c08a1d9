"""What a tracking role may do to an instance: retry after an incident, suspend, resume, terminate,
and (coordinators, administrators) hand a task to a colleague. Roles that may read household data
may also correct the failed step's data before retrying ('Correggi i dati e riprova').

Every action is a POST with the CSRF token, is audited by the engine (with the reason given, when one
is asked for), commits on success and answers 409 with a readable page when the instance moved on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from casefile.models import User
from engine import ConflictError, NotAllowedError, TaskNotReadyError, repair, tracking
from engine.forms import sensitive_fields
from engine.models import ProcessInstance
from engine.runtime import Actor
from webapp.accounts.auth import current_actor
from webapp.extensions import db
from webapp.tracking import (
    REASON_MAX,
    may_read_households,
    may_reassign,
    record_reason,
    tracked_instance,
)
from webapp.views.taskpage import get_engine

ID = "<int(max=2147483647):instance_id>"


def register(bp: Blueprint) -> None:
    """Add the action routes to the tracking blueprint."""
    bp.add_url_rule(f"/instances/{ID}/retry", view_func=retry_instance, methods=["POST"])
    bp.add_url_rule(f"/instances/{ID}/repair", view_func=repair_instance, methods=["GET", "POST"])
    bp.add_url_rule(f"/instances/{ID}/suspend", view_func=suspend_instance, methods=["POST"])
    bp.add_url_rule(f"/instances/{ID}/resume", view_func=resume_instance, methods=["POST"])
    bp.add_url_rule(f"/instances/{ID}/terminate", view_func=terminate_instance, methods=["POST"])
    bp.add_url_rule(f"/instances/{ID}/tasks/<task_id>/reassign", view_func=reassign_instance_task,
                    methods=["POST"])


def _instance(instance_id: int) -> tuple[Actor, ProcessInstance]:
    actor = current_actor()
    return actor, tracked_instance(db.session, actor, instance_id)


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


@dataclass
class RepairField:
    """One top-level variable of the failed step as the repair form shows it.

    Strings are edited as plain text, every other value (number, true/false, null, object, list) as JSON.
    """

    name: str
    value: Any
    typed: str | None = None
    error: str | None = None

    @property
    def as_json(self) -> bool:
        return not isinstance(self.value, str)

    @property
    def text(self) -> str:
        """The value as first shown in the form."""
        if isinstance(self.value, str):
            return self.value
        return json.dumps(self.value, ensure_ascii=False, indent=2 if isinstance(self.value, dict | list) else None)

    @property
    def shown(self) -> str:
        return self.text if self.typed is None else self.typed

    @property
    def multiline(self) -> bool:
        return isinstance(self.value, dict | list) or "\n" in self.shown


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _read_typed(field: RepairField, typed: str | None) -> tuple[bool, Any]:
    """Whether the field changed and its new value; sets ``field.error`` when the text is not valid JSON."""
    if typed is None:
        return False, None
    field.typed = typed.replace("\r\n", "\n")
    if field.typed == field.text:
        return False, None
    if not field.as_json:
        return True, field.typed
    try:
        value = json.loads(field.typed, parse_constant=_refuse_constant)
    except ValueError:
        field.error = _('Non è un valore JSON valido: scrivi ad esempio 12, true, null, "testo", [1, 2] '
                        'oppure {"chiave": "valore"}.')
        return False, None
    return value != field.value, value


def _repair_page(instance: ProcessInstance, fields: list[RepairField], errors: dict[str, str],
                 status: int = 200) -> tuple[str, int]:
    incidents = [row for row in tracking.incidents(db.session, instance.id) if row.status == "open"]
    return render_template("tracking/repair.html", instance=instance, fields=fields, incidents=incidents,
                           errors=errors, reason=request.form.get("reason", ""),
                           confirmed=request.form.get("confirm") == "yes", reason_max=REASON_MAX), status


def _read_repair_form(fields: list[RepairField]) -> tuple[dict[str, Any], dict[str, str], str | None]:
    """The changed values (only those), the form-level errors and the confirmed reason."""
    corrections: dict[str, Any] = {}
    for field in fields:
        changed, value = _read_typed(field, request.form.get(f"var:{field.name}"))
        if changed:
            corrections[field.name] = value
    errors: dict[str, str] = {}
    reason = _reason()
    if reason is None:
        errors["reason"] = _("Scrivi il motivo (al massimo %(max)s caratteri) e conferma l'operazione.",
                             max=REASON_MAX)
    if not corrections and not any(field.error for field in fields):
        errors["values"] = _("Non hai cambiato nessun valore: per eseguire di nuovo il passo così com'è usa «Riprova».")
    return corrections, errors, reason


@login_required
def repair_instance(instance_id: int) -> Response | tuple[str, int]:
    """'Correggi i dati e riprova': change the values a failed step was given, then run it again.

    Only for roles that may read household data; fields the forms mark sensitive are not shown.
    """
    actor, instance = _instance(instance_id)
    if not may_read_households(actor):
        raise NotAllowedError("correcting an instance's data is for roles that may read household data")
    if instance.status != "error":
        return _refused(instance_id, 409, _("L'istanza non è in errore: non ci sono dati da correggere."))
    engine = get_engine()
    hidden = sensitive_fields(instance.process_version.forms)
    data = repair.failed_data(engine.load(instance))
    fields = [RepairField(name, value) for name, value in sorted(data.items()) if name not in hidden]
    if request.method == "GET":
        return _repair_page(instance, fields, {})
    corrections, errors, reason = _read_repair_form(fields)
    if errors or any(field.error for field in fields):
        return _repair_page(instance, fields, errors, 422)
    try:
        engine.retry(db.session, instance.id, actor, corrections=corrections)
    except (ConflictError, TaskNotReadyError):
        return _refused(instance_id, 409, _(
            "L'istanza è cambiata nel frattempo (o è già in questo stato): ricarica la pagina e riprova."))
    record_reason(db.session, engine, instance.id, actor, "data_corrected", reason or "")
    db.session.commit()
    if instance.status == "error":
        flash(_("Dati corretti, ma il passo non è riuscito di nuovo: leggi il nuovo errore qui sotto."), "error")
    else:
        flash(_("Dati corretti e passo eseguito di nuovo: lo stato dell'istanza è aggiornato qui sotto."),
              "success")
    return _back(instance_id)


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
