"""`pis2 instances migrate`: one instance or a process's instances, dry run, JSON, clean errors."""

from __future__ import annotations

import json
from typing import Any

from click.testing import Result
from flask import Flask
from sqlalchemy import select

from engine.models import AuditEvent, ProcessInstance
from tests.engine.conftest import COORD
from tests.engine.migration_models import V1, V2_RENAMED, model
from webapp.cli import main
from webapp.extensions import db


def migrate(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(main, ["instances", "migrate", *args])


def _two_instances(app: Flask) -> tuple[int, int, int]:
    """One instance at its first task, one at its last, then v2 renaming the last task."""
    with app.app_context():
        engine = app.extensions["engine"]
        engine.deploy(db.session, [model(V1)])
        first = engine.start(db.session, "mig", {}, COORD)
        last = engine.start(db.session, "mig", {}, COORD)
        [review] = [t for t in engine.load(last).get_tasks() if t.task_spec.name == "review"]
        engine.complete_task(db.session, str(review.id), {"approved": True}, COORD)
        [v2] = engine.deploy(db.session, [model(V2_RENAMED)])
        db.session.commit()
        return first.id, last.id, v2.id


def _version_of(app: Flask, instance_id: int) -> Any:
    with app.app_context():
        return db.session.get(ProcessInstance, instance_id).process_version_id  # type: ignore[union-attr]


def test_dry_run_lists_what_would_not_migrate(app: Flask) -> None:
    first, _, v2 = _two_instances(app)
    result = migrate(app, "--process", "mig", "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"instance {first} (mig)" in result.output
    assert "would migrate" in result.output
    assert "task 'final' (UserTask) does not exist in version" in result.output
    assert _version_of(app, first) != v2


def test_bulk_migration_in_json_exits_1_when_one_is_refused(app: Flask) -> None:
    first, last, v2 = _two_instances(app)
    result = migrate(app, "--process", "mig", "--json", "--as", "anna")
    assert result.exit_code == 1
    items = {item["instance_id"]: item for item in json.loads(result.output)["items"]}
    assert (items[first]["migrated"], items[last]["migrated"]) == (True, False)
    assert (_version_of(app, first), _version_of(app, last) == v2) == (v2, False)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "instance_migrated")).one()
        assert (event.instance_id, event.actor) == (first, "anna")


def test_one_instance_and_bad_arguments(app: Flask) -> None:
    first, _, v2 = _two_instances(app)
    assert migrate(app, str(first), "--to-version", str(v2)).exit_code == 0
    assert _version_of(app, first) == v2
    both = migrate(app, str(first), "--process", "mig")
    assert both.exit_code == 1
    assert "either INSTANCE_ID or --process" in both.output
    missing = migrate(app, "999999", "--json")
    assert missing.exit_code == 1
    assert json.loads(missing.output)["error"]["code"] == "instance_not_found"
    unknown = migrate(app, "--process", "mig", "--to-version", "99999")
    assert unknown.exit_code == 1
    assert "no version 99999" in unknown.output
