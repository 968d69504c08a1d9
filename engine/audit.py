"""Append-only audit trail of instance events."""

from __future__ import annotations

import json
from collections.abc import Collection
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


MASK = "***"


def data_diff(before: dict[str, Any], after: dict[str, Any], masked: Collection[str] = ()) -> dict[str, Any]:
    """What a completion changed in the task data: {field: {"old": ..., "new": ...}}.

    Values of ``masked`` fields (special-category data) are replaced by a mask: the trail says that
    they changed, never what they were.
    """
    changes: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            if key in masked:
                old, new = (None if old is None else MASK), (None if new is None else MASK)
            changes[key] = {"old": old, "new": new}
    return changes


def masked_data(data: dict[str, Any], masked: Collection[str]) -> dict[str, Any]:
    """``data`` with the values of ``masked`` fields hidden."""
    return {key: (MASK if key in masked and value is not None else value) for key, value in data.items()}
