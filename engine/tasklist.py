"""Task-list queries over the ``human_task`` projection, shaped to stay flat as the backlog grows.

Each queue a user sees (assigned to them; unclaimed in one of their roles, for their organisation)
is read in index order and cut at the page size before the queues are merged, so a page
costs about the same with a hundred ready tasks or a hundred thousand. Filters narrow each queue
inside that index walk; deadlines filter on ``queue_order``, the indexed column the queues are
sorted by, so "overdue" and "due before" stay range scans.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, select, true, union_all
from sqlalchemy.orm import Session

from engine.models import HumanTask
from engine.runtime import Actor

# Counts stop here: a number past it says "a lot" just as well, and counting stays flat in the backlog.
COUNT_CAP = 999


@dataclass(frozen=True)
class TaskFilter:
    """What narrows a task list: a process, a business key (contains, any case), a deadline bound."""

    process_id: str | None = None
    business_key: str | None = None
    due_before: datetime | None = None

    def condition(self) -> ColumnElement[bool]:
        """The filter as a SQL condition on ``human_task``."""
        conditions: list[ColumnElement[bool]] = []
        if self.process_id:
            conditions.append(HumanTask.process_id == self.process_id)
        if self.business_key:
            pattern = "%" + _escape_like(self.business_key.strip().lower()) + "%"
            conditions.append(func.lower(HumanTask.business_key).like(pattern, escape="\\"))
        if self.due_before is not None:
            # Tasks without a deadline sort at a far-future queue_order, so they never match.
            conditions.append(HumanTask.queue_order < self.due_before)
        return and_(true(), *conditions)


NO_FILTER = TaskFilter()


@dataclass(frozen=True)
class TaskCounts:
    """How much is on a user's plate; each figure stops at ``COUNT_CAP``."""

    mine: int
    my_roles: int
    overdue: int
    due_today: int


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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


def _mine(actor: Actor) -> ColumnElement[bool]:
    return HumanTask.assigned_user == actor.username


def _role_queues(actor: Actor) -> list[ColumnElement[bool]]:
    if actor.organisation is None:
        return []
    return [and_(HumanTask.assigned_user.is_(None), HumanTask.role == role,
                 HumanTask.organisation == actor.organisation) for role in sorted(actor.roles)]


def my_tasks(actor: Actor, *, limit: int = 50, offset: int = 0,
             filters: TaskFilter = NO_FILTER) -> Select[HumanTask]:
    """Ready tasks assigned to the actor or unclaimed in their roles and organisation, soonest due first."""
    narrowing = filters.condition()
    queues = [_queue(and_(queue, narrowing), limit + offset) for queue in [_mine(actor), *_role_queues(actor)]]
    ids = union_all(*queues).subquery()
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


def organisation_tasks(organisation: str, *, limit: int = 50, offset: int = 0,
                       filters: TaskFilter = NO_FILTER) -> Select[HumanTask]:
    """Every ready task of an organisation, claimed or not, soonest due first (a coordinator's overview)."""
    return (select(HumanTask)
            .where(HumanTask.status == "ready", HumanTask.organisation == organisation, filters.condition())
            .order_by(HumanTask.queue_order, HumanTask.created_at, HumanTask.id)
            .limit(limit).offset(offset))


def _capped_count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    # COUNT over a LIMITed sub-select: an index range walk that stops after COUNT_CAP entries.
    rows = select(literal_column("1")).where(HumanTask.status == "ready", condition).limit(COUNT_CAP).subquery()
    return select(func.count()).select_from(rows).scalar_subquery()


def count_my_tasks(session: Session, actor: Actor, *, now: datetime, end_of_today: datetime) -> TaskCounts:
    """Mine, unclaimed in my roles, overdue and due today among both, in one round trip."""
    overdue = HumanTask.queue_order < now
    today = and_(HumanTask.queue_order >= now, HumanTask.queue_order < end_of_today)
    queues = [_mine(actor), *_role_queues(actor)]
    columns = [_capped_count(queue) for queue in queues]
    columns += [_capped_count(and_(queue, overdue)) for queue in queues]
    columns += [_capped_count(and_(queue, today)) for queue in queues]
    values = list(session.execute(select(*columns)).one())
    size = len(queues)
    mine, roles = values[0], values[1:size]
    overdue_count, today_count = values[size:2 * size], values[2 * size:]
    return TaskCounts(mine=min(mine, COUNT_CAP), my_roles=min(sum(roles), COUNT_CAP),
                      overdue=min(sum(overdue_count), COUNT_CAP), due_today=min(sum(today_count), COUNT_CAP))
