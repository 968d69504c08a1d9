"""The modeller's properties panel edits what our engine reads: an analyst sets a user task's form and
instructions, a lane's role, a timer, a condition, a message's variable and correlation, a service
operation with a parameter and a decision, and bpmn-js writes each into the saved XML; every edit is
undone by the editor's undo. The app is the round-trip module's (processes/ deployed, its own database)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from lxml import etree

from tests.browser.conftest import LiveServer, csp_refusals, login, screenshot, serious_violations
from tests.browser.test_modeller_roundtrip import losses, serve_processes, version_of

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}


@pytest.fixture(scope="module")
def panel_app(make_database: Any) -> Iterator[tuple[LiveServer, Any]]:
    yield from serve_processes(make_database)


def saved(page: Any) -> Any:
    xml = page.evaluate("async () => (await window.pis2Modeler.saveXML({format: true})).xml")
    return etree.fromstring(xml.encode("utf-8"))


def saved_when(page: Any, check: Callable[[Any], bool], timeout: float = 5.0) -> Any:
    """The saved XML once ``check`` holds on it (the panel writes text fields after a short debounce)."""
    deadline = time.monotonic() + timeout
    root = saved(page)
    while not check(root):
        assert time.monotonic() < deadline, "the edit never reached the saved XML"
        time.sleep(0.1)
        root = saved(page)
    return root


def one(root: Any, xpath: str) -> Any:
    found = root.xpath(xpath, namespaces=NS)
    return found[0] if found else None


def select(page: Any, element_id: str) -> None:
    """Select a diagram element as a click does; the panel follows the selection."""
    page.evaluate("""(id) => {
        const modeler = window.pis2Modeler;
        modeler.get('selection').select(modeler.get('elementRegistry').get(id));
    }""", element_id)
    page.wait_for_function("""(id) => {
        const input = document.querySelector('#modeller-panel #bio-properties-panel-id');
        return input && input.value === id;
    }""", arg=element_id)


def field(element_id: str) -> str:
    return f"#modeller-panel #bio-properties-panel-{element_id}"


def test_the_panel_writes_our_extensions_and_undo_reverts_them(panel_app: tuple[LiveServer, Any],
                                                                page: Any) -> None:
    server, app = panel_app
    blocked = csp_refusals(page)
    login(page, server, "analista")
    page.goto(f"{server.url}/modeller/versions/{version_of(app, 'intake').id}")
    page.wait_for_selector("#modeller[data-ready=true]")
    original = etree.tostring(saved(page), encoding="unicode")

    # A user task: its form (a new file name is accepted), instructions and due time.
    select(page, "enter_referral")
    assert "intake_enter_referral.schema.json" in page.inner_html(f"{field('pis2-form-schema')}-options")
    assert page.input_value(field("pis2-form-schema")) == "intake_enter_referral.schema.json"
    page.fill(field("pis2-form-schema"), "intake_new_referral.schema.json")
    page.fill(field("pis2-instructions-text"), "Compila **tutto** il modulo.")
    page.fill(field("pis2-due-in"), "tre giorni")
    page.wait_for_selector("#modeller-panel [data-entry-id=pis2-due-in] .bio-properties-panel-error")
    page.fill(field("pis2-due-in"), "P3D")
    task = "//bpmn:userTask[@id='enter_referral']/bpmn:extensionElements"
    root = saved_when(page, lambda r: one(r, f"{task}//spiffworkflow:property[@name='dueIn']/@value") == "P3D"
                      and one(r, f"{task}/spiffworkflow:instructionsForEndUser") is not None
                      and one(r, f"{task}/spiffworkflow:instructionsForEndUser").text == "Compila **tutto** il modulo.")
    assert one(root, f"{task}//spiffworkflow:property[@name='formJsonSchemaFilename']/@value") \
        == "intake_new_referral.schema.json"
    assert one(root, f"{task}//spiffworkflow:property[@name='formUiSchemaFilename']/@value") \
        == "intake_enter_referral.uischema.json"
    assert one(root, f"{task}/spiffworkflow:postScript") is not None  # untouched parts stay
    screenshot(page, "modeller-panel-user-task")

    # A lane: the role select names the lane after the role, as the engine maps lanes to roles.
    select(page, "Lane_assistente_sociale")
    assert page.input_value(field("pis2-role-select")) == "assistente_sociale"
    page.select_option(field("pis2-role-select"), "case_manager")
    root = saved(page)
    assert one(root, "//bpmn:lane[@id='Lane_assistente_sociale']/@name") == "Case manager"
    assert page.input_value(field("name")) == "Case manager"

    # A timer: its duration expression.
    select(page, "waiting_list_timer")
    assert page.input_value(field("timerEventDefinitionType")) == "timeDuration"
    page.fill(field("timerEventDefinitionValue"), '"P45D"')
    saved_when(page, lambda r: one(r, "//bpmn:intermediateCatchEvent[@id='waiting_list_timer']"
                                      "//bpmn:timeDuration").text == '"P45D"')

    # A condition on a flow out of an exclusive gateway.
    select(page, "flow_eligible")
    assert page.input_value(field("pis2-condition-expression")) == "eligible"
    page.fill(field("pis2-condition-expression"), "eligible and isee_ok")
    saved_when(page, lambda r: one(r, "//bpmn:sequenceFlow[@id='flow_eligible']/bpmn:conditionExpression").text
               == "eligible and isee_ok")

    # A receive task: the variable that gets the message, and the correlation expression for its message.
    select(page, "wait_for_withdrawal")
    page.fill(field("pis2-message-variable"), "ritiro")
    page.fill(field("pis2-correlation-household_reference"), "payload['household_reference']")
    saved_when(page, lambda r: one(r, "//bpmn:receiveTask[@id='wait_for_withdrawal']//spiffworkflow:messageVariable")
               .text == "ritiro" and one(
                   r, "//bpmn:correlationPropertyRetrievalExpression[@messageRef='Message_referral_withdrawn']/*")
               .text == "payload['household_reference']")

    # A service task: another operation, and a parameter added to the list.
    select(page, "record_household")
    assert page.input_value(field("pis2-operation")) == "register_household"
    page.select_option(field("pis2-operation"), "acting_user")
    page.click("#modeller-panel [data-group-id='group-pis2-service-parameters'] .bio-properties-panel-add-entry")
    page.fill(field("pis2-parameter-4-id"), "note")
    page.fill(field("pis2-parameter-4-value"), "'da verificare'")
    operator = "//bpmn:serviceTask[@id='record_household']//spiffworkflow:serviceTaskOperator"
    root = saved_when(page, lambda r: one(r, f"{operator}//spiffworkflow:parameter[@id='note']/@value")
                      == "'da verificare'")
    assert one(root, f"{operator}/@id") == "acting_user"
    assert one(root, f"{operator}/@resultVariable") == "household"
    assert len(root.xpath(f"{operator}//spiffworkflow:parameter", namespaces=NS)) == 5

    # A business rule task: the decision comes from the version's DMN files.
    select(page, "check_eligibility")
    assert page.input_value(field("pis2-called-decision")) == "intake_eligibility"
    page.select_option(field("pis2-called-decision"), "")
    root = saved(page)
    assert one(root, "//bpmn:businessRuleTask[@id='check_eligibility']//spiffworkflow:calledDecisionId") is None
    screenshot(page, "modeller-panel-decision")
    assert serious_violations(page) == []

    # Undo takes every edit back, one step at a time: the model is the one loaded.
    steps = page.evaluate("""() => {
        const stack = window.pis2Modeler.get('commandStack');
        let steps = 0;
        while (stack.canUndo()) { stack.undo(); steps += 1; }
        return steps;
    }""")
    assert steps >= 10
    assert losses(original, etree.tostring(saved(page), encoding="unicode")) == {}
    select(page, "check_eligibility")
    assert page.input_value(field("pis2-called-decision")) == "intake_eligibility"
    assert blocked == []


def test_the_panel_is_reached_by_keyboard(panel_app: tuple[LiveServer, Any], page: Any) -> None:
    server, app = panel_app
    login(page, server, "analista")
    page.goto(f"{server.url}/modeller/versions/{version_of(app, 'intake').id}")
    page.wait_for_selector("#modeller[data-ready=true]")
    select(page, "enter_referral")
    page.focus(field("name"))
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "bio-properties-panel-pis2-form-schema":
            break
    else:
        pytest.fail("the form field is not reachable with Tab from the name field")
    page.keyboard.type("x")
    assert page.input_value(field("pis2-form-schema")).endswith("x")


def test_the_panel_goes_below_the_canvas_on_a_phone(panel_app: tuple[LiveServer, Any], phone: Any) -> None:
    server, app = panel_app
    login(phone, server, "analista")
    phone.goto(f"{server.url}/modeller/versions/{version_of(app, 'intake').id}")
    phone.wait_for_selector("#modeller[data-ready=true]")
    canvas = phone.locator("#modeller-canvas").bounding_box()
    panel = phone.locator("#modeller-panel").bounding_box()
    assert panel["y"] >= canvas["y"] + canvas["height"]


def test_a_new_correlation_property_joins_the_key_and_the_server_accepts_it(panel_app: tuple[LiveServer, Any],
                                                                            page: Any) -> None:
    server, app = panel_app
    login(page, server, "analista")
    page.goto(f"{server.url}/modeller/versions/{version_of(app, 'intake').id}")
    page.wait_for_selector("#modeller[data-ready=true]")
    select(page, "wait_for_withdrawal")
    new_property = field("pis2-correlation-new")
    page.fill(new_property, "2nd")
    assert "Solo lettere" in page.inner_text("#modeller-panel [data-entry-id='pis2-correlation-new']")
    page.fill(new_property, "household_reference")  # taken by the existing property
    assert "già usato" in page.inner_text("#modeller-panel [data-entry-id='pis2-correlation-new']")
    assert one(saved(page), "//bpmn:correlationProperty[@id='2nd']") is None  # nothing written while typing

    page.fill(new_property, "referral_id")
    page.locator(new_property).blur()
    root = saved_when(page, lambda r: one(r, "//bpmn:correlationProperty[@id='referral_id']") is not None)
    assert one(root, "//bpmn:correlationProperty[@id='referral_id']/bpmn:correlationPropertyRetrievalExpression"
                     "[@messageRef='Message_referral_withdrawn']/*").text == "referral_id"
    refs = [ref.text for ref in root.xpath("//bpmn:correlationKey[@name='referral_key']/bpmn:correlationPropertyRef",
                                           namespaces=NS)]
    assert refs == ["household_reference", "referral_id"]
    # Its expression is edited like the others', and the server's validation accepts the model.
    page.fill(field("pis2-correlation-referral_id"), "payload['referral_id']")
    expression = "//bpmn:correlationProperty[@id='referral_id']/bpmn:correlationPropertyRetrievalExpression/*"
    saved_when(page, lambda r: one(r, expression).text == "payload['referral_id']")
    page.click("#modeller-validate")
    page.wait_for_selector("#modeller-status[data-kind=ok]")
    page.click("#modeller-canvas")
    page.keyboard.press("Control+z")  # the editor's undo takes back the last edit, the expression
    saved_when(page, lambda r: one(r, expression).text == "referral_id")
