"""Models made by other tools (../shared/interop): each imports and runs, or is refused with a named list.

The corpus is read where it lies, never copied into the repository; an importable model is written
to a temporary folder under its process id, as an import stores it, and deployed from there. The
files come from tools that know nothing of our roles, so they are checked and run by an engine
without a role table (no lanes required); the app's own roles are checked on our processes below.
"""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from jsonschema.validators import validator_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile.roles import ROLES
from engine import Actor, Engine
from engine.compatibility import CompatibilityReport, check_files
from engine.models import HumanTask
from engine.specs import read_models

ROOT = Path(__file__).resolve().parents[2]
INTEROP = ROOT.parent / "shared" / "interop"
ANNA = Actor("anna", frozenset(), "capofila")

pytestmark = pytest.mark.skipif(not INTEROP.is_dir(), reason=f"interop corpus not found at {INTEROP}")


def corpus() -> list[str]:
    if not INTEROP.is_dir():
        return []
    return sorted(str(p.relative_to(INTEROP)) for p in INTEROP.rglob("*") if p.is_file() and p.name != "README.md")


# Importable: (process id, first ready human task). Each also runs on, see the tests below.
IMPORTABLE = {
    "spiff-arena/manual-task-with-timer/manual_task_with_timer.bpmn": ("Process_ppiuwh1", "Activity_00rjpvx"),
    "spiff-arena/user-guide-basics/user-guide-basics.bpmn": ("Proccess_rlm9uj3", "Activity_0v7nz5r"),
    "spiff-arena/user-guide-basics/analyze-telephone-number.dmn": ("Proccess_rlm9uj3", "Activity_0v7nz5r"),
}

