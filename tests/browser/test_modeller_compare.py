"""An analyst compares two versions of the intake model in a real browser (bpmn-js-differ marks what was
added, changed and moved, and the table lists it), then migrates the running instances of the oldest
version from the modeller list; on our real monitoring model, a timer given a new deadline is a change
of that timer alone. axe-core finds nothing serious; screenshots kept. The app is this
module's own, so the versions it deploys do not reach the other browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from casefile.roles import ROLES
from engine.models import AuditEvent, ProcessInstance, ProcessVersion
from engine.specs import read_models
from tests.browser.conftest import (
    LiveServer,
    csp_refusals,
    intake_versions,
    login,
    screenshot,
    serious_violations,
    serving_intake_copies,
)
from tests.browser.test_modeller_roundtrip import FORMS, PROCESSES, serve_processes
from tests.webapp.modeller.diagram import intake_with_diagram
from webapp.extensions import db

# The newer version: a task "check" added after the registration, the end event named and moved right,
# the registration given more time (an extension property).
CHANGES = (
    ('<spiffworkflow:property name="dueIn" value="P2D"/>', '<spiffworkflow:property name="dueIn" value="P5D"/>'),
    ('<bpmn:endEvent id="end">', '<bpmn:endEvent id="end" name="Invio registrato">'),
    ('<bpmn:sequenceFlow id="f2" sourceRef="register_referral" targetRef="end"/>',
     '<bpmn:sequenceFlow id="f2" sourceRef="register_referral" targetRef="check"/>'
     '<bpmn:task id="check" name="Controlla l\'invio"><bpmn:incoming>f2</bpmn:incoming>'
     '<bpmn:outgoing>f3</bpmn:outgoing></bpmn:task>'
     '<bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end"/>'),
    ('<dc:Bounds x="460" y="142" width="36" height="36"/>', '<dc:Bounds x="640" y="142" width="36" height="36"/>'),
    ('<di:waypoint x="460" y="160"/>', '<di:waypoint x="500" y="160"/>'),
    ('</bpmndi:BPMNPlane>',
     '<bpmndi:BPMNShape id="check_di" bpmnElement="check"><dc:Bounds x="500" y="120" width="100" height="80"/>'
     '</bpmndi:BPMNShape><bpmndi:BPMNEdge id="f3_di" bpmnElement="f3"><di:waypoint x="600" y="160"/>'
     '<di:waypoint x="640" y="160"/></bpmndi:BPMNEdge></bpmndi:BPMNPlane>'),
)


def newer_intake() -> str:
    xml = intake_with_diagram()
    for old, new in CHANGES:
        assert xml.count(old) == 1, old
        xml = xml.replace(old, new)
    return xml


@pytest.fixture(scope="module")
def comparing(make_database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Any]]:
    """The app with intake deployed three times: the seed's (four instances on it), then two diagram copies."""
    with serving_intake_copies(make_database(), tmp_path_factory, intake_with_diagram(), newer_intake()) as live_app:
        yield live_app



def test_compare_marks_and_lists_the_differences(comparing: tuple[LiveServer, Any], page: Any) -> None:
    server, app = comparing
    blocked = csp_refusals(page)
    login(page, server, "analista")
    page.goto(f"{server.url}/modeller/")
    *_, older, newest = intake_versions(app)
    page.click(f"#model-intake tr[data-version-id='{newest}'] a.compare-previous")
    page.wait_for_url(f"**/modeller/compare?base={older}&other={newest}")
    page.wait_for_selector("#compare[data-ready=true]")

    # Added: on the newer diagram only.
    assert page.locator("#compare-new .djs-element.diff-added[data-element-id=check]").count() == 1
    assert page.locator("#compare-new .djs-element.diff-added[data-element-id=f3]").count() == 1
    assert page.locator("#compare-old [data-element-id=check]").count() == 0
    # Changed (the end event's name; the flow's target) and moved: on both.
    for side in ("old", "new"):
        assert page.locator(f"#compare-{side} .djs-element.diff-changed[data-element-id=end]").count() == 1
        assert page.locator(f"#compare-{side} .djs-element.diff-changed[data-element-id=f2]").count() == 1
        assert page.locator(f"#compare-{side} .djs-element.diff-layout[data-element-id=end]").count() == 1
    assert page.locator("#compare-old .djs-element.diff-changed[data-element-id=register_referral]").count() == 1
    assert page.locator("#compare-old .djs-element.diff-changed[data-element-id=start]").count() == 0

    added = page.locator("#compare-changes tr[data-element-id=check][data-kind=added]")
    assert added.locator("td").nth(1).inner_text() == "Task"
    assert added.locator("td").nth(2).inner_text() == "Controlla l'invio"
    assert "Aggiunto" in added.locator("td").nth(3).inner_text()
    renamed = page.locator("#compare-changes tr[data-element-id=end][data-kind=changed] td").nth(4).inner_text()
    assert "name" in renamed
    assert "Invio registrato" in renamed
    retargeted = page.locator("#compare-changes tr[data-element-id=f2][data-kind=changed] td").nth(4).inner_text()
    assert "targetRef" in retargeted
    assert "#ref:end → #ref:check" in retargeted
    extended = page.locator("#compare-changes tr[data-element-id=register_referral][data-kind=changed] td")
    assert "extensionElements" in extended.nth(4).inner_text()
    assert "dueIn value=P2D → spiffworkflow:property name=dueIn value=P5D" in extended.nth(4).inner_text()
    assert "formJsonSchemaFilename" not in extended.nth(4).inner_text()  # only what differs
    assert page.locator("#compare-changes tr[data-element-id=end][data-kind=layout]").count() == 1
    assert page.locator("#compare-changes tr[data-kind=removed]").count() == 0
    assert page.inner_text(".compare-legend .count[data-kind=added]") == "2"
    assert page.inner_text(".compare-legend .count[data-kind=removed]") == "0"

    # "Mostra nel diagramma" brings the element into view without leaving the page.
    added.locator("button").click()
    assert page.url.endswith(f"/modeller/compare?base={older}&other={newest}")
    screenshot(page, "modeller-compare")
    assert serious_violations(page) == []
    assert blocked == []


