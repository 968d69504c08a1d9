"""Our five processes survive the modeller unchanged: each is opened in the browser's bpmn-js editor and
saved without edits, and the saved XML keeps every element with its attributes, every extension element,
the messages and correlations, every shape's bounds and edge's waypoints, and passes the server's checks.
The app is this module's own, deployed from processes/ and forms/."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select

from casefile import accounts
from casefile.demo import seed_organisations
from casefile.roles import ROLES
from engine.clock import FrozenClock
from engine.modelling import check_document
from engine.models import ProcessVersion
from engine.specs import read_models
from tests.browser.conftest import NOW, ROOT, LiveServer, browser_app, login, served
from webapp.accounts.auth import hash_password
from webapp.demo import DEMO_ROLE_ORGS
from webapp.extensions import db

PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
OUR_PROCESSES = ("intake", "housing_placement", "monitoring", "mediation", "exit")
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"


def serve_processes(make_database: Any) -> Iterator[tuple[LiveServer, Any]]:
    """An app with processes/ deployed and an analyst ('analista', password 'demo'), served in a thread."""
    app = browser_app(make_database(), FrozenClock(NOW), PROCESSES, FORMS)
    with app.app_context():
        app.extensions["engine"].deploy(db.session, read_models([PROCESSES], FORMS, roles=ROLES), actor="tester")
        seed_organisations(db.session)
        org = accounts.ensure_organisation(db.session, DEMO_ROLE_ORGS["analista"], "Analisti")
        accounts.create_user(db.session, "analista", organisation=org, roles=["analista"],
                             password_hash=hash_password("demo"), full_name="Analista")
        db.session.commit()
    with served(app) as live:
        yield live, app


@pytest.fixture(scope="module")
def processes_app(make_database: Any) -> Iterator[tuple[LiveServer, Any]]:
    yield from serve_processes(make_database)


def version_of(app: Any, process_id: str) -> ProcessVersion:
    with app.app_context():
        version = db.session.scalars(select(ProcessVersion).where(ProcessVersion.process_id == process_id)
                                     .order_by(ProcessVersion.id.desc())).first()
        db.session.refresh(version, ["bpmn_xml", "dmn_files"])
        db.session.expunge(version)
        return version


def saved_unchanged(page: Any, server: LiveServer, version_id: int) -> str:
    """The version's XML as bpmn-js writes it after opening it and changing nothing."""
    page.goto(f"{server.url}/modeller/versions/{version_id}")
    page.wait_for_selector("#modeller[data-ready=true]")
    return str(page.evaluate("async () => (await window.pis2Modeler.saveXML({format: true})).xml"))


# --- what must survive ------------------------------------------------------------------------------


def _canonical(element: Any) -> tuple[Any, ...]:
    """An element as tag, attributes, text (kept exactly, unless only layout whitespace) and children."""
    text = element.text if len(element) == 0 and (element.text or "").strip() else ""
    return (element.tag, tuple(sorted(element.attrib.items())), text, tuple(_canonical(c) for c in element))


def _owner_id(element: Any) -> str | None:
    """The id of the element, or of its nearest ancestor that has one (correlation keys, refs have none)."""
    for node in (element, *element.iterancestors()):
        if node.get("id"):
            return str(node.get("id"))
    return None


class Model:
    """The parts of a BPMN document the modeller must keep."""

    def __init__(self, xml: str | bytes) -> None:
        root = etree.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml)
        self.elements: Counter[tuple[Any, ...]] = Counter()
        self.extensions: dict[str | None, tuple[Any, ...]] = {}
        self.shapes: dict[str | None, tuple[dict[str, str], dict[str, str]]] = {}
        self.edges: dict[str | None, list[dict[str, str]]] = {}
        for element in root.iter(etree.Element):
            outer = [element, *element.iterancestors()]
            if any(node.tag == f"{BPMN}extensionElements" for node in outer[1:]):
                continue  # compared as a whole with its extensionElements
            if any(node.tag.startswith(BPMNDI) for node in outer):
                continue  # compared as shapes and edges
            if element.tag == f"{BPMN}extensionElements":
                self.extensions[_owner_id(element)] = _canonical(element)
                continue
            text = (element.text or "").strip() if len(element) == 0 else ""
            key = element.get("id") or ("inside", _owner_id(element))
            self.elements[(element.tag, key, tuple(sorted(element.attrib.items())), text)] += 1
        for shape in root.iter(f"{BPMNDI}BPMNShape"):
            bounds = shape.find("{*}Bounds")
            self.shapes[shape.get("bpmnElement")] = (dict(shape.attrib), dict(bounds.attrib))
        for edge in root.iter(f"{BPMNDI}BPMNEdge"):
            self.edges[edge.get("bpmnElement")] = [dict(w.attrib) for w in edge.iter("{*}waypoint")]


