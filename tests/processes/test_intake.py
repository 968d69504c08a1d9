"""The intake process (domain.md §3.1), first increment: referral → acknowledgement → first interview."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from lxml import etree
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile.roles import ROLES
from engine import Actor, Engine, FormValidationError, NotAllowedError
from engine.clock import FrozenClock
from engine.models import HumanTask, ProcessInstance, Timer
from engine.specs import read_models, validate
from engine.timers import fire_due_timers

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
INTAKE = PROCESSES / "intake.bpmn"

COORD = Actor("anna", frozenset({"coordinatore"}), "capofila")
CASE_MANAGER = Actor("bruno", frozenset({"case_manager"}), "capofila")
OTHER_ORG_CASE_MANAGER = Actor("dario", frozenset({"case_manager"}), "altro_ente")

ReadyTask = Callable[[ProcessInstance], HumanTask]

REFERRAL = {
    "referral_date": "2026-03-02",
    "referring_org": "Polo di Inclusione Sociale, Distretto Nord",
    "referring_worker": "Maria Rossi",
    "referral_source": "servizio_sociale_territoriale",
    "urgency": "sfratto_esecutivo",
    "housing_need_type": "emergenza_abitativa",
    "household_name": "Ahmed Benali",
    "referral_notes": "Sfratto fissato per il 15 aprile.",
}
ACK = {"ack_date": "2026-03-03"}
INTERVIEW = {
    "privacy_notice_given": True,
    "interview_date": "2026-03-10",
    "language": "arabo",
    "interpreter_needed": True,
    "interview_notes": "Nucleo di tre persone.",
}


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def engine(clock: FrozenClock, session: Session) -> Engine:
    engine = Engine(roles=ROLES, now=clock)
    engine.deploy(session, read_models([PROCESSES], FORMS, roles=ROLES), actor="tester")
    return engine


@pytest.fixture
def the_ready_task(session: Session, engine: Engine) -> ReadyTask:
    """The instance's one ready task row, checked against its workflow reloaded from the database."""

    def find(instance: ProcessInstance) -> HumanTask:
        session.flush()
        query = select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status == "ready")
        rows = list(session.scalars(query))
        assert len(rows) == 1, [r.task_spec_id for r in rows]
        row = rows[0]
        session.expire(instance)  # read the stored state back, not the object in memory
        workflow = engine.load(instance)
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        assert [(str(t.id), t.task_spec.bpmn_id) for t in ready] == [(row.id, row.task_spec_id)]
        # The restored workflow serializes back to exactly what is stored.
        assert json.loads(engine.serializer.dumps(workflow)) == json.loads(instance.state)
        return row

    return find


def start(engine: Engine, session: Session) -> ProcessInstance:
    return engine.start(session, "intake", {}, COORD)


# --- the model -----------------------------------------------------------------------------------


def test_processes_and_forms_validate() -> None:
    assert validate([PROCESSES], FORMS, ROLES) == []


def test_intake_is_deployed_with_its_forms() -> None:
    [model] = [m for m in read_models([PROCESSES], FORMS, roles=ROLES) if m.process_id == "intake"]
    assert model.name == "Presa in carico (intake)"
    tasks = ["acknowledge_overdue", "acknowledge_referral", "first_interview", "register_referral"]
    assert sorted(model.forms) == sorted(f"intake_{task}.{kind}.json" for task in tasks
                                         for kind in ("schema", "uischema"))


