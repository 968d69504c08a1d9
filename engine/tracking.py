"""Supervisors' view of process instances: filtered lists, counts, overdue work and step history.

Framework-free queries over the engine's tables. Which organisation a caller may see is the caller's
decision (``InstanceFilter.organisation``; None means every organisation): this module only narrows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, true
from sqlalchemy.orm import Session, defer

from engine.errors import InstanceNotFoundError
from engine.models import AuditEvent, HumanTask, Incident, ProcessInstance, ProcessVersion

STATUSES = ("running", "waiting", "suspended", "error", "completed", "terminated")


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


@dataclass(frozen=True)
class InstanceFilter:
    """What narrows the instance list. Text filters match "contains, any case"."""

    organisation: str | None = None
    process_id: str | None = None
    version_id: int | None = None
    status: str | None = None
    business_key: str | None = None
    current_task: str | None = None
    overdue: bool = False
    started_from: datetime | None = None
    started_before: datetime | None = None
    search: str | None = None

    def conditions(self, now: datetime) -> ColumnElement[bool]:
        """The filter as one SQL condition on ``process_instance`` (``now`` decides what is overdue)."""
        return and_(true(), *self._on_instance(), *self._on_tasks(now))

    def _on_instance(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.organisation is not None:
            conditions.append(ProcessInstance.organisation == self.organisation)
        if self.process_id:
            conditions.append(ProcessInstance.process_id == self.process_id)
        if self.version_id is not None:
            conditions.append(ProcessInstance.process_version_id == self.version_id)
        if self.status:
            conditions.append(ProcessInstance.status == self.status)
        if self.business_key:
            conditions.append(_contains(ProcessInstance.business_key, self.business_key))
        if self.started_from is not None:
            conditions.append(ProcessInstance.started_at >= self.started_from)
        if self.started_before is not None:
            conditions.append(ProcessInstance.started_at < self.started_before)
        return conditions

    def _on_tasks(self, now: datetime) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.current_task:
            conditions.append(_has_ready_task(or_(_contains(HumanTask.name, self.current_task),
                                                  HumanTask.task_spec_id == self.current_task.strip())))
        if self.overdue:
            # Tasks without a deadline sort at a far-future queue_order, so they are never overdue.
            conditions.append(_has_ready_task(HumanTask.queue_order < now))
        if self.search:
            conditions.append(_search(self.search))
        return conditions


def _has_ready_task(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(HumanTask.instance_id == ProcessInstance.id, HumanTask.status == "ready", condition)


def _search(text: str) -> ColumnElement[bool]:
    """An instance number, or words found in its business key, process id or a ready task's name."""
    options = [_contains(ProcessInstance.business_key, text), _contains(ProcessInstance.process_id, text),
               _has_ready_task(_contains(HumanTask.name, text))]
    number = text.strip().lstrip("#")
    if number.isdigit() and int(number) < 2**31:
        options.append(ProcessInstance.id == int(number))
    return or_(*options)


def instances(filters: InstanceFilter, now: datetime, *, limit: int | None = None,
              offset: int = 0) -> Select[ProcessInstance]:
    """The matching instances, newest first, without their (large) workflow state."""
    query = (select(ProcessInstance).options(defer(ProcessInstance.state))
             .where(filters.conditions(now)).order_by(ProcessInstance.id.desc()).offset(offset))
    return query.limit(limit) if limit is not None else query


def count_instances(session: Session, filters: InstanceFilter, now: datetime) -> int:
    """How many instances match."""
    return session.scalar(select(func.count()).select_from(ProcessInstance).where(filters.conditions(now))) or 0


def count_by_status(session: Session, filters: InstanceFilter, now: datetime) -> dict[str, int]:
    """Matching instances per status (every status present, zero when none)."""
    rows = session.execute(select(ProcessInstance.status, func.count()).where(filters.conditions(now))
                           .group_by(ProcessInstance.status)).all()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: number for status, number in rows})
    return counts


def ready_tasks_of(session: Session, instance_ids: list[int]) -> dict[int, list[HumanTask]]:
    """The ready tasks of each listed instance, soonest due first (one query for a whole page)."""
    tasks: dict[int, list[HumanTask]] = {instance_id: [] for instance_id in instance_ids}
    if not instance_ids:
        return tasks
    for row in session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(instance_ids),
                                                       HumanTask.status == "ready")
                               .order_by(HumanTask.queue_order, HumanTask.created_at, HumanTask.id)):
        tasks[row.instance_id].append(row)
    return tasks


def is_overdue(task: HumanTask, now: datetime) -> bool:
    """Whether a ready task is past its deadline."""
    return task.status == "ready" and task.due_at is not None and task.due_at < now


def visible_instance(session: Session, instance_id: int, organisation: str | None) -> ProcessInstance:
    """The instance, or InstanceNotFoundError when it is missing or outside ``organisation`` (None: any)."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None or (organisation is not None and instance.organisation != organisation):
        raise InstanceNotFoundError(f"no instance {instance_id}", instance_id=instance_id)
    return instance


def history(session: Session, instance_id: int) -> list[AuditEvent]:
    """Every recorded step of an instance, oldest first."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                                .order_by(AuditEvent.at, AuditEvent.id)))


def incidents(session: Session, instance_id: int) -> list[Incident]:
    """An instance's incidents, open ones first, then the newest."""
    return sorted(session.scalars(select(Incident).where(Incident.instance_id == instance_id)),
                  key=lambda incident: (incident.status != "open", -incident.id))


def task_names(session: Session, task_ids: set[str]) -> dict[str, str]:
    """Names of the human tasks an instance's history mentions."""
    if not task_ids:
        return {}
    return dict(session.execute(select(HumanTask.id, HumanTask.name).where(HumanTask.id.in_(task_ids))).all())


def versions(session: Session) -> list[tuple[int, str, int, datetime]]:
    """Every deployed version: (id, process id, number, deployed at), newest first within a process."""
    rows = session.execute(select(ProcessVersion.id, ProcessVersion.process_id, ProcessVersion.number,
                                  ProcessVersion.deployed_at)
                           .order_by(ProcessVersion.process_id, ProcessVersion.id.desc())).all()
    return [(row.id, row.process_id, row.number, row.deployed_at) for row in rows]
