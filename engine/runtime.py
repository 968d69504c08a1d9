"""Stepping workflows and projecting what they wait for (human tasks, timers, messages) into rows."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from engine import clock
from engine.models import HumanTask, MessageSubscription, ProcessInstance, Timer

# Tasks without a deadline sort after every real one; a constant keeps the queue order indexable.
NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)

ACTIVE = ("running", "waiting")


@dataclass(frozen=True)
class Actor:
    """Who acts: a user with roles in one organisation, or the system (timers, messages)."""

    username: str
    roles: frozenset[str] = frozenset()
    organisation: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """The engine itself, for steps nobody clicked."""
        return cls(username=name)


@dataclass
class StepFailure:
    """What went wrong while stepping: becomes an incident on the instance."""

    message: str
    stack: str
    task_id: str | None = None
    task_spec_id: str | None = None


@dataclass
class StepOutcome:
    """The result of running engine steps: thrown messages and, maybe, a failure."""

    events: list[BpmnEvent] = field(default_factory=list)
    failure: StepFailure | None = None


def run_engine_steps(workflow: BpmnWorkflow, now: clock.Clock | None) -> StepOutcome:
    """Run automatic steps until the workflow waits; a failing step is caught, not raised."""
    outcome = StepOutcome()
    try:
        with clock.use_clock(now):
            workflow.refresh_timers()
            workflow.do_engine_steps()
    except Exception as exc:
        outcome.failure = _failure_from(exc)
    outcome.events = [e for e in workflow.get_events() if isinstance(e.event_definition, MessageEventDefinition)]
    return outcome


def run_task(task: Any, now: clock.Clock | None) -> StepFailure | None:
    """Run one task (a completed user task, with its post-script); a failure is returned, not raised."""
    try:
        with clock.use_clock(now):
            task.run()
    except Exception as exc:
        return _failure_from(exc)
    return None


def _failure_from(exc: BaseException) -> StepFailure:
    task = getattr(exc, "task", None)
    message = str(exc)
    notes = getattr(exc, "__notes__", None)
    if notes:
        message = f"{message} ({'; '.join(notes)})"
    return StepFailure(
        message=message or exc.__class__.__name__,
        stack="".join(traceback.format_exception(exc)),
        task_id=str(task.id) if task is not None else None,
        task_spec_id=task.task_spec.bpmn_id if task is not None else None,
    )


def reset_errored_tasks(workflow: BpmnWorkflow, now: clock.Clock | None) -> StepFailure | None:
    """Make the tasks a failed step left in ERROR ready again, their pre-scripts included.

    A pre-script runs again before the task is ready (setting it straight to READY would skip a
    pre-script that failed); the task keeps its data, so a correction made to it holds.
    """
    for task in workflow.get_tasks(state=TaskState.ERROR):
        task._set_state(TaskState.WAITING)
        prescript = getattr(task.task_spec, "prescript", None)
        try:
            with clock.use_clock(now):
                if prescript:
                    task.task_spec.execute_script(task, prescript)
                task._ready()
        except Exception as exc:  # the cause is not fixed yet: a new incident
            return _failure_from(exc)
    return None


def status_of(workflow: BpmnWorkflow, failed: bool) -> str:
    """Instance status derived from the workflow: completed / error / running / waiting."""
    if failed:
        return "error"
    if workflow.completed:
        return "completed"
    if workflow.get_tasks(state=TaskState.READY, manual=True):
        return "running"
    return "waiting"


# --- human tasks -------------------------------------------------------------------------------


def _properties(task_spec: Any) -> dict[str, str]:
    extensions = getattr(task_spec, "extensions", None) or {}
    return dict(extensions.get("properties") or {})


def _due_at(props: dict[str, str], created: datetime) -> datetime | None:
    due_in = props.get("dueIn")
    if not due_in:
        return None
    try:
        parsed = TimerEventDefinition.parse_iso_duration(due_in.strip("\"'"))
        delta: timedelta = TimerEventDefinition.get_timedelta_from_start(parsed, created)
    except Exception:
        return None
    return created + delta


def project_human_tasks(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow,
                        lane_role: Callable[[str | None], str | None]) -> None:
    """Make the ready rows of ``human_task`` equal the workflow's ready manual tasks."""
    ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    existing = session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id,
                                or_(HumanTask.status == "ready", HumanTask.id.in_(list(ready))))
    ).all()
    for row in existing:
        if row.id not in ready:
            row.status = "cancelled"
            row.completed_at = clock.now()
        elif row.status != "ready":
            # The same task is offered again (its post-script failed and the step was retried).
            row.status, row.completed_at, row.completed_by = "ready", None, None
    known = {row.id for row in existing}
    for task_id, task in ready.items():
        if task_id not in known:
            session.add(_human_task_row(instance, task, lane_role))


