"""/api/v1/instances: start what my roles may start, list and show my organisation's instances."""

from __future__ import annotations

import pytest

from engine.models import Incident, ProcessInstance
from tests.webapp.api.conftest import assert_error
from webapp.extensions import db

INSTANCES = "/api/v1/instances"


def test_a_coordinator_starts_a_process_and_reaches_its_first_task(api) -> None:
    body = api.start("api_flow", data={"note": "urgente"}, business_key="NUC-2026-0009")
    assert body["status"] == "running"
    assert body["organisation"] == "capofila"
    assert body["started_by"] == "coordinatore"
    assert body["business_key"] == "NUC-2026-0009"
    assert body["process_name"] == "Richiesta di prova"
    assert body["incidents"] == []
    (task,) = body["tasks"]
    assert (task["name"], task["role"], task["organisation"]) == ("Compila la richiesta", "coordinatore", "capofila")
    assert "state" not in body
    assert "data" not in body


@pytest.mark.parametrize(("process_id", "username"), [
    ("api_flow", "case_manager"),  # the start event is in the coordinator's lane
    ("api_flow", "supervisore"),
    ("api_visit", "coordinatore"),  # the case manager's
    ("api_announced", "coordinatore"),  # started by a message, never by hand
])
def test_a_role_not_allowed_to_start_gets_403(api, process_id, username) -> None:
    assert_error(api.post(INSTANCES, as_=username, json={"process_id": process_id}), 403, "not_allowed")
    assert api.get(INSTANCES, as_=username).get_json()["total"] == 0


def test_unknown_process_is_404(api) -> None:
    assert_error(api.post(INSTANCES, as_="coordinatore", json={"process_id": "nope"}), 404, "process_not_found")


@pytest.mark.parametrize(("body", "field"), [
    ({}, "process_id"), ({"process_id": ""}, "process_id"), ({"process_id": "  "}, "process_id"),
    ({"process_id": 3}, "process_id"), ({"process_id": "api_flow", "data": [1]}, "data"),
    ({"process_id": "api_flow", "business_key": ""}, "business_key"),
    ({"process_id": "api_flow", "colour": "red"}, "colour")])
def test_bad_start_payloads_are_422(api, body, field) -> None:
    error = assert_error(api.post(INSTANCES, as_="coordinatore", json=body), 422)
    assert field in error["details"]["fields"]


def test_list_shows_my_organisations_instances_only(api) -> None:
    mine = [api.start()["id"], api.start("api_visit", as_="case_manager")["id"]]
    theirs = api.start(as_="carla")["id"]
    body = api.get(INSTANCES, as_="elena").get_json()
    assert [item["id"] for item in body["items"]] == sorted(mine, reverse=True)
    assert body["total"] == 2
    assert [item["id"] for item in api.get(INSTANCES, as_="dario").get_json()["items"]] == [theirs]
    assert [i["id"] for i in api.get(f"{INSTANCES}?process=api_visit", as_="coordinatore").get_json()["items"]] == [
        mine[1]]
    assert api.get(f"{INSTANCES}?status=completed", as_="coordinatore").get_json()["total"] == 0
    page = api.get(f"{INSTANCES}?limit=1&offset=1", as_="coordinatore").get_json()
    assert [item["id"] for item in page["items"]] == [mine[0]]
    assert_error(api.get(f"{INSTANCES}?status=sleeping", as_="coordinatore"), 422)


def test_show_one_of_mine_and_not_found_for_others(api) -> None:
    started = api.start()
    body = api.get(f"{INSTANCES}/{started['id']}", as_="case_manager").get_json()
    assert body["id"] == started["id"]
    assert [t["id"] for t in body["tasks"]] == [started["tasks"][0]["id"]]
    assert_error(api.get(f"{INSTANCES}/{started['id']}", as_="carla"), 404, "instance_not_found")
    assert_error(api.get(f"{INSTANCES}/999999", as_="coordinatore"), 404, "instance_not_found")
    assert_error(api.get(f"{INSTANCES}/99999999999999999999", as_="coordinatore"), 404)
    assert_error(api.get(f"{INSTANCES}/abc", as_="coordinatore"), 404)


def test_show_lists_open_incidents(app, api) -> None:
    started = api.start()
    with app.app_context():
        db.session.get(ProcessInstance, started["id"]).status = "error"  # type: ignore[union-attr]
        db.session.add(Incident(instance_id=started["id"], task_id=None, task_spec_id="task_a",
                                message="servizio non raggiungibile", stack=None, status="open",
                                created_at=app.extensions["engine"].clock_now()))
        db.session.commit()
    (incident,) = api.get(f"{INSTANCES}/{started['id']}", as_="coordinatore").get_json()["incidents"]
    assert incident["message"] == "servizio non raggiungibile"
    assert incident["task_spec_id"] == "task_a"


def test_a_user_without_organisation_work_starts_nothing(api) -> None:
    # The analyst's organisation is the lead partner but the role starts no process.
    assert_error(api.post(INSTANCES, as_="analista", json={"process_id": "api_flow"}), 403)
