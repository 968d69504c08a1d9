"""The diagrams analysts open: every node drawn inside its lane, nothing overlapping, left to right."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from casefile.roles import ROLES
from engine.specs import resolve_lane_role, safe_xml_parser

from . import PROCESSES

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
FLOW_NODE_TAGS = {
    "task", "userTask", "manualTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask", "receiveTask",
    "callActivity", "subProcess", "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
    "boundaryEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
}
EXPECTED = ["exit.bpmn", "housing_placement.bpmn", "intake.bpmn", "mediation.bpmn", "monitoring.bpmn"]


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float

    def contains(self, other: Box) -> bool:
        return (self.x <= other.x and self.y <= other.y and other.x + other.width <= self.x + self.width
                and other.y + other.height <= self.y + self.height)

    def overlaps(self, other: Box) -> bool:
        return (self.x < other.x + other.width and other.x < self.x + self.width
                and self.y < other.y + other.height and other.y < self.y + self.height)

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2


def bpmn_files() -> list[Path]:
    return sorted(PROCESSES.glob("*.bpmn"))


def load(path: Path) -> etree._Element:
    return etree.parse(str(path), safe_xml_parser()).getroot()


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


def shapes(root: etree._Element) -> dict[str, Box]:
    found = {}
    for shape in root.iterfind(".//bpmndi:BPMNShape", NS):
        bounds = shape.find("dc:Bounds", NS)
        assert bounds is not None, shape.get("id")
        found[shape.get("bpmnElement")] = Box(*(float(bounds.get(k)) for k in ("x", "y", "width", "height")))
    return found


def flow_nodes(root: etree._Element) -> list[etree._Element]:
    return [el for process in root.iterfind("bpmn:process", NS) for el in process.iter()
            if isinstance(el.tag, str) and local(el) in FLOW_NODE_TAGS]


def lane_of(root: etree._Element) -> dict[str, str]:
    return {ref.text.strip(): lane.get("id") for lane in root.iterfind(".//bpmn:lane", NS)
            for ref in lane.iterfind("bpmn:flowNodeRef", NS)}


def test_the_five_processes_are_there() -> None:
    assert [path.name for path in bpmn_files()] == EXPECTED


@pytest.mark.parametrize("path", bpmn_files(), ids=lambda p: p.name)
def test_every_flow_node_is_drawn_inside_its_lane(path: Path) -> None:
    root = load(path)
    boxes, lanes = shapes(root), lane_of(root)
    nodes = flow_nodes(root)
    assert nodes
    for node in nodes:
        node_id = node.get("id")
        assert node_id in boxes, f"{node_id} has no shape"
        assert node_id in lanes, f"{node_id} is in no lane"
        lane_box = boxes[lanes[node_id]]
        if local(node) == "boundaryEvent":  # drawn on its task's border: its centre is in the lane
            x, y = boxes[node_id].centre
            assert lane_box.contains(Box(x, y, 0, 0)), f"{node_id} is outside lane {lanes[node_id]}"
        else:
            assert lane_box.contains(boxes[node_id]), f"{node_id} is outside lane {lanes[node_id]}"


@pytest.mark.parametrize("path", bpmn_files(), ids=lambda p: p.name)
def test_no_two_shapes_overlap(path: Path) -> None:
    root = load(path)
    boxes = shapes(root)
    nodes = flow_nodes(root)
    attached = {node.get("id"): node.get("attachedToRef") for node in nodes if local(node) == "boundaryEvent"}
    ids = [node.get("id") for node in nodes]
    for index, first in enumerate(ids):
        for second in ids[index + 1:]:
            if attached.get(first) == second or attached.get(second) == first:
                continue  # a boundary event sits on its own task's border
            assert not boxes[first].overlaps(boxes[second]), f"{first} overlaps {second}"


@pytest.mark.parametrize("path", bpmn_files(), ids=lambda p: p.name)
def test_lanes_stack_without_overlap_inside_the_pool(path: Path) -> None:
    root = load(path)
    boxes = shapes(root)
    lanes = [lane.get("id") for lane in root.iterfind(".//bpmn:lane", NS)]
    assert len(lanes) >= 2
    [participant] = root.iterfind(".//bpmn:participant", NS)
    pool = boxes[participant.get("id")]
    for index, first in enumerate(lanes):
        assert pool.contains(boxes[first]), f"lane {first} is outside the pool"
        for second in lanes[index + 1:]:
            assert not boxes[first].overlaps(boxes[second]), f"lanes {first} and {second} overlap"


@pytest.mark.parametrize("path", bpmn_files(), ids=lambda p: p.name)
def test_one_lane_per_role_and_every_lane_used(path: Path) -> None:
    root = load(path)
    roles = []
    for lane in root.iterfind(".//bpmn:lane", NS):
        role = resolve_lane_role(lane.get("name"), ROLES)
        assert role is not None, f"lane {lane.get('name')!r} names no role"
        assert lane.findall("bpmn:flowNodeRef", NS), f"lane {lane.get('name')!r} is empty"
        roles.append(role)
    assert len(roles) == len(set(roles))


@pytest.mark.parametrize("path", bpmn_files(), ids=lambda p: p.name)
def test_every_sequence_flow_is_drawn_and_the_flow_runs_left_to_right(path: Path) -> None:
    root = load(path)
    boxes = shapes(root)
    edges = {edge.get("bpmnElement"): edge for edge in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    flows = list(root.iterfind(".//bpmn:sequenceFlow", NS))
    forward = 0
    for flow in flows:
        assert flow.get("id") in edges, f"{flow.get('id')} has no edge"
        assert len(edges[flow.get("id")].findall("di:waypoint", NS)) >= 2
        forward += boxes[flow.get("targetRef")].x >= boxes[flow.get("sourceRef")].x
    # Loops go back by design; the bulk of the flow reads left to right.
    assert forward >= 0.75 * len(flows), f"only {forward} of {len(flows)} flows go rightwards"
    nodes = flow_nodes(root)
    starts = [boxes[n.get("id")].x for n in nodes if local(n) == "startEvent"]
    ends = [boxes[n.get("id")].x for n in nodes if local(n) == "endEvent"]
    assert starts
    assert ends
    assert min(starts) < min(ends)


@pytest.mark.parametrize("path", bpmn_files(), ids=lambda p: p.name)
def test_every_activity_has_a_name(path: Path) -> None:
    root = load(path)
    for node in flow_nodes(root):
        if local(node) in {"userTask", "serviceTask", "callActivity", "subProcess", "businessRuleTask"}:
            assert node.get("name"), f"{node.get('id')} has no name"


def on_border(point: tuple[float, float], box: Box, tolerance: float = 1.0) -> bool:
    px, py = point
    within = (box.x - tolerance <= px <= box.x + box.width + tolerance
              and box.y - tolerance <= py <= box.y + box.height + tolerance)
    near_side = min(abs(px - box.x), abs(px - box.x - box.width)) <= tolerance
    near_top_bottom = min(abs(py - box.y), abs(py - box.y - box.height)) <= tolerance
    return within and (near_side or near_top_bottom)


@pytest.mark.parametrize("path", bpmn_files(), ids=lambda p: p.name)
def test_boundary_events_sit_on_their_task_border(path: Path) -> None:
    root = load(path)
    boxes = shapes(root)
    for boundary in root.iterfind(".//bpmn:boundaryEvent", NS):
        host = boxes[boundary.get("attachedToRef")]
        assert on_border(boxes[boundary.get("id")].centre, host), f"{boundary.get('id')} is off its task's border"


@pytest.mark.parametrize("path", bpmn_files(), ids=lambda p: p.name)
def test_edges_join_their_shapes_with_straight_segments(path: Path) -> None:
    root = load(path)
    boxes = shapes(root)
    edges = {edge.get("bpmnElement"): [(float(p.get("x")), float(p.get("y"))) for p in edge.iterfind("di:waypoint", NS)]
             for edge in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    for flow in root.iterfind(".//bpmn:sequenceFlow", NS):
        points = edges[flow.get("id")]
        assert on_border(points[0], boxes[flow.get("sourceRef")]), f"{flow.get('id')} does not start on its source"
        assert on_border(points[-1], boxes[flow.get("targetRef")]), f"{flow.get('id')} does not end on its target"
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            assert x1 == x2 or y1 == y2, f"{flow.get('id')} has a diagonal segment"
