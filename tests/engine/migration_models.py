"""BPMN versions of one small process for the migration tests: v1 and variants of it."""

from __future__ import annotations

from engine.specs import ModelFile, read_models
from tests.engine.conftest import FORMS, MODELS

_FORM = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property '
         'name="formJsonSchemaFilename" value="approval_review.schema.json"/></spiffworkflow:properties>'
         '</bpmn:extensionElements>')


def _user_task(task_id: str, name: str, incoming: str, outgoing: str) -> str:
    return (f'<bpmn:userTask id="{task_id}" name="{name}">{_FORM}<bpmn:incoming>{incoming}</bpmn:incoming>'
            f'<bpmn:outgoing>{outgoing}</bpmn:outgoing></bpmn:userTask>')


def review_process(steps: list[tuple[str, str]], *, with_review: bool = True) -> str:
    """start → review (5-day boundary timer → escalate) → steps… → done."""
    nodes, flows = [], []
    previous = "start"
    if with_review:
        nodes.append(_user_task("review", "Revisione", "f0", "f_review"))
        nodes.append('<bpmn:boundaryEvent id="late" attachedToRef="review"><bpmn:outgoing>f_late</bpmn:outgoing>'
                     '<bpmn:timerEventDefinition><bpmn:timeDuration>"P5D"</bpmn:timeDuration>'
                     '</bpmn:timerEventDefinition></bpmn:boundaryEvent>')
        nodes.append(_user_task("escalate", "Sollecito", "f_late", "f_esc"))
        nodes.append('<bpmn:endEvent id="escalated"><bpmn:incoming>f_esc</bpmn:incoming></bpmn:endEvent>')
        flows.append('<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="review"/>')
        flows.append('<bpmn:sequenceFlow id="f_late" sourceRef="late" targetRef="escalate"/>')
        flows.append('<bpmn:sequenceFlow id="f_esc" sourceRef="escalate" targetRef="escalated"/>')
        previous, incoming = "review", "f_review"
    else:
        incoming = "f0"
    if not with_review:
        flows.append(f'<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="{steps[0][0]}"/>')
    for index, (task_id, name) in enumerate(steps, start=1):
        outgoing = f"f_step{index}"
        nodes.append(_user_task(task_id, name, incoming, outgoing))
        if previous != "start":
            flows.append(f'<bpmn:sequenceFlow id="{incoming}" sourceRef="{previous}" targetRef="{task_id}"/>')
        previous, incoming = task_id, outgoing
    nodes.append(f'<bpmn:endEvent id="done"><bpmn:incoming>{incoming}</bpmn:incoming></bpmn:endEvent>')
    flows.append(f'<bpmn:sequenceFlow id="{incoming}" sourceRef="{previous}" targetRef="done"/>')
    refs = "".join(f"<bpmn:flowNodeRef>{n.split(chr(34))[1]}</bpmn:flowNodeRef>" for n in nodes)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_mig" '
            'targetNamespace="http://bpmn.io/schema/bpmn"><bpmn:process id="mig" name="Migrazione" isExecutable="true">'
            '<bpmn:laneSet id="lanes"><bpmn:lane id="lane_coord" name="Coordinatore di progetto">'
            f'<bpmn:flowNodeRef>start</bpmn:flowNodeRef>{refs}</bpmn:lane></bpmn:laneSet>'
            '<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>'
            + "".join(nodes) + "".join(flows) + "</bpmn:process></bpmn:definitions>")


def _forms() -> dict[str, object]:
    return read_models([MODELS / "deadline.bpmn"], FORMS)[0].forms


V1 = review_process([("final", "Chiusura")])
V2_ADDED = review_process([("extra", "Verifica aggiuntiva"), ("final", "Chiusura")])
V2_RENAMED = review_process([("final_check", "Chiusura controllata")])
V2_REMOVED = review_process([("final", "Chiusura")], with_review=False)


def model(bpmn_xml: str, process_id: str = "mig") -> ModelFile:
    return ModelFile(process_id=process_id, name="Migrazione", source_file=f"{process_id}.bpmn",
                     bpmn_xml=bpmn_xml, forms=_forms())


def reply_variant(rename_chase: bool, *, rename_message: bool = False) -> ModelFile:
    """reply_or_timeout, with its timeout task (or the message it waits for) renamed in the newer version."""
    xml = (MODELS / "reply_or_timeout.bpmn").read_text(encoding="utf-8")
    if rename_message:
        xml = xml.replace('name="landlord_answer"', 'name="landlord_reply"')
    if rename_chase:
        xml = xml.replace('"chase"', '"chase_v2"').replace(">chase<", ">chase_v2<").replace(
            "Sollecita il proprietario", "Sollecita il proprietario (v2)")
    return ModelFile(process_id="reply_or_timeout", name="Risposta", source_file="reply_or_timeout.bpmn",
                     bpmn_xml=xml, forms=_forms())


def subprocess_process(inner_id: str = "inner", *, extra_after: bool = False) -> str:
    """start → sub (an embedded subprocess with one user task) → [extra →] final → done."""
    after = (_user_task("extra", "Dopo il sottoprocesso", "g1", "g1b")
             + '<bpmn:sequenceFlow id="g1b" sourceRef="extra" targetRef="final"/>') if extra_after else ""
    to_final = "extra" if extra_after else "final"
    final_in = "g1b" if extra_after else "g1"
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_migsub" '
            'targetNamespace="http://bpmn.io/schema/bpmn"><bpmn:process id="migsub" name="Con sottoprocesso" '
            'isExecutable="true"><bpmn:laneSet id="lanes"><bpmn:lane id="lane_coord" name="Coordinatore di progetto">'
            '<bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>sub</bpmn:flowNodeRef>'
            + ('<bpmn:flowNodeRef>extra</bpmn:flowNodeRef>' if extra_after else "")
            + '<bpmn:flowNodeRef>final</bpmn:flowNodeRef><bpmn:flowNodeRef>done</bpmn:flowNodeRef></bpmn:lane>'
            '</bpmn:laneSet><bpmn:startEvent id="start"><bpmn:outgoing>g0</bpmn:outgoing></bpmn:startEvent>'
            '<bpmn:subProcess id="sub" name="Sotto"><bpmn:incoming>g0</bpmn:incoming><bpmn:outgoing>g1</bpmn:outgoing>'
            '<bpmn:startEvent id="sub_start"><bpmn:outgoing>s0</bpmn:outgoing></bpmn:startEvent>'
            + _user_task(inner_id, "Passo interno", "s0", "s1")
            + '<bpmn:endEvent id="sub_end"><bpmn:incoming>s1</bpmn:incoming></bpmn:endEvent>'
            f'<bpmn:sequenceFlow id="s0" sourceRef="sub_start" targetRef="{inner_id}"/>'
            f'<bpmn:sequenceFlow id="s1" sourceRef="{inner_id}" targetRef="sub_end"/></bpmn:subProcess>'
            + after + _user_task("final", "Chiusura", final_in, "g2")
            + '<bpmn:endEvent id="done"><bpmn:incoming>g2</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="g0" sourceRef="start" targetRef="sub"/>'
            f'<bpmn:sequenceFlow id="g1" sourceRef="sub" targetRef="{to_final}"/>'
            '<bpmn:sequenceFlow id="g2" sourceRef="final" targetRef="done"/></bpmn:process></bpmn:definitions>')
