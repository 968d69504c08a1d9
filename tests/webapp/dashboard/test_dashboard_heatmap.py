"""The dashboard's heat map: the chosen process's diagram with its waiting counts as heat classes and badges,
the same organisation scoping as the tables, a process choice that works without JavaScript, and the XML route."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from typing import Any

from engine.dashboard import WaitingAt
from engine.models import Timer
from engine.specs import read_models
from tests.webapp.dashboard.conftest import ZENO
from tests.webapp.staff.conftest import MODELS, NOW
from webapp.extensions import db
from webapp.views.dashboard import HeatMap, heat_map


def _data(page: str, name: str) -> Any:
    match = re.search(rf"{name}='([^']*)'", page)
    assert match, f"no {name} on the page"
    return json.loads(html.unescape(match.group(1)))


def test_heat_classes_are_relative_to_the_busiest_element() -> None:
    heat = HeatMap("casework", 1, {"a": 10, "b": 5, "c": 1, "d": 2})
    assert [heat.heat_class(count) for count in (10, 9, 8, 5, 2, 1)] == [5, 5, 4, 3, 1, 1]
    assert heat.markers()["a"] == ["heat", "heat-5"]
    assert heat.markers()["c"] == ["heat", "heat-1"]
    assert heat.overlays() == {"a": "10", "b": "5", "c": "1", "d": "2"}
    assert heat.legend() == [(1, 1, 2), (2, 3, 4), (3, 5, 6), (4, 7, 8), (5, 9, 10)]


def test_legend_keeps_only_classes_a_count_can_fall_in() -> None:
    assert HeatMap("p", 1, {"a": 3, "b": 1}).legend() == [(2, 1, 1), (4, 2, 2), (5, 3, 3)]
    assert HeatMap("p", 1, {"a": 1}).legend() == [(5, 1, 1)]
    assert HeatMap("p", 1, {}).legend() == []
    assert HeatMap("p", 1, {}).markers() == {}


def test_heat_map_takes_one_process_and_adds_up_an_element_counted_twice() -> None:
    waiting = [WaitingAt("casework", "register", "Compila", "task", 3), WaitingAt("intake", "register", "R", "task", 9),
               WaitingAt("casework", "register", "register", "timer", 1)]
    assert heat_map(waiting, "casework", 2).counts == {"register": 4}


def test_dashboard_draws_the_busiest_process_with_its_own_organisation_counts(staff_app, start, as_user) -> None:
    casework = [start("casework") for _ in range(3)]
    start("intake")
    for _ in range(4):
        start("casework", actor=ZENO)  # another organisation's: not counted
    with staff_app.app_context():
        db.session.add_all([Timer(instance_id=casework[0], task_id="t-1", task_spec_id="reminder", due_at=NOW),
                            Timer(instance_id=casework[1], task_id="t-2", task_spec_id="reminder", due_at=NOW)])
        db.session.commit()
    response = as_user("coordinatore").get("/dashboard")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-xml-url="/dashboard/processes/casework/bpmn"' in page
    assert _data(page, "data-markers") == {"register": ["heat", "heat-5"], "reminder": ["heat", "heat-4"]}
    assert _data(page, "data-overlays") == {"register": "3", "reminder": "2"}
    assert '<option value="casework" selected>' in page
    legend = page.split('class="diagram-legend heat-legend"', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r"heat-(\d)", legend) == ["2", "4", "5"]
    # The same counts stay in the accessible table.
    assert 'data-element="register"><th scope="row">Compila la scheda</th><td>Attività</td><td class="count">3<' in page
    assert "v1" in page.split('id="heatmap"', 1)[1].split("</figcaption>", 1)[0]

    zeno = _data(as_user("zeno").get("/dashboard").get_data(as_text=True), "data-overlays")
    assert zeno == {"register": "4"}


def test_process_is_chosen_with_a_plain_get_parameter(staff_app, start, as_user) -> None:
    for _ in range(2):
        start("casework")
    start("intake")
    page = as_user("coordinatore").get("/dashboard?process=intake&from=2026-01-01&to=2026-03-31")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-xml-url="/dashboard/processes/intake/bpmn"' in text
    assert _data(text, "data-overlays") == {"register_referral": "1"}
    assert '<option value="intake" selected>' in text
    form = text.split('id="heatmap-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="from" value="2026-01-01"' in form  # the period is kept when the process changes
    assert '<label for="heatmap-process">' in form


def test_a_process_with_nothing_waiting_shows_its_diagram_without_heat(staff_app, start, as_user) -> None:
    start("casework")
    text = as_user("coordinatore").get("/dashboard?process=intake").get_data(as_text=True)
    assert _data(text, "data-markers") == {}
    assert "Nessuna istanza in attesa in questo processo." in text
    assert "heat-legend" not in text


def test_unknown_process_is_refused_by_name_and_the_rest_still_shows(staff_app, start, as_user) -> None:
    start("casework")
    response = as_user("coordinatore").get("/dashboard?process=nessuno")
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Processo sconosciuto: scegli un processo dall&#39;elenco." in text
    assert 'aria-invalid="true" aria-describedby="heatmap-process-error"' in text
    assert "data-bpmn-viewer" not in text
    assert 'class="waiting"' in text


def test_funder_view_has_no_heat_map(staff_app, start, as_user) -> None:
    start("casework")
    text = as_user("supervisore").get("/dashboard").get_data(as_text=True)
    assert "Vista per il finanziatore" in text
    assert "data-bpmn-viewer" not in text


def test_xml_route_serves_the_latest_version_to_tracking_roles(staff_app, as_user) -> None:
    (casework,) = [model for model in read_models([MODELS], MODELS / "forms") if model.process_id == "casework"]
    changed = dataclasses.replace(casework, content_hash="",
                                  bpmn_xml=casework.bpmn_xml.replace("Compila la scheda", "Compila la nuova scheda"))
    with staff_app.app_context():
        staff_app.extensions["engine"].deploy(db.session, [changed], actor="tester")
        db.session.commit()
    response = as_user("coordinatore").get("/dashboard/processes/casework/bpmn")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert "Compila la nuova scheda" in response.get_data(as_text=True)
    page = as_user("coordinatore").get("/dashboard?process=casework").get_data(as_text=True)
    assert "v2" in page.split('id="heatmap"', 1)[1].split("</figcaption>", 1)[0]

    assert as_user("admin").get("/dashboard/processes/intake/bpmn").status_code == 200
    assert as_user("case_manager").get("/dashboard/processes/casework/bpmn").status_code == 403
    missing = as_user("coordinatore").get("/dashboard/processes/nessuno/bpmn")
    assert missing.status_code == 404
    assert "nessuno" in missing.get_data(as_text=True)
    anonymous = staff_app.test_client().get("/dashboard/processes/casework/bpmn")
    assert anonymous.status_code in (302, 303)
