"""The command line's engine runner: a conflict with a concurrent change is a clean error, not a traceback."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import func, select

from engine.models import ProcessVersion
from webapp.cli.support import run_engine
from webapp.extensions import db


def test_a_change_colliding_with_a_concurrent_one_exits_1_with_a_conflict(app: Flask, capsys) -> None:
    with app.app_context():
        taken = db.session.scalars(select(ProcessVersion)).first()

        def deploy_under_a_taken_number() -> None:
            db.session.add(ProcessVersion(process_id=taken.process_id, number=taken.number, content_hash="other",
                                          source_file="x.bpmn", bpmn_xml="<x/>"))
            db.session.flush()

        with pytest.raises(SystemExit) as stopped:
            run_engine(True, deploy_under_a_taken_number)
        assert stopped.value.code == 1
        assert json.loads(capsys.readouterr().out)["error"]["code"] == "conflict"
        # Rolled back: nothing half-stored, and the session is usable again.
        assert db.session.scalar(select(func.count()).select_from(ProcessVersion)
                                 .where(ProcessVersion.content_hash == "other")) == 0
