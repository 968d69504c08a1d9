"""The City asks for a new step: the whole change, in a real browser, on our real intake model.

An analyst writes the new step's form in the form editor, adds a user task in the case manager's lane
on the modeller's canvas, sees the server's validation name the task without a form, selects it from the
problem and gives it the form in the properties panel, and deploys version 2. A coordinator then starts a
referral, which runs on version 2, while a referral already under way stays on version 1 until the
analyst migrates it after a dry run. The migrated referral goes on and reaches the new step, which the
case manager opens with its new form; the coordinator follows it on the instance page (diagram and
history) and on the dashboard's heat map. The app is this module's own (processes/ and the demo data, as
``make run`` prepares them), so nothing it deploys reaches the other browser tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from casefile.roles import ROLES
from engine.clock import FrozenClock
from engine.form_library import DRAFT_2020_12
from engine.models import HumanTask, ProcessInstance, ProcessVersion
from engine.specs import read_models
from tests.browser.conftest import (
    NOW,
    LiveServer,
    browser_app,
    csp_refusals,
    login,
    screenshot,
    serious_violations,
    served,
)
from tests.browser.test_modeller_properties import field
from tests.browser.test_modeller_roundtrip import FORMS, PROCESSES
from webapp.demo import seed_demo
from webapp.demo.intake import seed_intakes
from webapp.extensions import db

NEW_TASK = "check_documents"
DOCUMENTS_FORM = {
    "$schema": DRAFT_2020_12, "title": "Verifica dei documenti", "type": "object", "additionalProperties": False,
    "required": ["documents_checked"],
    "properties": {
        "documents_checked": {"type": "boolean", "title": "Documenti d'identità verificati"},
        "documents_notes": {"type": "string", "maxLength": 2000, "title": "Documenti mancanti o da rinnovare"},
    },
}
DOCUMENTS_UI = {"ui:order": ["documents_checked", "documents_notes"], "documents_notes": {"ui:widget": "textarea"}}


@pytest.fixture(scope="module")
def programme(make_database: Any) -> Iterator[tuple[LiveServer, Any]]:
    """processes/ deployed, the demo partners, users and households, and the demo referrals under way."""
    clock = FrozenClock(NOW)
    app = browser_app(make_database(), clock, PROCESSES, FORMS)
    with app.app_context():
        engine = app.extensions["engine"]
        engine.deploy(db.session, read_models([PROCESSES], FORMS, roles=ROLES), actor="tester")
        seed_demo(db.session, NOW.date())
        seed_intakes(db.session, engine)
        db.session.commit()
    with served(app) as live:
        yield live, app


def intake_version_numbers(app: Any) -> list[tuple[int, int]]:
    """(id, number) of each intake version, oldest first."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(ProcessVersion.id, ProcessVersion.number).where(ProcessVersion.process_id == "intake")
            .order_by(ProcessVersion.id))]


def version_of_instance(app: Any, instance_id: int) -> int:
    with app.app_context():
        return db.session.get(ProcessInstance, instance_id).process_version.number


def waiting_at(app: Any, task_spec_id: str) -> list[int]:
    """The intake instances with a ready task at ``task_spec_id``."""
    with app.app_context():
        return list(db.session.scalars(select(HumanTask.instance_id).where(
            HumanTask.task_spec_id == task_spec_id, HumanTask.status == "ready").order_by(HumanTask.instance_id)))


