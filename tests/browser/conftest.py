"""Browser fixtures: the app served on a free loopback port, driven by Debian's headless Chromium."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from webapp import create_app
from webapp.demo import seed_demo, seed_demo_cases
from webapp.extensions import db

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out, which this closed network refuses.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def live_server(make_database) -> Iterator[str]:
    """The real app with demo accounts and cases, served in a thread; yields its base URL."""
    from engine.specs import read_models

    app = create_app({"SECRET_KEY": "browser-test", "SQLALCHEMY_DATABASE_URI": make_database()})
    with app.app_context():
        engine = app.extensions["engine"]
        engine.deploy(db.session, read_models([app.config["PROCESSES_DIR"]], app.config["FORMS_DIR"]))
        seed_demo(db.session)
        seed_demo_cases(db.session, engine)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1100, "height": 800}, locale="it-IT")
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Keep a picture of the page as a test artefact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