# Refused: (element id or None, a fragment of its message) pairs that the list must name.
REFUSED = {
    "bpmn-js/kitchen-sink.bpmn": [
        ("Gateway_0im7nvs", "complexGateway: complex gateways are not supported"),
        ("Activity_088fmm5", "event sub-processes are not supported"),
        ("Activity_0djfr8f", "transaction: transaction sub-processes are not supported"),
        ("Activity_08egzqv", "adHocSubProcess: ad-hoc sub-processes are not supported"),
        ("Event_09uyr4s", "compensation events are not supported"),
        ("Event_1cutsq6", "cancel events are not supported"),
        ("DataStoreReference_1wvmfek", "data stores are not supported"),
        ("Activity_1ivfc6a", "vendor execution extensions are not supported: zeebe:calledElement"),
        ("Event_1p4tub5", "timer has no expression"),
    ],
    "camunda7/invoice.v2.bpmn": [
        ("FinancialAccountingSystem", "dataStore: data stores are not supported"),
        ("approveInvoice", "vendor execution extensions are not supported: camunda:taskListener"),
        ("assignApprover", "camunda:decisionRef"),
        ("ServiceTask_1", "vendor execution extensions are not supported: camunda:class"),
        ("ServiceTask_1", "service task has no spiffworkflow:serviceTaskOperator"),
        ("reviewInvoice", "camunda:in, camunda:out"),
        ("invoiceApproved", "condition '${approved}' is a UEL/JUEL expression: write it in Python"),
        ("prepareBankTransfer", "user task has no form"),
    ],
    "camunda7/reviewInvoice.bpmn": [
        ("assignReviewer", "user task has no form (formJsonSchemaFilename)"),
        ("reviewInvoice", "user task has no form (formJsonSchemaFilename)"),
    ],
    "camunda7/invoiceBusinessDecisions.dmn": [
        (None, "a DMN file must hold one decision (found 2)"),
        ("InformationRequirement_1kkeocv", "decisions that require other decisions are not supported"),
        ("LiteralExpression_0qmsef6", "FEEL expression '[250..1000]' is not supported"),
    ],
    "chor-js/pizzaDelivery.bpmn": [
        ("PizzaDelivery", "choreography: choreographies are not supported"),
        ("_tTv5YOycEeiHGOQ2NkJZNQ", "the file holds no process at all"),
    ],
    "flowable/loan.bpmn": [
        ("sid-E499C4FD-601A-428B-8A94-53A4702BCA5A", "user task has no form"),
        ("sid-410F9B72-3AEA-4BB0-9F4C-B749488FE835", "is a UEL/JUEL expression"),
        ("sid-2DE79A5D-66B8-45A1-A2A2-906925F63E90", "vendor execution extensions are not supported: flowable:class"),
    ],
    "flowable/call-semantic-analysis.bpmn20.xml": [
        ("sendAndReceiveEventTask1", "flowable:type, flowable:triggerable, flowable:eventType"),
        ("serviceTask1", "flowable:expression"),
        ("sequenceFlow5", "is a UEL/JUEL expression"),
        ("intermediateTimerEventBoundary1", 'timer expression must be a quoted ISO 8601 string'),
    ],
    "flowable/risk_rating_spec_example.dmn": [(None, "DMN element input has no id")],
    "miwg/bpmn.io-camunda-modeler/C.9.1-export.bpmn": [
        ("Event_0r6z74c", "timer has no expression"),
        ("Event_08bx9nv", "timer has no expression"),
        ("Activity_1i5yoko", "user task has no form"),
    ],
    "miwg/signavio/C.2.0-export.bpmn": [
        ("sid-44de1bff-b2dc-4f5f-a9f3-701a6e02a1d9", "no executable process: nothing to run"),
    ],
    "miwg/trisotech-workflow-modeler/C.6.0-export.bpmn": [
        ("_8906af65-3a4e-454d-be8d-ea88250b6c35", "event sub-processes are not supported"),
        ("_ba4713c7-9972-4d8e-8e24-8e3b47dedb69", "compensation events are not supported"),
        ("_f16dbec3-7773-44cd-8691-9ce9851521a2", "service task has no spiffworkflow:serviceTaskOperator"),
        ("_3bb3112b-1017-4411-8d2e-f31f0db4f324", "Cannot resolve dataInputAssociation"),
    ],
    "miwg/reference/B.2.0.bpmn": [
        ("_1373638079286", "no executable process"),
        ("DS1373638079677", "dataStore: data stores are not supported"),
        ("_d4afdad7-65a5-40c6-9fee-e13ba4c0bed4", "globalUserTask: global tasks are not supported"),
    ],
    "miwg/reference/C.1.1.bpmn": [
        ("sid-14ef3d18-7218-4f57-98f0-bb595114754b", "dataStore: data stores are not supported"),
        ("archiveInvoice", "camunda:delegateExpression, camunda:field"),
        ("invoiceApproved", "invalid condition"),
        ("approveInvoice", "user task has no form"),
    ],
    "spiff-arena/message-start-event-with-multiple-forms/message-start-event-with-multiple-forms.bpmn": [
        ("Lane_0n1tm41", "lane has no name"),
        ("message_start_event_one", "attribute 'messageRef': The attribute 'messageRef' is not allowed"),
    ],
}

# What an import names as ignored (warnings), beside the verdict.
IGNORED = {
    "camunda7/reviewInvoice.bpmn": [("assignReviewer", "vendor extensions ignored: camunda:formKey, camunda:assignee"),
                                    ("ReviewInvoice", "file name should be ReviewInvoice.bpmn")],
    "miwg/signavio/C.2.0-export.bpmn": [(None, 'process is not executable (isExecutable="false"): it is ignored')],
    "miwg/trisotech-workflow-modeler/C.6.0-export.bpmn": [
        ("_1a18eb49-7913-4919-a44b-27f3a547e61a", "process has no isExecutable flag")],
    "spiff-arena/user-guide-basics/analyze-telephone-number.dmn": [
        ("output_1", "vendor extension ignored: biodi:width")],
}


@functools.cache
def folder_reports(folder: Path) -> dict[str, CompatibilityReport]:
    """Every model of a folder checked together (a BPMN finds its DMN), with the folder's forms."""
    return {r.file: r for r in check_files([folder], folder, {})}


