"""Moving running instances onto a newer version of their process, where that is safe.

An instance's stored state holds no spec, only task-spec names; the instance row names its version.
Migrating re-reads that state against the newer version's spec. It is safe when every task the
state keeps (what happened, and what waits now) names a spec that exists in the new version with a
compatible type. The tasks SpiffWorkflow merely predicted below the waiting ones are dropped and
predicted again from the new spec, so a step added, renamed or removed further on is followed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import ConflictError, ProcessNotFoundError
from engine.models import HumanTask, ProcessInstance, ProcessVersion
from engine.runtime import Actor, _human_task_row
from engine.store import get_instance, latest_version

if TYPE_CHECKING:
    from engine.engine import Engine

MIGRATABLE_STATUSES = ("running", "waiting", "suspended")
# Tasks that only say where the instance may go next: they are rebuilt from the new spec.
_PREDICTED = TaskState.FUTURE | TaskState.PREDICTED_MASK
_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
# Fields of a ready task's row that come from its spec (a new version may rename it, change its form).
_SPEC_FIELDS = ("name", "lane", "role", "form_key", "ui_form_key", "instructions", "process_name")


@dataclass(frozen=True)
class Reason:
    """Why an instance cannot migrate: ``message`` in English, ``code`` and ``params`` for a translation."""

    code: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)
    message: str = ""

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, shaped as a problem is: ``message`` in English, ``code`` and ``params``."""
        return {"code": self.code, "params": dict(self.params), "message": self.message}


def conflict_reason(error: ConflictError) -> Reason:
    """The reason given when somebody else changed the instance during its migration."""
    return Reason(code="instance_conflict", params={"detail": error.message}, message=error.message)


@dataclass
class MigrationReport:
    """Whether one instance can move (or moved) to a version, and if not, why (``details``)."""

    instance_id: int
    process_id: str
    from_version: int
    to_version: int
    details: list[Reason] = field(default_factory=list)
    migrated: bool = False

    @property
    def reasons(self) -> list[str]:
        """Why not, in English: the command line and logs print these."""
        return [reason.message for reason in self.details]

    @property
    def migratable(self) -> bool:
        return not self.details

    def as_dict(self) -> dict[str, Any]:
        return {"instance_id": self.instance_id, "process_id": self.process_id,
                "from_version": self.from_version, "to_version": self.to_version,
                "migratable": self.migratable, "migrated": self.migrated, "reasons": self.reasons,
                "details": [reason.as_dict() for reason in self.details]}


def _kind(spec: Any) -> str:
    """The type of a task spec as a modeller knows it (UserTask, IntermediateCatchEvent …)."""
    return type(spec).__name__


def _definition_signature(definition: Any) -> tuple[Any, ...]:
    # An event-based gateway (or a multiple event) listens for several definitions: compare them all.
    nested = tuple(_definition_signature(d) for d in getattr(definition, "event_definitions", None) or ())
    return type(definition).__name__, getattr(definition, "name", None), nested


def _event_signature(spec: Any) -> tuple[Any, ...] | None:
    """What a waiting task listens for: the kinds and names (message names) of its event definitions."""
    definition = getattr(spec, "event_definition", None)
    return None if definition is None else _definition_signature(definition)


def _predicted_ids(tasks: dict[str, dict[str, Any]], new_spec: Any) -> set[str]:
    """Ids of predicted tasks (below unfinished ones) that the new spec would not predict there.

    Predicted tasks that still fit are kept with their ids: an event-based gateway's catching
    events, for one, are predicted tasks that the gateway listens for.
    """
    def fits(task: dict[str, Any], parent: dict[str, Any]) -> bool:
        new_parent = new_spec.task_specs.get(parent["task_spec"])
        return new_parent is not None and task["task_spec"] in {o.name for o in new_parent.outputs}

    dropped: set[str] = set()
    for task_id, task in tasks.items():
        parent = tasks.get(task["parent"] or "")
        if (parent is not None and task["state"] & _PREDICTED and parent["state"] & TaskState.NOT_FINISHED_MASK
                and not fits(task, parent)):
            dropped.add(task_id)
    # Descendants of a dropped task go with it.
    stack = list(dropped)
    while stack:
        for child in tasks[stack.pop()]["children"]:
            if child in tasks and child not in dropped:
                dropped.add(child)
                stack.append(child)
    return dropped


