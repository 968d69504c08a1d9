"""/api/v1/tasks: my tasks, a task's form, claim, unclaim, draft, complete and reassign — by role and organisation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.webapp.api.conftest import Api, assert_error

TASKS = "/api/v1/tasks"


def _task_a(api: Api, as_: str = "coordinatore", **body: Any) -> dict[str, Any]:
    """Start api_flow as a coordinator; its first task (for the coordinators of that organisation)."""
    instance = api.start(as_=as_, **body)
    (task,) = instance["tasks"]
    return task


def _complete(api: Api, task_id: str, data: dict[str, Any], as_: str = "coordinatore", **extra: Any):
    return api.post(f"{TASKS}/{task_id}/complete", as_=as_, json={"data": data, **extra})


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [task["id"] for task in response.get_json()["items"]]


# --- list ----------------------------------------------------------------------------------------


def test_my_tasks_lists_my_roles_queue_in_my_organisation_only(api) -> None:
    ours = _task_a(api)
    theirs = _task_a(api, as_="carla")
    assert ours["organisation"] == "capofila"
    assert ours["role"] == "coordinatore"
    assert _ids(api.get(TASKS, as_="coordinatore")) == [ours["id"]]
    assert _ids(api.get(TASKS, as_="carla")) == [theirs["id"]]
    # Another role of the same organisation sees neither.
    assert _ids(api.get(TASKS, as_="case_manager")) == []
    for outsider in ("supervisore", "analista", "admin", "assistente_sociale", "dario"):
        assert _ids(api.get(TASKS, as_=outsider)) == [], outsider


def test_a_claimed_task_leaves_the_queue_of_the_others(api) -> None:
    task = _complete_a_and_get_b(api)
    assert _ids(api.get(TASKS, as_="elena")) == [task["id"]]
    assert api.post(f"{TASKS}/{task['id']}/claim", as_="case_manager").status_code == 200
    assert _ids(api.get(TASKS, as_="case_manager")) == [task["id"]]
    assert _ids(api.get(TASKS, as_="elena")) == []


def _complete_a_and_get_b(api: Api) -> dict[str, Any]:
    task = _task_a(api)
    response = _complete(api, task["id"], {"title": "Bagno da riparare"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["next_tasks"] == []  # task B is the case managers'
    (task_b,) = api.get(TASKS, as_="case_manager").get_json()["items"]
    return task_b


def test_filters_and_pagination(api) -> None:
    first = _task_a(api, business_key="NUC-2026-0001")
    second = _task_a(api, business_key="NUC-2026-0002")
    visit = api.start("api_visit", as_="case_manager")["tasks"][0]
    assert _ids(api.get(f"{TASKS}?household=0002", as_="coordinatore")) == [second["id"]]
    assert _ids(api.get(f"{TASKS}?process=api_visit", as_="case_manager")) == [visit["id"]]
    assert _ids(api.get(f"{TASKS}?process=api_visit", as_="coordinatore")) == []
    # Task A is due in two days (P2D): not overdue now, due before the day after tomorrow.
    assert _ids(api.get(f"{TASKS}?overdue=true", as_="coordinatore")) == []
    assert set(_ids(api.get(f"{TASKS}?due_before=2026-03-05T00:00:00Z", as_="coordinatore"))) == {
        first["id"], second["id"]}
    assert _ids(api.get(f"{TASKS}?due_before=2026-03-03T00:00:00Z", as_="coordinatore")) == []
    page = api.get(f"{TASKS}?limit=1", as_="coordinatore").get_json()
    assert (len(page["items"]), page["has_more"], page["limit"], page["offset"]) == (1, True, 1, 0)
    rest = api.get(f"{TASKS}?limit=1&offset=1", as_="coordinatore").get_json()
    assert rest["has_more"] is False
    assert rest["items"][0]["id"] != page["items"][0]["id"]


def test_overdue_filter_finds_late_tasks(app, api) -> None:
    task = _task_a(api)
    app.extensions["engine"].now.advance(days=3)
    assert _ids(api.get(f"{TASKS}?overdue=true", as_="coordinatore")) == [task["id"]]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "limit=abc", "overdue=maybe",
                                   "due_before=yesterday", "process=", "offset=10001"])
def test_bad_list_arguments_are_422_naming_the_field(api, query) -> None:
    error = assert_error(api.get(f"{TASKS}?{query}", as_="coordinatore"), 422, "unprocessable_entity")
    assert list(error["details"]["fields"]) == [query.split("=")[0]]


# --- show ----------------------------------------------------------------------------------------


def test_show_a_task_with_its_form_ui_schema_and_instructions(api) -> None:
    task = _task_a(api)
    body = api.get(f"{TASKS}/{task['id']}", as_="coordinatore").get_json()
    assert body["name"] == "Compila la richiesta"
    assert body["form"]["schema"]["required"] == ["title"]
    assert body["form"]["ui_schema"]["ui:order"] == ["title"]
    assert body["instructions"] == "Scrivi un **titolo**."
    assert body["draft"] is None
    assert body["instance_version"] >= 1
    assert body["due_at"].startswith("2026-03-04")


def test_a_task_of_another_organisation_or_role_is_not_found(api) -> None:
    task = _task_a(api)
    for outsider in ("carla", "dario", "case_manager", "supervisore", "assistente_sociale"):
        assert_error(api.get(f"{TASKS}/{task['id']}", as_=outsider), 404, "task_not_found")
        assert_error(api.post(f"{TASKS}/{task['id']}/claim", as_=outsider), 404)
        assert_error(_complete(api, task["id"], {"title": "x"}, as_=outsider), 404)
    assert_error(api.get(f"{TASKS}/no-such-task", as_="coordinatore"), 404, "task_not_found")
    assert_error(api.get(f"{TASKS}/{'x' * 500}", as_="coordinatore"), 404)


# --- claim, unclaim, draft -----------------------------------------------------------------------


def test_claim_and_unclaim_with_their_conflicts(api) -> None:
    task = _complete_a_and_get_b(api)
    claim, unclaim = f"{TASKS}/{task['id']}/claim", f"{TASKS}/{task['id']}/unclaim"
    assert_error(api.post(unclaim, as_="case_manager"), 409, "conflict")  # nobody holds it yet
    claimed = api.post(claim, as_="case_manager")
    assert claimed.status_code == 200
    assert claimed.get_json()["assigned_user"] == "case_manager"
    assert_error(api.post(claim, as_="elena"), 409, "conflict")  # taken by a colleague
    assert_error(api.post(claim, as_="case_manager"), 409, "conflict")  # already mine
    assert_error(api.post(unclaim, as_="elena"), 409, "conflict")  # not hers to give back
    assert_error(_complete(api, task["id"], {}, as_="elena"), 409, "conflict")
    released = api.post(unclaim, as_="case_manager")
    assert released.status_code == 200
    assert released.get_json()["assigned_user"] is None
    assert api.post(claim, as_="elena").status_code == 200


def test_draft_is_kept_unvalidated_and_shown_back(api) -> None:
    task = _task_a(api)
    saved = api.put(f"{TASKS}/{task['id']}/draft", as_="coordinatore", json={"data": {"title": ""}})
    assert saved.status_code == 200
    assert saved.get_json()["data"] == {"title": ""}
    assert api.get(f"{TASKS}/{task['id']}", as_="coordinatore").get_json()["draft"] == {"title": ""}
    assert_error(api.put(f"{TASKS}/{task['id']}/draft", as_="coordinatore", json={"title": "x"}), 422)


# --- complete ------------------------------------------------------------------------------------


def test_complete_moves_the_instance_on_to_the_next_role(api) -> None:
    task = _task_a(api)
    response = _complete(api, task["id"], {"title": "Caldaia"})
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["task"]["status"] == "completed"
    assert body["task"]["completed_by"] == "coordinatore"
    assert body["instance_status"] == "running"
    assert _ids(api.get(TASKS, as_="coordinatore")) == []
    (task_b,) = api.get(TASKS, as_="case_manager").get_json()["items"]
    assert task_b["name"] == "Verifica la richiesta"
    assert task_b["instance_id"] == body["instance_id"]
    done = _complete(api, task_b["id"], {"approved": True}, as_="case_manager").get_json()
    assert done["instance_status"] == "completed"


def test_form_errors_are_422_per_field_and_lose_nothing(api) -> None:
    task = _task_a(api)
    api.put(f"{TASKS}/{task['id']}/draft", as_="coordinatore", json={"data": {"title": "bozza"}})
    error = assert_error(_complete(api, task["id"], {}), 422, "form_invalid")
    assert list(error["details"]["fields"]) == ["title"]
    error = assert_error(_complete(api, task["id"], {"title": 42, "extra": "x"}), 422, "form_invalid")
    assert set(error["details"]["fields"]) == {"extra"}
    error = assert_error(_complete(api, task["id"], {"title": "x" * 201}), 422, "form_invalid")
    assert list(error["details"]["fields"]) == ["title"]
    # Still ready, draft still there.
    again = api.get(f"{TASKS}/{task['id']}", as_="coordinatore").get_json()
    assert again["status"] == "ready"
    assert again["draft"] == {"title": "bozza"}


def test_typed_fields_are_checked_one_by_one(api) -> None:
    visit = api.start("api_visit", as_="case_manager")["tasks"][0]
    error = assert_error(_complete(api, visit["id"], {"visit_date": "31/02/2026", "people_met": 0, "risk": "x"},
                                   as_="case_manager"), 422)
    assert set(error["details"]["fields"]) == {"visit_date", "people_met", "risk"}
    ok = _complete(api, visit["id"], {"visit_date": "2026-03-01", "people_met": 2}, as_="case_manager")
    assert ok.status_code == 200
    assert ok.get_json()["instance_status"] == "completed"


@pytest.mark.parametrize(("body", "field"), [
    ({}, "data"), ({"data": "text"}, "data"), ({"data": []}, "data"), ({"data": {}, "other": 1}, "other"),
    ({"data": {}, "expected_version": "v1"}, "expected_version"), ([], "_schema")])
def test_malformed_bodies_are_422_naming_the_field(api, body, field) -> None:
    task = _task_a(api)
    error = assert_error(api.post(f"{TASKS}/{task['id']}/complete", as_="coordinatore", json=body), 422)
    assert field in error["details"]["fields"], error


def test_invalid_json_is_400(api) -> None:
    task = _task_a(api)
    response = api.post(f"{TASKS}/{task['id']}/complete", as_="coordinatore", data="{not json",
                        content_type="application/json")
    assert_error(response, 400, "bad_request")


def test_completing_twice_or_with_a_stale_version_is_a_conflict(api) -> None:
    task = _task_a(api)
    version = api.get(f"{TASKS}/{task['id']}", as_="coordinatore").get_json()["instance_version"]
    assert_error(_complete(api, task["id"], {"title": "x"}, expected_version=version + 1), 409, "conflict")
    assert _complete(api, task["id"], {"title": "x"}, expected_version=version).status_code == 200
    assert_error(_complete(api, task["id"], {"title": "x"}), 409, "task_not_ready")
    assert_error(api.post(f"{TASKS}/{task['id']}/claim", as_="coordinatore"), 409, "task_not_ready")


def test_a_coordinator_sees_but_may_not_complete_another_roles_task(api) -> None:
    task_b = _complete_a_and_get_b(api)
    assert api.get(f"{TASKS}/{task_b['id']}", as_="coordinatore").status_code == 200
    assert_error(_complete(api, task_b["id"], {"approved": True}), 403, "not_allowed")
    assert_error(api.post(f"{TASKS}/{task_b['id']}/claim", as_="coordinatore"), 403, "not_allowed")


# --- reassign ------------------------------------------------------------------------------------


def test_a_coordinator_reassigns_within_the_organisation_and_role(api) -> None:
    task_b = _complete_a_and_get_b(api)
    path = f"{TASKS}/{task_b['id']}/reassign"
    moved = api.post(path, as_="coordinatore", json={"username": "elena"})
    assert moved.status_code == 200
    assert moved.get_json()["assigned_user"] == "elena"
    assert _ids(api.get(TASKS, as_="elena")) == [task_b["id"]]
    # Not a colleague of that role and organisation: the field is named.
    for username in ("dario", "mediatore", "nobody"):
        error = assert_error(api.post(path, as_="coordinatore", json={"username": username}), 422, "form_invalid")
        assert list(error["details"]["fields"]) == ["username"]
    back = api.post(path, as_="coordinatore", json={"username": None})
    assert back.status_code == 200
    assert back.get_json()["assigned_user"] is None
    assert_error(api.post(path, as_="coordinatore", json={}), 422)


def test_only_coordinators_of_the_tasks_organisation_reassign(api) -> None:
    task_b = _complete_a_and_get_b(api)
    path = f"{TASKS}/{task_b['id']}/reassign"
    assert_error(api.post(path, as_="case_manager", json={"username": "elena"}), 403, "not_allowed")
    assert_error(api.post(path, as_="carla", json={"username": "elena"}), 404)
    _complete(api, task_b["id"], {}, as_="case_manager")
    assert_error(api.post(path, as_="coordinatore", json={"username": "elena"}), 409, "task_not_ready")


def test_the_list_serialises_tasks_exactly_as_the_task_schema(app, api) -> None:
    from sqlalchemy import select

    from engine.models import HumanTask
    from webapp.extensions import db
    from webapp.schemas.tasks import TaskSchema, task_json

    _task_a(api)
    _complete_a_and_get_b(api)  # a completed task too: every moment set
    with app.app_context():
        for row in db.session.connection().execute(select(HumanTask)).mappings():
            assert task_json(row) == TaskSchema().dump(row)
