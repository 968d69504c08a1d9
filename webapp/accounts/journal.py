"""Account changes in the append-only audit trail, where the admin journal page reads them.

They share the engine's ``audit_event`` table (the database refuses UPDATE and DELETE on it) with no
instance id and a kind starting ``account.``; the case file stays free of engine imports this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import current_app
from sqlalchemy import select

from engine.audit import json_safe
from engine.models import AuditEvent
from webapp.extensions import db

KIND_PREFIX = "account."


def record_account_event(event: str, actor: str | None, /, **details: Any) -> None:
    """Append ``account.<event>`` to the audit trail, stamped with the app's clock; the caller commits."""
    now = current_app.extensions["engine"].clock_now()
    db.session.add(AuditEvent(instance_id=None, kind=KIND_PREFIX + event, actor=actor, at=now,
                              details=json_safe(details)))


def account_events(limit: int = 100, offset: int = 0) -> Sequence[AuditEvent]:
    """The latest account events, newest first."""
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.instance_id.is_(None), AuditEvent.kind.startswith(KIND_PREFIX))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit).offset(offset)).all()
