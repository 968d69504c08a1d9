"""Messages: between instances, starting processes, correlated delivery, undeliverable kept."""

from __future__ import annotations

from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Engine
from engine.models import HumanTask, Message, MessageSubscription, ProcessInstance
from tests.engine.conftest import COORD


def _placement_for(session: Session, household_id: int) -> ProcessInstance:
    for instance in session.scalars(select(ProcessInstance).where(ProcessInstance.process_id == "placement")):
        subscription = session.scalars(select(MessageSubscription).where(
            MessageSubscription.instance_id == instance.id)).first()
        if subscription is not None and subscription.correlations == {"household_id": household_id}:
            return instance
    raise AssertionError(f"no placement waiting for household {household_id}")


def test_thrown_message_starts_the_receiving_process(deployed: Engine, session: Session) -> None:
    opener = deployed.start(session, "opener", {"household_id": 7}, COORD, business_key="H7")
    assert opener.status == "completed"
    message = session.scalars(select(Message).where(Message.source_instance_id == opener.id)).one()
    assert message.name == "enrollment_opened"
    assert message.status == "delivered"
    placement = session.get(ProcessInstance, message.target_instance_id)
    assert placement.process_id == "placement"
    assert placement.status == "waiting"
    assert placement.business_key == "H7"
    waiting = deployed.load(placement).get_tasks(state=TaskState.WAITING)
    data = next(t.data for t in waiting if t.task_spec.bpmn_id == "wait_unit")
    assert data["enrollment"] == {"household_id": 7, "note": "nuovo"}
    subscription = session.scalars(select(MessageSubscription).where(
        MessageSubscription.instance_id == placement.id)).one()
    assert subscription.message_name == "unit_found"
    assert subscription.correlations == {"household_id": 7}


def test_message_reaches_only_the_correlated_instance(deployed: Engine, session: Session) -> None:
    for household in (7, 8):
        deployed.start(session, "opener", {"household_id": household}, COORD)
    seven, eight = _placement_for(session, 7), _placement_for(session, 8)
    message = deployed.messages.send(session, "unit_found", {"address": "Via Roma 1", "household_id": 8},
                                     {"household_id": 8})
    assert message.status == "delivered"
    assert message.target_instance_id == eight.id
    visit = session.scalars(select(HumanTask).where(HumanTask.instance_id == eight.id)).one()
    assert visit.task_spec_id == "visit"
    assert deployed.load(eight).get_task_from_id(UUID(visit.id)).data["unit"] == {
        "address": "Via Roma 1", "household_id": 8}
    assert seven.status == "waiting"
    assert session.scalars(select(HumanTask).where(HumanTask.instance_id == seven.id)).all() == []


def test_undeliverable_message_is_kept(deployed: Engine, session: Session) -> None:
    deployed.start(session, "opener", {"household_id": 7}, COORD)
    message = deployed.messages.send(session, "unit_found", {"address": "x"}, {"household_id": 99})
    assert message.status == "undeliverable"
    stored = session.get(Message, message.id)
    assert stored.payload == {"address": "x"}
    assert stored.correlations == {"household_id": 99}
    unknown = deployed.messages.send(session, "nobody_listens", {}, {})
    assert unknown.status == "undeliverable"


def test_event_based_gateway_takes_the_message_branch(deployed: Engine, session: Session, ready_task) -> None:
    instance = deployed.start(session, "reply_or_timeout", {"household_id": 5}, COORD)
    assert instance.status == "waiting"
    subscription = session.scalars(select(MessageSubscription).where(
        MessageSubscription.instance_id == instance.id)).one()
    assert (subscription.message_name, subscription.correlations) == ("landlord_answer", {"household_id": 5})
    message = deployed.messages.send(session, "landlord_answer", {"household_id": 5, "accepted": True},
                                     {"household_id": 5})
    assert message.target_instance_id == instance.id
    task = ready_task(session, instance.id, "read_answer")
    data = deployed.load(instance).get_task_from_id(UUID(task.id)).data
    assert data["answer_data"] == {"household_id": 5, "accepted": True}


def test_instance_missing_its_correlation_value_never_gets_another_households_message(
        deployed: Engine, session: Session) -> None:
    unknown = deployed.start(session, "reply_or_timeout", {}, COORD)  # started without household_id
    five = deployed.start(session, "reply_or_timeout", {"household_id": 5}, COORD)
    message = deployed.messages.send(session, "landlord_answer", {"household_id": 5}, {"household_id": 5})
    assert message.target_instance_id == five.id
    assert unknown.status == "waiting"
    stray = deployed.messages.send(session, "landlord_answer", {"household_id": 6}, {"household_id": 6})
    assert stray.status == "undeliverable"


def test_outside_message_starts_a_process_only_for_a_named_organisation(deployed: Engine, session: Session) -> None:
    orphan = deployed.messages.send(session, "enrollment_opened", {"household_id": 3}, {"household_id": 3})
    assert orphan.status == "undeliverable"
    assert orphan.reason == "it would start 'placement' but names no organisation"
    started = deployed.messages.send(session, "enrollment_opened", {"household_id": 3}, {"household_id": 3},
                                     organisation="capofila")
    assert started.status == "delivered"
    assert session.get(ProcessInstance, started.target_instance_id).organisation == "capofila"


def test_message_sent_while_suspended_is_delivered_on_resume(deployed: Engine, session: Session,
                                                             ready_task) -> None:
    instance = deployed.start(session, "reply_or_timeout", {"household_id": 5}, COORD)
    deployed.set_suspended(session, instance.id, COORD, True)
    message = deployed.messages.send(session, "landlord_answer", {"household_id": 5}, {"household_id": 5})
    assert message.status == "undeliverable"
    deployed.set_suspended(session, instance.id, COORD, False)
    assert message.status == "delivered"
    assert message.target_instance_id == instance.id
    assert ready_task(session, instance.id, "read_answer").status == "ready"
