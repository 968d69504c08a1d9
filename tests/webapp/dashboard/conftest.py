"""Dashboard fixtures: the staff-screen app (small models, staff of several organisations) and the tracking
helpers, plus a way to complete tasks at known times and the indicators' known-answer case file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine import Actor
from engine.models import HumanTask
from tests.casefile.indicators_seed import seed
from tests.webapp.staff.conftest import login, staff_app, staff_clock, staff_config  # noqa: F401
from tests.webapp.tracking.conftest import ANNA, ZENO, as_user, start  # noqa: F401
from webapp.extensions import db

__all__ = ["ANNA", "ZENO"]


@pytest.fixture
def complete(staff_app: Flask) -> Callable[..., None]:  # noqa: F811 (the imported fixture)
    """Complete an instance's ready task (as anna, or another actor) with the given data."""

    def completing(instance_id: int, data: dict[str, Any], actor: Actor = ANNA) -> None:
        with staff_app.app_context():
            task_id = db.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                                    HumanTask.status == "ready")).one()
            staff_app.extensions["engine"].complete_task(db.session, task_id, data, actor)
            db.session.commit()

    return completing


@pytest.fixture
def case_file(staff_app: Flask) -> Flask:  # noqa: F811
    """The six households of tests/casefile/indicators_seed.py (first half of 2026)."""
    with staff_app.app_context():
        seed(db.session)
        db.session.commit()
    return staff_app