def losses(original: str, saved: str) -> dict[str, Any]:
    """What differs between the original and the saved document (empty when nothing was lost)."""
    before, after = Model(original), Model(saved)
    found: dict[str, Any] = {}
    if before.elements != after.elements:
        found["elements lost"] = sorted(map(str, (before.elements - after.elements).elements()))[:20]
        found["elements added"] = sorted(map(str, (after.elements - before.elements).elements()))[:20]
    changed = [key for key in before.extensions.keys() | after.extensions.keys()
               if before.extensions.get(key) != after.extensions.get(key)]
    if changed:
        found["extension elements changed on"] = sorted(map(str, changed))
    if before.shapes != after.shapes:
        found["shapes changed"] = sorted(str(k) for k in before.shapes.keys() | after.shapes.keys()
                                         if before.shapes.get(k) != after.shapes.get(k))
    if before.edges != after.edges:
        found["edges changed"] = sorted(str(k) for k in before.edges.keys() | after.edges.keys()
                                        if before.edges.get(k) != after.edges.get(k))
    return found


def test_the_comparison_sees_a_loss() -> None:
    """The checks below are only worth something if dropping or changing any part shows up."""
    original = (PROCESSES / "intake.bpmn").read_text(encoding="utf-8")
    assert losses(original, original) == {}
    assert "elements lost" in losses(original, original.replace(
        "<bpmn:loopDataInputRef>consents</bpmn:loopDataInputRef>", ""))
    assert "extension elements changed on" in losses(original, original.replace(
        '<spiffworkflow:property name="dueIn" value="P2D" />', ""))
    assert "extension elements changed on" in losses(original, original.replace("head_last_name =", "head_last ="))
    assert "shapes changed" in losses(original, original.replace('x="', 'x="1', 1))
    assert "edges changed" in losses(original, original.replace('<di:waypoint x="', '<di:waypoint x="9', 1))
    assert "elements lost" in losses(original, original.replace(
        '<bpmn:correlationPropertyRef>household_reference</bpmn:correlationPropertyRef>', ""))


@pytest.mark.parametrize("process_id", OUR_PROCESSES)
def test_a_process_saved_unchanged_by_the_modeller_keeps_everything(
        processes_app: tuple[LiveServer, Any], page: Any, process_id: str) -> None:
    server, app = processes_app
    version = version_of(app, process_id)
    original = version.bpmn_xml  # processes/<id>.bpmn as deployed
    assert Model(original).shapes
    login(page, server, "analista")
    saved = saved_unchanged(page, server, version.id)

    assert losses(original, saved) == {}
    with app.app_context():
        check = check_document(saved.encode("utf-8"), version.dmn_files, version.forms, FORMS,
                               app.extensions["engine"].roles)
    assert [p.as_dict() for p in check.problems] == []


def test_saved_xml_keeps_our_extensions_typed(processes_app: tuple[LiveServer, Any], page: Any,
                                              tmp_path: Path) -> None:
    """bpmn-js reads our extensions as typed elements (the descriptor), not as unknown XML."""
    server, app = processes_app
    login(page, server, "analista")
    page.goto(f"{server.url}/modeller/versions/{version_of(app, 'intake').id}")
    page.wait_for_selector("#modeller[data-ready=true]")
    types = page.evaluate("""() => {
        const registry = window.pis2Modeler.get('elementRegistry');
        const values = (id) => registry.get(id).businessObject.extensionElements.values.map(v => v.$type);
        const operator = registry.get('find_task_organisations').businessObject.extensionElements.values[0];
        return {user: values('enter_referral'), service: values('find_task_organisations'),
                decision: values('check_eligibility'),
                parameter: operator.parameterList.parameters[0].$type};
    }""")
    assert types == {
        "user": ["spiffworkflow:Properties", "spiffworkflow:InstructionsForEndUser", "spiffworkflow:PostScript"],
        "service": ["spiffworkflow:ServiceTaskOperator"],
        "decision": ["spiffworkflow:CalledDecisionId"],
        "parameter": "spiffworkflow:Parameter",
    }
