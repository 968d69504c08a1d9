"""'Il mio profilo': password change rules, language preference, personal access tokens."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from casefile import accounts
from casefile.models import ApiToken
from engine.clock import FrozenClock
from tests.webapp.accounts_support import (
    STRONG,
    account_events,
    field_error,
    flashes,
    make_user,
    post,
    try_login,
    user_state,
)
from tests.webapp.conftest import login
from webapp.extensions import db


def _change(client: FlaskClient, current: str, new: str, repeat: str | None = None):  # type: ignore[no-untyped-def]
    return post(client, "/account/password", {"current_password": current, "new_password": new,
                                              "new_password_repeat": new if repeat is None else repeat})


def test_profile_shows_who_i_am(client: FlaskClient) -> None:
    login(client, "anna")
    page = client.get("/account/").get_data(as_text=True)
    assert "Il mio profilo" in page
    assert "Ente capofila" in page
    assert "Coordinatore di progetto" in page  # the role label, not the key
    assert 'class="nav-account"' in page
    assert 'class="nav-admin"' not in page  # anna is not an admin


def test_password_change_rules_each_with_its_message(app: Flask, client: FlaskClient) -> None:
    make_user(app, "francesca.rossi", ["case_manager"])
    login(client, "francesca.rossi")
    before = user_state(app, "francesca.rossi")["password_hash"]
    cases = [
        (("sbagliata", STRONG), "current_password", "La password attuale non è corretta."),
        (("demo", "corta"), "new_password", "La password deve avere almeno 10 caratteri."),
        (("demo", "Francesca.Rossi"), "new_password", "La password non può essere uguale al nome utente."),
        (("demo", STRONG, STRONG + "!"), "new_password_repeat", "Le due password non coincidono."),
    ]
    for args, field, message in cases:
        response = _change(client, *args)
        assert response.status_code == 422, args
        assert field_error(response, field) == message
        assert 'aria-invalid="true"' in response.get_data(as_text=True)
        assert args[1] not in response.get_data(as_text=True)  # passwords are never written back
    assert user_state(app, "francesca.rossi")["password_hash"] == before


def test_password_change_takes_effect_and_ends_other_sessions(app: Flask, client: FlaskClient,
                                                               app_clock: FrozenClock) -> None:
    login(client, "anna")
    other_device = app.test_client()
    login(other_device, "anna")
    response = _change(client, "demo", STRONG)
    assert response.status_code == 302
    assert flashes(client.get("/account/")) == ["Password cambiata."]
    state = user_state(app, "anna")
    assert state["password_changed_at"].replace(tzinfo=None) == app_clock().replace(tzinfo=None)
    assert ("account.password_changed", "anna", {"username": "anna"}) in account_events(app)
    assert client.get("/account/").status_code == 200  # this session carries on
    assert other_device.get("/account/").status_code == 302  # the other one must log in again
    assert try_login(app.test_client(), "anna", "demo").status_code == 401
    assert try_login(app.test_client(), "anna", STRONG).status_code == 302


def test_choosing_english_applies_now_and_at_the_next_login(app: Flask, client: FlaskClient) -> None:
    login(client, "anna")
    client.get("/tasks?lang=it")  # a session switch made earlier must not hide the choice
    response = post(client, "/account/language", {"language": "en"})
    assert response.status_code == 302
    page = client.get("/account/")
    assert flashes(page) == ["Language saved."]
    body = page.get_data(as_text=True)
    assert '<html lang="en"' in body
    assert "My profile" in body
    assert user_state(app, "anna")["language"] == "en"
    fresh = app.test_client()
    login(fresh, "anna")
    assert "My profile" in fresh.get("/account/").get_data(as_text=True)
    assert '<html lang="it"' in app.test_client().get("/login").get_data(as_text=True)


def test_unknown_language_is_refused(app: Flask, client: FlaskClient) -> None:
    login(client, "anna")
    response = post(client, "/account/language", {"language": "fr"})
    assert response.status_code == 422
    assert field_error(response, "language") == "Scegli una lingua dall'elenco."
    assert user_state(app, "anna")["language"] == "it"


def test_token_lifecycle_through_the_profile(app: Flask, client: FlaskClient, app_clock: FrozenClock) -> None:
    login(client, "anna")
    created = post(client, "/account/tokens", {"name": "script notturno", "expires_days": "30"})
    assert created.status_code == 200
    body = created.get_data(as_text=True)
    token = body.split('<code id="new-token">', 1)[1].split("</code>", 1)[0]
    assert token.startswith("pis2_")
    assert "non verrà più mostrato" in body
    with app.app_context():
        row = db.session.scalars(db.select(ApiToken)).one()
        assert row.token_hash == accounts.token_digest(token) != token
        assert row.expires_at.replace(tzinfo=None) == (app_clock() + timedelta(days=30)).replace(tzinfo=None)
        assert accounts.user_for_token(db.session, token, app_clock()).username == "anna"
        db.session.commit()
        token_id = row.id
    listing = client.get("/account/").get_data(as_text=True)
    assert token not in listing  # shown once only
    assert "script notturno" in listing
    assert token[:9] in listing  # the prefix tells tokens apart
    assert "attivo" in listing
    revoked = post(client, f"/account/tokens/{token_id}/revoke", {})
    assert revoked.status_code == 302
    listing = client.get("/account/").get_data(as_text=True)
    assert "revocato il" in listing
    with app.app_context():
        assert accounts.user_for_token(db.session, token, app_clock()) is None
    kinds = [kind for kind, _actor, _details in account_events(app)]
    assert kinds == ["account.token_created", "account.token_revoked"]


def test_token_form_errors_keep_what_was_typed(app: Flask, client: FlaskClient) -> None:
    login(client, "anna")
    no_name = post(client, "/account/tokens", {"name": "  ", "expires_days": "45"})
    assert no_name.status_code == 422
    assert field_error(no_name, "name") == "Dai al token un nome (da 1 a 100 caratteri)."
    assert 'value="45"' in no_name.get_data(as_text=True)
    for days in ("0", "abc", "3651", "²", "9" * 50):
        bad_days = post(client, "/account/tokens", {"name": "integrazione", "expires_days": days})
        assert bad_days.status_code == 422, days
        assert field_error(bad_days, "expires_days") == "La durata è un numero di giorni tra 1 e 3650."
        assert 'value="integrazione"' in bad_days.get_data(as_text=True)
    never = post(client, "/account/tokens", {"name": "senza scadenza", "expires_days": ""})
    assert never.status_code == 200
    with app.app_context():
        assert db.session.scalars(db.select(ApiToken.expires_at)).all() == [None]


def test_nobody_revokes_someone_elses_token(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        row, _token = accounts.create_api_token(db.session, accounts.find_user(db.session, "bruno"), "di bruno")
        db.session.commit()
        token_id = row.id
    login(client, "anna")
    assert post(client, f"/account/tokens/{token_id}/revoke", {}).status_code == 404
    assert post(client, "/account/tokens/999999/revoke", {}).status_code == 404
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None


def test_profile_needs_login(client: FlaskClient) -> None:
    assert client.get("/account/").status_code == 302
    assert client.post("/account/tokens", data={"name": "x"}).status_code in (302, 400)
