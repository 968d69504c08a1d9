"""Claim, unclaim and reassign: who may, and what the others get (403, never somebody else's task)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from engine.models import AuditEvent, HumanTask
from tests.webapp.staff.conftest import ACTORS, login, post, start_case, task_row
from webapp.extensions import db


def test_claim_then_unclaim(staff_app: Flask, client: FlaskClient) -> None:
    task_id = start_case(staff_app)
    login(client, "anna")
    claimed = post(client, f"/tasks/{task_id}/claim", {"next": "/tasks"})
    assert claimed.status_code == 303
    assert claimed.headers["Location"] == "/tasks"
    assert task_row(staff_app, task_id).assigned_user == "anna"
    assert "Attività presa in carico: Compila la scheda" in client.get("/tasks").get_data(as_text=True)
    released = post(client, f"/tasks/{task_id}/unclaim")
    assert released.status_code == 303
    assert task_row(staff_app, task_id).assigned_user is None


def test_claim_redirects_only_to_local_pages(staff_app: Flask, client: FlaskClient) -> None:
    task_id = start_case(staff_app)
    login(client, "anna")
    response = post(client, f"/tasks/{task_id}/claim", {"next": "//evil.example/steal"})
    assert response.headers["Location"] == f"/tasks/{task_id}"


def test_other_organisation_or_role_may_not_claim(staff_app: Flask, client: FlaskClient) -> None:
    task_id = start_case(staff_app)
    login(client, "zeno")  # a coordinator, but of another organisation
    assert post(client, f"/tasks/{task_id}/claim").status_code == 403
    assert client.get(f"/tasks/{task_id}").status_code == 403
    login(client, "bice")  # the lead partner, but a case manager
    assert post(client, f"/tasks/{task_id}/claim").status_code == 403
    assert task_row(staff_app, task_id).assigned_user is None
    assert post(client, "/tasks/no-such-task/claim").status_code == 404


def test_a_claimed_task_is_gone_for_colleagues(staff_app: Flask, client: FlaskClient) -> None:
    task_id = start_case(staff_app)
    login(client, "coordinatore")
    post(client, f"/tasks/{task_id}/claim")
    login(client, "anna")  # same role and organisation, but it is taken now
    assert "Compila la scheda" not in client.get("/tasks").get_data(as_text=True)
    assert client.get(f"/tasks/{task_id}").status_code == 403
    assert post(client, f"/tasks/{task_id}/claim").status_code == 403
    assert post(client, f"/tasks/{task_id}/unclaim").status_code == 403  # not hers to give back
    assert task_row(staff_app, task_id).assigned_user == "coordinatore"


def test_coordinator_reassigns_within_organisation_and_role(staff_app: Flask, client: FlaskClient) -> None:
    first = start_case(staff_app)
    login(client, "anna")
    post(client, f"/tasks/{first}/claim")
    # The case manager's step of another case: anna sees it in the organisation view and hands it to bice.
    review = _review_task(staff_app, client)
    page = client.get("/tasks?scope=team").get_data(as_text=True)
    assert f'action="/tasks/{review}/reassign"' in page
    assert '<option value="bice"' in page
    moved = post(client, f"/tasks/{review}/reassign", {"username": "bice", "next": "/tasks?scope=team"},
                 page="/tasks?scope=team")
    assert moved.status_code == 303
    assert moved.headers["Location"] == "/tasks?scope=team"
    assert task_row(staff_app, review).assigned_user == "bice"
    back = post(client, f"/tasks/{review}/reassign", {"username": ""}, page="/tasks?scope=team")
    assert back.status_code == 303
    assert task_row(staff_app, review).assigned_user is None
    with staff_app.app_context():
        kinds = [e.details.get("assigned_to") for e in db.session.query(AuditEvent).filter_by(kind="task_reassigned")]
        assert kinds == ["bice", None]


def test_reassign_refusals(staff_app: Flask, client: FlaskClient) -> None:
    start_case(staff_app)
    review = _review_task(staff_app, client)
    login(client, "anna")
    # A colleague without the task's role, or of another organisation: refused, nothing changes.
    assert post(client, f"/tasks/{review}/reassign", {"username": "anna"}).status_code == 422
    assert post(client, f"/tasks/{review}/reassign", {"username": "ugo"}).status_code == 422
    assert post(client, f"/tasks/{review}/reassign", {"username": "nobody"}).status_code == 422
    assert task_row(staff_app, review).assigned_user is None
    login(client, "bice")  # not a coordinator
    assert post(client, f"/tasks/{review}/reassign", {"username": "carla"}).status_code == 403
    login(client, "zeno")  # a coordinator of another organisation
    assert post(client, f"/tasks/{review}/reassign", {"username": "ugo"}).status_code == 403
    assert task_row(staff_app, review).assigned_user is None


def _review_task(app: Flask, client: FlaskClient) -> str:
    """Take a fresh case to its case manager's step (as the coordinator, through the pages)."""
    task_id = start_case(app)
    login(client, "anna")
    post(client, f"/tasks/{task_id}", {
        "_action": "complete", "reference_date": "2026-03-01", "visit_mode": "ufficio", "privacy_ok": "on",
        "members.__rows": "1", "members.0.first_name": "Ada", "members.0.birth_date": "1990-01-01"},
        page=f"/tasks/{task_id}")
    confirm = task_row(app, task_id)
    with app.app_context():
        step = db.session.query(HumanTask).filter_by(instance_id=confirm.instance_id, status="ready").one()
        app.extensions["engine"].complete_task(db.session, step.id, {"confirmed": True}, ACTORS["anna"])
        db.session.commit()
        review = db.session.query(HumanTask).filter_by(instance_id=confirm.instance_id, status="ready").one()
        assert review.role == "case_manager"
        return review.id
