"""Where the case file meets the engine: its operations as BPMN service tasks, its timeline's process steps."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from casefile import lookups
from casefile.errors import DomainError
from casefile.models import Household
from casefile.operations import OPERATIONS, Caller, execute
from casefile.partnership import task_organisations
from casefile.timeline import TimelineEntry, household_instance_ids
from engine.models import AuditEvent, HumanTask, ProcessInstance
from engine.services import ServiceContext, ServiceRegistry

# Engine audit kinds worth showing in a household's story (claims and deploys are not).
TIMELINE_KINDS = ("instance_started", "task_completed", "incident", "retry", "terminated", "suspended", "resumed",
                  "message_received")


class OperationRefusedError(Exception):
    """A case-file operation called by a service task refused its input: the incident names the fields."""


def _service(name: str) -> Any:
    def call(context: ServiceContext, **params: Any) -> dict[str, Any]:
        caller = Caller(context.actor, organisation=context.organisation, process_id=context.process_id,
                        instance_id=context.instance_id)
        try:
            return execute(context.session, name, params, caller)
        except DomainError as exc:
            fields = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in sorted(exc.fields.items()))
            raise OperationRefusedError(f"{exc.message}" + (f" [{fields}]" if fields else "")) from exc

    call.__name__ = name
    return call


def register_casefile_operations(registry: ServiceRegistry) -> None:
    """Make every case-file operation callable from BPMN service tasks by its name."""
    for name in sorted(OPERATIONS):
        registry.register(name, _service(name))
    registry.register("task_organisations", _task_organisations)
    registry.register("acting_user", _acting_user)
    registry.register("placement_summary", _placement_summary)
    registry.register("current_plan", _current_plan)


def operation_parameters(name: str) -> list[str] | None:
    """The input fields a case-file operation takes, for the modeller's panel; None for other services."""
    operation = OPERATIONS.get(name)
    if operation is None:
        return None
    return sorted(field.data_key or key for key, field in operation.schema().fields.items())


def _task_organisations(context: ServiceContext, household_id: int | None = None) -> dict[str, str]:
    """Which partner receives each role's tasks for the household (a read: nothing is written)."""
    return task_organisations(context.session, household_id)


def _acting_user(context: ServiceContext) -> dict[str, str]:
    """Who moved the instance in this step, e.g. the social worker who has just co-signed (a read)."""
    return {"username": context.actor}


def _placement_summary(context: ServiceContext, placement_id: int) -> dict[str, Any]:
    """A placement's lease and agreement, and what the household still owes under it (a read)."""
    return lookups.placement_summary(context.session, placement_id)


def _current_plan(context: ServiceContext, enrollment_id: int) -> dict[str, Any]:
    """The enrollment's signed personalised plan: id, version and goal ids (a read)."""
    return lookups.current_plan(context.session, enrollment_id)


def household_instances(session: Session, household_id: int) -> list[ProcessInstance]:
    """The process instances about a household, oldest first.

    An instance is about the household when it wrote to the household's records, or when its
    business key is the household's reference.
    """
    reference = session.scalar(select(Household.reference).where(Household.id == household_id))
    instance_ids = household_instance_ids(session, household_id)
    conditions = [ProcessInstance.id.in_(instance_ids)] if instance_ids else []
    if reference:
        conditions.append(ProcessInstance.business_key == reference)
    if not conditions:
        return []
    return list(session.scalars(select(ProcessInstance).where(or_(*conditions)).order_by(ProcessInstance.id)))


def process_events(session: Session, household_id: int) -> list[TimelineEntry]:
    """The steps of the process instances about a household (see household_instances), as timeline entries."""
    instances = {row.id: row for row in household_instances(session, household_id)}
    if not instances:
        return []
    task_names = {task_id: name for task_id, name in session.execute(
        select(HumanTask.id, HumanTask.name).where(HumanTask.instance_id.in_(instances)))}
    events = session.scalars(select(AuditEvent).where(AuditEvent.instance_id.in_(instances),
                                                      AuditEvent.kind.in_(TIMELINE_KINDS))
                             .order_by(AuditEvent.at, AuditEvent.id))
    entries = []
    for event in events:
        instance = instances[event.instance_id]  # type: ignore[index]
        name = instance.process_version.name or instance.process_id
        step = task_names.get(event.task_id or "", "")
        entries.append(TimelineEntry(
            occurred_on=event.at.date(), recorded_at=event.at, source="process", kind=event.kind,
            summary=f"{name}: {step}" if step else name, record_type="timeline", actor=event.actor,
            process_id=instance.process_id, instance_id=instance.id))
    return entries
