"""Routing messages between instances: correlated delivery, message starts, undeliverable kept."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import EngineError
from engine.models import Message, MessageSubscription, ProcessInstance, ProcessVersion
from engine.runtime import ACTIVE, UNKNOWN, Actor, caught_definitions, correlations_match, flatten_correlations

if TYPE_CHECKING:
    from engine.engine import Engine

# A message that starts a process that throws a message that starts… must end somewhere.
MAX_CHAIN_DEPTH = 20


class MessageRouter:
    """Delivers thrown messages to the waiting instance whose correlation matches, or starts one."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def expected_correlations(self, task: Any, definition: MessageEventDefinition) -> dict[str, Any]:
        """What a waiting catch event expects, evaluated on the waiting task's data."""
        values: dict[str, Any] = {}
        for prop in definition.correlation_properties:
            try:
                value = self.engine.script_engine.environment.evaluate(prop.retrieval_expression, task.data)
            except Exception:
                values[prop.name] = UNKNOWN
                continue
            values[prop.name] = audit.json_safe(value)
        return values

    def send(self, session: Session, name: str, payload: dict[str, Any] | None,
             correlations: dict[str, Any] | None = None, actor: Actor | None = None,
             organisation: str | None = None) -> Message:
        """Send a message from outside any instance (API, CLI, another system).

        ``correlations`` routes the message ({property: value}); as in SpiffWorkflow, the receiver
        also reads its correlation values from ``payload`` with the model's retrieval expressions.
        A process the message starts belongs to ``organisation`` (else the sender's).
        """
        actor = actor or Actor.system()
        message = Message(name=name, payload=audit.json_safe(payload or {}),
                          correlations=audit.json_safe(correlations or {}), status="pending",
                          organisation=organisation or actor.organisation, created_at=self.engine.clock_now())
        session.add(message)
        session.flush()
        audit.record(session, "message_sent", instance_id=None, actor=actor.username,
                     message=name, message_id=message.id)
        self._deliver(session, message, source=None, depth=0)
        return message

    def route(self, session: Session, event: BpmnEvent, *, source: ProcessInstance, depth: int) -> Message:
        """Record a message thrown by ``source`` and deliver it."""
        message = Message(name=event.event_definition.name, payload=audit.json_safe(event.payload),
                          correlations=audit.json_safe(flatten_correlations(event.correlations)), status="pending",
                          source_instance_id=source.id, organisation=source.organisation,
                          created_at=self.engine.clock_now())
        session.add(message)
        session.flush()
        audit.record(session, "message_sent", instance_id=source.id, actor="system", message=message.name,
                     message_id=message.id)
        self._deliver(session, message, source=source, depth=depth)
        return message

    def redeliver(self, session: Session, message_id: int) -> Message:
        """Try an undeliverable message again (e.g. once its recipient waits for it)."""
        message = session.get(Message, message_id)
        if message is None or message.status != "undeliverable":
            raise EngineError(f"message {message_id} is not waiting for delivery", message_id=message_id)
        self._deliver(session, message, source=None, depth=0)
        return message

    def redeliver_to(self, session: Session, instance: ProcessInstance) -> None:
        """Offer a (resumed) instance the undeliverable messages it now waits for, oldest first."""
        names = select(MessageSubscription.message_name).where(MessageSubscription.instance_id == instance.id)
        for message in session.scalars(select(Message).where(Message.status == "undeliverable",
                                                             Message.name.in_(names)).order_by(Message.id)):
            self._deliver(session, message, source=None, depth=0)

    def _deliver(self, session: Session, message: Message, *, source: ProcessInstance | None, depth: int) -> None:
        if depth >= MAX_CHAIN_DEPTH:
            message.status, message.reason = "undeliverable", f"chain of more than {MAX_CHAIN_DEPTH} messages"
            return
        target = self._deliver_to_waiting(session, message, depth) or self._start_by_message(
            session, message, source, depth)
        if target is None:
            message.status = "undeliverable"
            message.reason = message.reason or "no waiting instance matches it and no process starts with it"
        else:
            message.reason = None
            message.status, message.target_instance_id = "delivered", target.id
            message.delivered_at = self.engine.clock_now()
        session.flush()

    def _deliver_to_waiting(self, session: Session, message: Message, depth: int) -> ProcessInstance | None:
        subscriptions = session.execute(
            select(MessageSubscription, ProcessInstance)
            .join(ProcessInstance, ProcessInstance.id == MessageSubscription.instance_id)
            .where(MessageSubscription.message_name == message.name, ProcessInstance.status.in_(ACTIVE))
            .order_by(MessageSubscription.id)
        ).all()
        for subscription, instance in subscriptions:
            if not correlations_match(subscription.correlations or {}, message.correlations or {}):
                continue
            workflow = self.engine.load(instance)
            if self._catch(workflow, message):
                audit.record(session, "message_received", instance_id=instance.id, actor="system",
                             message=message.name, message_id=message.id)
                self.engine.advance(session, instance, workflow, Actor.system(), depth=depth + 1)
                return instance
        return None

    def _start_by_message(self, session: Session, message: Message, source: ProcessInstance | None,
                          depth: int) -> ProcessInstance | None:
        for version in self._versions_started_by(session, message.name):
            workflow = self.engine.new_workflow(version, None)
            with clock.use_clock(self.engine.now):
                workflow.do_engine_steps()
            if not message.organisation:
                message.reason = f"it would start '{version.process_id}' but names no organisation"
                return None
            if not self._catch(workflow, message):
                continue
            instance = self.engine.create_instance(
                session, version, Actor.system(), message.organisation, source.business_key if source else None)
            audit.record(session, "instance_started", instance_id=instance.id, actor="system",
                         process_id=version.process_id, version_id=version.id, message=message.name,
                         message_id=message.id)
            self.engine.advance(session, instance, workflow, Actor.system(), depth=depth + 1)
            return instance
        return None

    @staticmethod
    def _versions_started_by(session: Session, name: str) -> list[ProcessVersion]:
        latest: dict[str, ProcessVersion] = {}
        for version in session.scalars(select(ProcessVersion).order_by(ProcessVersion.id)):
            latest[version.process_id] = version
        return [v for v in latest.values() if name in (v.start_messages or [])]

    @staticmethod
    def _catch(workflow: BpmnWorkflow, message: Message) -> bool:
        """Hand the message to the workflow's waiting catch event of that name, keyed its own way."""
        for task in workflow.get_tasks(state=TaskState.WAITING):
            definition = next((d for d in caught_definitions(task)
                               if isinstance(d, MessageEventDefinition) and d.name == message.name), None)
            if definition is None:
                continue
            correlations: dict[str, dict[str, Any]] = {}
            for prop in definition.correlation_properties:
                if prop.name in (message.correlations or {}):
                    for key in prop.correlation_keys:
                        correlations.setdefault(key, {})[prop.name] = message.correlations[prop.name]
            try:
                workflow.send_event(BpmnEvent(definition, payload=message.payload, correlations=correlations))
            except Exception:
                return False
            return True
        return False
