"""Modeller fixtures: the staff-screen app (its small test models, one user per role) and helpers that
call the modeller's JSON endpoints the way its page does (CSRF token in the X-CSRFToken header)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.models import ProcessVersion
from tests.webapp.staff.conftest import MODELS, login, staff_app, staff_clock, staff_config, token_of  # noqa: F401
from webapp.extensions import db

INTAKE = MODELS / "intake.bpmn"
BOUNDARY = "pis2-test-boundary"


def intake_xml() -> str:
    """A copy of the test intake model's text (the file itself is never written)."""
    return Path(INTAKE).read_text(encoding="utf-8")


def latest_version(app: Flask, process_id: str = "intake") -> int:
    with app.app_context():
        return db.session.scalars(select(ProcessVersion.id).where(ProcessVersion.process_id == process_id)
                                  .order_by(ProcessVersion.id.desc())).first()


class ModellerClient:
    """A logged-in test client with the page's CSRF token."""

    def __init__(self, client: FlaskClient, version_id: int) -> None:
        self.client = client
        self.version_id = version_id
        # Every page's header holds the session's token (the logout form).
        self.token = token_of(client.get("/tasks").get_data(as_text=True))

    def post_xml(self, action: str, xml: str | bytes, **headers: Any) -> Any:
        return self.client.post(f"/modeller/versions/{self.version_id}/{action}", data=xml,
                                headers={"X-CSRFToken": self.token, "Content-Type": "application/xml",
                                         "Accept": "application/json", **headers})

    def upload(self, content: bytes, filename: str = "model.bpmn") -> Any:
        # The multipart body is built here: werkzeug's builder spools a large one to a file it never closes.
        head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n").encode()
        return self.client.post("/modeller/upload", data=head + content + f"\r\n--{BOUNDARY}--\r\n".encode(),
                                content_type=f"multipart/form-data; boundary={BOUNDARY}",
                                headers={"X-CSRFToken": self.token, "Accept": "application/json"})


@pytest.fixture
def as_user(staff_app: Flask) -> Any:  # noqa: F811 (the imported fixture)
    def make(username: str) -> ModellerClient:
        client = staff_app.test_client()
        login(client, username)
        return ModellerClient(client, latest_version(staff_app))

    return make
