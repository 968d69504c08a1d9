"""/api/v1/tracking: migrating instances to a newer version, one or in bulk, with dry runs."""

from __future__ import annotations

from flask import Flask

from engine.specs import ModelFile, read_models
from tests.webapp.api.conftest import MODELS, Api, assert_error
from webapp.extensions import db


def _deploy_v2(app: Flask) -> int:
    """api_flow again, with its second task renamed: instances still at the first one can move."""
    with app.app_context():
        v1 = next(m for m in read_models([MODELS], MODELS / "forms") if m.process_id == "api_flow")
        xml = v1.bpmn_xml.replace("task_b", "task_b2")
        [v2] = app.extensions["engine"].deploy(db.session, [ModelFile(
            process_id="api_flow", name=v1.name, source_file=v1.source_file, bpmn_xml=xml, forms=v1.forms)])
        db.session.commit()
        return v2.id


def _complete(api: Api, instance_id: int, as_: str, data: dict[str, object]) -> str:
    """Complete the instance's ready task that ``as_`` sees; returns its BPMN id."""
    [task] = [t for t in api.get("/api/v1/tasks?scope=role", as_=as_).get_json()["items"]
              if t["instance_id"] == instance_id]
    done = api.post(f"/api/v1/tasks/{task['id']}/complete", as_=as_, json={"data": data})
    assert done.status_code == 200, done.get_json()
    return task["task_spec_id"]  # type: ignore[no-any-return]


def _at_second_task(api: Api) -> int:
    started = api.start()
    _complete(api, started["id"], "coordinatore", {"title": "Casa"})
    return started["id"]  # type: ignore[no-any-return]


def test_one_instance_migrates_after_a_dry_run(app: Flask, api: Api) -> None:
    instance = api.start()
    v2 = _deploy_v2(app)
    url = f"/api/v1/tracking/instances/{instance['id']}/migrate"
    dry = api.post(url, as_="analista", json={"dry_run": True}).get_json()
    assert (dry["migratable"], dry["migrated"], dry["to_version"]) == (True, False, v2)
    assert api.get(f"/api/v1/instances/{instance['id']}", as_="coordinatore").get_json()["process_version_id"] != v2
    done = api.post(url, as_="analista", json={}).get_json()
    assert done["migrated"] is True
    shown = api.get(f"/api/v1/instances/{instance['id']}", as_="coordinatore").get_json()
    assert (shown["process_version_id"], shown["process_version_number"]) == (v2, 2)
    history = api.get(f"/api/v1/tracking/instances/{instance['id']}/history", as_="admin").get_json()["items"]
    assert history[-1]["kind"] == "instance_migrated"
    _complete(api, instance["id"], "coordinatore", {"title": "Casa"})
    assert _complete(api, instance["id"], "case_manager", {"approved": True}) == "task_b2"
    assert api.get(f"/api/v1/instances/{instance['id']}", as_="coordinatore").get_json()["status"] == "completed"


def test_refusal_roles_and_bad_input(app: Flask, api: Api) -> None:
    at_b = _at_second_task(api)
    _deploy_v2(app)
    url = f"/api/v1/tracking/instances/{at_b}/migrate"
    dry = api.post(url, as_="analista", json={"dry_run": True}).get_json()
    assert [(d["code"], d["params"]["task"]) for d in dry["details"]] == [("task_missing", "task_b")]
    assert dry["details"][0]["message"] == dry["reasons"][0]
    refused = assert_error(api.post(url, as_="analista", json={}), 409, "conflict")
    assert "task 'task_b' (UserTask) does not exist" in refused["details"]["reasons"][0]
    assert_error(api.post(url, as_="coordinatore", json={}), 403, "not_allowed")
    assert_error(api.post(url, as_="analista", json={"to_version": 99999}), 404)
    assert_error(api.post(url, as_="analista", json={"dry_run": "maybe"}), 422)
    assert_error(api.post(url, as_="analista", json={"expected_version": 1}), 409, "conflict")
    assert_error(api.post("/api/v1/tracking/instances/999999/migrate", as_="analista", json={}), 404)
    assert_error(api.post("/api/v1/tracking/migrations", as_="analista", json={"process": "nope"}), 404)
    assert_error(api.post("/api/v1/tracking/migrations", as_="analista", json={}), 422)
    assert_error(api.post("/api/v1/tracking/migrations", as_="supervisore", json={"process": "api_flow"}), 403)


def test_bulk_migrates_a_mix(app: Flask, api: Api) -> None:
    at_a = api.start()["id"]
    at_b = _at_second_task(api)
    v2 = _deploy_v2(app)
    dry = api.post("/api/v1/tracking/migrations", as_="admin", json={"process": "api_flow", "dry_run": True})
    body = dry.get_json()
    assert (body["dry_run"], body["migrated"], body["refused"]) == (True, 0, 1)
    done = api.post("/api/v1/tracking/migrations", as_="admin", json={"process": "api_flow"}).get_json()
    assert {(r["instance_id"], r["migrated"]) for r in done["items"]} == {(at_a, True), (at_b, False)}
    assert api.get(f"/api/v1/instances/{at_a}", as_="coordinatore").get_json()["process_version_id"] == v2
