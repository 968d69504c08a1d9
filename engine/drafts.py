"""Form data saved without completing the task, so that nothing typed is lost."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import NotAllowedError, TaskNotReadyError
from engine.models import HumanTask, TaskDraft
from engine.runtime import Actor
from engine.tasklist import may_work_on


def save_draft(session: Session, row: HumanTask, data: Mapping[str, Any], actor: Actor, now: datetime) -> TaskDraft:
    """Keep ``data`` as the task's draft (unvalidated: a draft may be incomplete or wrong)."""
    if row.status != "ready":
        raise TaskNotReadyError(f"task {row.id} is {row.status}", task_id=row.id, status=row.status)
    if not may_work_on(row, actor):
        raise NotAllowedError(f"{actor.username} may not work on task {row.id}", task_id=row.id)
    draft = session.get(TaskDraft, row.id)
    if draft is None:
        draft = TaskDraft(task_id=row.id)
        session.add(draft)
    draft.username, draft.data, draft.saved_at = actor.username, audit.json_safe(dict(data)), now
    session.flush()
    return draft


def draft_of(session: Session, row: HumanTask, actor: Actor) -> dict[str, Any] | None:
    """The task's saved draft, for those who may work on it."""
    if not may_work_on(row, actor):
        return None
    draft = session.get(TaskDraft, row.id)
    return dict(draft.data) if draft is not None else None


def discard_draft(session: Session, task_id: str) -> None:
    session.execute(delete(TaskDraft).where(TaskDraft.task_id == task_id))