@pytest.mark.parametrize("schema_path", sorted(FORMS.glob("intake_*.schema.json")), ids=lambda p: p.name)
def test_form_fields_have_titles_and_ui_order(schema_path: Path) -> None:
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    ui_path = schema_path.with_name(schema_path.name.replace(".schema.", ".uischema."))
    ui = json.loads(ui_path.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    properties = schema["properties"]
    assert all(prop.get("title") for prop in properties.values())
    assert set(schema["required"]) <= set(properties)
    assert sorted(ui["ui:order"]) == sorted(properties)
    assert set(ui) - {"ui:order"} <= set(properties)
    for name, prop in properties.items():
        if prop.get("format") == "date":
            assert name.endswith("_date")
        if name.endswith("notes") or name == "delay_reason":
            assert ui[name]["ui:widget"] == "textarea"


# --- main path -----------------------------------------------------------------------------------


def test_main_path_hands_each_step_to_its_role(engine: Engine, session: Session, clock: FrozenClock,
                                                the_ready_task: ReadyTask) -> None:
    instance = start(engine, session)
    assert instance.organisation == "capofila"

    register = the_ready_task(instance)
    assert (register.task_spec_id, register.name, register.role, register.organisation) == (
        "register_referral", "Registra l'invio", "coordinatore", "capofila")
    assert register.lane == "Coordinatore di progetto"
    assert register.form_key == "intake_register_referral.schema.json"
    assert register.ui_form_key == "intake_register_referral.uischema.json"
    assert register.instructions
    assert register.due_at == clock() + timedelta(days=2)
    with pytest.raises(NotAllowedError):
        engine.complete_task(session, register.id, REFERRAL, CASE_MANAGER)
    clock.advance(hours=3)  # due times count from when each task becomes ready
    engine.complete_task(session, register.id, REFERRAL, COORD)

    acknowledge = the_ready_task(instance)
    assert (acknowledge.task_spec_id, acknowledge.role) == ("acknowledge_referral", "coordinatore")
    assert acknowledge.form_key == "intake_acknowledge_referral.schema.json"
    assert acknowledge.due_at == clock() + timedelta(days=5)
    timer = session.scalars(select(Timer).where(Timer.instance_id == instance.id)).one()
    assert (timer.task_spec_id, timer.due_at) == ("acknowledge_sla", clock() + timedelta(days=5))
    engine.complete_task(session, acknowledge.id, ACK, COORD)
    assert session.scalars(select(Timer).where(Timer.instance_id == instance.id)).all() == []

    interview = the_ready_task(instance)
    assert (interview.task_spec_id, interview.name, interview.role, interview.organisation) == (
        "first_interview", "Primo colloquio e informativa privacy", "case_manager", "capofila")
    assert interview.due_at == clock() + timedelta(days=10)
    for outsider in (COORD, OTHER_ORG_CASE_MANAGER):
        with pytest.raises(NotAllowedError):
            engine.complete_task(session, interview.id, INTERVIEW, outsider)
    engine.complete_task(session, interview.id, INTERVIEW, CASE_MANAGER)

    assert instance.status == "completed"
    workflow = engine.load(instance)
    assert workflow.completed
    expected = {**REFERRAL, **ACK, **INTERVIEW}
    assert {key: workflow.data.get(key) for key in expected} == expected
    done = select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status == "completed")
    assert [r.task_spec_id for r in session.scalars(done.order_by(HumanTask.completed_at))] == [
        "register_referral", "acknowledge_referral", "first_interview"]


def test_a_fresh_engine_continues_a_stored_instance(engine: Engine, session: Session, clock: FrozenClock,
                                                    the_ready_task: ReadyTask) -> None:
    instance = start(engine, session)
    engine.complete_task(session, the_ready_task(instance).id, REFERRAL, COORD)
    instance_id = instance.id
    session.expunge_all()

    other = Engine(roles=ROLES, now=clock)  # as after a restart: nothing cached in memory
    stored = session.get(ProcessInstance, instance_id)
    assert stored is not None
    row = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                  HumanTask.status == "ready")).one()
    assert row.task_spec_id == "acknowledge_referral"
    task = other.load(stored).get_task_from_id(UUID(row.id))
    assert task.state == TaskState.READY
    assert task.data["household_name"] == "Ahmed Benali"
    other.complete_task(session, row.id, ACK, COORD)
    assert [r.task_spec_id for r in session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == "ready"))] == ["first_interview"]


# --- SLA on the acknowledgement --------------------------------------------------------------------


def test_unacknowledged_referral_raises_a_reminder_after_five_days(
        engine: Engine, session: Session, clock: FrozenClock,
        the_ready_task: ReadyTask) -> None:
    instance = start(engine, session)
    engine.complete_task(session, the_ready_task(instance).id, REFERRAL, COORD)
    acknowledge = the_ready_task(instance)

    clock.advance(days=5)
    assert fire_due_timers(engine, session) == 0  # due, not yet overdue
    clock.advance(seconds=1)
    assert fire_due_timers(engine, session) == 1

    assert session.get(HumanTask, acknowledge.id).status == "cancelled"  # the timer interrupts
    overdue = the_ready_task(instance)
    assert (overdue.task_spec_id, overdue.name, overdue.role, overdue.organisation) == (
        "acknowledge_overdue", "Sollecito: invio non confermato", "coordinatore", "capofila")
    assert overdue.form_key == "intake_acknowledge_overdue.schema.json"
    assert overdue.due_at == clock() + timedelta(days=1)
    assert session.scalars(select(Timer).where(Timer.instance_id == instance.id)).all() == []

    with pytest.raises(FormValidationError) as error:
        engine.complete_task(session, overdue.id, ACK, COORD)
    assert list(error.value.fields) == ["delay_reason"]
    engine.complete_task(session, overdue.id, {**ACK, "delay_reason": "Coordinatore in ferie"}, COORD)

    interview = the_ready_task(instance)
    assert (interview.task_spec_id, interview.role) == ("first_interview", "case_manager")
    engine.complete_task(session, interview.id, INTERVIEW, CASE_MANAGER)
    assert instance.status == "completed"


