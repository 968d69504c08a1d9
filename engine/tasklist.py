"""Task-list queries over the ``human_task`` projection, shaped to stay flat as the backlog grows.

Each queue a user sees (assigned to them; unclaimed in one of their roles, for their organisation)
is read in index order and cut at the page size before the queues are merged, so a page
costs about the same with a hundred ready tasks or a hundred thousand.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, select, union_all

from engine.models import HumanTask
from engine.runtime import Actor


def may_work_on(row: HumanTask, actor: Actor) -> bool:
    """Whether the actor may claim, draft or complete the task: assignee, or role and organisation match."""
    if row.assigned_user is not None:
        return row.assigned_user == actor.username
    if row.role is None or row.role not in actor.roles:
        return False
    return row.organisation is not None and row.organisation == actor.organisation


def _queue(condition: ColumnElement[bool], window: int) -> Select[tuple[str]]:
    ordered = (select(HumanTask.id, HumanTask.queue_order, HumanTask.created_at)
               .where(HumanTask.status == "ready", condition)
               .order_by(HumanTask.queue_order, HumanTask.created_at)
               .limit(window)).subquery()
    # Wrapped: SQLite does not allow ORDER BY/LIMIT on the members of a UNION directly.
    return select(ordered.c.id)


def _my_queues(actor: Actor, window: int) -> list[Select[tuple[str]]]:
    queues = [_queue(HumanTask.assigned_user == actor.username, window)]
    if actor.organisation is None:
        return queues
    for role in sorted(actor.roles):
        queues.append(_queue(and_(HumanTask.assigned_user.is_(None), HumanTask.role == role,
                                  HumanTask.organisation == actor.organisation), window))
    return queues


def my_tasks(actor: Actor, *, limit: int = 50, offset: int = 0) -> Select[HumanTask]:
    """Ready tasks assigned to the actor or unclaimed in their roles and organisation, soonest due first."""
    ids = union_all(*_my_queues(actor, limit + offset)).subquery()
    return (select(HumanTask).join(ids, HumanTask.id == ids.c.id)
            .order_by(HumanTask.queue_order, HumanTask.created_at, HumanTask.id)
            .limit(limit).offset(offset))


def role_tasks(role: str, organisation: str, *, limit: int = 50, offset: int = 0) -> Select[HumanTask]:
    """Unclaimed ready tasks of one role in one organisation, soonest due first."""
    return (select(HumanTask)
            .where(HumanTask.status == "ready", HumanTask.assigned_user.is_(None), HumanTask.role == role,
                   HumanTask.organisation == organisation)
            .order_by(HumanTask.queue_order, HumanTask.created_at, HumanTask.id)
            .limit(limit).offset(offset))
