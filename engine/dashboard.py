"""Supervisors' dashboard figures: where running instances wait, how long tasks take, what is overdue.

Framework-free queries over the engine's tables. As in engine.tracking, the caller decides which
organisation may be seen (``organisation``; None means every organisation): this module only narrows.
Medians and percentiles are computed in Python so that SQLite and PostgreSQL give the same answer.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from lxml import etree
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from engine.models import HumanTask, MessageSubscription, ProcessInstance, ProcessVersion, Timer
from engine.specs import safe_xml_parser

# Instances that have not ended: completed and terminated ones wait nowhere.
ACTIVE_STATUSES = ("running", "waiting", "suspended", "error")


@dataclass(frozen=True)
class WaitingAt:
    """How many active instances of a process wait at one element (a task, a timer or a message)."""

    process_id: str
    element_id: str
    name: str
    kind: str  # task, timer, message
    instances: int


@dataclass(frozen=True)
class TaskDuration:
    """Time from a task's creation to its completion, over the tasks of one element completed in a window."""

    process_id: str
    task_spec_id: str
    name: str
    completed: int
    median_seconds: float
    p90_seconds: float


@dataclass(frozen=True)
class OverdueCount:
    """Ready tasks past their deadline for one role (and one organisation when asked for)."""

    role: str | None
    organisation: str | None
    tasks: int


def _scoped(query: Select, organisation: str | None) -> Select:  # type: ignore[type-arg]
    query = query.where(ProcessInstance.status.in_(ACTIVE_STATUSES))
    return query if organisation is None else query.where(ProcessInstance.organisation == organisation)


def waiting_by_element(session: Session, organisation: str | None) -> list[WaitingAt]:
    """Per process and element, how many active instances wait there; busiest first within a process."""
    instances = func.count(ProcessInstance.id.distinct())
    tasks = _scoped(select(ProcessInstance.process_id, HumanTask.task_spec_id, func.min(HumanTask.name), instances)
                    .join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
                    .where(HumanTask.status == "ready")
                    .group_by(ProcessInstance.process_id, HumanTask.task_spec_id), organisation)
    timers = _scoped(select(ProcessInstance.process_id, Timer.task_spec_id, instances)
                     .join(Timer, Timer.instance_id == ProcessInstance.id)
                     .group_by(ProcessInstance.process_id, Timer.task_spec_id), organisation)
    # A subscription older than migration 0007 records only its message: the message stands for the element.
    element = func.coalesce(MessageSubscription.task_spec_id, MessageSubscription.message_name)
    messages = _scoped(select(ProcessInstance.process_id, element, instances)
                       .join(MessageSubscription, MessageSubscription.instance_id == ProcessInstance.id)
                       .group_by(ProcessInstance.process_id, element), organisation)
    rows = [WaitingAt(process, spec, name, "task", count) for process, spec, name, count in session.execute(tasks)]
    waits = [(process, spec, "timer", count) for process, spec, count in session.execute(timers)]
    waits += [(process, spec, "message", count) for process, spec, count in session.execute(messages)]
    names = _element_names(session, {process for process, *_rest in waits})
    rows += [WaitingAt(process, spec, names.get((process, spec), spec), kind, count)
             for process, spec, kind, count in waits]
    return sorted(rows, key=lambda row: (row.process_id, -row.instances, row.element_id))


def _element_names(session: Session, process_ids: set[str]) -> dict[tuple[str, str], str]:
    """(process, element id) -> the element's name in the process's latest version, where it has one."""
    names: dict[tuple[str, str], str] = {}
    if not process_ids:
        return names
    latest = (select(func.max(ProcessVersion.id)).where(ProcessVersion.process_id.in_(process_ids))
              .group_by(ProcessVersion.process_id))
    for process_id, content_hash, bpmn_xml in session.execute(
            select(ProcessVersion.process_id, ProcessVersion.content_hash, ProcessVersion.bpmn_xml)
            .where(ProcessVersion.id.in_(latest))):
        for element_id, name in _named_elements(content_hash, bpmn_xml):
            names[(process_id, element_id)] = name
    return names


@lru_cache(maxsize=16)
def _named_elements(content_hash: str, bpmn_xml: str) -> tuple[tuple[str, str], ...]:
    """Every (id, name) of a deployed diagram; a version never changes, so its hash keys the cache."""
    root = etree.fromstring(bpmn_xml.encode("utf-8"), safe_xml_parser())
    return tuple((element.get("id"), " ".join(element.get("name").split()))
                 for element in root.iter() if element.get("id") and element.get("name"))


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of a non-empty list (p90 of 10 values is the 9th smallest)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def task_durations(session: Session, organisation: str | None, completed_from: datetime | None = None,
                   completed_before: datetime | None = None) -> list[TaskDuration]:
    """Median and 90th percentile of created → completed per task element, for tasks completed in the window."""
    query = (select(HumanTask.process_id, HumanTask.task_spec_id, HumanTask.name, HumanTask.created_at,
                    HumanTask.completed_at)
             .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
             .where(HumanTask.status == "completed", HumanTask.completed_at.is_not(None)))
    if organisation is not None:
        query = query.where(ProcessInstance.organisation == organisation)
    if completed_from is not None:
        query = query.where(HumanTask.completed_at >= completed_from)
    if completed_before is not None:
        query = query.where(HumanTask.completed_at < completed_before)
    spent: dict[tuple[str, str], list[float]] = {}
    names: dict[tuple[str, str], str] = {}
    for process_id, spec_id, name, created_at, completed_at in session.execute(query):
        if completed_at is None:  # excluded by the query; narrows the type
            continue
        key = (process_id, spec_id)
        spent.setdefault(key, []).append((completed_at - created_at).total_seconds())
        names.setdefault(key, name)
    return [TaskDuration(key[0], key[1], names[key], len(values), float(statistics.median(values)),
                         percentile(values, 0.9))
            for key, values in sorted(spent.items())]


def overdue_by_role(session: Session, organisation: str | None, now: datetime, *,
                    per_organisation: bool = False) -> list[OverdueCount]:
    """Ready tasks of active instances past their deadline, per role (and per instance organisation)."""
    columns = [HumanTask.role, ProcessInstance.organisation] if per_organisation else [HumanTask.role]
    query = _scoped(select(*columns, func.count(HumanTask.id))
                    .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                    .where(HumanTask.status == "ready", HumanTask.due_at.is_not(None), HumanTask.due_at < now)
                    .group_by(*columns), organisation)
    rows = []
    for row in session.execute(query):
        rows.append(OverdueCount(row[0], row[1], row[2]) if per_organisation else OverdueCount(row[0], None, row[1]))
    return sorted(rows, key=lambda row: (-row.tasks, row.organisation or "", row.role or ""))
