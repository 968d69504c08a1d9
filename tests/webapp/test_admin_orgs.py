"""Admin pages for organisations: list, create, edit, and their validation errors."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from casefile import accounts
from tests.webapp.accounts_support import account_events, field_error, flashes, make_user, post
from tests.webapp.conftest import login
from webapp.extensions import db


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    make_user(app, "root", ["admin"])
    login(client, "root")
    return client


def _org(app: Flask, key: str) -> dict[str, object] | None:
    with app.app_context():
        org = accounts.find_organisation(db.session, key)
        return None if org is None else {"id": org.id, "name": org.name, "kind": org.kind,
                                         "programme_roles": org.programme_roles}


def test_list_shows_organisations_with_their_users(app: Flask, admin: FlaskClient) -> None:
    page = admin.get("/admin/orgs").get_data(as_text=True)
    assert "Ente capofila" in page
    assert "Altro ente" in page
    assert '/admin/users?org=capofila">3</a>' in page  # anna, bruno, root


def test_create_organisation(app: Flask, admin: FlaskClient) -> None:
    form = admin.get("/admin/orgs/new").get_data(as_text=True)
    for role in ("capofila", "lease_holder", "work_inclusion"):  # casefile.codes.PROGRAMME_ROLES
        assert f'value="{role}"' in form
    response = post(admin, "/admin/orgs/new", {"key": "asl_to", "name": "ASL Città di Torino", "kind": "ASL",
                                               "programme_roles": ["referrer", "partner"]})
    assert response.status_code == 302
    assert flashes(admin.get(response.headers["Location"])) == ["Ente ASL Città di Torino creato."]
    assert _org(app, "asl_to") == {"id": _org(app, "asl_to")["id"], "name": "ASL Città di Torino",  # type: ignore[index]
                                   "kind": "ASL", "programme_roles": ["partner", "referrer"]}
    assert account_events(app) == [("account.org_created", "root", {
        "key": "asl_to", "name": "ASL Città di Torino", "kind": "ASL", "programme_roles": ["partner", "referrer"]})]


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"key": "Con Spazi"}, "key", "La chiave può contenere da 2 a 100 lettere minuscole, cifre, - e _."),
    ({"key": ""}, "key", "La chiave può contenere da 2 a 100 lettere minuscole, cifre, - e _."),
    ({"key": "capofila"}, "key", "Esiste già un ente con questa chiave."),
    ({"name": "   "}, "name", "Indica il nome dell'ente (al massimo 300 caratteri)."),
    ({"kind": "SpA"}, "kind", "Scegli un tipo di ente dall'elenco."),
    ({"programme_roles": ["sovrano"]}, "programme_roles", "Ruolo nel programma sconosciuto."),
])
def test_create_errors_keep_what_was_typed(app: Flask, admin: FlaskClient, change: dict[str, object], field: str,
                                           message: str) -> None:
    form = {"key": "nuovo", "name": "Nuovo ente", "kind": "CPI", "programme_roles": ["work_inclusion"], **change}
    response = post(admin, "/admin/orgs/new", form)
    assert response.status_code == 422
    assert field_error(response, field) == message
    body = response.get_data(as_text=True)
    if field != "name":
        assert 'value="Nuovo ente"' in body
    if field != "programme_roles":
        assert 'value="work_inclusion" checked' in body
    assert _org(app, "nuovo") is None
    assert account_events(app) == []


def test_edit_organisation_but_never_its_key(app: Flask, admin: FlaskClient) -> None:
    org_id = _org(app, "altro")["id"]  # type: ignore[index]
    page = admin.get(f"/admin/orgs/{org_id}").get_data(as_text=True)
    assert "readonly" in page
    response = post(admin, f"/admin/orgs/{org_id}", {"key": "rinominato", "name": "Cooperativa Il Ponte",
                                                     "kind": "ETS", "programme_roles": ["mediation"]})
    assert response.status_code == 302
    assert _org(app, "rinominato") is None
    assert _org(app, "altro") == {"id": org_id, "name": "Cooperativa Il Ponte", "kind": "ETS",
                                  "programme_roles": ["mediation"]}
    (event,) = account_events(app)
    assert event[0] == "account.org_updated"
    assert event[2]["changes"]["name"] == {"old": "Altro ente", "new": "Cooperativa Il Ponte"}
    bad = post(admin, f"/admin/orgs/{org_id}", {"name": "", "kind": "ETS", "programme_roles": ["partner"]})
    assert bad.status_code == 422
    assert field_error(bad, "name") == "Indica il nome dell'ente (al massimo 300 caratteri)."
    assert 'value="partner" checked' in bad.get_data(as_text=True)
    assert _org(app, "altro")["name"] == "Cooperativa Il Ponte"  # type: ignore[index]
    assert admin.get("/admin/orgs/999999").status_code == 404
