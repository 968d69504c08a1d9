"""The edit page hands the properties panel its catalogues: the programme's roles, the registered service
operations with their parameters, the form files (shared and the version's own) and the decision ids of
the version's DMN files, plus the panel's Italian labels. The app deploys our real processes/."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from casefile import accounts
from casefile.demo import seed_organisations
from casefile.roles import ROLES
from engine.clock import FrozenClock
from engine.models import ProcessVersion
from engine.specs import read_models
from tests.webapp.staff.conftest import NOW, login
from webapp import create_app
from webapp.accounts.auth import hash_password
from webapp.extensions import db

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def catalogue_app(make_database: Any, tmp_path: Path) -> Iterator[Flask]:
    """Versions deployed from processes/ with forms/; the app's shared forms folder holds one other file."""
    shared = tmp_path / "shared-forms"
    shared.mkdir()
    (shared / "shared_only.schema.json").write_text('{"type": "object"}', encoding="utf-8")
    app = create_app({"TESTING": True, "SECRET_KEY": "catalogue-test", "SQLALCHEMY_DATABASE_URI": make_database(),
                      "PROCESSES_DIR": ROOT / "processes", "FORMS_DIR": shared, "ENGINE_CLOCK": FrozenClock(NOW)})
    with app.app_context():
        app.extensions["engine"].deploy(db.session, read_models([ROOT / "processes"], ROOT / "forms", roles=ROLES),
                                        actor="tester")
        seed_organisations(db.session)
        org = accounts.ensure_organisation(db.session, "capofila", "Capofila")
        for username in ("analista", "coordinatore"):
            accounts.create_user(db.session, username, organisation=org, roles=[username],
                                 password_hash=hash_password("demo"))
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def version_id(app: Flask, process_id: str) -> int:
    with app.app_context():
        return db.session.scalars(select(ProcessVersion.id).where(ProcessVersion.process_id == process_id)).one()


def data_json(page: str, name: str) -> Any:
    """The JSON in one of #modeller's single-quoted data attributes."""
    match = re.search(rf"data-{name}='([^']*)'", page)
    assert match, f"data-{name} missing"
    return json.loads(html.unescape(match.group(1)))


def edit_page(app: Flask, process_id: str) -> str:
    client = app.test_client()
    login(client, "analista")
    response = client.get(f"/modeller/versions/{version_id(app, process_id)}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_edit_page_carries_roles_operations_forms_and_decisions(catalogue_app: Flask) -> None:
    catalogue = data_json(edit_page(catalogue_app, "intake"), "catalogue")

    assert {"key": "coordinatore", "label": "Coordinatore di progetto"} in catalogue["roles"]
    assert [role["key"] for role in catalogue["roles"]] == list(ROLES)

    operations = {operation["name"]: operation["parameters"] for operation in catalogue["operations"]}
    assert operations["register_household"] == ["display_name", "members", "organisation", "since"]
    assert "task_organisations" in operations  # registered by the app, parameters not described
    assert operations["task_organisations"] is None
    assert list(operations) == catalogue_app.extensions["engine"].services.names()

    assert "intake_enter_referral.schema.json" in catalogue["forms"]  # the version's own
    assert "intake_enter_referral.uischema.json" in catalogue["forms"]
    assert "shared_only.schema.json" in catalogue["forms"]  # the shared forms folder
    assert catalogue["forms"] == sorted(catalogue["forms"])

    assert catalogue["decisions"] == ["intake_eligibility"]


def test_a_version_without_dmn_offers_no_decisions(catalogue_app: Flask) -> None:
    catalogue = data_json(edit_page(catalogue_app, "exit"), "catalogue")
    assert catalogue["decisions"] == []
    assert "exit_decide_exit.schema.json" in catalogue["forms"]
    assert "intake_enter_referral.schema.json" not in catalogue["forms"]


def test_an_unreadable_dmn_file_is_left_out_of_the_decisions(catalogue_app: Flask) -> None:
    with catalogue_app.app_context():
        version = db.session.get(ProcessVersion, version_id(catalogue_app, "intake"))
        version.dmn_files = {**version.dmn_files, "broken.dmn": "<definitions><decision id='x'"}
        db.session.commit()
    assert data_json(edit_page(catalogue_app, "intake"), "catalogue")["decisions"] == ["intake_eligibility"]


def test_the_panel_labels_are_italian_and_translated(catalogue_app: Flask) -> None:
    labels = data_json(edit_page(catalogue_app, "intake"), "panel-labels")
    assert labels["own"]["roleGroup"] == "Ruolo"
    assert labels["bpmn"]["General"] == "Generale"
    client = catalogue_app.test_client()
    login(client, "analista")
    with client.session_transaction() as session:
        session["lang"] = "en"
    page = client.get(f"/modeller/versions/{version_id(catalogue_app, 'intake')}").get_data(as_text=True)
    labels = data_json(page, "panel-labels")
    assert labels["own"]["roleGroup"] == "Role"
    assert labels["bpmn"]["General"] == "General"


def test_only_analysts_get_the_catalogue(catalogue_app: Flask) -> None:
    client = catalogue_app.test_client()
    login(client, "coordinatore")
    response = client.get(f"/modeller/versions/{version_id(catalogue_app, 'intake')}")
    assert response.status_code == 403
    assert "data-catalogue" not in response.get_data(as_text=True)
