"""Append-only audit trail of instance events."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from engine import clock
from engine.models import AuditEvent


def record(session: Session, kind: str, *, instance_id: int | None, actor: str | None,
           task_id: str | None = None, **details: Any) -> None:
    """Append one audit event; rows are never updated or deleted by the application."""
    session.add(AuditEvent(instance_id=instance_id, kind=kind, actor=actor, task_id=task_id,
                           at=clock.now(), details=details))


def json_safe(value: Any) -> Any:
    """Task data as plain JSON (dates and decimals become strings) for audit and message rows."""
    return json.loads(json.dumps(value, default=str))


def data_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What a completion changed in the task data: {field: {"old": ..., "new": ...}}."""
    changes: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            changes[key] = {"old": old, "new": new}
    return changes
