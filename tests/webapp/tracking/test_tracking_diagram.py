"""The instance page's diagram: its XML route, the completed/active/failed markers, loop badges and the
text alternative, with the tracking roles and organisations of the instance page."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.models import HumanTask
from engine.specs import read_models
from tests.engine.conftest import FORMS as ENGINE_FORMS
from tests.engine.test_progress import LOOP
from tests.webapp.tracking.conftest import ANNA
from webapp.extensions import db


def _data(page: str, name: str) -> Any:
    match = re.search(rf"{name}='([^']*)'", page)
    assert match, f"no {name} on the page"
    return json.loads(html.unescape(match.group(1)))


def _summary(page: str) -> str:
    return page.split('id="diagram-summary"', 1)[1].split("</div>", 1)[0]


def test_page_marks_the_done_and_waiting_steps_and_names_them_for_screen_readers(start, as_user) -> None:
    instance_id = start("casework")
    page = as_user("anna").get(f"/instances/{instance_id}").get_data(as_text=True)
    assert '<h2 id="diagram-title">Diagramma</h2>' in page
    assert f'data-xml-url="/instances/{instance_id}/bpmn"' in page
    assert _data(page, "data-markers") == {"start": ["progress-completed"], "register": ["progress-active"]}
    assert _data(page, "data-overlays") == {}
    summary = _summary(page)
    assert "Passi in corso" in summary
    assert "<li>Compila la scheda</li>" in summary
    assert "Nessun passo in errore." in summary
    for legend in ("Svolto", "In corso o in attesa", "In errore", "Passaggi ripetuti (cicli)"):
        assert legend in page.split('class="diagram-legend"', 1)[1].split("</ul>", 1)[0]
    assert "dist/bpmn/viewer.js" in page
    assert "diagram.css" in page


def test_failed_service_task_is_marked_failed(flaky, start, as_user) -> None:
    instance_id = start("flaky")
    page = as_user("anna").get(f"/instances/{instance_id}").get_data(as_text=True)
    assert _data(page, "data-markers") == {"start": ["progress-completed"], "probe": ["progress-failed"]}
    summary = _summary(page).split("Passi in errore", 1)[1]
    assert "<li>Interroga il servizio esterno</li>" in summary

    flaky.fixed = True
    client = as_user("anna")
    token = client.get(f"/instances/{instance_id}").get_data(as_text=True).split(
        'name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert client.post(f"/instances/{instance_id}/retry", data={"csrf_token": token}).status_code in (200, 302, 303)
    after = _data(client.get(f"/instances/{instance_id}").get_data(as_text=True), "data-markers")
    assert after == {"start": ["progress-completed"], "probe": ["progress-completed"], "check": ["progress-active"]}


def test_loops_get_a_badge_with_their_passes(staff_app, as_user, tmp_path: Path) -> None:
    (tmp_path / "looping.bpmn").write_text(LOOP, encoding="utf-8")
    engine = staff_app.extensions["engine"]
    with staff_app.app_context():
        engine.deploy(db.session, read_models([tmp_path], ENGINE_FORMS), actor="tester")
        db.session.commit()
    with staff_app.app_context():
        instance = engine.start(db.session, "looping", {"divisor": 1}, ANNA)
        instance_id = instance.id
        for _ in range(2):
            task_id = db.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                                    HumanTask.status == "ready")).one()
            engine.complete_task(db.session, task_id, {"approved": False}, ANNA)
        db.session.commit()
    page = as_user("anna").get(f"/instances/{instance_id}").get_data(as_text=True)
    assert _data(page, "data-overlays") == {"visit": "×2", "count": "×2", "enough": "×2"}
    assert _data(page, "data-markers")["visit"] == ["progress-active"]
    assert "v1" in page.split("<figcaption>", 1)[1].split("</figcaption>", 1)[0]


def test_xml_route_serves_the_instance_version_to_tracking_roles_of_its_organisation(start, as_user) -> None:
    instance_id = start("casework")
    response = as_user("anna").get(f"/instances/{instance_id}/bpmn")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert '<bpmn:process id="casework"' in response.get_data(as_text=True)
    assert as_user("zeno").get(f"/instances/{instance_id}/bpmn").status_code == 404  # another organisation
    assert as_user("case_manager").get(f"/instances/{instance_id}/bpmn").status_code == 403  # no tracking role
    assert as_user("admin").get(f"/instances/{instance_id}/bpmn").status_code == 200  # every organisation
    assert as_user("anna").get("/instances/999999/bpmn").status_code == 404


def test_xml_route_needs_a_login(staff_app, start) -> None:
    instance_id = start("casework")
    response = staff_app.test_client().get(f"/instances/{instance_id}/bpmn")
    assert response.status_code in (302, 401)
    assert b"<bpmn:" not in response.data
