"""'Correggi i dati e riprova': a service refuses a codice fiscale typed wrong; the operator corrects it
on the repair page (or through the API) and the instance runs on. Refusals: bad JSON, unknown variable,
wrong role, other organisation, instance not in error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from casefile.operations.fields import codice_fiscale_is_valid
from engine import Actor, repair
from engine.models import AuditEvent, HumanTask, Incident, ProcessInstance
from engine.services import ServiceContext
from engine.specs import read_models
from tests.webapp.staff.conftest import token_of
from tests.webapp.tracking.conftest import ANNA
from tests.webapp.tracking.test_tracking_api import _token
from webapp.extensions import db

MODELS = Path(__file__).resolve().parent / "repair_bpmn"
GOOD_CF = "RSSMRA80A01L219M"
BAD_CF = "RSSMRA80A01L219X"  # wrong check letter
START_DATA = {"codice_fiscale": BAD_CF, "members": 2, "address": {"city": "Torino", "street": "Via Roma 1"},
              "urgent": True, "health_notes": "diabete"}
SUPERVISOR = Actor("supervisore", frozenset({"supervisore"}), "comune")


def _register_person(context: ServiceContext, codice_fiscale: str, members: int) -> dict[str, Any]:
    """A case-file operation that refuses a codice fiscale whose check letter is wrong."""
    if not codice_fiscale_is_valid(codice_fiscale):
        raise ValueError(f"codice fiscale non valido: {codice_fiscale}")
    return {"codice_fiscale": codice_fiscale, "members": members}


@pytest.fixture
def repair_app(staff_app: Flask) -> Flask:
    engine = staff_app.extensions["engine"]
    engine.services.register("repair_register_person", _register_person)
    with staff_app.app_context():
        engine.deploy(db.session, read_models([MODELS], MODELS / "forms"), actor="tester")
        db.session.commit()
    return staff_app


def _start(app: Flask, actor: Actor = ANNA, data: dict[str, Any] | None = None) -> int:
    with app.app_context():
        instance = app.extensions["engine"].start(db.session, "repair_probe", data or START_DATA, actor)
        db.session.commit()
        assert instance.status == "error"
        return instance.id


def _instance(app: Flask, instance_id: int) -> ProcessInstance:
    with app.app_context():
        row = db.session.get(ProcessInstance, instance_id)
        db.session.expunge(row)
        return row


def _events(app: Flask, instance_id: int, kind: str) -> list[dict[str, Any]]:
    with app.app_context():
        return [event.details for event in db.session.scalars(select(AuditEvent).where(
            AuditEvent.instance_id == instance_id, AuditEvent.kind == kind).order_by(AuditEvent.id))]


def _data(app: Flask, instance_id: int) -> dict[str, Any]:
    with app.app_context():
        engine = app.extensions["engine"]
        return repair.failed_data(engine.load(db.session.get(ProcessInstance, instance_id)))


def _form(page: str, **changes: str) -> dict[str, str]:
    """What the browser sends back: every field as shown, with ``changes`` typed over it."""
    fields = {"codice_fiscale": BAD_CF, "members": "2", "urgent": "true",
              "address": json.dumps(START_DATA["address"], ensure_ascii=False, indent=2)}
    fields.update(changes)
    return {"csrf_token": token_of(page), "reason": "codice fiscale corretto dal documento", "confirm": "yes",
            **{f"var:{name}": value for name, value in fields.items()}}


def test_corrected_codice_fiscale_lets_the_retry_run_on(repair_app, as_user) -> None:
    instance_id = _start(repair_app)
    client = as_user("coordinatore")
    show = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Correggi i dati e riprova" in show
    response = client.get(f"/instances/{instance_id}/repair")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"codice fiscale non valido: {BAD_CF}" in page  # the open incident
    assert f'value="{BAD_CF}"' in page  # a string as plain text
    assert 'name="var:members" value="2"' in page  # a number as JSON
    assert 'name="var:urgent" value="true"' in page
    assert "&#34;city&#34;: &#34;Torino&#34;" in page  # an object as JSON, in a textarea
    assert "health_notes" not in page  # sensitive for the forms: not shown
    assert "diabete" not in page

    form = _form(page, codice_fiscale=GOOD_CF)
    form["var:address"] = form["var:address"].replace("\n", "\r\n")  # as browsers send a textarea
    done = client.post(f"/instances/{instance_id}/repair", data=form)
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"/instances/{instance_id}")
    assert _instance(repair_app, instance_id).status == "running"
    with repair_app.app_context():
        assert db.session.scalars(select(HumanTask.name).where(HumanTask.instance_id == instance_id)).one() \
            == "Verifica la registrazione"
        assert set(db.session.scalars(select(Incident.status).where(Incident.instance_id == instance_id))) \
            == {"resolved"}
    # Only the changed field was applied and audited.
    (corrected,) = _events(repair_app, instance_id, "data_corrected")
    assert corrected["changes"] == {"codice_fiscale": {"old": BAD_CF, "new": GOOD_CF}}
    assert _events(repair_app, instance_id, "reason")[-1] == {
        "action": "data_corrected", "reason": "codice fiscale corretto dal documento"}
    after = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Dati corretti e passo eseguito di nuovo" in after
    assert GOOD_CF in after  # the history shows the change to whom may see values


def test_a_value_still_wrong_shows_the_new_incident(repair_app, as_user) -> None:
    instance_id = _start(repair_app)
    client = as_user("coordinatore")
    page = client.get(f"/instances/{instance_id}/repair").get_data(as_text=True)
    still_bad = "RSSMRA80A01L219Z"
    response = client.post(f"/instances/{instance_id}/repair", data=_form(page, codice_fiscale=still_bad))
    assert response.status_code == 303
    assert _instance(repair_app, instance_id).status == "error"
    show = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "il passo non è riuscito di nuovo" in show
    assert f"codice fiscale non valido: {still_bad}" in show
    with repair_app.app_context():
        assert list(db.session.scalars(select(Incident.status).where(Incident.instance_id == instance_id)
                                       .order_by(Incident.id))) == ["resolved", "open"]
    # The repair page now starts from the corrected (still wrong) value.
    assert f'value="{still_bad}"' in client.get(f"/instances/{instance_id}/repair").get_data(as_text=True)


def test_bad_json_is_shown_beside_the_field_and_everything_typed_is_kept(repair_app, as_user) -> None:
    instance_id = _start(repair_app)
    state = _instance(repair_app, instance_id).state
    client = as_user("coordinatore")
    page = client.get(f"/instances/{instance_id}/repair").get_data(as_text=True)
    form = _form(page, codice_fiscale=GOOD_CF, members="due", urgent="NaN")
    response = client.post(f"/instances/{instance_id}/repair", data=form)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.count("Non è un valore JSON valido") == 2
    assert 'name="var:members" value="due"' in body
    assert 'aria-invalid="true"' in body
    assert f'value="{GOOD_CF}"' in body  # what was typed is kept
    assert 'value="codice fiscale corretto dal documento"' in body
    assert _instance(repair_app, instance_id).state == state  # nothing applied
    assert _events(repair_app, instance_id, "data_corrected") == []

    missing_reason = {**_form(page, codice_fiscale=GOOD_CF), "reason": " "}
    refused = client.post(f"/instances/{instance_id}/repair", data=missing_reason)
    assert refused.status_code == 422
    assert "Scrivi il motivo" in refused.get_data(as_text=True)
    assert f'value="{GOOD_CF}"' in refused.get_data(as_text=True)
    assert _instance(repair_app, instance_id).status == "error"

    unchanged = client.post(f"/instances/{instance_id}/repair", data=_form(page))
    assert unchanged.status_code == 422
    assert "Non hai cambiato nessun valore" in unchanged.get_data(as_text=True)


def test_a_valid_json_change_is_applied_with_its_type(repair_app, as_user) -> None:
    instance_id = _start(repair_app)
    client = as_user("coordinatore")
    page = client.get(f"/instances/{instance_id}/repair").get_data(as_text=True)
    form = _form(page, members="3", urgent="false", codice_fiscale=GOOD_CF)
    form["var:health_notes"] = "nessuna"  # a hidden (sensitive) field cannot be changed from the page
    assert client.post(f"/instances/{instance_id}/repair", data=form).status_code == 303
    (corrected,) = _events(repair_app, instance_id, "data_corrected")
    assert corrected["changes"] == {"codice_fiscale": {"old": BAD_CF, "new": GOOD_CF},
                                    "members": {"old": 2, "new": 3}, "urgent": {"old": True, "new": False}}
    with repair_app.app_context():
        engine = repair_app.extensions["engine"]
        workflow = engine.load(db.session.get(ProcessInstance, instance_id))
        data = workflow.get_tasks(spec_name="check")[0].data
    assert data["members"] == 3
    assert data["urgent"] is False
    assert data["health_notes"] == "diabete"
    assert data["registered"] == {"codice_fiscale": GOOD_CF, "members": 3}


def test_who_may_correct(repair_app, as_user) -> None:
    capofila = _start(repair_app)
    comune = _start(repair_app, actor=SUPERVISOR)
    supervisor = as_user("supervisore")
    # A supervisor follows the instance but may not read household data: no link, a 403 page.
    show = supervisor.get(f"/instances/{comune}")
    assert show.status_code == 200
    assert "Correggi i dati e riprova" not in show.get_data(as_text=True)
    assert supervisor.get(f"/instances/{comune}/repair").status_code == 403
    posted = supervisor.post(f"/instances/{comune}/repair",
                             data={**_form(show.get_data(as_text=True), codice_fiscale=GOOD_CF)})
    assert posted.status_code == 403
    assert _instance(repair_app, comune).status == "error"
    # Another organisation's coordinator does not even see the instance.
    assert as_user("zeno").get(f"/instances/{capofila}/repair").status_code == 404
    # Without the CSRF token nothing happens.
    coordinator = as_user("coordinatore")
    show_page = coordinator.get(f"/instances/{capofila}").get_data(as_text=True)
    no_token = {key: value for key, value in _form(show_page, codice_fiscale=GOOD_CF).items() if key != "csrf_token"}
    assert coordinator.post(f"/instances/{capofila}/repair", data=no_token).status_code == 400
    assert _instance(repair_app, capofila).status == "error"


def test_an_instance_not_in_error_has_nothing_to_correct(repair_app, as_user) -> None:
    instance_id = _start(repair_app)
    with repair_app.app_context():
        repair_app.extensions["engine"].retry(db.session, instance_id, ANNA, corrections={"codice_fiscale": GOOD_CF})
        db.session.commit()
    response = as_user("coordinatore").get(f"/instances/{instance_id}/repair")
    assert response.status_code == 409
    assert "non è in errore" in response.get_data(as_text=True)


def test_api_retry_with_corrections(repair_app) -> None:
    client = repair_app.test_client()
    auth = _token(repair_app, "coordinatore")
    instance_id = _start(repair_app)
    url = f"/api/v1/tracking/instances/{instance_id}/retry"

    unknown = client.post(url, headers=auth, json={"data": {"codice_fiscal": GOOD_CF}})
    assert unknown.status_code == 422
    error = unknown.get_json()["error"]
    assert error["code"] == "unknown_variable"
    assert "codice_fiscal" in error["message"]
    assert set(error["details"]["fields"]) == {"codice_fiscal"}
    not_an_object = client.post(url, headers=auth, json={"data": ["codice_fiscale"]})
    assert not_an_object.status_code == 422
    assert "data" in json.dumps(not_an_object.get_json()["error"]["details"])
    extra = client.post(url, headers=auth, json={"dati": {}})
    assert extra.status_code == 422
    supervisor_auth = _token(repair_app, "supervisore")
    comune = _start(repair_app, actor=SUPERVISOR)
    forbidden = client.post(f"/api/v1/tracking/instances/{comune}/retry", headers=supervisor_auth,
                            json={"data": {"codice_fiscale": GOOD_CF}})
    assert forbidden.status_code == 403
    assert _instance(repair_app, comune).status == "error"
    other_org = client.post(url, headers=_token(repair_app, "zeno"), json={"data": {"codice_fiscale": GOOD_CF}})
    assert other_org.status_code == 404
    assert _data(repair_app, instance_id)["codice_fiscale"] == BAD_CF

    done = client.post(url, headers=auth, json={"data": {"codice_fiscale": GOOD_CF}})
    assert done.status_code == 200
    assert done.get_json()["status"] == "running"
    (corrected,) = _events(repair_app, instance_id, "data_corrected")
    assert corrected["changes"] == {"codice_fiscale": {"old": BAD_CF, "new": GOOD_CF}}


def test_api_masks_sensitive_fields_in_the_trail(repair_app) -> None:
    client = repair_app.test_client()
    auth = _token(repair_app, "coordinatore")
    instance_id = _start(repair_app)
    response = client.post(f"/api/v1/tracking/instances/{instance_id}/retry", headers=auth,
                           json={"data": {"codice_fiscale": GOOD_CF, "health_notes": "nessuna"}})
    assert response.status_code == 200
    (corrected,) = _events(repair_app, instance_id, "data_corrected")
    assert corrected["changes"]["health_notes"] == {"old": "***", "new": "***"}
    assert "diabete" not in json.dumps(_events(repair_app, instance_id, "data_corrected"))