def add_user_task_on_flow(page: Any, flow_id: str, lane_id: str, task_id: str, name: str) -> None:
    """Draw a user task in a lane and route a flow through it, with bpmn-js's editing API (as the palette
    and the connect tool do, one undoable command each)."""
    page.evaluate("""([flowId, laneId, taskId, name]) => {
        const modeler = window.pis2Modeler;
        const registry = modeler.get('elementRegistry');
        const modeling = modeler.get('modeling');
        const flow = registry.get(flowId);
        const lane = registry.get(laneId);
        const target = flow.target;
        const businessObject = modeler.get('bpmnFactory').create('bpmn:UserTask', { id: taskId, name });
        const shape = modeler.get('elementFactory').createShape({ type: 'bpmn:UserTask', businessObject });
        const position = { x: target.x + target.width / 2, y: lane.y + lane.height - 60 };
        const task = modeling.createShape(shape, position, lane);
        const source = flow.source;
        modeling.removeConnection(flow);
        modeling.connect(source, task);
        modeling.connect(task, target);
    }""", [flow_id, lane_id, task_id, name])


def switch_to(page: Any, server: LiveServer, username: str) -> None:
    """Another person at their own browser: a fresh session, logged in through the form."""
    page.context.clear_cookies()
    login(page, server, username)


