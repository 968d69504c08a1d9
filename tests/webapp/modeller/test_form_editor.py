"""The form editor pages: list, create, edit with problems and preview, save, and the modeller validating
and deploying with a saved form (frozen in the new version). Who may use them, and CSRF."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import select

from engine.form_library import DRAFT_2020_12
from engine.models import AuditEvent, FormDefinition, ProcessVersion
from tests.webapp.modeller.conftest import intake_xml
from webapp.extensions import db

FILE_FORM = "test_intake_register"
CONTACT_SCHEMA = {"$schema": DRAFT_2020_12, "title": "Contatto", "type": "object", "additionalProperties": False,
                  "required": ["phone"],
                  "properties": {"phone": {"type": "string", "title": "Telefono del referente", "maxLength": 30},
                                 "notes": {"type": "string", "title": "Note", "maxLength": 2000}}}
CONTACT_UI = {"ui:order": ["phone", "notes"], "notes": {"ui:widget": "textarea"}}
INTAKE_WITH_CONTACT = intake_xml().replace(
    '<spiffworkflow:property name="formJsonSchemaFilename" value="test_intake_register.schema.json"/>',
    '<spiffworkflow:property name="formJsonSchemaFilename" value="intake_contact.schema.json"/>'
    '<spiffworkflow:property name="formUiSchemaFilename" value="intake_contact.uischema.json"/>')


def save(analyst: Any, name: str, schema: Any, ui: Any, **extra: Any) -> Any:
    schema_text = schema if isinstance(schema, str) else json.dumps(schema)
    ui_text = ui if isinstance(ui, str) else json.dumps(ui)
    return analyst.client.post(f"/modeller/forms/{name}", data={
        "json_schema": schema_text, "ui_schema": ui_text, "csrf_token": analyst.token, **extra})


def preview(analyst: Any, body: Any, **headers: Any) -> Any:
    return analyst.client.post("/modeller/forms/preview", json=body,
                               headers={"X-CSRFToken": analyst.token, "Accept": "application/json", **headers})


def saved(app: Flask, name: str) -> FormDefinition | None:
    with app.app_context():
        return db.session.scalars(select(FormDefinition).where(FormDefinition.name == name)).first()


# --- who --------------------------------------------------------------------------------------------


def test_only_analysts_and_administrators_reach_the_editor(as_user: Any) -> None:
    assert as_user("analista").client.get("/modeller/forms").status_code == 200
    assert as_user("admin").client.get(f"/modeller/forms/{FILE_FORM}").status_code == 200
    worker = as_user("case_manager")
    assert worker.client.get("/modeller/forms").status_code == 403
    assert worker.client.get(f"/modeller/forms/{FILE_FORM}").status_code == 403
    response = preview(worker, {"name": "x", "json_schema": "{}", "ui_schema": ""})
    assert response.status_code == 403
    assert save(worker, "intake_contact", CONTACT_SCHEMA, CONTACT_UI).status_code == 403


def test_posts_without_the_csrf_token_are_refused(staff_app: Flask, as_user: Any) -> None:
    analyst = as_user("analista")
    response = analyst.client.post("/modeller/forms/preview", json={"name": "x", "json_schema": "{}",
                                                                    "ui_schema": ""},
                                   headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"
    refused = analyst.client.post("/modeller/forms/intake_contact",
                                  data={"json_schema": json.dumps(CONTACT_SCHEMA), "ui_schema": "{}"})
    assert refused.status_code == 400
    assert saved(staff_app, "intake_contact") is None


# --- list and editor -------------------------------------------------------------------------------


def test_list_shows_files_saved_forms_and_the_versions_using_them(staff_app: Flask, as_user: Any) -> None:
    analyst = as_user("analista")
    assert save(analyst, "intake_contact", CONTACT_SCHEMA, CONTACT_UI).status_code == 303
    page = analyst.client.get("/modeller/forms").get_data(as_text=True)
    file_row = page.split(f'data-form="{FILE_FORM}"', 1)[1].split("</tr>", 1)[0]
    assert "test_intake_register.schema.json" in file_row
    assert ">intake v1</a>" in file_row
    saved_row = page.split('data-form="intake_contact"', 1)[1].split("</tr>", 1)[0]
    assert "Salvato da analista" in saved_row
    assert "nessuna versione pubblicata" in saved_row
    models = analyst.client.get("/modeller/").get_data(as_text=True)
    assert 'href="/modeller/forms"' in models


def test_editor_shows_texts_problems_and_the_preview_without_inline_code(as_user: Any) -> None:
    page = as_user("analista").client.get(f"/modeller/forms/{FILE_FORM}").get_data(as_text=True)
    assert '<textarea id="form-json-schema" name="json_schema"' in page
    assert "Nome del referente del nucleo" in page.split('id="form-json-schema"', 1)[1]
    # The test form is not strict: the editor says so, field by field.
    problems = page.split('id="form-problems"', 1)[1].split("</ul>", 1)[0]
    assert 'data-rule="additional_properties"' in problems
    assert 'data-rule="ui_order"' in problems
    preview_part = page.split('id="form-preview"', 1)[1].split("</section>", 1)[0]
    assert '<label for="f-household_name">Nome del referente del nucleo' in preview_part
    assert 'data-preview-url="/modeller/forms/preview"' in page
    assert "dist/bpmn/form_editor.js" in page
    assert "<script>" not in page
    assert " style=" not in page


def test_an_unknown_form_is_a_404(as_user: Any) -> None:
    assert as_user("analista").client.get("/modeller/forms/no_such_form").status_code == 404


# --- creating -------------------------------------------------------------------------------------


def test_creating_checks_the_name_and_opens_a_starter_form(staff_app: Flask, as_user: Any) -> None:
    analyst = as_user("analista")
    bad = analyst.client.post("/modeller/forms", data={"name": "Contatto-Nucleo", "csrf_token": analyst.token})
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.get_data(as_text=True)
    assert "solo lettere minuscole, cifre e _" in bad.get_data(as_text=True)
    taken = analyst.client.post("/modeller/forms", data={"name": FILE_FORM, "csrf_token": analyst.token})
    assert taken.status_code == 409
    reserved = analyst.client.post("/modeller/forms", data={"name": "preview", "csrf_token": analyst.token})
    assert reserved.status_code == 422
    created = analyst.client.post("/modeller/forms", data={"name": "intake_contact", "csrf_token": analyst.token})
    assert created.status_code == 303
    assert created.headers["Location"].endswith("/modeller/forms/intake_contact?new=1")
    page = analyst.client.get("/modeller/forms/intake_contact?new=1").get_data(as_text=True)
    assert "Nuovo modulo" in page
    assert 'id="form-problems">\n        \n      </ul>' in page  # the starter form is already a good one
    assert saved(staff_app, "intake_contact") is None  # nothing exists until it is saved


# --- preview ---------------------------------------------------------------------------------------


def test_preview_answers_problems_and_the_rendered_form(as_user: Any) -> None:
    body = {"name": "intake_contact", "json_schema": json.dumps(CONTACT_SCHEMA), "ui_schema": json.dumps(CONTACT_UI)}
    result = preview(as_user("analista"), body).get_json()
    assert result["problems"] == []
    assert '<label for="f-phone">Telefono del referente' in result["html"]
    assert result["html"].index("f-phone") < result["html"].index("f-notes")
    assert '<textarea id="f-notes"' in result["html"]


def test_preview_names_line_and_column_of_bad_json(as_user: Any) -> None:
    body = {"name": "intake_contact", "json_schema": '{\n  "title": "x",\n  "type": }', "ui_schema": ""}
    result = preview(as_user("analista"), body).get_json()
    where = [(p["rule"], p["line"], p["file"]) for p in result["problems"]]
    assert where == [("json", 3, "intake_contact.schema.json")]
    assert "riga 3, colonna 11" in result["problems"][0]["message"]
    assert "Anteprima non disponibile" in result["html"]


def test_preview_escapes_what_is_typed(as_user: Any) -> None:
    schema = json.loads(json.dumps(CONTACT_SCHEMA))
    schema["properties"]["phone"]["title"] = '<img src=x onerror="alert(1)">'
    body = {"name": "intake_contact", "json_schema": json.dumps(schema), "ui_schema": json.dumps(CONTACT_UI)}
    html = preview(as_user("analista"), body).get_json()["html"]
    assert "<img" not in html
    assert "&lt;img src=x" in html


def test_preview_lists_rule_problems_and_still_draws(as_user: Any) -> None:
    schema = {**CONTACT_SCHEMA, "additionalProperties": True}
    body = {"name": "intake_contact", "json_schema": json.dumps(schema),
            "ui_schema": json.dumps({"ui:order": ["phone"]})}
    result = preview(as_user("analista"), body).get_json()
    assert [(p["rule"], p["pointer"]) for p in result["problems"]] == [
        ("additional_properties", "/additionalProperties"), ("ui_order_missing", "/ui:order")]
    assert result["problems"][1]["message"] == "ui:order non elenca il campo notes."
    assert 'id="f-phone"' in result["html"]


def test_preview_refuses_a_malformed_body_naming_the_fields(as_user: Any) -> None:
    analyst = as_user("analista")
    response = preview(analyst, {"name": "Bad Name", "json_schema": 3})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "body_invalid"
    assert set(error["details"]["fields"]) == {"name", "json_schema", "ui_schema"}
    assert preview(analyst, ["not", "an", "object"]).status_code == 400


# --- saving ----------------------------------------------------------------------------------------


def test_saving_an_invalid_form_shows_problems_and_keeps_the_text(staff_app: Flask, as_user: Any) -> None:
    typed = json.dumps({**CONTACT_SCHEMA, "title": ""}) + "\n"
    response = save(as_user("analista"), "intake_contact", typed, CONTACT_UI)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    textarea = page.split('id="form-json-schema"', 1)[1].split("</textarea>", 1)[0]
    assert '&#34;title&#34;: &#34;&#34;' in textarea
    assert 'data-rule="form_title"' in page
    assert "Il modulo non ha un titolo (title)." in page
    assert saved(staff_app, "intake_contact") is None


def test_saving_unreadable_json_keeps_the_text_and_names_the_line(staff_app: Flask, as_user: Any) -> None:
    response = save(as_user("analista"), FILE_FORM, "{\n\n  oops", "")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "oops</textarea>" in page
    assert "riga 3" in page
    assert saved(staff_app, FILE_FORM) is None


def test_saving_a_good_form_stores_and_audits_it(staff_app: Flask, as_user: Any) -> None:
    response = save(as_user("analista"), "intake_contact", CONTACT_SCHEMA, CONTACT_UI)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/modeller/forms/intake_contact")
    row = saved(staff_app, "intake_contact")
    assert row is not None
    assert (row.json_schema, row.ui_schema, row.updated_by) == (CONTACT_SCHEMA, CONTACT_UI, "analista")
    with staff_app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "form_saved")).one()
        assert (event.actor, event.details["form"]) == ("analista", "intake_contact")


def test_saving_needs_both_texts(as_user: Any) -> None:
    analyst = as_user("analista")
    response = analyst.client.post("/modeller/forms/intake_contact", data={"csrf_token": analyst.token})
    assert response.status_code == 400


# --- the modeller uses saved forms -------------------------------------------------------------------


def test_a_task_pointing_at_a_saved_form_validates_and_deploys_with_it_frozen(staff_app: Flask,
                                                                              as_user: Any) -> None:
    analyst = as_user("analista")
    before = analyst.post_xml("validate", INTAKE_WITH_CONTACT).get_json()
    assert before["valid"] is False
    assert "intake_contact.schema.json not found" in before["problems"][0]["message"]
    assert save(analyst, "intake_contact", CONTACT_SCHEMA, CONTACT_UI).status_code == 303
    assert analyst.post_xml("validate", INTAKE_WITH_CONTACT).get_json()["valid"] is True
    response = analyst.post_xml("deploy", INTAKE_WITH_CONTACT)
    assert response.status_code == 201
    with staff_app.app_context():
        version = db.session.get(ProcessVersion, response.get_json()["deployed"][0]["id"])
        assert version.forms == {"intake_contact.schema.json": CONTACT_SCHEMA,
                                 "intake_contact.uischema.json": CONTACT_UI}


def test_a_saved_form_replaces_the_file_at_the_next_deploy(staff_app: Flask, as_user: Any) -> None:
    analyst = as_user("analista")
    unchanged = analyst.post_xml("deploy", intake_xml())
    assert unchanged.get_json()["deployed"] == []  # same model, same forms: nothing new
    strict = {"$schema": DRAFT_2020_12, "title": "Invio", "type": "object", "additionalProperties": False,
              "required": ["household_name"],
              "properties": {"household_name": {"type": "string", "title": "Nome e cognome del referente"}}}
    assert save(analyst, FILE_FORM, strict, {"ui:order": ["household_name"]}).status_code == 303
    response = analyst.post_xml("deploy", intake_xml())
    assert response.status_code == 201
    with staff_app.app_context():
        version = db.session.get(ProcessVersion, response.get_json()["deployed"][0]["id"])
        assert version.forms["test_intake_register.schema.json"] == strict
