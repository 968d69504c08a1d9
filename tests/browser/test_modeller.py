"""An analyst edits the intake model in a real browser: the diagram draws, a broken change is caught by
the server's validation and clicking the problem selects its element, a valid change is deployed;
axe-core finds nothing serious; screenshots kept. The app is this module's own, so the versions it
deploys do not reach the other browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.models import ProcessVersion
from tests.browser.conftest import (
    LiveServer,
    csp_refusals,
    intake_versions,
    login,
    screenshot,
    serious_violations,
    serving_intake_copies,
)
from tests.webapp.modeller.diagram import intake_with_diagram, write_copy
from webapp.extensions import db


@pytest.fixture(scope="module")
def modelling(make_database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Any]]:
    """The browser tests' app, with the intake model redeployed from a copy that has diagram shapes."""
    with serving_intake_copies(make_database(), tmp_path_factory, intake_with_diagram()) as live_app:
        yield live_app



def rename(page: Any, element_id: str, name: str) -> None:
    """Change an element's name through bpmn-js's own editing API, as the label editor does."""
    page.evaluate("""([id, name]) => {
        const modeler = window.pis2Modeler;
        modeler.get('modeling').updateLabel(modeler.get('elementRegistry').get(id), name);
    }""", [element_id, name])


def test_analyst_validates_and_deploys_a_change(modelling: tuple[LiveServer, Any], page: Any,
                                                tmp_path: Path) -> None:
    server, app = modelling
    blocked = csp_refusals(page)
    login(page, server, "analista")
    page.goto(f"{server.url}/modeller/")
    latest = intake_versions(app)[-1]
    page.click(f"#model-intake tr[data-version-id='{latest}'] a:first-child")
    page.wait_for_selector("#modeller[data-ready=true]")
    assert page.locator("#modeller-canvas svg .djs-element").count() > 0
    assert page.locator("[data-element-id=register_referral]").count() == 1
    assert page.locator(".bjsl-button").count() == 1  # bpmnlint runs in the editor

    # An unknown role in the lane: the server names the lane, and a click selects it on the canvas.
    rename(page, "lane_coord", "Ruolo che non esiste")
    page.click("#modeller-validate")
    problem = page.locator("#modeller-problems button[data-element-id=lane_coord]")
    problem.wait_for()
    assert "lane_coord" in page.inner_text("#modeller-problems")
    problem.click()
    selected = page.evaluate("() => window.pis2Modeler.get('selection').get().map(e => e.id)")
    assert selected == ["lane_coord"]
    assert page.locator(".djs-element.selected[data-element-id=lane_coord]").count() == 1
    screenshot(page, "modeller-problem")
    assert serious_violations(page) == []

    # Deploying a broken model is refused and stores nothing.
    page.click("#modeller-deploy")
    page.wait_for_selector("#modeller-status[data-kind=error]")
    assert intake_versions(app)[-1] == latest

    # Put the lane right, change the end event's name: valid, deployed as a new version.
    rename(page, "lane_coord", "Coordinatore di progetto")
    rename(page, "end", "Invio registrato")
    page.click("#modeller-validate")
    page.wait_for_selector("#modeller-status[data-kind=ok]")
    assert page.locator("#modeller-problems li").count() == 0
    page.click("#modeller-deploy")
    page.wait_for_function("() => document.querySelector('#modeller-status').textContent.includes('Pubblicata')")
    versions = intake_versions(app)
    assert len(versions) >= 2
    assert versions[-1] > latest
    with app.app_context():
        assert 'name="Invio registrato"' in db.session.get(ProcessVersion, versions[-1]).bpmn_xml
    assert page.get_attribute("#modeller-status a", "href") == f"/modeller/versions/{versions[-1]}"
    screenshot(page, "modeller-deployed")
    assert blocked == []


def test_an_uploaded_file_opens_in_the_editor(modelling: tuple[LiveServer, Any], page: Any, tmp_path: Path) -> None:
    server, app = modelling
    login(page, server, "analista")
    page.goto(f"{server.url}/modeller/versions/{intake_versions(app)[-1]}")
    page.wait_for_selector("#modeller[data-ready=true]")
    upload = write_copy(tmp_path, intake_with_diagram().replace("Registra l'invio", "Invio caricato"))
    page.set_input_files("#modeller-upload", str(upload))
    page.wait_for_selector("#modeller-status[data-kind=ok]")
    assert "Invio caricato" in page.inner_text("#modeller-canvas")