def test_an_analyst_adds_a_step_and_running_referrals_follow_it(programme: tuple[LiveServer, Any],
                                                                page: Any) -> None:
    server, app = programme
    blocked = csp_refusals(page)
    (v1_id, v1_number), = intake_version_numbers(app)
    assert v1_number == 1
    old_referral = waiting_at(app, "confirm_receipt")[0]

    # The form of the new step, written and previewed in the form editor.
    login(page, server, "analista")
    page.goto(f"{server.url}/modeller/")
    page.click("text=Moduli")
    page.fill("#new-form-name", "intake_check_documents")
    page.click(".new-form button[type=submit]")
    page.wait_for_selector("#form-editor[data-ready=true]")
    page.fill("#form-json-schema", json.dumps(DOCUMENTS_FORM, indent=2))
    page.fill("#form-ui-schema", json.dumps(DOCUMENTS_UI, indent=2))
    page.wait_for_selector("#form-preview #f-documents_notes")  # the preview follows the typing
    page.wait_for_selector("#form-status[data-kind=ok]")
    assert "Documenti d'identità verificati" in page.inner_text("#form-preview")
    page.click("#form-save")
    page.wait_for_selector(".flash.success")

    # The new step on the canvas, in the case manager's lane, between acknowledgement and first interview.
    page.goto(f"{server.url}/modeller/")
    page.click(f"#model-intake tr[data-version-id='{v1_id}'] a:first-child")
    page.wait_for_selector("#modeller[data-ready=true]")
    add_user_task_on_flow(page, "flow_to_interview", "Lane_case_manager", NEW_TASK, "Verifica i documenti")
    page.click("#modeller-validate")
    problem = page.locator(f"#modeller-problems button[data-element-id={NEW_TASK}]")
    problem.wait_for()
    listed = page.locator("#modeller-problems li", has=page.locator(f"button[data-element-id={NEW_TASK}]"))
    assert "non ha un modulo" in listed.first.inner_text()  # the text in Italian, not the English message
    screenshot(page, "process-change-problem")

    # The problem selects its task; the panel gives it the new form.
    problem.click()
    page.wait_for_function("(id) => document.querySelector('#bio-properties-panel-id')?.value === id",
                           arg=NEW_TASK)
    page.fill(field("pis2-form-schema"), "intake_check_documents.schema.json")
    page.fill(field("pis2-form-uischema"), "intake_check_documents.uischema.json")
    page.fill(field("pis2-instructions-text"), "Controlla i documenti d'identità di ogni componente.")
    page.click("#modeller-validate")
    page.wait_for_selector("#modeller-status[data-kind=ok]")
    assert page.locator("#modeller-problems li").count() == 0
    page.click("#modeller-deploy")
    page.wait_for_function("() => document.querySelector('#modeller-status').textContent.includes('Pubblicata')")
    assert "Pubblicata la versione 2 di intake" in page.inner_text("#modeller-status")
    (_, _), (v2_id, v2_number) = intake_version_numbers(app)
    assert v2_number == 2
    with app.app_context():
        v2 = db.session.get(ProcessVersion, v2_id)
        assert v2.forms["intake_check_documents.schema.json"] == DOCUMENTS_FORM
    assert serious_violations(page) == []

    # A new referral starts on version 2; the one under way stays on version 1.
    switch_to(page, server, "coordinatore")
    page.get_by_role("link", name="Nuclei").click()
    page.get_by_role("button", name="Nuovo invio").click()
    page.wait_for_selector("h1:has-text(\"Registra l'invio\")")
    with app.app_context():
        newest = db.session.scalars(select(ProcessInstance.id).where(ProcessInstance.process_id == "intake")
                                    .order_by(ProcessInstance.id.desc())).first()
    assert version_of_instance(app, newest) == 2
    assert version_of_instance(app, old_referral) == 1
    page.goto(f"{server.url}/instances?version={v1_id}")
    assert page.locator(f"table.instances a:text-is('#{old_referral}')").count() == 1
    assert page.locator(f"table.instances a:text-is('#{newest}')").count() == 0

    # The analyst migrates version 1's referrals after a dry run.
    switch_to(page, server, "analista")
    page.goto(f"{server.url}/modeller/")
    page.click(f"#model-intake tr[data-version-id='{v1_id}'] a.migrate-latest")
    page.wait_for_url(f"**/modeller/versions/{v1_id}/migrate")
    assert page.locator(f"#migrate-form tr[data-migratable=yes] input[value='{old_referral}']").count() == 1
    page.check("#migrate-form input[name=confirm]")
    page.click("#migrate-form button[type=submit]")
    page.wait_for_selector("#migrate-result")
    assert version_of_instance(app, old_referral) == 2
    screenshot(page, "process-change-migrated")

    # The migrated referral goes on: acknowledged, it reaches the new step.
    switch_to(page, server, "coordinatore")
    page.goto(f"{server.url}/instances/{old_referral}")
    assert page.inner_text("#instance-version-number") == "v2"
    history = page.inner_text("ol.history")
    assert "Migrata a una nuova versione" in history
    assert "Dalla versione: v1" in history
    assert "Alla versione: v2" in history
    current = page.locator("section", has_text="Attività in corso").first.inner_text()
    assert "Conferma la ricezione dell'invio" in current
    with app.app_context():
        acknowledgement = db.session.scalars(select(HumanTask.id).where(
            HumanTask.instance_id == old_referral, HumanTask.task_spec_id == "confirm_receipt",
            HumanTask.status == "ready")).one()
    page.goto(f"{server.url}/tasks/{acknowledgement}")
    page.fill("#f-ack_date", NOW.date().isoformat())
    page.get_by_role("button", name="Completa").click()
    page.wait_for_selector("p.flash")
    assert old_referral in waiting_at(app, NEW_TASK)

    page.goto(f"{server.url}/instances/{old_referral}")
    diagram = page.locator("#instance-diagram[data-ready=true]")
    diagram.wait_for(timeout=10000)
    assert diagram.locator(f"g.djs-element.progress-active[data-element-id={NEW_TASK}]").count() == 1
    assert diagram.locator("g.djs-element.progress-completed[data-element-id=confirm_receipt]").count() == 1
    screenshot(page, "process-change-instance")
    page.goto(f"{server.url}/dashboard?process=intake")
    heat = page.locator("#heatmap-diagram[data-ready=true]")
    heat.wait_for(timeout=10000)
    assert heat.locator(f"g.djs-element.heat[data-element-id={NEW_TASK}]").count() == 1
    assert serious_violations(page) == []

    # The case manager opens the new step, with its new form.
    switch_to(page, server, "case_manager")
    page.goto(f"{server.url}/tasks")
    page.locator("a.task-name", has_text="Verifica i documenti").first.click()
    assert page.locator("h1").inner_text() == "Verifica i documenti"
    assert page.get_by_label("Documenti d'identità verificati").count() == 1
    assert "Controlla i documenti d'identità di ogni componente." in page.inner_text("main")
    screenshot(page, "process-change-new-step")
    assert blocked == []
