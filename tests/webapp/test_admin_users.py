"""Admin pages for users: who may see them, and every action with its validation errors."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.webapp.accounts_support import (
    STRONG,
    account_events,
    field_error,
    flashes,
    make_user,
    post,
    try_login,
    user_id,
    user_state,
)
from tests.webapp.conftest import login

ADMIN_PAGES = ["/admin/", "/admin/users", "/admin/users/new", "/admin/users/{id}", "/admin/journal",
               "/admin/orgs", "/admin/orgs/new", "/admin/orgs/{org}"]
ADMIN_POSTS = ["/admin/users/new", "/admin/users/{id}", "/admin/users/{id}/active", "/admin/users/{id}/password",
               "/admin/users/{id}/unlock", "/admin/orgs/new", "/admin/orgs/{org}"]


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    """A client logged in as the system admin 'root'."""
    make_user(app, "root", ["admin"], full_name="Amministratore")
    login(client, "root")
    return client


def _urls(app: Flask, paths: list[str]) -> list[str]:
    from casefile import accounts
    from webapp.extensions import db

    with app.app_context():
        org_id = accounts.find_organisation(db.session, "capofila").id
    return [p.format(id=user_id(app, "bruno"), org=org_id) for p in paths]


def test_admin_pages_send_anonymous_callers_to_login(app: Flask, client: FlaskClient) -> None:
    for url in _urls(app, ADMIN_PAGES):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"], url


def test_admin_pages_and_actions_are_refused_to_other_roles(app: Flask, client: FlaskClient) -> None:
    login(client, "anna")
    before = user_state(app, "bruno")
    for url in _urls(app, ADMIN_PAGES):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "riservata agli amministratori" in response.get_data(as_text=True)
    for url in _urls(app, ADMIN_POSTS):
        response = post(client, url, {"active": "0", "roles": ["admin"], "new_password": STRONG,
                                      "new_password_repeat": STRONG, "key": "x", "name": "x", "kind": "ETS"})
        assert response.status_code == 403, url
    assert user_state(app, "bruno") == before
    assert account_events(app) == []
    assert 'class="nav-admin"' not in client.get("/account/").get_data(as_text=True)


def test_user_list_filters(app: Flask, admin: FlaskClient) -> None:
    make_user(app, "ex", ["mediatore"], org="altro", active=False, full_name="Ernesto Ex")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert 'class="nav-admin"' in page
    for name in ("anna", "bruno", "carla", "root", "ex"):
        assert f">{name}</a>" in page

    def names(query: str) -> set[str]:
        body = admin.get(f"/admin/users?{query}").get_data(as_text=True)
        return {n for n in ("anna", "bruno", "carla", "root", "ex") if f">{n}</a>" in body}

    assert names("q=ERNESTO") == {"ex"}
    assert names("org=altro") == {"carla", "ex"}
    assert names("role=coordinatore") == {"anna", "carla"}
    assert names("status=inactive") == {"ex"}
    assert names("status=active&org=altro") == {"carla"}
    assert names("status=locked") == set()
    assert names("role=sindaco") == set()
    assert names("page=abc&status=nonsense") == {"anna", "bruno", "carla", "root", "ex"}
    for _attempt in range(5):
        try_login(app.test_client(), "bruno", "sbagliata")
    assert names("status=locked") == {"bruno"}


def test_create_user_with_organisation_roles_and_initial_password(app: Flask, admin: FlaskClient) -> None:
    response = post(admin, "/admin/users/new", {"username": "giulia", "full_name": "Giulia Verdi",
                                                "organisation": "altro", "roles": ["case_manager", "mediatore"],
                                                "new_password": STRONG, "new_password_repeat": STRONG})
    assert response.status_code == 302
    state = user_state(app, "giulia")
    assert (state["organisation"], state["roles"], state["full_name"]) == (
        "altro", {"case_manager", "mediatore"}, "Giulia Verdi")
    assert state["password_changed_at"] is not None
    assert flashes(admin.get(response.headers["Location"])) == ["Utente giulia creato."]
    assert try_login(app.test_client(), "giulia", STRONG).status_code == 302
    (event,) = account_events(app)
    assert event == ("account.user_created", "root", {"username": "giulia", "organisation": "altro",
                                                      "roles": ["case_manager", "mediatore"],
                                                      "full_name": "Giulia Verdi"})


def test_create_user_shows_every_error_and_keeps_what_was_typed(app: Flask, admin: FlaskClient) -> None:
    empty = post(admin, "/admin/users/new", {"username": "", "full_name": "Nome Tenuto", "organisation": "",
                                             "new_password": "", "new_password_repeat": ""})
    assert empty.status_code == 422
    assert field_error(empty, "username") == "Indica il nome utente."
    assert field_error(empty, "organisation") == "Scegli l'ente."
    assert field_error(empty, "role") == "Scegli almeno un ruolo."
    assert field_error(empty, "new_password") == "La password deve avere almeno 10 caratteri."
    assert 'value="Nome Tenuto"' in empty.get_data(as_text=True)
    cases = [
        ({"username": "anna"}, "username", "Questo nome utente è già in uso."),
        ({"username": "con spazi"}, "username", "Il nome utente può contenere da 2 a 150 lettere, cifre e i "
                                                "caratteri . _ - @"),
        ({"roles": ["sindaco"]}, "role", "Ruolo sconosciuto."),
        ({"organisation": "inesistente"}, "organisation", "Scegli l'ente."),
        ({"new_password_repeat": STRONG + "x"}, "new_password_repeat", "Le due password non coincidono."),
        ({"username": "lunghissimo.nome", "new_password": "lunghissimo.nome",
          "new_password_repeat": "lunghissimo.nome"}, "new_password",
         "La password non può essere uguale al nome utente."),
        ({"full_name": "x" * 301}, "full_name", "Il nome completo può avere al massimo 300 caratteri."),
    ]
    valid = {"username": "nuovo", "full_name": "", "organisation": "capofila", "roles": ["case_manager"],
             "new_password": STRONG, "new_password_repeat": STRONG}
    for change, field, message in cases:
        response = post(admin, "/admin/users/new", {**valid, **change})
        assert response.status_code == 422, change
        assert field_error(response, field) == message, change
        body = response.get_data(as_text=True)
        assert 'value="capofila" selected' in body or change.get("organisation"), change
        assert STRONG not in body  # passwords are not written back
    assert user_state(app, "anna")["roles"] == {"coordinatore"}
    assert account_events(app) == []


def test_edit_full_name_and_roles(app: Flask, admin: FlaskClient) -> None:
    bruno = user_id(app, "bruno")
    page = admin.get(f"/admin/users/{bruno}").get_data(as_text=True)
    assert 'value="case_manager" checked' in page
    response = post(admin, f"/admin/users/{bruno}", {"full_name": "Bruno Neri",
                                                     "roles": ["case_manager", "equipe"]})
    assert response.status_code == 302
    assert (user_state(app, "bruno")["full_name"], user_state(app, "bruno")["roles"]) == (
        "Bruno Neri", {"case_manager", "equipe"})
    assert account_events(app)[-1] == ("account.user_updated", "root", {"username": "bruno", "changes": {
        "full_name": {"old": None, "new": "Bruno Neri"},
        "roles": {"old": ["case_manager"], "new": ["case_manager", "equipe"]}}})
    again = post(admin, f"/admin/users/{bruno}", {"full_name": "Bruno Neri", "roles": ["case_manager", "equipe"]})
    assert flashes(admin.get(again.headers["Location"])) == ["Nessuna modifica."]
    assert len(account_events(app)) == 1


def test_edit_errors_keep_what_was_typed_and_change_nothing(app: Flask, admin: FlaskClient) -> None:
    bruno = user_id(app, "bruno")
    no_role = post(admin, f"/admin/users/{bruno}", {"full_name": "Nome Nuovo"})
    assert no_role.status_code == 422
    assert field_error(no_role, "role") == "Scegli almeno un ruolo."
    assert 'value="Nome Nuovo"' in no_role.get_data(as_text=True)
    own = post(admin, f"/admin/users/{user_id(app, 'root')}", {"full_name": "", "roles": ["coordinatore"]})
    assert own.status_code == 422
    assert field_error(own, "role") == "Non puoi togliere a te stesso il ruolo di amministratore."
    assert 'value="coordinatore" checked' in own.get_data(as_text=True)
    assert user_state(app, "bruno")["full_name"] is None
    assert user_state(app, "root")["roles"] == {"admin"}
    assert admin.get("/admin/users/999999").status_code == 404


def test_deactivate_and_reactivate(app: Flask, admin: FlaskClient) -> None:
    bruno = user_id(app, "bruno")
    bruno_session = app.test_client()
    login(bruno_session, "bruno")
    response = post(admin, f"/admin/users/{bruno}/active", {"active": "0"})
    assert response.status_code == 302
    assert flashes(admin.get(response.headers["Location"])) == ["Utente bruno disattivato: non può più accedere."]
    assert user_state(app, "bruno")["active"] is False
    assert bruno_session.get("/tasks").status_code == 302  # the open session ends
    assert try_login(app.test_client(), "bruno", "demo").status_code == 401
    assert post(admin, f"/admin/users/{bruno}/active", {"active": "1"}).status_code == 302
    assert try_login(app.test_client(), "bruno", "demo").status_code == 302
    kinds = [kind for kind, _actor, _details in account_events(app)]
    assert kinds == ["account.user_deactivated", "account.user_activated"]


def test_admin_cannot_deactivate_themselves(app: Flask, admin: FlaskClient) -> None:
    response = post(admin, f"/admin/users/{user_id(app, 'root')}/active", {"active": "0"})
    assert response.status_code == 422
    assert field_error(response, "active") == "Non puoi disattivare il tuo stesso account."
    assert user_state(app, "root")["active"] is True


def test_reset_password_rules_then_success_lifts_the_lock(app: Flask, admin: FlaskClient) -> None:
    bruno = user_id(app, "bruno")
    for _attempt in range(5):
        try_login(app.test_client(), "bruno", "sbagliata")
    short = post(admin, f"/admin/users/{bruno}/password", {"new_password": "corta", "new_password_repeat": "corta"})
    assert short.status_code == 422
    assert field_error(short, "new_password") == "La password deve avere almeno 10 caratteri."
    differ = post(admin, f"/admin/users/{bruno}/password", {"new_password": STRONG, "new_password_repeat": "altra"})
    assert field_error(differ, "new_password_repeat") == "Le due password non coincidono."
    assert try_login(app.test_client(), "bruno", "demo").status_code == 401  # still locked
    done = post(admin, f"/admin/users/{bruno}/password", {"new_password": STRONG, "new_password_repeat": STRONG})
    assert done.status_code == 302
    assert try_login(app.test_client(), "bruno", STRONG).status_code == 302
    assert account_events(app)[-1] == ("account.password_reset", "root", {"username": "bruno"})


def test_unlock_lets_a_locked_user_in_at_once(app: Flask, admin: FlaskClient) -> None:
    bruno = user_id(app, "bruno")
    for _attempt in range(5):
        try_login(app.test_client(), "bruno", "sbagliata")
    page = admin.get(f"/admin/users/{bruno}").get_data(as_text=True)
    assert "bloccato fino a" in page
    assert "Sblocca" in page
    assert post(admin, f"/admin/users/{bruno}/unlock", {}).status_code == 302
    assert (user_state(app, "bruno")["failed_logins"], user_state(app, "bruno")["locked_until"]) == (0, None)
    assert try_login(app.test_client(), "bruno", "demo").status_code == 302
    assert [kind for kind, _a, _d in account_events(app)] == ["account.locked", "account.unlocked"]


def test_journal_lists_account_changes_newest_first(app: Flask, admin: FlaskClient) -> None:
    bruno = user_id(app, "bruno")
    post(admin, f"/admin/users/{bruno}", {"full_name": "Bruno Neri", "roles": ["case_manager"]})
    post(admin, f"/admin/users/{bruno}/active", {"active": "0"})
    page = admin.get("/admin/journal").get_data(as_text=True)
    assert page.index("Utente disattivato") < page.index("Utente modificato")
    assert "Bruno Neri" in page
    assert "root" in page
