"""Login hardening: lockout, per-address limit, session cookie, CSRF, safe redirects."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.clock import FrozenClock
from tests.webapp.accounts_support import account_events, flashes, make_user, token_of, try_login, user_state
from tests.webapp.conftest import login
from webapp.config import load_config

WRONG = "Nome utente o password non corretti."
LOCKED = "Troppi tentativi non riusciti"


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(app: Flask, client: FlaskClient,
                                                                    app_clock: FrozenClock) -> None:
    for _attempt in range(4):
        response = try_login(client, "anna", "sbagliata")
        assert response.status_code == 401
        assert flashes(response) == [WRONG]
    fifth = try_login(client, "anna", "sbagliata")
    assert fifth.status_code == 401
    assert LOCKED in flashes(fifth)[0]
    assert "15 minuti" in flashes(fifth)[0]
    state = user_state(app, "anna")
    assert state["failed_logins"] == 5
    assert state["locked_until"].replace(tzinfo=None) == (app_clock() + timedelta(minutes=15)).replace(tzinfo=None)
    # Locked means locked: the right password is refused too, with the same message.
    right = try_login(client, "anna", "demo")
    assert right.status_code == 401
    assert LOCKED in flashes(right)[0]
    assert client.get("/tasks").status_code == 302
    (event,) = [e for e in account_events(app) if e[0] == "account.locked"]
    assert event[2]["username"] == "anna"


def test_lock_runs_out_and_a_success_resets_the_count(app: Flask, client: FlaskClient,
                                                       app_clock: FrozenClock) -> None:
    for _attempt in range(5):
        try_login(client, "anna", "sbagliata")
    app_clock.advance(minutes=14)
    assert LOCKED in flashes(try_login(client, "anna", "demo"))[0]
    app_clock.advance(minutes=2)
    assert try_login(client, "anna", "demo").status_code == 302
    state = user_state(app, "anna")
    assert (state["failed_logins"], state["locked_until"]) == (0, None)


def test_a_success_before_the_fifth_failure_starts_the_count_again(app: Flask, client: FlaskClient) -> None:
    for _attempt in range(4):
        try_login(client, "anna", "sbagliata")
    assert try_login(client, "anna", "demo").status_code == 302
    assert user_state(app, "anna")["failed_logins"] == 0
    client.post("/logout", data={"csrf_token": token_of(client.get("/account/").get_data(as_text=True))})
    for _attempt in range(4):
        assert flashes(try_login(client, "anna", "sbagliata")) == [WRONG]
    assert (user_state(app, "anna")["failed_logins"], user_state(app, "anna")["locked_until"]) == (4, None)


def test_unknown_usernames_get_exactly_the_answers_real_ones_get(app: Flask, client: FlaskClient) -> None:
    def answers(username: str) -> list[tuple[int, list[str]]]:
        return [(r.status_code, flashes(r)) for r in (try_login(client, username, "sbagliata") for _ in range(6))]

    real, unknown = answers("bruno"), answers("nessuno")
    assert real == unknown
    assert real[0] == (401, [WRONG])
    assert LOCKED in real[-1][1][0]


def test_inactive_account_is_refused_like_a_wrong_password(app: Flask, client: FlaskClient) -> None:
    make_user(app, "ex", ["case_manager"], active=False)
    response = try_login(client, "ex", "demo")
    assert (response.status_code, flashes(response)) == (401, [WRONG])


def test_too_many_failures_from_one_address_are_refused_for_a_while(app: Flask, client: FlaskClient,
                                                                      app_clock: FrozenClock) -> None:
    guard = app.extensions["login_guard"]
    assert guard.address_limit == app.config["LOGIN_ADDRESS_MAX_FAILURES"] == 30
    guard.address_limit = 3
    for name in ("x1", "x2", "x3"):  # different names: no account lock involved
        assert try_login(client, name, "sbagliata").status_code == 401
    refused = try_login(client, "anna", "demo")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Troppi tentativi di accesso non riusciti da questa rete" in flashes(refused)[0]
    assert user_state(app, "anna")["failed_logins"] == 0  # the password was not even checked
    elsewhere = try_login(app.test_client(), "anna", "demo", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert elsewhere.status_code == 302
    app_clock.advance(minutes=16)
    assert try_login(client, "anna", "demo").status_code == 302


def test_lockout_settings_come_from_the_config(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = app.extensions["login_guard"].policy
    assert (policy.max_failures, policy.lock_for) == (5, timedelta(minutes=15))
    monkeypatch.setenv("PIS2_LOGIN_MAX_FAILURES", "3")
    monkeypatch.setenv("PIS2_LOGIN_LOCK_MINUTES", "60")
    config = load_config({"SECRET_KEY": "x"})
    assert (config["LOGIN_MAX_FAILURES"], config["LOGIN_LOCK_MINUTES"]) == (3, 60)


def test_session_cookie_is_httponly_lax_secure_and_expires(app: Flask, client: FlaskClient) -> None:
    app.config["SESSION_COOKIE_SECURE"] = True
    response = try_login(client, "anna", "demo")
    assert response.status_code == 302
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "expires"} <= flags
    assert "SameSite=Lax" in cookie
    assert app.permanent_session_lifetime == timedelta(hours=8)


@pytest.mark.parametrize(("env", "override", "secure"), [
    ("production", None, True), ("staging", None, True), ("development", None, False), ("testing", None, False),
    ("development", "1", True), ("production", "0", False)])
def test_secure_cookie_everywhere_but_local_http(monkeypatch: pytest.MonkeyPatch, env: str, override: str | None,
                                                 secure: bool) -> None:
    # `make run` serves http://127.0.0.1 with the default PIS2_ENV=development: no Secure flag there.
    monkeypatch.setenv("PIS2_ENV", env)
    if override is None:
        monkeypatch.delenv("PIS2_SESSION_COOKIE_SECURE", raising=False)
    else:
        monkeypatch.setenv("PIS2_SESSION_COOKIE_SECURE", override)
    assert load_config({"SECRET_KEY": "x"})["SESSION_COOKIE_SECURE"] is secure


def test_post_without_csrf_token_is_refused_with_a_readable_page(app: Flask, client: FlaskClient) -> None:
    login(client, "anna")
    before = user_state(app, "anna")
    response = client.post("/account/password", data={"current_password": "demo", "new_password": "x" * 12,
                                                      "new_password_repeat": "x" * 12})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Il modulo è scaduto o non è valido" in body
    assert "<html" in body
    assert user_state(app, "anna")["password_hash"] == before["password_hash"]
    api_style = client.post("/account/language", data={"language": "en"}, headers={"Accept": "application/json"})
    assert api_style.status_code == 400
    assert api_style.get_json()["error"]["code"] == "csrf_failed"
    wrong_token = client.post("/account/language", data={"language": "en", "csrf_token": "forged"})
    assert wrong_token.status_code == 400
    assert user_state(app, "anna")["language"] == "it"


def test_login_goes_back_to_the_page_asked_for_but_never_off_site(client: FlaskClient) -> None:
    asked = client.get("/account/")
    assert asked.status_code == 302
    assert "/login?next=" in asked.headers["Location"]
    token = token_of(client.get("/login").get_data(as_text=True))
    back = client.post("/login?next=/account/", data={"username": "anna", "password": "demo", "csrf_token": token})
    assert back.headers["Location"] == "/account/"
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        other = FlaskClient(client.application)
        token = token_of(other.get("/login").get_data(as_text=True))
        response = other.post(f"/login?next={target}", data={"username": "anna", "password": "demo",
                                                             "csrf_token": token})
        assert response.headers["Location"] == "/tasks", target


def test_security_headers_are_kept(client: FlaskClient) -> None:
    login(client, "anna")
    headers = client.get("/account/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_nul_characters_are_refused_not_crashing(app: Flask, client: FlaskClient) -> None:
    # PostgreSQL cannot store NUL in text: without the check these would be 500s in the PostgreSQL lane.
    response = try_login(client, "an\x00na", "demo")
    assert response.status_code == 400
    assert "caratteri non validi" in response.get_data(as_text=True)
    make_user(app, "root", ["admin"])
    login(client, "root")
    token = token_of(client.get("/account/").get_data(as_text=True))
    assert client.get("/admin/users?q=a%00b").status_code == 400
    for path, data in (("/account/tokens", {"name": "x\x00y"}), ("/admin/users/new", {"full_name": "\x00"}),
                       ("/admin/orgs/new", {"key": "nuovo", "name": "N\x00"})):
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 400, path
    assert account_events(app) == []