def _check_tasks(tasks: dict[str, dict[str, Any]], old_spec: Any, new_spec: Any, version: int,
                 subprocess: str | None) -> list[Reason]:
    reasons: list[Reason] = []
    for task in tasks.values():
        name = task["task_spec"]
        old = old_spec.task_specs.get(name)
        new = new_spec.task_specs.get(name)
        kind = _kind(old) if old is not None else "task"
        label = f"task '{name}' ({kind})" + (f" in subprocess '{subprocess}'" if subprocess else "")
        params = {"task": name, "kind": kind, "subprocess": subprocess, "version": version}
        active = bool(task["state"] & _ACTIVE)
        if new is None and active:
            reason = Reason(code="task_missing", params=params, message=f"{label} does not exist in version {version}")
        elif new is None:
            reason = Reason(code="task_missing_done", params=params, message=f"{label} does not exist in version "
                            f"{version}, already done: its history would be lost")
        elif old is not None and _kind(new) != kind:
            reason = Reason(code="task_kind_changed", params={**params, "new_kind": _kind(new)},
                            message=f"{label} is a {_kind(new)} in version {version}")
        elif old is not None and active and _event_signature(old) != _event_signature(new):
            reason = Reason(code="task_event_changed", params=params,
                            message=f"{label} waits for a different event in version {version}")
        else:
            continue
        if reason not in reasons:  # a task run several times (a loop) is named once
            reasons.append(reason)
    return reasons


@dataclass
class _Plan:
    """The state to rebuild from, with the predicted tasks taken out."""

    state: dict[str, Any]
    reasons: list[Reason]


def _prune(workflow_dict: dict[str, Any], new_spec: Any) -> None:
    tasks: dict[str, dict[str, Any]] = workflow_dict["tasks"]
    dropped = _predicted_ids(tasks, new_spec)
    for task_id in dropped:
        del tasks[task_id]
    for task in tasks.values():
        task["children"] = [c for c in task["children"] if c not in dropped]


def _plan(engine: Engine, instance: ProcessInstance, target: ProcessVersion) -> _Plan:
    old_spec, old_subs = engine.specs.get(instance.process_version)
    new_spec, new_subs = engine.specs.get(target)
    state: dict[str, Any] = json.loads(engine.serializer.dumps(engine.load(instance)))
    version = target.id
    _prune(state, new_spec)
    reasons = _check_tasks(state["tasks"], old_spec, new_spec, version, None)
    for parent_id, sub in state.get("subprocesses", {}).items():
        name = sub["spec"]
        new_sub, old_sub = new_subs.get(name), old_subs.get(name)
        if new_sub is None or old_sub is None:
            reasons.append(Reason(code="subprocess_missing", params={"subprocess": name, "version": version},
                                  message=f"subprocess '{name}' does not exist in version {version}"))
            continue
        parent = state["tasks"].get(parent_id)
        called = getattr(new_spec.task_specs.get(parent["task_spec"]) if parent else None, "spec", name)
        if called != name:
            task = parent["task_spec"] if parent else parent_id
            reasons.append(Reason(code="subprocess_call_changed",
                                  params={"task": task, "called": called, "subprocess": name, "version": version},
                                  message=f"subprocess task '{task}' calls '{called}' instead of '{name}' in "
                                       f"version {version}"))
            continue
        _prune(sub, new_sub)
        reasons += _check_tasks(sub["tasks"], old_sub, new_sub, version, name)
    return _Plan(state=state, reasons=reasons)


def _rebuild(engine: Engine, target: ProcessVersion, plan: _Plan) -> BpmnWorkflow:
    spec, subprocess_specs = engine.specs.get(target)
    workflow = engine.serializer.loads(json.dumps(plan.state), spec, subprocess_specs)
    workflow.script_engine = engine.script_engine
    # What lies ahead was dropped from the state: predict it again as SpiffWorkflow does at start.
    for sub in workflow.subprocesses.values():
        sub._predict()
    workflow._predict()
    return workflow


def _preliminary_reasons(instance: ProcessInstance, target: ProcessVersion) -> list[Reason]:
    if target.process_id != instance.process_id:
        return [Reason(code="version_other_process", params={"version": target.id, "process": target.process_id,
                                                             "instance_process": instance.process_id},
                       message=f"version {target.id} belongs to process '{target.process_id}', "
                            f"not '{instance.process_id}'")]
    if instance.status not in MIGRATABLE_STATUSES:
        return [Reason(code="instance_status", params={"status": instance.status},
                       message=f"the instance is {instance.status}: only running, waiting or suspended instances "
                            "migrate")]
    if target.id <= instance.process_version_id:
        return [Reason(code="version_not_newer", params={"version": target.id,
                                                         "current": instance.process_version_id},
                       message=f"version {target.id} is not newer than version {instance.process_version_id}")]
    return []


