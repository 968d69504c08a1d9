"""The minimal staff path: log in, see one's tasks, complete one through its generated form."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine import Actor
from engine.models import HumanTask
from tests.webapp.conftest import csrf_token, login
from webapp.extensions import db


def _start_approval(app: Flask, org: str = "capofila") -> str:
    with app.app_context():
        engine = app.extensions["engine"]
        instance = engine.start(db.session, "approval", {}, Actor("anna", frozenset({"coordinatore"}), org))
        db.session.commit()
        return db.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance.id)).one()


def test_login_rejects_bad_password_and_accepts_good(client: FlaskClient) -> None:
    token = csrf_token(client, "/login")
    bad = client.post("/login", data={"username": "anna", "password": "nope", "csrf_token": token})
    assert bad.status_code == 401
    assert "non corretti" in bad.get_data(as_text=True)
    login(client, "anna")
    assert client.get("/tasks").status_code == 200


def test_pages_need_login(client: FlaskClient) -> None:
    response = client.get("/tasks")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_post_without_csrf_token_is_refused(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "anna", "password": "demo"})
    assert response.status_code == 400


def test_task_list_shows_my_roles_tasks_only(app: Flask, client: FlaskClient) -> None:
    task_id = _start_approval(app)
    _start_approval(app, org="altro")
    login(client, "anna")
    page = client.get("/tasks").get_data(as_text=True)
    assert page.count('class="task-name">Compila la richiesta<') == 1
    assert f"/tasks/{task_id}" in page
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks")})
    login(client, "bruno")  # case manager: the task belongs to the coordinator role
    assert "Compila la richiesta" not in client.get("/tasks").get_data(as_text=True)
    assert client.get(f"/tasks/{task_id}").status_code == 403


def test_complete_through_generated_form_with_error_then_fix(app: Flask, client: FlaskClient) -> None:
    task_id = _start_approval(app)
    login(client, "anna")
    form_page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'name="title"' in form_page
    assert 'type="date"' in form_page
    assert '<option value="alta"' in form_page
    token = csrf_token(client, f"/tasks/{task_id}")
    invalid = client.post(f"/tasks/{task_id}", data={"title": "ab", "amount": "-3", "csrf_token": token})
    assert invalid.status_code == 422
    body = invalid.get_data(as_text=True)
    assert 'value="ab"' in body  # what was typed is kept
    assert "Scrivi almeno 3 caratteri." in body
    assert "Il valore minimo è 0." in body
    assert 'aria-invalid="true"' in body
    done = client.post(f"/tasks/{task_id}", data={"title": "Casa per H1", "amount": "12,50",
                                                  "urgency": "alta", "csrf_token": token})
    assert done.status_code == 303
    with app.app_context():
        row = db.session.get(HumanTask, task_id)
        assert row.status == "completed"
        assert row.completed_by == "anna"
        review = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == row.instance_id,
                                                           HumanTask.status == "ready")).one()
        assert review.role == "case_manager"


def test_security_headers_and_language_switch(client: FlaskClient) -> None:
    response = client.get("/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "Accesso" in response.get_data(as_text=True)
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert "Sign in" in english


def test_completion_lost_to_someone_else_keeps_typed_data(app: Flask, client: FlaskClient) -> None:
    task_id = _start_approval(app)
    login(client, "anna")
    token = csrf_token(client, f"/tasks/{task_id}")
    with app.app_context():  # the instance is suspended by a coordinator meanwhile
        app.extensions["engine"].set_suspended(
            db.session, db.session.get(HumanTask, task_id).instance_id, Actor("x", frozenset(), None), True)
        db.session.commit()
    response = client.post(f"/tasks/{task_id}", data={"title": "Casa sicura", "csrf_token": token})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "aggiornata da qualcun altro" in body
    assert 'value="Casa sicura"' in body


def test_numbers_that_are_not_amounts_are_refused_not_crashing(app: Flask, client: FlaskClient) -> None:
    task_id = _start_approval(app)
    login(client, "anna")
    token = csrf_token(client, f"/tasks/{task_id}")
    for amount in ("NaN", "Infinity", "-inf", "sNaN", "1e5000", "1e2000000"):
        response = client.post(f"/tasks/{task_id}", data={"title": "Casa", "amount": amount, "csrf_token": token})
        assert response.status_code == 422, amount
        assert "Inserisci un numero." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(HumanTask, task_id).status == "ready"