def test_acknowledging_in_time_drops_the_reminder(engine: Engine, session: Session, clock: FrozenClock,
                                                  the_ready_task: ReadyTask) -> None:
    instance = start(engine, session)
    engine.complete_task(session, the_ready_task(instance).id, REFERRAL, COORD)
    clock.advance(days=4, hours=23)
    assert fire_due_timers(engine, session) == 0
    engine.complete_task(session, the_ready_task(instance).id, ACK, COORD)
    clock.advance(days=30)
    assert fire_due_timers(engine, session) == 0
    assert the_ready_task(instance).task_spec_id == "first_interview"


# --- forms ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("privacy", "message"), [(False, "True was expected"),
                                                  (None, "'privacy_notice_given' is a required property")])
def test_first_interview_needs_the_privacy_notice(engine: Engine, session: Session, privacy: bool | None,
                                                  message: str,
                                                  the_ready_task: ReadyTask) -> None:
    instance = start(engine, session)
    engine.complete_task(session, the_ready_task(instance).id, REFERRAL, COORD)
    engine.complete_task(session, the_ready_task(instance).id, ACK, COORD)
    interview = the_ready_task(instance)
    data = {k: v for k, v in INTERVIEW.items() if k != "privacy_notice_given"}
    if privacy is not None:
        data["privacy_notice_given"] = privacy

    with pytest.raises(FormValidationError) as error:
        engine.complete_task(session, interview.id, data, CASE_MANAGER)

    assert error.value.fields == {"privacy_notice_given": [message]}
    assert the_ready_task(instance).id == interview.id  # still waiting, nothing moved
    assert instance.status == "running"


@pytest.mark.parametrize(("change", "field"), [
    ({"referral_date": "2026-02-30"}, "referral_date"),
    ({"referral_source": "passaparola"}, "referral_source"),
    ({"urgency": "Sfratto esecutivo con data"}, "urgency"),  # the label is not the stored value
    ({"housing_need_type": None}, "housing_need_type"),
    ({"household_name": ""}, "household_name"),
    ({"codice_fiscale": "RSSMRA80A01L219X"}, "codice_fiscale"),  # no fields beyond the form's
])
def test_register_referral_rejects_bad_data(engine: Engine, session: Session, change: dict[str, Any],
                                            field: str, the_ready_task: ReadyTask) -> None:
    instance = start(engine, session)
    register = the_ready_task(instance)
    data = {k: v for k, v in {**REFERRAL, **change}.items() if v is not None}
    with pytest.raises(FormValidationError) as error:
        engine.complete_task(session, register.id, data, COORD)
    assert list(error.value.fields) == [field]


def test_optional_notes_may_be_left_out(engine: Engine, session: Session,
                                        the_ready_task: ReadyTask) -> None:
    instance = start(engine, session)
    referral = {k: v for k, v in REFERRAL.items() if k != "referral_notes"}
    engine.complete_task(session, the_ready_task(instance).id, referral, COORD)
    engine.complete_task(session, the_ready_task(instance).id, ACK, COORD)
    interview = {k: v for k, v in INTERVIEW.items() if k != "interview_notes"}
    engine.complete_task(session, the_ready_task(instance).id, interview, CASE_MANAGER)
    assert instance.status == "completed"


# --- diagram -------------------------------------------------------------------------------------

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
NOT_FLOW_NODES = {"laneSet", "sequenceFlow", "documentation", "extensionElements", "association",
                  "textAnnotation", "dataObject", "dataObjectReference", "dataStoreReference"}
SIZES = {"userTask": (100, 80), "startEvent": (36, 36), "endEvent": (36, 36), "boundaryEvent": (36, 36),
         "exclusiveGateway": (50, 50)}

Box = tuple[float, float, float, float]  # x, y, width, height


