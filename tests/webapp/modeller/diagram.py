"""The test intake model with diagram shapes added (the staff test models carry none, and bpmn-js draws
only what has a shape). Written to temporary places only: tests never touch the model files."""

from __future__ import annotations

from pathlib import Path

from tests.webapp.staff.conftest import MODELS

_SHAPES = {  # element id: (x, y, width, height)
    "p_intake": (100, 60, 560, 200), "lane_coord": (130, 60, 530, 200),
    "start": (180, 142, 36, 36), "register_referral": (280, 120, 100, 80), "end": (460, 142, 36, 36),
}
_HORIZONTAL = ' isHorizontal="true"'
_EDGES = {"f1": ((216, 160), (280, 160)), "f2": ((380, 160), (460, 160))}


def _diagram() -> str:
    shapes = "".join(
        f'<bpmndi:BPMNShape id="{eid}_di" bpmnElement="{eid}"'
        f'{_HORIZONTAL if eid.startswith(("p_", "lane")) else ""}>'
        f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/></bpmndi:BPMNShape>'
        for eid, (x, y, w, h) in _SHAPES.items())
    edges = "".join(
        f'<bpmndi:BPMNEdge id="{eid}_di" bpmnElement="{eid}">'
        + "".join(f'<di:waypoint x="{x}" y="{y}"/>' for x, y in points) + "</bpmndi:BPMNEdge>"
        for eid, points in _EDGES.items())
    return (f'<bpmndi:BPMNDiagram id="diagram"><bpmndi:BPMNPlane id="plane" bpmnElement="collab_intake">'
            f"{shapes}{edges}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>")


def intake_with_diagram(text: str | None = None) -> str:
    """The intake model's XML (or ``text``) with a diagram drawing every element."""
    xml = text if text is not None else (MODELS / "intake.bpmn").read_text(encoding="utf-8")
    xml = xml.replace(
        'xmlns:spiffworkflow=',
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow=', 1)
    return xml.replace("</bpmn:definitions>", _diagram() + "</bpmn:definitions>")


def write_copy(directory: Path, text: str, name: str = "intake.bpmn") -> Path:
    """``text`` as a file in ``directory`` (a test's temporary directory)."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path
