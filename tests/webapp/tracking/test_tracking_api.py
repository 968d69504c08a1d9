"""/api/v1/tracking/instances: filters, history, retry and lifecycle with bearer tokens."""

from __future__ import annotations

from sqlalchemy import select

from casefile import accounts
from casefile.models import User
from tests.webapp.tracking.conftest import ZENO
from webapp.extensions import db


def _token(app, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == username)).one()
        token = accounts.create_api_token(db.session, user, "tracking tests")[1]
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_list_filters_history_and_actions(staff_app, flaky, start) -> None:
    client = staff_app.test_client()
    auth = _token(staff_app, "coordinatore")
    broken = start("flaky", business_key="NUC-API")
    running = start("casework")
    start("casework", actor=ZENO)
    listing = client.get("/api/v1/tracking/instances", headers=auth).get_json()
    assert {item["id"] for item in listing["items"]} == {broken, running}
    assert listing["total"] == 2
    only_errors = client.get("/api/v1/tracking/instances?status=error&household=api", headers=auth).get_json()
    assert [item["id"] for item in only_errors["items"]] == [broken]
    bad = client.get("/api/v1/tracking/instances?status=nope", headers=auth)
    assert bad.status_code == 422
    assert set(bad.get_json()) == {"error"}

    history = client.get(f"/api/v1/tracking/instances/{broken}/history", headers=auth).get_json()
    assert [step["kind"] for step in history["items"]] == ["instance_started", "incident"]
    assert "servizio esterno" in history["items"][1]["facts"]["message"]

    assert client.post(f"/api/v1/tracking/instances/{broken}/retry", headers=auth).get_json()["status"] == "error"
    flaky.fixed = True
    assert client.post(f"/api/v1/tracking/instances/{broken}/retry", headers=auth).get_json()["status"] == "running"
    again = client.post(f"/api/v1/tracking/instances/{broken}/retry", headers=auth)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "task_not_ready"

    missing_reason = client.post(f"/api/v1/tracking/instances/{running}/suspend", headers=auth, json={})
    assert missing_reason.status_code == 422
    suspended = client.post(f"/api/v1/tracking/instances/{running}/suspend", headers=auth, json={"reason": "pausa"})
    assert suspended.get_json()["status"] == "suspended"
    resumed = client.post(f"/api/v1/tracking/instances/{running}/resume", headers=auth, json={"reason": "ok"})
    assert resumed.get_json()["status"] == "running"
    ended = client.post(f"/api/v1/tracking/instances/{running}/terminate", headers=auth, json={"reason": "doppio"})
    assert ended.get_json()["status"] == "terminated"
    steps = client.get(f"/api/v1/tracking/instances/{running}/history", headers=auth).get_json()["items"]
    assert [step["kind"] for step in steps][-5:] == ["suspended", "reason", "resumed", "reason", "terminated"], steps
    assert steps[-1]["facts"]["reason"] == "doppio"


def test_permissions(staff_app, flaky, start) -> None:
    client = staff_app.test_client()
    other = start("casework", actor=ZENO)
    assert client.get("/api/v1/tracking/instances").status_code == 401
    case_manager = client.get("/api/v1/tracking/instances", headers=_token(staff_app, "case_manager"))
    assert case_manager.status_code == 403
    coordinator = _token(staff_app, "coordinatore")
    assert client.get(f"/api/v1/tracking/instances/{other}/history", headers=coordinator).status_code == 404
    assert client.post(f"/api/v1/tracking/instances/{other}/retry", headers=coordinator).status_code == 404
    admin = _token(staff_app, "admin")
    assert client.get(f"/api/v1/tracking/instances/{other}/history", headers=admin).status_code == 200