@pytest.fixture(scope="module")
def diagram() -> Any:
    return etree.parse(str(INTAKE), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()


def _local(element: Any) -> str:
    return etree.QName(element).localname


def _shapes(root: Any) -> dict[str, Box]:
    boxes = {}
    for shape in root.iterfind(".//bpmndi:BPMNShape", NS):
        bounds = shape.find("dc:Bounds", NS)
        boxes[shape.get("bpmnElement")] = tuple(float(bounds.get(k)) for k in ("x", "y", "width", "height"))
    return boxes


def _inside(inner: Box, outer: Box) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _flow_nodes(process: Any) -> list[Any]:
    return [e for e in process if isinstance(e.tag, str) and _local(e) not in NOT_FLOW_NODES]


def test_diagram_has_a_pool_with_role_lanes(diagram: Any) -> None:
    [participant] = diagram.findall("bpmn:collaboration/bpmn:participant", NS)
    assert participant.get("processRef") == "intake"
    [process] = diagram.findall("bpmn:process", NS)
    assert (process.get("id"), process.get("name"), process.get("isExecutable")) == (
        "intake", "Presa in carico (intake)", "true")
    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    assert [lane.get("name") for lane in lanes] == ["Coordinatore di progetto", "Case manager"]
    assert all(lane.get("name") in ROLES.values() for lane in lanes)
    shapes = _shapes(diagram)
    pool = shapes[participant.get("id")]
    lane_boxes = [shapes[lane.get("id")] for lane in lanes]
    assert all(_inside(box, pool) for box in lane_boxes)
    assert not any(_overlap(a, b) for a, b in itertools.combinations(lane_boxes, 2))
    assert all(180 <= box[3] <= 260 for box in lane_boxes)


def test_every_flow_node_is_drawn_inside_its_lane_without_overlaps(diagram: Any) -> None:
    [process] = diagram.findall("bpmn:process", NS)
    shapes = _shapes(diagram)
    lane_of = {ref.text: lane.get("id") for lane in process.iterfind("bpmn:laneSet/bpmn:lane", NS)
               for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
    nodes = _flow_nodes(process)
    assert {n.get("id") for n in nodes} == set(lane_of)  # every node sits in exactly one lane
    for node in nodes:
        node_id = node.get("id")
        assert node_id in shapes, f"{node_id} has no BPMNShape"
        assert _inside(shapes[node_id], shapes[lane_of[node_id]]), f"{node_id} is outside its lane"
        assert shapes[node_id][2:] == SIZES[_local(node)], f"{node_id} has an unusual size"
    placed = [n.get("id") for n in nodes if _local(n) != "boundaryEvent"]
    for a, b in itertools.combinations(placed, 2):
        assert not _overlap(shapes[a], shapes[b]), f"{a} overlaps {b}"


def test_boundary_events_sit_on_their_task_border(diagram: Any) -> None:
    shapes = _shapes(diagram)
    boundaries = diagram.findall(".//bpmn:boundaryEvent", NS)
    assert [b.get("id") for b in boundaries] == ["acknowledge_sla"]
    for boundary in boundaries:
        x, y, w, h = shapes[boundary.get("id")]
        cx, cy = x + w / 2, y + h / 2
        tx, ty, tw, th = shapes[boundary.get("attachedToRef")]
        on_vertical = cx in (tx, tx + tw) and ty <= cy <= ty + th
        on_horizontal = cy in (ty, ty + th) and tx <= cx <= tx + tw
        assert on_vertical or on_horizontal


def test_every_sequence_flow_is_drawn_left_to_right_between_its_shapes(diagram: Any) -> None:
    shapes = _shapes(diagram)
    edges = {edge.get("bpmnElement"): [(float(p.get("x")), float(p.get("y")))
                                       for p in edge.iterfind("di:waypoint", NS)]
             for edge in diagram.iterfind(".//bpmndi:BPMNEdge", NS)}
    flows = diagram.findall(".//bpmn:sequenceFlow", NS)
    assert {f.get("id") for f in flows} == set(edges)
    for flow in flows:
        points = edges[flow.get("id")]
        assert len(points) >= 2
        source, target = shapes[flow.get("sourceRef")], shapes[flow.get("targetRef")]
        assert _on_border(points[0], source), f"{flow.get('id')} does not start on its source"
        assert _on_border(points[-1], target), f"{flow.get('id')} does not end on its target"
        assert target[0] + target[2] / 2 > source[0] + source[2] / 2, f"{flow.get('id')} runs right to left"
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            assert x1 == x2 or y1 == y2, f"{flow.get('id')} has a diagonal segment"


def _on_border(point: tuple[float, float], box: Box) -> bool:
    px, py = point
    x, y, w, h = box
    within = x <= px <= x + w and y <= py <= y + h
    return within and (px in (x, x + w) or py in (y, y + h))
