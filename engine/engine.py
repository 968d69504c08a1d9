"""The engine façade: deploy models, start instances, complete tasks, fire timers, route messages.

Built once with its collaborators passed in. Every method takes a SQLAlchemy ``Session``, flushes,
and leaves the commit (or rollback) to the caller.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from copy import deepcopy
from typing import Any, TypeVar
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import audit, clock, repair
from engine.drafts import discard_draft
from engine.errors import (
    ConflictError,
    NotAllowedError,
    OrganisationRequiredError,
    TaskNotFoundError,
    TaskNotReadyError,
)
from engine.forms import refuse_fields_outside_form, sensitive_fields, validate_task_data
from engine.messaging import MessageRouter
from engine.models import HumanTask, Incident, ProcessInstance, ProcessVersion
from engine.runtime import (
    ACTIVE,
    Actor,
    StepFailure,
    StepOutcome,
    business_key_of,
    project_human_tasks,
    project_waits,
    reset_errored_tasks,
    run_engine_steps,
    run_task,
    status_of,
)
from engine.scripting import make_script_engine
from engine.services import ServiceContext, ServiceRegistry, service_context
from engine.specs import ModelFile, resolve_lane_role
from engine.store import SpecCache, StateSerializer, get_instance, latest_version
from engine.tasklist import may_work_on

F = TypeVar("F", bound=Callable[..., Any])


def _on_engine_clock(method: F) -> F:
    """Run an engine operation on the engine's clock, so that its audit rows, due dates and timers
    all read the same (possibly injected) time."""

    @functools.wraps(method)
    def clocked(self: Engine, *args: Any, **kwargs: Any) -> Any:
        with clock.use_clock(self.now):
            return method(self, *args, **kwargs)

    return clocked  # type: ignore[return-value]


class Engine:
    """Runs BPMN models on SpiffWorkflow with durable, queryable state."""

    def __init__(self, *, roles: Mapping[str, str] | None = None, services: ServiceRegistry | None = None,
                 now: clock.Clock | None = None, script_time_limit: float = 2.0) -> None:
        clock.install()
        self.roles = dict(roles or {})
        self.services = services or ServiceRegistry()
        self.now = now
        self.script_engine = make_script_engine(self.services, time_limit=script_time_limit)
        self.serializer = StateSerializer()
        self.specs = SpecCache()
        self.messages = MessageRouter(self)

    # --- models ----------------------------------------------------------------------------------

    @_on_engine_clock
    def deploy(self, session: Session, models: list[ModelFile], actor: str | None = None) -> list[ProcessVersion]:
        """Store a new version of each model whose content changed; returns the versions stored."""
        stored = []
        for model in models:
            exists = session.scalars(select(ProcessVersion.id).where(
                ProcessVersion.process_id == model.process_id,
                ProcessVersion.content_hash == model.content_hash)).first()
            if exists is not None:
                continue
            latest = session.scalar(select(func.max(ProcessVersion.number)).where(
                ProcessVersion.process_id == model.process_id))
            version = ProcessVersion(
                process_id=model.process_id, number=(latest or 0) + 1, name=model.name,
                content_hash=model.content_hash, source_file=model.source_file, bpmn_xml=model.bpmn_xml,
                dmn_files=model.dmn_files, forms=model.forms, start_messages=model.start_messages,
                deployed_by=actor, deployed_at=self.clock_now())
            session.add(version)
            stored.append(version)
            audit.record(session, "model_deployed", instance_id=None, actor=actor,
                         process_id=model.process_id, version=version.number, content_hash=model.content_hash)
        session.flush()
        return stored

    # --- instances -------------------------------------------------------------------------------

    def clock_now(self) -> Any:
        """The engine's current time (injected clock or the real one)."""
        with clock.use_clock(self.now):
            return clock.now()

    @_on_engine_clock
    def start(self, session: Session, process_id: str, data: Mapping[str, Any] | None = None,
              actor: Actor | None = None, *, organisation: str | None = None,
              business_key: str | None = None) -> ProcessInstance:
        """Start the latest version of a process and run it to its first wait."""
        actor = actor or Actor.system()
        version = latest_version(session, process_id)
        organisation = organisation or actor.organisation
        if not organisation:
            raise OrganisationRequiredError(
                f"starting '{process_id}' needs an organisation (the starter's, or given explicitly)",
                process_id=process_id)
        workflow = self.new_workflow(version, data)
        instance = self.create_instance(session, version, actor, organisation, business_key)
        audit.record(session, "instance_started", instance_id=instance.id, actor=actor.username,
                     process_id=process_id, version_id=version.id,
                     data=audit.masked_data(audit.json_safe(dict(data or {})), sensitive_fields(version.forms)))
        self.advance(session, instance, workflow, actor)
        return instance

    def new_workflow(self, version: ProcessVersion, data: Mapping[str, Any] | None) -> BpmnWorkflow:
        """A fresh workflow of a stored version, with our script engine and the start data."""
        spec, subprocess_specs = self.specs.get(version)
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self.script_engine)
        if data:
            workflow.task_tree.data.update(deepcopy(dict(data)))
            for task in workflow.get_tasks(state=TaskState.READY):
                task.data.update(deepcopy(dict(data)))
        return workflow

    def create_instance(self, session: Session, version: ProcessVersion, actor: Actor,
                         organisation: str | None, business_key: str | None) -> ProcessInstance:
        """Insert the row of a new instance (its state is written by the first ``advance``)."""
        moment = self.clock_now()
        instance = ProcessInstance(
            process_version=version, process_version_id=version.id, process_id=version.process_id,
            status="running", state="{}", serializer_version=self.serializer.version,
            organisation=organisation, business_key=business_key, started_by=actor.username,
            started_at=moment, updated_at=moment)
        session.add(instance)
        session.flush()
        return instance

    def load(self, instance: ProcessInstance) -> BpmnWorkflow:
        """Rebuild an instance's workflow, with our restricted script engine attached again."""
        spec, subprocess_specs = self.specs.get(instance.process_version)
        workflow = self.serializer.loads(instance.state, spec, subprocess_specs)
        # The serializer does not keep the script engine: without this the instance would run
        # scripts with SpiffWorkflow's unrestricted default.
        workflow.script_engine = self.script_engine
        return workflow

    def advance(self, session: Session, instance: ProcessInstance, workflow: BpmnWorkflow,
                actor: Actor, *, depth: int = 0, failure: StepFailure | None = None) -> StepOutcome:
        """Step, save, project tasks and waits, record failures, then route thrown messages.

        ``failure`` is one that already happened before stepping (a post-script, a retried
        pre-script): the instance is saved in error without running further.
        """
        if failure is not None:
            outcome = StepOutcome(failure=failure)
        else:
            with self.stepping(session, instance, actor):
                outcome = run_engine_steps(workflow, self.now)
        with self.conflicts_reported():
            self.save(session, instance, workflow, failed=outcome.failure is not None)
            if outcome.failure is not None:
                self._record_incident(session, instance, outcome.failure, actor)
            session.flush()
            for event in outcome.events:
                self.messages.route(session, event, source=instance, depth=depth)
        return outcome

    def _record_incident(self, session: Session, instance: ProcessInstance, failure: StepFailure,
                         actor: Actor) -> None:
        session.add(Incident(instance_id=instance.id, task_id=failure.task_id,
                             task_spec_id=failure.task_spec_id, message=failure.message,
                             stack=failure.stack, status="open", created_at=self.clock_now()))
        audit.record(session, "incident", instance_id=instance.id, actor=actor.username,
                     task_id=failure.task_id, task_spec=failure.task_spec_id, message=failure.message)

    def save(self, session: Session, instance: ProcessInstance, workflow: BpmnWorkflow, *,
             failed: bool = False) -> None:
        """Write the workflow state and its projections onto the instance."""
        instance.state = self.serializer.dumps(workflow)
        instance.serializer_version = self.serializer.version
        if instance.status not in ("suspended", "terminated"):
            instance.status = status_of(workflow, failed)
        instance.updated_at = self.clock_now()
        if instance.business_key is None:
            instance.business_key = business_key_of(workflow)
        if instance.status == "completed":
            instance.ended_at = instance.updated_at
        with clock.use_clock(self.now):
            project_human_tasks(session, instance, workflow, self.lane_role)
            project_waits(session, instance, workflow, self.messages.expected_correlations)

    @staticmethod
    @contextmanager
    def stepping(session: Session, instance: ProcessInstance, actor: Actor) -> Iterator[None]:
        """While an instance steps, service operations write through its session, on its behalf."""
        context = ServiceContext(session=session, instance_id=instance.id, process_id=instance.process_id,
                                 organisation=instance.organisation, actor=actor.username,
                                 business_key=instance.business_key)
        with service_context(context):
            yield

    @staticmethod
    @contextmanager
    def conflicts_reported() -> Iterator[None]:
        """Turn a lost optimistic-lock race (at any flush, autoflush included) into a ConflictError."""
        try:
            yield
        except StaleDataError as exc:
            raise ConflictError("the process instance was changed by someone else: reload and retry") from exc

    def flush(self, session: Session) -> None:
        """Flush, reporting a lost race as a ConflictError."""
        with self.conflicts_reported():
            session.flush()

    def lane_role(self, lane: str | None) -> str | None:
        """The role key of a lane (the lane name itself when no role catalogue is configured)."""
        if lane is None:
            return None
        if not self.roles:
            return lane
        return resolve_lane_role(lane, self.roles)

    # --- human tasks -----------------------------------------------------------------------------

    def get_task(self, session: Session, task_id: str) -> HumanTask:
        """A projected human task by id."""
        row = session.get(HumanTask, task_id)
        if row is None:
            raise TaskNotFoundError(f"no task {task_id}", task_id=task_id)
        return row

    @staticmethod
    def may_work_on(row: HumanTask, actor: Actor) -> bool:
        """Whether the actor may claim or complete the task: assignee, or role and organisation match."""
        return may_work_on(row, actor)

    @_on_engine_clock
    def complete_task(self, session: Session, task_id: str, data: Mapping[str, Any], actor: Actor,
                      *, expected_version: int | None = None) -> ProcessInstance:
        """Validate and submit a human task's data, then run the instance to its next wait."""
        row = self.get_task(session, task_id)
        if row.status != "ready":
            raise TaskNotReadyError(f"task {task_id} is {row.status}", task_id=task_id, status=row.status)
        if not self.may_work_on(row, actor):
            raise NotAllowedError(f"{actor.username} may not complete task {task_id}", task_id=task_id)
        instance = get_instance(session, row.instance_id)
        self._check_workable(instance, expected_version)
        schema = (instance.process_version.forms or {}).get(row.form_key or "")
        refuse_fields_outside_form(schema, data)
        if schema is not None:
            validate_task_data(schema, data)
        workflow = self.load(instance)
        task = workflow.get_task_from_id(UUID(task_id))
        if task is None or task.state != TaskState.READY:
            raise TaskNotReadyError(f"task {task_id} is not ready", task_id=task_id)
        before = audit.json_safe(task.data)
        task.data.update(deepcopy(dict(data)))
        with self.stepping(session, instance, actor):
            failure = run_task(task, self.now)
        row.status, row.completed_by, row.completed_at = "completed", actor.username, self.clock_now()
        discard_draft(session, task_id)
        audit.record(session, "task_completed", instance_id=instance.id, actor=actor.username, task_id=task_id,
                     task_spec=row.task_spec_id, changes=audit.data_diff(
                         before, audit.json_safe(task.data), sensitive_fields(instance.process_version.forms)))
        self.advance(session, instance, workflow, actor, failure=failure)
        return instance

    @staticmethod
    def _check_workable(instance: ProcessInstance, expected_version: int | None) -> None:
        if instance.status not in ACTIVE:
            raise TaskNotReadyError(f"instance {instance.id} is {instance.status}",
                                    instance_id=instance.id, status=instance.status)
        if expected_version is not None and expected_version != instance.version:
            raise ConflictError(f"instance {instance.id} changed (version {instance.version}, "
                                f"you had {expected_version})", instance_id=instance.id)

    @_on_engine_clock
    def claim(self, session: Session, task_id: str, actor: Actor) -> HumanTask:
        """Assign a ready task of one's role to oneself."""
        row = self.get_task(session, task_id)
        if row.status != "ready":
            raise TaskNotReadyError(f"task {task_id} is {row.status}", task_id=task_id)
        if not self.may_work_on(row, actor):
            raise NotAllowedError(f"{actor.username} may not claim task {task_id}", task_id=task_id)
        # Conditional, so that of two people claiming at once exactly one gets it.
        claimed = session.execute(
            update(HumanTask)
            .where(HumanTask.id == task_id, HumanTask.status == "ready", HumanTask.assigned_user.is_(None))
            .values(assigned_user=actor.username)
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise ConflictError(f"task {task_id} was just claimed or closed by someone else", task_id=task_id)
        session.refresh(row)
        audit.record(session, "task_claimed", instance_id=row.instance_id, actor=actor.username, task_id=task_id)
        session.flush()
        return row

    @_on_engine_clock
    def unclaim(self, session: Session, task_id: str, actor: Actor) -> HumanTask:
        """Give a claimed task back to its role's queue."""
        row = self.get_task(session, task_id)
        if row.assigned_user != actor.username:
            raise NotAllowedError(f"task {task_id} is not assigned to {actor.username}", task_id=task_id)
        row.assigned_user = None
        audit.record(session, "task_unclaimed", instance_id=row.instance_id, actor=actor.username, task_id=task_id)
        session.flush()
        return row

    @_on_engine_clock
    def reassign(self, session: Session, task_id: str, username: str | None, actor: Actor) -> HumanTask:
        """Hand a ready task to ``username`` (None: back to its role's queue). Who may do this is the app's call."""
        row = self.get_task(session, task_id)
        if row.status != "ready":
            raise TaskNotReadyError(f"task {task_id} is {row.status}", task_id=task_id)
        previous, row.assigned_user = row.assigned_user, username
        audit.record(session, "task_reassigned", instance_id=row.instance_id, actor=actor.username, task_id=task_id,
                     previous=previous, assigned_to=username)
        session.flush()
        return row

    # --- lifecycle -------------------------------------------------------------------------------

    @_on_engine_clock
    def retry(self, session: Session, instance_id: int, actor: Actor,
              corrections: Mapping[str, Any] | None = None) -> ProcessInstance:
        """Run the failed steps of an instance in error again, after the cause was fixed or after
        ``corrections`` replaced values in the failed step's data (engine.repair)."""
        instance = get_instance(session, instance_id)
        if instance.status != "error":
            raise TaskNotReadyError(f"instance {instance_id} is {instance.status}, not in error",
                                    instance_id=instance_id)
        workflow = self.load(instance)
        if corrections:
            repair.correct(session, instance, workflow, corrections, actor.username,
                           sensitive_fields(instance.process_version.forms))
        with self.stepping(session, instance, actor):
            failure = reset_errored_tasks(workflow, self.now)
        repair.resolve_incidents(session, instance_id, self.clock_now(), actor.username)
        instance.status = "running"
        audit.record(session, "retry", instance_id=instance_id, actor=actor.username)
        self.advance(session, instance, workflow, actor, failure=failure)
        return instance

    @_on_engine_clock
    def terminate(self, session: Session, instance_id: int, actor: Actor, reason: str = "") -> ProcessInstance:
        """Stop an instance for good: its tasks are cancelled and its timers dropped."""
        instance = get_instance(session, instance_id)
        if instance.status in ("completed", "terminated"):
            raise TaskNotReadyError(f"instance {instance_id} is already {instance.status}", instance_id=instance_id)
        workflow = self.load(instance)
        workflow.cancel()
        instance.status, instance.ended_at = "terminated", self.clock_now()
        self.save(session, instance, workflow)
        audit.record(session, "terminated", instance_id=instance_id, actor=actor.username, reason=reason)
        self.flush(session)
        return instance

    @_on_engine_clock
    def set_suspended(self, session: Session, instance_id: int, actor: Actor, suspended: bool) -> ProcessInstance:
        """Suspend (no completions, no timers) or resume an instance."""
        instance = get_instance(session, instance_id)
        if suspended and instance.status not in ACTIVE:
            raise TaskNotReadyError(f"instance {instance_id} is {instance.status}", instance_id=instance_id)
        if not suspended and instance.status != "suspended":
            raise TaskNotReadyError(f"instance {instance_id} is not suspended", instance_id=instance_id)
        workflow = self.load(instance)
        instance.status = "suspended" if suspended else status_of(workflow, failed=False)
        self.save(session, instance, workflow)
        audit.record(session, "suspended" if suspended else "resumed", instance_id=instance_id,
                     actor=actor.username)
        self.flush(session)
        if not suspended:
            # Messages that arrived while it was suspended found nobody waiting: offer them now.
            with self.conflicts_reported():
                self.messages.redeliver_to(session, instance)
        return instance