def test_a_version_without_shapes_is_still_compared(comparing: tuple[LiveServer, Any], page: Any) -> None:
    server, app = comparing
    first, *_, newest = intake_versions(app)  # the seed's first version has no diagram
    login(page, server, "analista")
    page.goto(f"{server.url}/modeller/compare?base={newest}&other={first}")
    page.wait_for_selector("#compare[data-ready=true]")
    assert "diagramma disegnato" in page.inner_text("#compare-old .compare-no-diagram")
    assert page.locator("#compare-new .djs-element.diff-added[data-element-id=check]").count() == 1
    assert page.locator("#compare-changes tr[data-element-id=check][data-kind=added]").count() == 1
    assert page.locator("#compare-changes tr[data-element-id=check] td").first.locator("button").count() == 1


def test_migrate_a_versions_instances_from_the_list(comparing: tuple[LiveServer, Any], page: Any) -> None:
    server, app = comparing
    first, *_, newest = intake_versions(app)
    login(page, server, "analista")
    page.goto(f"{server.url}/modeller/")
    page.click(f"#model-intake tr[data-version-id='{first}'] a.migrate-latest")
    page.wait_for_url(f"**/modeller/versions/{first}/migrate")
    rows = page.locator("#migrate-form tbody tr[data-migratable=yes]")
    assert rows.count() == 4  # the seed's four intake instances, all of the analyst's organisation
    assert page.locator("#migrate-form input[name=instance]:checked").count() == 4
    assert serious_violations(page) == []
    page.locator("#migrate-form input[name=instance]").first.uncheck()
    page.check("#migrate-form input[name=confirm]")
    page.click("#migrate-form button[type=submit]")
    page.wait_for_selector("#migrate-result")
    assert page.locator("#migrate-result tr[data-migrated=yes]").count() == 3
    screenshot(page, "modeller-migrated")
    with app.app_context():
        on_newest = db.session.scalar(select(func.count()).select_from(ProcessInstance)
                                      .where(ProcessInstance.process_version_id == newest))
        events = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.kind == "instance_migrated"))
    assert (on_newest, events) == (3, 3)


@pytest.fixture(scope="module")
def real_processes(make_database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Any]]:
    """processes/ deployed, then monitoring again with a new deadline: the visit escalation at 10 days."""
    for live, app in serve_processes(make_database):
        text = (PROCESSES / "monitoring.bpmn").read_text(encoding="utf-8")
        assert text.count(OLD_DEADLINE) == 1
        directory = tmp_path_factory.mktemp("monitoring")
        (directory / "monitoring.bpmn").write_text(text.replace(OLD_DEADLINE, NEW_DEADLINE), encoding="utf-8")
        with app.app_context():
            app.extensions["engine"].deploy(
                db.session, read_models([directory / "monitoring.bpmn"], FORMS, roles=ROLES), actor="tester")
            db.session.commit()
        yield live, app


OLD_DEADLINE = '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"P7D"</bpmn:timeDuration>'
NEW_DEADLINE = '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"P10D"</bpmn:timeDuration>'


def test_a_new_deadline_is_a_change_of_its_timer(real_processes: tuple[LiveServer, Any], page: Any) -> None:
    server, app = real_processes
    with app.app_context():
        older, newer = db.session.scalars(select(ProcessVersion.id).where(ProcessVersion.process_id == "monitoring")
                                          .order_by(ProcessVersion.id)).all()
    login(page, server, "analista")
    page.goto(f"{server.url}/modeller/compare?base={older}&other={newer}")
    page.wait_for_selector("#compare[data-ready=true]")
    rows = page.locator("#compare-changes tbody tr")
    assert rows.count() == 1  # the timer, and nothing else of a 100-element model
    timer = page.locator("#compare-changes tr[data-element-id=visit_overdue][data-kind=changed] td")
    what = timer.nth(4).inner_text()
    assert "eventDefinitions" in what
    assert '"P7D"' in what
    assert '"P10D"' in what
    for side in ("old", "new"):
        assert page.locator(f"#compare-{side} .djs-element.diff-changed[data-element-id=visit_overdue]").count() == 1
