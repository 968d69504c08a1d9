"""Who may follow process instances, how far, and how an instance's history reads.

Shared by the tracking pages (webapp/views/tracking*.py) and the API (webapp/api/tracking.py).
Supervisors follow processes, not people: they see process facts and the household reference, never
the values a step wrote; roles that may read household files see those values (masked ones stay masked).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _
from sqlalchemy.orm import Session

from casefile import access
from engine import Engine, audit, clock
from engine import tracking as engine_tracking
from engine.errors import NotAllowedError
from engine.models import AuditEvent, ProcessInstance
from engine.runtime import Actor

TRACKING_ROLES = frozenset({"coordinatore", "supervisore", "admin"})
# Handing a task to somebody else is a coordinator's call (domain.md §2), or a system administrator's.
REASSIGNING_ROLES = frozenset({"coordinatore", "admin"})
# Roles that follow every organisation's instances; the others see their own organisation's only.
ALL_ORGANISATIONS_ROLES = frozenset({"admin"})
REASON_MAX = 500

STATUS_LABELS = {
    "running": _("In corso"), "waiting": _("In attesa"), "suspended": _("Sospesa"), "error": _("In errore"),
    "completed": _("Conclusa"), "terminated": _("Terminata"),
}
EVENT_LABELS = {
    "instance_started": _("Avvio"), "task_completed": _("Attività svolta"), "task_claimed": _("Presa in carico"),
    "task_unclaimed": _("Rilasciata"), "task_reassigned": _("Riassegnata"), "incident": _("Errore"),
    "retry": _("Nuovo tentativo"), "suspended": _("Sospesa"), "resumed": _("Ripresa"),
    "terminated": _("Terminata"), "reason": _("Motivazione"),
    "instance_migrated": _("Migrata a una nuova versione"), "data_corrected": _("Dati corretti"),
    "message_received": _("Messaggio ricevuto"), "message_sent": _("Messaggio inviato"),
    "timer_fired": _("Scadenza raggiunta"),
}
# Details of an audit event that are facts about the process, shown to every tracking role.
FACT_KEYS = ("process_id", "version_id", "task_spec", "message", "previous", "assigned_to", "action", "reason",
             "from_version", "to_version", "message_name")
FACT_LABELS = {
    "process_id": _("Processo"), "version_id": _("Versione"), "task_spec": _("Passo"), "message": _("Messaggio"),
    "previous": _("Prima"), "assigned_to": _("Assegnata a"), "action": _("Azione"), "reason": _("Motivo"),
    "from_version": _("Dalla versione"), "to_version": _("Alla versione"), "message_name": _("Messaggio"),
}
# Facts that hold a process version's id, which people know by its number within the process.
VERSION_FACTS = frozenset({"version_id", "from_version", "to_version"})


def may_track(roles: Iterable[str]) -> bool:
    """Whether one of the roles follows process instances."""
    return bool(TRACKING_ROLES & set(roles))


def require_tracking(actor: Actor) -> None:
    """Refuse (NotAllowedError, 403) a caller with no tracking role."""
    if not may_track(actor.roles):
        raise NotAllowedError("instance tracking is for coordinators, supervisors and administrators")


def tracked_instance(session: Session, actor: Actor, instance_id: int) -> ProcessInstance:
    """The instance, if the actor follows instances and may see this one (else 403, or 404 as if absent)."""
    require_tracking(actor)
    return engine_tracking.visible_instance(session, instance_id, organisation_scope(actor))


def organisation_scope(actor: Actor) -> str | None:
    """The organisation whose instances the actor follows; None means every organisation."""
    if ALL_ORGANISATIONS_ROLES & actor.roles:
        return None
    if not actor.organisation:
        # Without an organisation there is nothing to narrow to: refuse rather than show everything.
        raise NotAllowedError("instance tracking needs an organisation")
    return actor.organisation


def may_reassign(actor: Actor) -> bool:
    """Whether the actor may hand a task to somebody else."""
    return bool(REASSIGNING_ROLES & actor.roles)


def may_read_households(actor: Actor) -> bool:
    """Whether the actor's roles may read household files at all (the file itself checks the household)."""
    viewer = access.Viewer(actor.username, actor.roles, actor.organisation)
    return bool(access.decide(viewer, "read", "household"))


@dataclass(frozen=True)
class Change:
    """One field a step changed; ``old``/``new`` are None when the reader may not see values."""

    name: str
    old: Any = None
    new: Any = None


@dataclass(frozen=True)
class Step:
    """One line of an instance's history."""

    at: datetime
    actor: str | None
    kind: str
    label: str
    task: str | None
    facts: list[tuple[str, Any]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)


def _changes(event: AuditEvent, show_values: bool) -> list[Change]:
    details = event.details or {}
    if isinstance(details.get("changes"), dict):
        pairs = {name: (value or {}) for name, value in details["changes"].items()}
        return [Change(name, pair.get("old"), pair.get("new")) if show_values else Change(name)
                for name, pair in sorted(pairs.items())]
    if isinstance(details.get("data"), dict):
        return [Change(name, None, value) if show_values else Change(name)
                for name, value in sorted(details["data"].items())]
    return []


def history_steps(events: list[AuditEvent], task_names: dict[str, str], *, show_values: bool) -> list[Step]:
    """The audit trail as readable steps (values of changed fields only when ``show_values``)."""
    steps = []
    for event in events:
        details = event.details or {}
        facts = [(key, details[key]) for key in FACT_KEYS if details.get(key) not in (None, "")]
        task = task_names.get(event.task_id or "") or details.get("task_spec")
        steps.append(Step(at=event.at, actor=event.actor, kind=event.kind,
                          label=str(EVENT_LABELS.get(event.kind, event.kind.replace("_", " "))),
                          task=task, facts=facts, changes=_changes(event, show_values)))
    return steps


def step_as_dict(step: Step) -> dict[str, Any]:
    """A history step for the JSON API."""
    return {"at": step.at, "actor": step.actor, "kind": step.kind, "task": step.task,
            "facts": dict(step.facts),
            "changes": [{"field": change.name, "old": change.old, "new": change.new} for change in step.changes]}


def record_reason(session: Session, engine: Engine, instance_id: int, actor: Actor, action: str, reason: str) -> None:
    """Put the reason somebody gave for an action into the instance's trail, at the engine's time."""
    with clock.use_clock(engine.now):
        audit.record(session, "reason", instance_id=instance_id, actor=actor.username, action=action, reason=reason)
