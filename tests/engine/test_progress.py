"""Where an instance stands on its diagram: completed (with loop passes), active and failed elements."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Engine
from engine.models import HumanTask, ProcessInstance
from engine.progress import ACTIVE, COMPLETED, FAILED, ElementProgress, element_progress, open_incident_elements
from engine.specs import read_models
from tests.engine.conftest import COORD, FORMS

# A user task done again until the coordinator approves: a loop through a gateway.
LOOP = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_looping"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="looping" name="Ripetizione" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_coord" name="Coordinatore di progetto">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>visit</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>count</bpmn:flowNodeRef><bpmn:flowNodeRef>enough</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="visit" name="Visita">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="approval_review.schema.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>again</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:scriptTask id="count" name="Conta le visite">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>visits = 10 // divisor</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="enough" name="Basta?" default="done">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>again</bpmn:outgoing><bpmn:outgoing>done</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>done</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="visit"/>
    <bpmn:sequenceFlow id="f2" sourceRef="visit" targetRef="count"/>
    <bpmn:sequenceFlow id="f3" sourceRef="count" targetRef="enough"/>
    <bpmn:sequenceFlow id="again" sourceRef="enough" targetRef="visit">
      <bpmn:conditionExpression>not approved</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="done" sourceRef="enough" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def looping(engine: Engine, session: Session, tmp_path: Path) -> Engine:
    (tmp_path / "looping.bpmn").write_text(LOOP, encoding="utf-8")
    engine.deploy(session, read_models([tmp_path], FORMS), actor="tester")
    return engine


def _complete(engine: Engine, session: Session, instance: ProcessInstance, data: dict[str, object]) -> None:
    task_id = session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance.id,
                                                         HumanTask.status == "ready")).one()
    engine.complete_task(session, task_id, data, COORD)


def test_started_instance_has_its_start_completed_and_first_task_active(looping: Engine, session: Session) -> None:
    instance = looping.start(session, "looping", {"divisor": 1}, COORD)
    progress = element_progress(looping.load(instance))
    assert {key: (item.state, item.completed) for key, item in progress.elements.items()} == {
        "start": (COMPLETED, 1), "visit": (ACTIVE, 0)}
    assert progress.elements["visit"].name == "Visita"
    # Spiff's own Root/Start/End tasks are not BPMN elements.
    assert not {"Root", "Start", "End"} & set(progress.elements)


def test_loop_passes_are_counted_and_the_current_pass_is_active(looping: Engine, session: Session) -> None:
    instance = looping.start(session, "looping", {"divisor": 1}, COORD)
    _complete(looping, session, instance, {"approved": False})
    _complete(looping, session, instance, {"approved": False})
    progress = element_progress(looping.load(instance))
    assert progress.elements["visit"].state == ACTIVE
    assert progress.elements["visit"].completed == 2
    assert progress.elements["count"].state == COMPLETED
    assert progress.repeated() == {"count": 2, "enough": 2, "visit": 2}
    assert [item.element_id for item in progress.with_state(ACTIVE)] == ["visit"]

    _complete(looping, session, instance, {"approved": True})
    done = element_progress(looping.load(instance))
    assert instance.status == "completed"
    assert done.with_state(ACTIVE) == []
    assert (done.elements["visit"].completed, done.elements["end"].state) == (3, COMPLETED)


def test_failed_script_and_open_incident_mark_the_element_failed(looping: Engine, session: Session) -> None:
    instance = looping.start(session, "looping", {"divisor": 0}, COORD)
    _complete(looping, session, instance, {"approved": True})
    assert instance.status == "error"
    failed = open_incident_elements(session, instance.id)
    assert failed == {"count"}
    progress = element_progress(looping.load(instance), failed)
    assert [item.element_id for item in progress.with_state(FAILED)] == ["count"]
    assert progress.elements["visit"].state == COMPLETED
    assert "end" not in progress.elements


def test_an_incident_outside_the_task_tree_still_marks_its_element(looping: Engine, session: Session) -> None:
    instance = looping.start(session, "looping", {"divisor": 1}, COORD)
    progress = element_progress(looping.load(instance), {"visit", "enough"})
    assert progress.elements["visit"].state == FAILED  # failed beats active
    assert progress.elements["enough"] == ElementProgress("enough", None, FAILED, 0)
    assert open_incident_elements(session, instance.id) == set()
