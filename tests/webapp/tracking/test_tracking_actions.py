"""Retry after a fix, suspend/resume/terminate with a reason, reassign: audited, 409 on conflicts."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import AuditEvent, HumanTask, Incident, ProcessInstance
from tests.webapp.tracking.test_tracking_pages import _post
from webapp.extensions import db


def _instance(app, instance_id: int) -> ProcessInstance:  # type: ignore[no-untyped-def]
    with app.app_context():
        row = db.session.get(ProcessInstance, instance_id)
        db.session.expunge(row)
        return row


def _kinds(app, instance_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.kind).where(AuditEvent.instance_id == instance_id)
                                       .order_by(AuditEvent.id)))


def test_retry_fails_again_until_the_service_is_fixed_then_runs_on(staff_app, flaky, start, as_user) -> None:
    instance_id = start("flaky")
    client = as_user("coordinatore")
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "servizio esterno non raggiungibile" in page
    assert "Riprova" in page
    assert _post(client, instance_id, "retry").status_code == 303
    assert _instance(staff_app, instance_id).status == "error"
    flaky.fixed = True
    assert _post(client, instance_id, "retry").status_code == 303
    assert _instance(staff_app, instance_id).status == "running"
    with staff_app.app_context():
        statuses = set(db.session.scalars(select(Incident.status).where(Incident.instance_id == instance_id)))
        assert statuses == {"resolved"}
        assert db.session.scalars(select(HumanTask.name).where(HumanTask.instance_id == instance_id)).one() \
            == "Verifica l'esito"
    assert _kinds(staff_app, instance_id).count("retry") == 2
    # Nothing to retry any more: a readable 409.
    conflict = _post(client, instance_id, "retry")
    assert conflict.status_code == 409
    assert "ricarica la pagina" in conflict.get_data(as_text=True)


def test_suspend_resume_terminate_need_a_confirmed_reason(staff_app, flaky, start, as_user) -> None:
    instance_id = start("casework")
    client = as_user("coordinatore")
    assert _post(client, instance_id, "suspend", {"reason": "verifica"}).status_code == 422  # not confirmed
    assert _post(client, instance_id, "suspend", {"reason": " ", "confirm": "yes"}).status_code == 422
    assert _post(client, instance_id, "suspend", {"reason": "verifica", "confirm": "yes"}).status_code == 303
    assert _instance(staff_app, instance_id).status == "suspended"
    assert _post(client, instance_id, "suspend", {"reason": "ancora", "confirm": "yes"}).status_code == 409
    assert _post(client, instance_id, "resume", {"reason": "chiarito", "confirm": "yes"}).status_code == 303
    assert _instance(staff_app, instance_id).status == "running"
    assert _post(client, instance_id, "terminate", {"reason": "doppione", "confirm": "yes"}).status_code == 303
    assert _instance(staff_app, instance_id).status == "terminated"
    assert _post(client, instance_id, "terminate", {"reason": "ancora", "confirm": "yes"}).status_code == 409
    assert _kinds(staff_app, instance_id)[-5:] == ["suspended", "reason", "resumed", "reason", "terminated"]
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "doppione" in page
    assert "verifica" in page


def test_reassign_by_coordinator_only(staff_app, flaky, start, as_user) -> None:
    instance_id = start("casework")
    with staff_app.app_context():
        task_id = db.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id)).one()
    coordinator = as_user("coordinatore")
    page = coordinator.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Riassegna" in page
    response = _post(coordinator, instance_id, f"tasks/{task_id}/reassign", {"username": "anna"})
    assert response.status_code == 303
    with staff_app.app_context():
        assert db.session.get(HumanTask, task_id).assigned_user == "anna"
    assert _post(coordinator, instance_id, f"tasks/{task_id}/reassign", {"username": "ugo"}).status_code == 422
    supervisor_page = as_user("supervisore").get(f"/instances/{instance_id}")
    assert supervisor_page.status_code == 404  # another organisation
    assert "task_reassigned" in _kinds(staff_app, instance_id)