def report_of(path: Path) -> CompatibilityReport:
    return folder_reports(path.parent)[str(path)]


def names(problems: list) -> list[tuple[str | None, str]]:
    return [(p.element_id, p.message) for p in problems]


def test_every_corpus_file_has_a_determined_outcome() -> None:
    forms = {f for f in corpus() if f.endswith(".json")}
    assert set(corpus()) == set(IMPORTABLE) | set(REFUSED) | forms


@pytest.mark.parametrize("name", corpus())
def test_corpus_file(name: str, session: Session, tmp_path: Path) -> None:
    path = INTEROP / name
    if path.suffix == ".json":
        check_form_file(path)
        return
    report = report_of(path)
    for element_id, fragment in IGNORED.get(name, []):
        assert any(fragment in m and element_id in (None, e) for e, m in names(report.ignored)), report.ignored
    if name in REFUSED:
        assert not report.importable
        for element_id, fragment in REFUSED[name]:
            assert any(e == element_id and fragment in m for e, m in names(report.problems)), \
                f"{element_id}: {fragment!r} not in {names(report.problems)}"
        assert all(p.line or "Data Store" in p.message for p in report.problems)  # each one can be found
    else:
        assert report.importable, [str(p) for p in report.problems]
        process_id, first_task = IMPORTABLE[name]
        deploy_and_start(path.parent, process_id, first_task, session, tmp_path)


def check_form_file(path: Path) -> None:
    """spiff-arena forms: valid JSON; the data schemas are JSON Schemas our form checks accept."""
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    if "uischema" not in path.name.lower():
        validator_for(data, default=Draft202012Validator).check_schema(data)
    # A model file it is not: the check says so instead of failing.
    report = check_files([path], path.parent, {})[0]
    assert not report.importable
    assert report.problems[0].line == 1


def deploy_and_start(folder: Path, process_id: str, first_task: str, session: Session, tmp_path: Path) -> None:
    """Store the folder's models as an import would (under the process id), deploy, start, reach a wait."""
    for model in folder.iterdir():
        if model.suffix == ".dmn":
            shutil.copy(model, tmp_path / model.name)
        elif model.suffix == ".bpmn" and process_id in model.read_text(encoding="utf-8"):
            shutil.copy(model, tmp_path / f"{process_id}.bpmn")
    engine = Engine(roles={})
    engine.deploy(session, read_models([tmp_path], folder), actor="tester")
    instance = engine.start(session, process_id, {}, ANNA)
    assert instance.status in ("running", "waiting")
    ready = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                    HumanTask.status == "ready")).all()
    assert [t.task_spec_id for t in ready] == [first_task]


def test_user_guide_basics_runs_its_decision_after_the_form(session: Session, tmp_path: Path) -> None:
    folder = INTEROP / "spiff-arena" / "user-guide-basics"
    deploy_and_start(folder, "Proccess_rlm9uj3", "Activity_0v7nz5r", session, tmp_path)
    engine = Engine(roles={})
    form = session.scalars(select(HumanTask).where(HumanTask.task_spec_id == "Activity_0v7nz5r")).one()
    # Without lanes the task is in no role's queue: a coordinator hands it to somebody.
    engine.reassign(session, form.id, ANNA.username, Actor.system("coordinator"))
    data = {"firstName": "Chuck", "lastName": "Norris", "telephone": "8005425277"}
    instance = engine.complete_task(session, form.id, data, ANNA)
    assert instance.status != "error"
    ready = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                    HumanTask.status == "ready")).all()
    # The decision table said "Chuck's Fan Club Number", which the gateway's default flow takes.
    assert [t.task_spec_id for t in ready] == ["Activity_1aggwmx"]


def test_our_own_processes_pass_with_no_problem() -> None:
    reports = check_files([ROOT / "processes"], ROOT / "forms", ROLES)
    assert len([r for r in reports if r.file.endswith(".bpmn")]) == 5
    assert [(r.file, names(r.problems), names(r.ignored)) for r in reports if r.problems or r.ignored] == []


