"""Browser fixtures: the app served on a free loopback port, driven by Debian's headless Chromium.

The app runs this repository's small test models (tests/webapp/staff/models), never processes/, with
the demo partners, one user per role, the demo households and a few cases waiting at known steps.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from casefile import accounts
from casefile.demo import seed_organisations, seed_programme
from casefile.roles import ROLES
from engine import Actor
from engine.clock import FrozenClock
from engine.models import ProcessVersion
from engine.specs import read_models
from tests.webapp.staff.conftest import EXTRA_USERS, MODELS, NOW
from webapp import create_app
from webapp.accounts.auth import hash_password
from webapp.demo import DEMO_ROLE_ORGS
from webapp.extensions import db

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out, which this closed network refuses.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1200, "height": 850}
PHONE = {"width": 390, "height": 844}


class LiveServer(str):
    """The running app's base URL, which also knows a few ids of its data (``cases``)."""

    cases: dict[str, int]

    @property
    def url(self) -> str:
        return str(self)


def _seed(app: Any, clock: FrozenClock) -> dict[str, int]:
    engine = app.extensions["engine"]
    engine.deploy(db.session, read_models([MODELS], MODELS / "forms"), actor="tester")
    seed_organisations(db.session)
    password = hash_password("demo")
    users = {**{role: (DEMO_ROLE_ORGS[role], [role]) for role in ROLES}, **EXTRA_USERS}
    for username, (org_key, roles) in users.items():
        org = accounts.ensure_organisation(db.session, org_key, org_key.title())
        accounts.create_user(db.session, username, organisation=org, roles=roles, password_hash=password,
                             full_name=username.replace("_", " ").title())
    seed_programme(db.session, NOW.date())
    from casefile.models import Household

    rossi = db.session.query(Household).filter_by(display_name="Famiglia Rossi").one()
    coordinator = Actor("coordinatore", frozenset({"coordinatore"}), "capofila")
    # One case late by now, then cases due tomorrow: the list has something overdue and something not.
    engine.start(db.session, "casework", {}, coordinator, business_key="NUC-RITARDO")
    clock.advance(days=2)
    engine.start(db.session, "casework", {}, coordinator, business_key=rossi.reference)
    for number in range(4):
        engine.start(db.session, "intake", {}, coordinator, business_key=f"INVIO-{number + 1}")
    db.session.commit()
    return {"rossi": rossi.id}


def browser_app(database_url: str, clock: FrozenClock, processes: Path = MODELS, forms: Path | None = None) -> Any:
    """The app as the browser tests run it: its own database, models and forms, a frozen clock."""
    return create_app({"SECRET_KEY": "browser-test", "SQLALCHEMY_DATABASE_URI": database_url,
                       "PROCESSES_DIR": processes, "FORMS_DIR": forms or processes / "forms", "ENGINE_CLOCK": clock})


def deploy_intake_copy(app: Any, directory: Path, text: str) -> None:
    """Deploy ``text`` as the test intake model, from a copy in ``directory`` with the test forms beside it
    (tests never write the model files themselves)."""
    (directory / "intake.bpmn").write_text(text, encoding="utf-8")
    shutil.copytree(MODELS / "forms", directory / "forms")
    with app.app_context():
        app.extensions["engine"].deploy(db.session, read_models([directory / "intake.bpmn"], directory / "forms"),
                                        actor="tester")
        db.session.commit()


def intake_versions(app: Any) -> list[int]:
    """The ids of the intake model's versions, oldest first."""
    with app.app_context():
        return list(db.session.scalars(select(ProcessVersion.id).where(ProcessVersion.process_id == "intake")
                                       .order_by(ProcessVersion.id)))


@contextmanager
def served(app: Any) -> Iterator[LiveServer]:
    """The app served on a free loopback port by a thread, for as long as the block lasts."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        with app.app_context():
            db.engine.dispose()


@contextmanager
def serving_intake_copies(database_url: str, tmp_path_factory: pytest.TempPathFactory,
                          *texts: str) -> Iterator[tuple[LiveServer, Any]]:
    """The seeded browser-test app with intake redeployed from each text in turn (a new version each), served."""
    clock = FrozenClock(NOW)
    app = browser_app(database_url, clock)
    with app.app_context():
        _seed(app, clock)
    for number, text in enumerate(texts):
        deploy_intake_copy(app, tmp_path_factory.mktemp(f"models{number}"), text)
    with served(app) as live:
        yield live, app


def csp_refusals(page: Any) -> list[str]:
    """The Content Security Policy refusals the page reports in its console (the list grows as they come)."""
    refusals: list[str] = []
    page.on("console", lambda message: refusals.append(message.text)
            if "Content Security Policy" in message.text else None)
    return refusals


@pytest.fixture(scope="session")
def live_server(make_database) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """The real app with test models, demo accounts and cases, served in a thread."""
    clock = FrozenClock(NOW)
    app = browser_app(make_database(), clock)
    with app.app_context():
        cases = _seed(app, clock)
    with served(app) as live:
        live.cases = cases
        yield live


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _context(browser: Any, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, locale="it-IT")
    if AXE.exists():
        # An init script runs through the DevTools protocol, outside the page's CSP (which forbids
        # injected scripts, as it should).
        context.add_init_script(path=str(AXE))
    return context


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = _context(browser, DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = _context(browser, PHONE)
    yield context.new_page()
    context.close()


def login(page: Any, server: LiveServer, username: str) -> None:
    """Log in through the form (every test user's password is 'demo')."""
    page.goto(f"{server.url}/login")
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.click("form button[type=submit]")
    page.wait_for_url("**/tasks")


def screenshot(page: Any, name: str) -> None:
    """Keep a picture of the page as a test artefact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, as readable lines."""
    if not AXE.exists():
        pytest.skip("node_modules/axe-core is missing: run make assets")
    results = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.impact} ${v.id}: ${v.help} -> ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
    }""")
    return list(results)
