"""An analyst edits forms in a real browser: typing updates the preview and the problems (debounced,
from the server), a fixed form saves, and a deploy from the modeller freezes the saved form in the new
version. The app is this module's own, so its saved forms and versions reach no other browser test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from engine.form_library import DRAFT_2020_12
from engine.models import FormDefinition, ProcessVersion
from tests.browser.conftest import (
    LiveServer,
    csp_refusals,
    login,
    screenshot,
    serious_violations,
    serving_intake_copies,
)
from tests.webapp.modeller.diagram import intake_with_diagram
from webapp.extensions import db

CONTACT = {"$schema": DRAFT_2020_12, "title": "Contatto", "type": "object", "additionalProperties": False,
           "required": ["phone"],
           "properties": {"phone": {"type": "string", "title": "Telefono del referente", "maxLength": 30},
                          "notes": {"type": "string", "title": "Note", "maxLength": 2000}}}
STRICT_INTAKE = {"$schema": DRAFT_2020_12, "title": "Invio", "type": "object", "additionalProperties": False,
                 "required": ["household_name"],
                 "properties": {"household_name": {"type": "string", "minLength": 2, "maxLength": 200,
                                                   "title": "Nome e cognome del referente"}}}


@pytest.fixture(scope="module")
def editing(make_database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Any]]:
    """The browser tests' app, with the intake model redeployed from a copy that has diagram shapes."""
    with serving_intake_copies(make_database(), tmp_path_factory, intake_with_diagram()) as live_app:
        yield live_app


def saved(app: Any, name: str) -> FormDefinition | None:
    with app.app_context():
        return db.session.scalars(select(FormDefinition).where(FormDefinition.name == name)).first()


def test_analyst_creates_a_form_with_live_preview_and_saves_it(editing: tuple[LiveServer, Any], page: Any) -> None:
    server, app = editing
    blocked = csp_refusals(page)
    login(page, server, "analista")
    page.goto(f"{server.url}/modeller/")
    page.click("text=Moduli")
    page.fill("#new-form-name", "intake_contact")
    page.click(".new-form button[type=submit]")
    page.wait_for_selector("#form-editor[data-ready=true]")
    assert page.url.endswith("/modeller/forms/intake_contact?new=1")

    # Broken JSON while typing: the problem names the line, the preview waits.
    page.fill("#form-json-schema", '{\n  "title": "Contatto",\n  "type": ')
    page.wait_for_selector("#form-problems li[data-rule=json]")
    assert "riga 3" in page.inner_text("#form-problems")
    assert "Anteprima non disponibile" in page.inner_text("#form-preview")

    # A whole schema, but the UI schema (still the starter's) does not order the new field.
    page.fill("#form-json-schema", json.dumps(CONTACT, indent=2))
    page.wait_for_selector("#form-preview #f-phone")
    assert "Telefono del referente" in page.inner_text("#form-preview")
    page.wait_for_selector("#form-problems li[data-rule=ui_order_missing]")
    assert "ui:order non elenca il campo phone" in page.inner_text("#form-problems")
    assert page.get_attribute("#form-status", "data-kind") == "error"
    screenshot(page, "form-editor-problem")
    assert serious_violations(page) == []

    # Fixed: no problem left; saving stores it.
    page.fill("#form-ui-schema", json.dumps({"ui:order": ["phone", "notes"], "notes": {"ui:widget": "textarea"}}))
    page.wait_for_selector("#form-status[data-kind=ok]")
    assert page.locator("#form-problems li").count() == 0
    page.click("#form-save")
    page.wait_for_selector(".flash.success")
    assert page.url.endswith("/modeller/forms/intake_contact")
    row = saved(app, "intake_contact")
    assert row is not None
    assert row.json_schema == CONTACT
    assert row.updated_by == "analista"
    screenshot(page, "form-editor-saved")
    assert blocked == []


def test_a_saved_form_is_frozen_by_a_deploy_from_the_modeller(editing: tuple[LiveServer, Any], page: Any) -> None:
    server, app = editing
    login(page, server, "analista")
    page.goto(f"{server.url}/modeller/forms/test_intake_register")
    page.wait_for_selector("#form-editor[data-ready=true]")
    # The test file form is not strict: saving it as it is refuses, keeping the text.
    page.click("#form-save")
    page.wait_for_selector("#form-problems li[data-rule=additional_properties]")
    assert saved(app, "test_intake_register") is None

    page.fill("#form-json-schema", json.dumps(STRICT_INTAKE, indent=2))
    page.fill("#form-ui-schema", json.dumps({"ui:order": ["household_name"]}))
    page.wait_for_selector("#form-status[data-kind=ok]")
    assert "Nome e cognome del referente" in page.inner_text("#form-preview")
    page.click("#form-save")
    page.wait_for_selector(".flash.success")

    with app.app_context():
        before = db.session.scalars(select(ProcessVersion.id).where(ProcessVersion.process_id == "intake")
                                    .order_by(ProcessVersion.id.desc())).first()
    page.goto(f"{server.url}/modeller/versions/{before}")
    page.wait_for_selector("#modeller[data-ready=true]")
    page.click("#modeller-deploy")
    page.wait_for_function("() => document.querySelector('#modeller-status').textContent.includes('Pubblicata')")
    with app.app_context():
        latest = db.session.scalars(select(ProcessVersion).where(ProcessVersion.process_id == "intake")
                                    .order_by(ProcessVersion.id.desc())).first()
        assert latest.id != before
        assert latest.forms["test_intake_register.schema.json"] == STRICT_INTAKE
        assert list(latest.forms) == ["test_intake_register.schema.json"]  # the task names no UI schema
