"""A supervisor follows instances in a real browser: filters, opens one in error, reads its history,
retries it after the external service is fixed; axe-core finds nothing serious; screenshots kept."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from engine import Actor
from engine.clock import FrozenClock
from tests.browser.conftest import MODELS, NOW, LiveServer, _seed, login, screenshot, serious_violations
from tests.webapp.tracking.conftest import FlakyService, install_flaky
from webapp import create_app
from webapp.extensions import db

# The supervisor's organisation in the demo (webapp.demo.DEMO_ROLE_ORGS).
COMUNE = Actor("coordinatore_comune", frozenset({"coordinatore"}), "comune")


@pytest.fixture(scope="module")
def tracked(make_database: Any) -> Iterator[tuple[LiveServer, FlakyService, int]]:
    """The app with the browser tests' data, plus one instance of the supervisor's organisation in error."""
    clock = FrozenClock(NOW)
    app = create_app({"SECRET_KEY": "browser-test", "SQLALCHEMY_DATABASE_URI": make_database(),
                      "PROCESSES_DIR": MODELS, "FORMS_DIR": MODELS / "forms", "ENGINE_CLOCK": clock})
    with app.app_context():
        _seed(app, clock)
    service = install_flaky(app)
    with app.app_context():
        app.extensions["engine"].start(db.session, "casework", {}, COMUNE, business_key="NUC-COMUNE")
        failed = app.extensions["engine"].start(db.session, "flaky", {}, COMUNE, business_key="NUC-GUASTO")
        db.session.commit()
        failed_id = failed.id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}"), service, failed_id
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


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
    assert serious_violations(page) == []
    screenshot(page, "tracking-instance-error-desktop")

    service.fixed = True  # the cause is fixed outside the process
    page.get_by_role("button", name="Riprova").click()
    assert "Nuovo tentativo eseguito" in page.locator("p.flash").inner_text()
    assert page.locator("#instance-status").inner_text() == "In corso"
    assert "Nuovo tentativo" in history.inner_text()
    assert "Verifica l'esito" in page.locator("section", has_text="Attività in corso").first.inner_text()
    assert serious_violations(page) == []
    screenshot(page, "tracking-instance-retried-desktop")
