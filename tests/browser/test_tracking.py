"""A supervisor follows instances in a real browser: filters, opens one in error, reads its history,
retries it after the external service is fixed; axe-core finds nothing serious; screenshots kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine import Actor
from engine.clock import FrozenClock
from tests.browser.conftest import (
    NOW,
    LiveServer,
    _seed,
    browser_app,
    login,
    screenshot,
    serious_violations,
    served,
)
from tests.webapp.tracking.conftest import FlakyService, install_flaky
from webapp.extensions import db

# The supervisor's organisation in the demo (webapp.demo.DEMO_ROLE_ORGS).
COMUNE = Actor("coordinatore_comune", frozenset({"coordinatore"}), "comune")


@pytest.fixture(scope="module")
def tracked(make_database: Any) -> Iterator[tuple[LiveServer, FlakyService, int]]:
    """The app with the browser tests' data, plus one instance of the supervisor's organisation in error."""
    clock = FrozenClock(NOW)
    app = browser_app(make_database(), clock)
    with app.app_context():
        _seed(app, clock)
    service = install_flaky(app)
    with app.app_context():
        app.extensions["engine"].start(db.session, "casework", {}, COMUNE, business_key="NUC-COMUNE")
        failed = app.extensions["engine"].start(db.session, "flaky", {}, COMUNE, business_key="NUC-GUASTO")
        db.session.commit()
        failed_id = failed.id
    with served(app) as live:
        yield live, service, failed_id


def test_supervisor_filters_opens_an_instance_and_retries_its_incident(tracked, page: Any) -> None:
    server, service, failed_id = tracked
    login(page, server, "supervisore")
    page.get_by_role("link", name="Istanze").click()
    assert page.locator("h1").inner_text() == "Istanze"
    rows = page.locator("table.instances tbody tr")
    assert rows.count() == 2  # the comune's two instances, no other organisation's

    page.locator("details.filters summary").click()
    page.select_option("#filter-status", "error")
    page.get_by_role("button", name="Filtra").click()
    assert rows.count() == 1
    assert "NUC-GUASTO" in rows.first.inner_text()
    assert serious_violations(page) == []
    screenshot(page, "tracking-list-desktop")

    page.get_by_role("link", name=f"#{failed_id}").click()
    assert page.locator("#instance-status").inner_text() == "In errore"
    history = page.locator("ol.history")
    assert "Avvio" in history.inner_text()
    assert "servizio esterno non raggiungibile" in page.locator("#incidents").inner_text()
    diagram = page.locator("#instance-diagram[data-ready=true]")
    diagram.wait_for(timeout=10000)
    assert diagram.locator("g.djs-element.progress-failed[data-element-id=probe]").count() == 1
    assert serious_violations(page) == []
    screenshot(page, "tracking-instance-error-desktop")

    service.fixed = True  # the cause is fixed outside the process
    page.get_by_role("button", name="Riprova").click()
    assert "Nuovo tentativo eseguito" in page.locator("p.flash").inner_text()
    assert page.locator("#instance-status").inner_text() == "In corso"
    assert "Nuovo tentativo" in history.inner_text()
    assert "Verifica l'esito" in page.locator("section", has_text="Attività in corso").first.inner_text()
    diagram.wait_for(timeout=10000)
    assert diagram.locator("g.djs-element.progress-completed[data-element-id=probe]").count() == 1
    assert diagram.locator("g.djs-element.progress-failed").count() == 0
    assert serious_violations(page) == []
    screenshot(page, "tracking-instance-retried-desktop")


def test_instance_diagram_marks_done_and_active_steps(tracked, page: Any) -> None:
    # The failed step's marker is checked on the instance in error, in the test above.
    server, _, _ = tracked
    login(page, server, "supervisore")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.url}/instances?q=NUC-COMUNE")
    page.locator("table.instances tbody tr").first.get_by_role("link", name="#").first.click()
    viewer = page.locator("#instance-diagram[data-ready=true]")
    viewer.wait_for(timeout=10000)
    assert errors == []
    # The test models carry no diagram interchange: bpmn-auto-layout draws them.
    assert viewer.locator("g.djs-element.progress-completed[data-element-id=start]").count() == 1
    assert viewer.locator("g.djs-element.progress-active[data-element-id=register]").count() == 1
    assert viewer.locator("g.djs-element[data-element-id=review]:not(.progress-active)").count() == 1
    legend = page.locator("#diagram ul.diagram-legend").inner_text()
    assert "Svolto" in legend
    assert "In errore" in legend
    assert serious_violations(page) == []
    screenshot(page, "tracking-instance-diagram-desktop")
