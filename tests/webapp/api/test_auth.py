"""Authentication of the API: a personal access token in the Authorization header, nothing else."""

from __future__ import annotations

import pytest

from casefile.accounts import find_user
from tests.webapp.api.conftest import assert_error
from tests.webapp.conftest import login
from webapp.extensions import db

PROTECTED = [("GET", "/api/v1/tasks"), ("GET", "/api/v1/tasks/x"), ("POST", "/api/v1/tasks/x/claim"),
             ("POST", "/api/v1/tasks/x/unclaim"), ("PUT", "/api/v1/tasks/x/draft"),
             ("POST", "/api/v1/tasks/x/complete"), ("POST", "/api/v1/tasks/x/reassign"),
             ("POST", "/api/v1/instances"), ("GET", "/api/v1/instances"), ("GET", "/api/v1/instances/1"),
             ("GET", "/api/v1/households"), ("GET", "/api/v1/households/1"),
             ("GET", "/api/v1/households/1/timeline"), ("GET", "/api/v1/processes")]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_resource_refuses_a_request_without_token(api, method, path) -> None:
    response = api.call(method, path, json={})
    error = assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
    assert "token" in error["message"]


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "pis2_abc", "Bearer pis2_nope",
                                    "Bearer not-even-our-prefix", "Token pis2_abc"])
def test_malformed_or_unknown_tokens_are_refused(api, header) -> None:
    response = api.get("/api/v1/tasks", headers={"Authorization": header})
    assert_error(response, 401, "unauthorized")
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_revoked_and_expired_tokens_are_refused(api, tokens) -> None:
    assert api.get("/api/v1/tasks", token=tokens["coordinatore"]).status_code == 200
    assert_error(api.get("/api/v1/tasks", token=tokens.revoked), 401)
    assert_error(api.get("/api/v1/tasks", token=tokens.expired), 401)


def test_token_of_a_deactivated_user_is_refused(app, api) -> None:
    with app.app_context():
        find_user(db.session, "case_manager").active = False  # type: ignore[union-attr]
        db.session.commit()
    assert_error(api.get("/api/v1/tasks", as_="case_manager"), 401)


def test_a_token_records_its_last_use(app, api) -> None:
    api.get("/api/v1/processes", as_="analista")
    with app.app_context():
        from casefile.models import ApiToken

        rows = db.session.query(ApiToken).filter(ApiToken.last_used_at.is_not(None)).all()
        assert [row.user.username for row in rows] == ["analista"]


def test_the_session_cookie_does_not_authenticate_the_api(app, client) -> None:
    # Logged in through the web form (so the browser holds a session cookie), but no token.
    from casefile.accounts import find_user as find
    from webapp.accounts.auth import hash_password

    with app.app_context():
        find(db.session, "coordinatore").password_hash = hash_password("demo")  # type: ignore[union-attr]
        db.session.commit()
    login(client, "coordinatore")
    assert client.get("/tasks").status_code == 200
    assert_error(client.get("/api/v1/tasks"), 401)


def test_token_requests_need_no_csrf_token(api) -> None:
    # CSRF protects cookie sessions; a token in a header cannot be sent by another site's form.
    response = api.post("/api/v1/instances", as_="coordinatore", json={"process_id": "api_flow"})
    assert response.status_code == 201