def business_key_of(workflow: BpmnWorkflow) -> str | None:
    """The ``business_key`` a process wrote into its data (e.g. the household's reference), if any.

    Instances started before their subject exists (an intake before the household is registered)
    name themselves this way once a step has learnt the key.
    """
    candidates = [workflow.data, *(task.data for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING
                                                                             | TaskState.COMPLETED))]
    for data in candidates:
        key = data.get("business_key")
        if isinstance(key, str) and key.strip():
            return key.strip()[:200]
    return None


def task_organisation(data: dict[str, Any], role: str | None, default: str | None) -> str | None:
    """Which organisation's staff get a task: ``task_organisations[role]`` in the instance data
    (the partner that holds that role for this case), else the instance's own organisation."""
    chosen = data.get("task_organisations")
    if isinstance(chosen, dict) and role in chosen:
        return str(chosen[role])
    return default


def _human_task_row(instance: ProcessInstance, task: Any, lane_role: Callable[[str | None], str | None]) -> HumanTask:
    spec = task.task_spec
    props = _properties(spec)
    created = clock.now()
    extensions = getattr(spec, "extensions", None) or {}
    role = lane_role(spec.lane)
    due_at = _due_at(props, created)
    return HumanTask(
        id=str(task.id), instance_id=instance.id, process_id=instance.process_id,
        process_name=instance.process_version.name, business_key=instance.business_key,
        task_spec_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id, lane=spec.lane,
        role=role, organisation=task_organisation(task.data, role, instance.organisation),
        form_key=props.get("formJsonSchemaFilename"), ui_form_key=props.get("formUiSchemaFilename"),
        instructions=extensions.get("instructionsForEndUser"), status="ready",
        created_at=created, due_at=due_at, queue_order=due_at or NO_DUE_DATE,
    )


# --- timers and message subscriptions ----------------------------------------------------------


def _timer_due(task: Any) -> datetime | None:
    value = task._get_internal_data("event_value")
    if isinstance(value, dict):  # cycle timers keep {"cycles", "next", "duration"}
        value = value.get("next") if value.get("cycles") else None
    if not isinstance(value, str):
        return None
    try:
        due: datetime = TimerEventDefinition.get_datetime(value)
    except ValueError:
        return None
    return due


def _waiting_event_tasks(workflow: BpmnWorkflow) -> Iterable[Any]:
    return [t for t in workflow.event_manager.tasks.values() if t.has_state(TaskState.WAITING)]


def caught_definitions(task: Any) -> list[Any]:
    """The event definitions a waiting task listens for; an event-based gateway listens for several."""
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition] if definition is not None else []


def project_waits(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow,
                  expected_correlations: Callable[[Any, MessageEventDefinition], dict[str, Any]]) -> None:
    """Rewrite the instance's timer and message-subscription rows from its waiting events."""
    session.execute(delete(Timer).where(Timer.instance_id == instance.id))
    session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance.id))
    if instance.status not in ACTIVE:
        return
    for task in _waiting_event_tasks(workflow):
        timers = [d for d in caught_definitions(task) if isinstance(d, TimerEventDefinition)]
        due = _timer_due(task) if timers else None
        if due is not None:
            session.add(Timer(instance_id=instance.id, task_id=str(task.id),
                              task_spec_id=task.task_spec.bpmn_id, due_at=due))
        for definition in caught_definitions(task):
            if isinstance(definition, MessageEventDefinition):
                session.add(MessageSubscription(
                    instance_id=instance.id, task_id=str(task.id), task_spec_id=task.task_spec.bpmn_id,
                    message_name=definition.name,
                    correlations=expected_correlations(task, definition),
                ))


def flatten_correlations(correlations: dict[str, Any]) -> dict[str, Any]:
    """SpiffWorkflow keys correlations as {key: {property: value}}; routing needs {property: value}."""
    flat: dict[str, Any] = {}
    for value in correlations.values():
        if isinstance(value, dict):
            flat.update(value)
    return flat


# Stands for a correlation value a waiting instance cannot compute (its variable is not set yet).
UNKNOWN = {"$unknown": True}


def correlations_match(expected: dict[str, Any], sent: dict[str, Any]) -> bool:
    """A subscription matches when every value it expects was sent, equal.

    A value it cannot know matches only a message that does not correlate on that property:
    otherwise one household's message could reach a case that merely lacks the variable.
    """
    for name, value in expected.items():
        if value == UNKNOWN:
            if name in sent:
                return False
        elif name not in sent or sent[name] != value:
            return False
    return True