# --- rules the corpus does not show ------------------------------------------------------------------

DEFINITIONS = ('<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
               'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
               'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs">{}</definitions>')


def analyse_text(tmp_path: Path, body: str, name: str = "model.bpmn") -> CompatibilityReport:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return check_files([path], tmp_path, {})[0]


def test_non_python_script_and_unknown_message_are_named(tmp_path: Path) -> None:
    report = analyse_text(tmp_path, DEFINITIONS.format(
        '<process id="p" isExecutable="true">'
        '<startEvent id="s"><messageEventDefinition id="md" messageRef="[object Object]"/></startEvent>'
        '<scriptTask id="js" scriptFormat="javascript"><script>x = 1</script></scriptTask>'
        '<sequenceFlow id="f1" sourceRef="s" targetRef="js"/></process>'))
    found = names(report.problems)
    assert ("s", "messageEventDefinition: messageRef '[object Object]' does not name a message of this file") in found
    assert ("js", "scriptTask: script language 'javascript' is not supported: scripts are Python") in found


def test_several_executable_pools_are_refused(tmp_path: Path) -> None:
    report = analyse_text(tmp_path, DEFINITIONS.format(
        '<collaboration id="c"><participant id="pa" processRef="a"/><participant id="pb" processRef="b"/>'
        '</collaboration><process id="a" isExecutable="true"><startEvent id="sa"/></process>'
        '<process id="b" isExecutable="true"><startEvent id="sb"/></process>'))
    assert ("defs", "collaboration with 2 executable pools (a, b): deploy one executable process per file") \
        in names(report.problems)


def test_feel_conditions_and_unsupported_hit_policies_are_named(tmp_path: Path) -> None:
    bpmn = analyse_text(tmp_path, DEFINITIONS.format(
        '<process id="p" isExecutable="true"><startEvent id="s"/><endEvent id="e"/>'
        '<sequenceFlow id="f" sourceRef="s" targetRef="e"><conditionExpression '
        'language="https://www.omg.org/spec/DMN/20191111/FEEL/">x &gt; 1</conditionExpression></sequenceFlow>'
        '</process>'))
    assert any(e == "f" and "is not supported: expressions are Python" in m for e, m in names(bpmn.problems))
    dmn = analyse_text(tmp_path, (
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="n">'
        '<decision id="dec" name="dec"><decisionTable id="t" hitPolicy="ANY">'
        '<input id="i"><inputExpression id="ie"><text>x</text></inputExpression></input>'
        '<output id="o" name="y"/><rule id="r"><inputEntry id="re"><text>not(1)</text></inputEntry>'
        '<outputEntry id="ro"><text>1</text></outputEntry></rule></decisionTable></decision></definitions>'),
        name="dec.dmn")
    found = names(dmn.problems)
    assert ("t", "decisionTable: hit policy ANY is not supported (only UNIQUE, FIRST and COLLECT)") in found
    assert ("re", "inputEntry: FEEL expression 'not(1)' is not supported: decision table cells are Python") in found


def test_vendor_behaviour_refuses_and_vendor_metadata_is_only_named(tmp_path: Path) -> None:
    report = analyse_text(tmp_path, DEFINITIONS.format(
        '<process id="p" isExecutable="true" camunda:versionTag="1"><startEvent id="s"/>'
        '<task id="t" camunda:asyncBefore="true"><extensionElements><camunda:executionListener '
        'class="x.Y" event="start"/></extensionElements></task>'
        '<sequenceFlow id="f" sourceRef="s" targetRef="t"/></process>'))
    assert ("t", "task: vendor execution extensions are not supported: camunda:executionListener") \
        in names(report.problems)
    assert ("p", "process: vendor extensions ignored: camunda:versionTag") in names(report.ignored)
    assert ("t", "task: vendor extensions ignored: camunda:asyncBefore") in names(report.ignored)
