"""`pis2 casefile retention`: pseudonymise closed households from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from casefile import accounts
from casefile.models import DataAccessEvent, Household
from tests.casefile.test_retention import build_case
from webapp.cli import main
from webapp.config import load_config
from webapp.extensions import db

# The app fixture's clock reads 2026-03-02 09:00 UTC.
OLD = datetime(2023, 1, 10, tzinfo=UTC)  # 1147 days before
RECENT = datetime(2025, 1, 10, tzinfo=UTC)  # 416 days before


@pytest.fixture
def cases(app: Flask) -> dict[str, int]:
    """An old closed case, a recently closed one and an open one, committed."""
    with app.app_context():
        org = accounts.ensure_organisation(db.session, "capofila")
        made = {"old": build_case(db.session, org, 1, closed_at=OLD),
                "recent": build_case(db.session, org, 2, closed_at=RECENT),
                "open": build_case(db.session, org, 3, status="inserito", closed_at=None)}
        db.session.commit()
    return made


def invoke(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(main, ["casefile", "retention", *args])


def _pseudonymised(app: Flask) -> list[int]:
    with app.app_context():
        ids = list(db.session.scalars(select(Household.id).where(Household.pseudonymised_at.is_not(None))
                                      .order_by(Household.id)))
        db.session.remove()
    return ids


def _access_events(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(DataAccessEvent.id)))
        db.session.remove()
    return count or 0


def test_default_is_the_configured_retention_and_commits(app: Flask, cases: dict[str, int]) -> None:
    result = invoke(app)
    assert result.exit_code == 0, result.output
    assert result.output.strip().startswith("pseudonymised 1 household(s) closed more than 730 days ago")
    assert _pseudonymised(app) == [cases["old"]]
    assert _access_events(app) == 1
    # Nothing left to do: a second run is a no-op.
    again = invoke(app, "--json")
    assert json.loads(again.output)["households"] == 0


def test_older_than_days_and_json(app: Flask, cases: dict[str, int]) -> None:
    result = invoke(app, "--older-than-days", "365", "--json")
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.output)
    assert report["household_ids"] == [cases["old"], cases["recent"]]
    assert (report["households"], report["persons"], report["dry_run"]) == (2, 4, False)
    assert report["cutoff"] == "2025-03-02T09:00:00+00:00"
    assert _pseudonymised(app) == [cases["old"], cases["recent"]]


def test_config_setting_is_used(app: Flask, cases: dict[str, int]) -> None:
    app.config["RETENTION_DAYS"] = 100
    assert json.loads(invoke(app, "--json").output)["households"] == 2


def test_dry_run_reports_and_does_not_commit(app: Flask, cases: dict[str, int]) -> None:
    result = invoke(app, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would pseudonymise 1 household(s)" in result.output
    assert _pseudonymised(app) == []
    assert _access_events(app) == 0
    with app.app_context():
        assert db.session.get(Household, cases["old"]).display_name == "Famiglia Bianchi 1"
        db.session.remove()


def test_negative_days_are_refused_cleanly(app: Flask, cases: dict[str, int]) -> None:
    result = invoke(app, "--older-than-days", "-5")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert _pseudonymised(app) == []


def test_retention_days_setting_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    base = {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    monkeypatch.delenv("PIS2_RETENTION_DAYS", raising=False)
    assert load_config(base)["RETENTION_DAYS"] == 730
    monkeypatch.setenv("PIS2_RETENTION_DAYS", "400")
    assert load_config(base)["RETENTION_DAYS"] == 400
