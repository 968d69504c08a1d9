"""The analysts' modeller endpoints: list, download, upload, validate and deploy, and who may use them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Session

from engine import Actor
from engine.models import ProcessInstance, ProcessVersion
from tests.webapp.modeller.conftest import intake_xml, latest_version
from tests.webapp.modeller.diagram import intake_with_diagram
from webapp.extensions import db
from webapp.views.modeller import MAX_MODEL_BYTES

XXE = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
       '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&secret;</bpmn:definitions>')
MISSING_FORM = intake_xml().replace("test_intake_register.schema.json", "missing.schema.json")
RENAMED_TASK = intake_xml().replace('name="Registra l\'invio"', 'name="Registra l\'invio ricevuto"')


def version_count(app: Flask, process_id: str = "intake") -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ProcessVersion)
                                 .where(ProcessVersion.process_id == process_id))


def start_intake(app: Flask) -> int:
    with app.app_context():
        actor = Actor("anna", frozenset({"coordinatore"}), "capofila")
        instance = app.extensions["engine"].start(db.session, "intake", {}, actor)
        db.session.commit()
        return instance.id


# --- pages -------------------------------------------------------------------------------------------


def test_list_shows_every_version_with_who_when_hash_and_running_instances(staff_app: Flask, as_user: Any) -> None:
    start_intake(staff_app)
    analyst = as_user("analista")
    page = analyst.client.get("/modeller/").get_data(as_text=True)
    version_id = latest_version(staff_app)
    with staff_app.app_context():
        digest = db.session.get(ProcessVersion, version_id).content_hash
    assert 'id="model-intake"' in page
    assert 'id="model-casework"' in page
    assert "tester" in page
    assert digest[:12] in page
    row = page.split(f'data-version-id="{version_id}"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="running-count">1</td>' in row
    assert f"/modeller/versions/{version_id}/bpmn?download=1" in row
    # Screen readers hear which version a link acts on by the number people use, as the row shows it.
    assert row.count('<span class="visually-hidden"> v1</span>') == 2


def test_edit_page_carries_its_urls_and_token_and_no_inline_script(as_user: Any) -> None:
    analyst = as_user("analista")
    response = analyst.client.get(f"/modeller/versions/{analyst.version_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'data-validate-url="/modeller/versions/{analyst.version_id}/validate"' in page
    assert 'data-csrf-token="' in page
    assert "dist/bpmn/modeler.js" in page
    assert "<script>" not in page
    assert " style=" not in page


def test_download_returns_the_stored_xml_as_a_named_file(as_user: Any) -> None:
    analyst = as_user("analista")
    response = analyst.client.get(f"/modeller/versions/{analyst.version_id}/bpmn?download=1")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert response.headers["Content-Disposition"] == 'attachment; filename="intake.bpmn"'
    assert response.get_data(as_text=True) == intake_xml()


def test_an_unknown_version_is_a_404_naming_it(as_user: Any) -> None:
    response = as_user("analista").client.get("/modeller/versions/999999/bpmn",
                                              headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "Versione 999999 non trovata."


# --- permissions -------------------------------------------------------------------------------------


def test_only_analysts_and_administrators_may_use_the_modeller(as_user: Any, client: Any) -> None:
    assert as_user("admin").client.get("/modeller/").status_code == 200
    coordinator = as_user("coordinatore")
    assert coordinator.client.get("/modeller/").status_code == 403
    refused = coordinator.post_xml("validate", intake_xml())
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "not_allowed"
    assert coordinator.post_xml("deploy", RENAMED_TASK).status_code == 403
    assert client.get("/modeller/").status_code == 302  # anonymous: to the login page


def test_posts_without_the_csrf_token_are_refused(as_user: Any) -> None:
    analyst = as_user("analista")
    response = analyst.client.post(f"/modeller/versions/{analyst.version_id}/validate", data=intake_xml(),
                                   headers={"Content-Type": "application/xml", "Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"


# --- validate ----------------------------------------------------------------------------------------


def test_validate_accepts_the_deployed_model(as_user: Any) -> None:
    response = as_user("analista").post_xml("validate", intake_xml())
    assert response.status_code == 200
    assert response.get_json()["valid"] is True
    assert response.get_json()["problems"] == []


def test_validate_names_the_element_of_each_problem(as_user: Any) -> None:
    result = as_user("analista").post_xml("validate", MISSING_FORM).get_json()
    assert result["valid"] is False
    problem = result["problems"][0]
    assert problem["element_id"] == "register_referral"
    assert problem["message"] == "form file missing.schema.json not found"  # no temporary path leaks out
    assert problem["file"] == "intake.bpmn"


def test_validate_refuses_entities_without_reading_them(as_user: Any) -> None:
    result = as_user("analista").post_xml("validate", XXE).get_json()
    assert result["valid"] is False
    assert [p["message"] for p in result["problems"]] == ["entity declarations are not allowed"]
    assert "root:" not in str(result)


def test_validate_refuses_empty_and_oversized_bodies(as_user: Any) -> None:
    analyst = as_user("analista")
    empty = analyst.post_xml("validate", "  ")
    assert empty.status_code == 400
    assert empty.get_json()["error"]["code"] == "model_missing"
    oversized = analyst.post_xml("validate", "<a/>" + " " * MAX_MODEL_BYTES)
    assert oversized.status_code == 413
    assert oversized.get_json()["error"]["code"] == "model_too_large"


def test_validate_of_a_non_bpmn_document_says_so(as_user: Any) -> None:
    result = as_user("analista").post_xml("validate", "<hello/>").get_json()
    assert result["valid"] is False
    assert "not a BPMN or DMN document" in result["problems"][0]["message"]


# --- upload ------------------------------------------------------------------------------------------


def test_upload_of_a_good_file_returns_its_xml(as_user: Any) -> None:
    response = as_user("analista").upload(intake_with_diagram().encode(), "intake.bpmn")
    assert response.status_code == 200
    assert response.get_json()["xml"] == intake_with_diagram()


def test_upload_refuses_broken_xxe_dmn_missing_and_oversized_files(as_user: Any) -> None:
    analyst = as_user("analista")
    broken = analyst.upload(b"<bpmn:definitions", "broken.bpmn")
    assert broken.status_code == 422
    assert broken.get_json()["error"]["code"] == "model_unreadable"
    assert broken.get_json()["error"]["details"]["problems"][0]["line"] == 1
    xxe = analyst.upload(XXE.encode()).get_json()
    assert xxe["error"]["details"]["problems"][0]["message"] == "entity declarations are not allowed"
    dmn = analyst.upload(b'<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"/>')
    assert "not a BPMN document" in dmn.get_json()["error"]["details"]["problems"][0]["message"]
    oversized = analyst.upload(b" " * (MAX_MODEL_BYTES + 1))
    assert oversized.status_code == 413
    missing = analyst.client.post("/modeller/upload", data={}, headers={"X-CSRFToken": analyst.token,
                                                                        "Accept": "application/json"})
    assert missing.status_code == 400
    assert missing.get_json()["error"]["code"] == "file_missing"


# --- deploy ------------------------------------------------------------------------------------------


def test_deploy_refuses_an_invalid_model_and_stores_nothing(staff_app: Flask, as_user: Any) -> None:
    before = version_count(staff_app)
    response = as_user("analista").post_xml("deploy", MISSING_FORM)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "model_invalid"
    assert error["details"]["problems"][0]["element_id"] == "register_referral"
    assert version_count(staff_app) == before


def test_deploy_stores_a_new_version_and_running_instances_keep_theirs(staff_app: Flask, as_user: Any) -> None:
    old_version = latest_version(staff_app)
    running = start_intake(staff_app)
    response = as_user("analista").post_xml("deploy", RENAMED_TASK)
    assert response.status_code == 201
    new_version = response.get_json()["deployed"][0]["id"]
    assert new_version != old_version
    with staff_app.app_context():
        stored = db.session.get(ProcessVersion, new_version)
        assert stored.deployed_by == "analista"
        assert "Registra l'invio ricevuto" in stored.bpmn_xml
        assert list(stored.forms) == ["test_intake_register.schema.json"]
        assert db.session.get(ProcessInstance, running).process_version_id == old_version
    assert latest_version(staff_app) == new_version
    again = as_user("analista").post_xml("deploy", RENAMED_TASK)
    assert again.status_code == 200
    assert again.get_json()["deployed"] == []


def test_a_deploy_racing_another_is_refused_with_409_and_can_be_repeated(staff_app: Flask, as_user: Any) -> None:
    # Another analyst's deploy lands between this one reading the last number and storing its own.
    raced: list[int] = []

    def competitor_deploys(session: Any, *_: Any) -> None:
        ours = [row for row in session.new if isinstance(row, ProcessVersion)]
        if not ours or raced:
            return
        raced.append(ours[0].number)
        latest = ours[0].number - 1
        with db.engine.begin() as other:
            other.execute(insert(ProcessVersion).values(
                process_id="intake", number=latest + 1, content_hash="competitor", source_file="intake.bpmn",
                bpmn_xml="<x/>", dmn_files={}, forms={}, start_messages=[], deployed_at=datetime.now(UTC)))

    before = version_count(staff_app)
    analyst = as_user("analista")
    event.listen(Session, "before_flush", competitor_deploys)
    try:
        response = analyst.post_xml("deploy", RENAMED_TASK)
    finally:
        event.remove(Session, "before_flush", competitor_deploys)
    assert raced  # the race did happen
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "deploy_conflict"
    assert version_count(staff_app) == before + 1  # the competitor's only
    again = analyst.post_xml("deploy", RENAMED_TASK)
    assert again.status_code == 201
    assert again.get_json()["deployed"][0]["number"] == version_count(staff_app)