def assess(engine: Engine, instance: ProcessInstance, target: ProcessVersion) -> tuple[MigrationReport, _Plan | None]:
    """The report of a would-be migration, and the plan to carry it out when it is possible."""
    report = MigrationReport(instance.id, instance.process_id, instance.process_version_id, target.id)
    report.details = _preliminary_reasons(instance, target)
    if report.details:
        return report, None
    plan = _plan(engine, instance, target)
    report.details = plan.reasons
    if not report.details:
        try:  # a dry run rebuilds too: what cannot be rebuilt in memory would not migrate either
            _rebuild(engine, target, plan)
        except Exception as exc:
            report.details.append(Reason(code="rebuild_failed", params={"version": target.id, "detail": str(exc)},
                                         message=f"the state cannot be rebuilt on version {target.id}: {exc}"))
    return report, (plan if report.migratable else None)


def target_version(session: Session, process_id: str, version_id: int | None) -> ProcessVersion:
    """The version to migrate to: the given one, or the latest of the process."""
    if version_id is None:
        return latest_version(session, process_id)
    version = session.get(ProcessVersion, version_id)
    if version is None or version.process_id != process_id:
        raise ProcessNotFoundError(f"no version {version_id} of process '{process_id}'",
                                   process_id=process_id, version_id=version_id)
    return version


def migrate_instance(engine: Engine, session: Session, instance_id: int, actor: Actor, *,
                     to_version: int | None = None, dry_run: bool = False,
                     expected_version: int | None = None) -> MigrationReport:
    """Move one instance to ``to_version`` (default: the latest), or only say whether it could."""
    with clock.use_clock(engine.now):
        instance = get_instance(session, instance_id)
        if expected_version is not None and expected_version != instance.version:
            raise ConflictError(f"instance {instance.id} changed (version {instance.version}, "
                                f"you had {expected_version})", instance_id=instance.id)
        target = target_version(session, instance.process_id, to_version)
        report, plan = assess(engine, instance, target)
        if dry_run or plan is None:
            return report
        workflow = _rebuild(engine, target, plan)
        with engine.conflicts_reported():
            instance.process_version = target
            instance.process_version_id = target.id
            engine.save(session, instance, workflow)
            _refresh_ready_rows(engine, session, instance, workflow)
            audit.record(session, "instance_migrated", instance_id=instance.id, actor=actor.username,
                         process_id=instance.process_id, from_version=report.from_version,
                         to_version=report.to_version)
            session.flush()
        report.migrated = True
        return report


def _refresh_ready_rows(engine: Engine, session: Session, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    """Give the ready task rows the name, role and form their task has in the new version."""
    ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                   HumanTask.status == "ready")).all()
    for row in rows:
        if row.id in ready:
            fresh = _human_task_row(instance, ready[row.id], engine.lane_role)
            for name in _SPEC_FIELDS:
                setattr(row, name, getattr(fresh, name))


def instances_to_migrate(session: Session, process_id: str, *, from_version: int | None = None,
                         organisation: str | None = None) -> Iterable[ProcessInstance]:
    """The unfinished instances of a process (of one version, of one organisation), oldest first."""
    query = select(ProcessInstance).where(ProcessInstance.process_id == process_id,
                                          ProcessInstance.status.in_((*MIGRATABLE_STATUSES, "error")))
    if from_version is not None:
        query = query.where(ProcessInstance.process_version_id == from_version)
    if organisation is not None:
        query = query.where(ProcessInstance.organisation == organisation)
    return session.scalars(query.order_by(ProcessInstance.id)).all()


def migrate_process(engine: Engine, session: Session, process_id: str, actor: Actor, *,
                    from_version: int | None = None, to_version: int | None = None, dry_run: bool = False,
                    organisation: str | None = None) -> list[MigrationReport]:
    """Move every unfinished instance of a process to ``to_version`` (default: the latest), each in its
    own savepoint, so that one that fails leaves the others migrated; a report per instance."""
    target = target_version(session, process_id, to_version)
    reports = []
    for instance in instances_to_migrate(session, process_id, from_version=from_version,
                                         organisation=organisation):
        if instance.process_version_id == target.id:
            continue
        instance_id, from_id = instance.id, instance.process_version_id
        savepoint = session.begin_nested()
        try:
            report = migrate_instance(engine, session, instance_id, actor, to_version=target.id, dry_run=dry_run)
            savepoint.commit()
        except ConflictError as exc:
            savepoint.rollback()
            report = MigrationReport(instance_id, process_id, from_id, target.id, details=[conflict_reason(exc)])
        reports.append(report)
    return reports
