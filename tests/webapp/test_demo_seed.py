"""`pis2 demo seed`: the demo programme taken up by the real processes, so every demo role has work.

The seed runs as the CLI runs it (``seed_demo`` then ``seed_demo_cases``) with the five programme
models deployed, on a clock frozen at a few different days: the demo's dates are relative to today.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casefile.models import CaseEvent, Enrollment, Household, MediationCase, Placement
from casefile.roles import NON_TASK_ROLES, ROLES
from engine.clock import FrozenClock
from engine.models import HumanTask, Incident, Message, ProcessInstance, Timer
from engine.specs import read_models
from engine.tasklist import my_tasks
from tests.processes import FORMS, PROCESSES
from webapp import create_app
from webapp.demo import demo_actor, seed_demo
from webapp.demo.cases import already_charged, seed_demo_cases
from webapp.extensions import db

TASK_ROLES = sorted(set(ROLES) - NON_TASK_ROLES)
# A month end, a day after the rent falls due, the first of March, a day in the middle of summer.
DAYS = [datetime(2026, 11, 30, 21, 0, tzinfo=UTC), datetime(2027, 1, 6, 9, 0, tzinfo=UTC),
        datetime(2027, 3, 1, 7, 30, tzinfo=UTC), datetime(2026, 7, 15, 12, 0, tzinfo=UTC)]


@pytest.fixture
def demo_app(request: pytest.FixtureRequest, make_database: Any) -> Iterator[Flask]:
    """The app with the programme's processes deployed, seeded once as `pis2 demo seed` does
    (on the first of DAYS unless a test names the day)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "demo-test", "SQLALCHEMY_DATABASE_URI": make_database(),
                      "ENGINE_CLOCK": FrozenClock(getattr(request, "param", DAYS[0]))})
    with app.app_context():
        engine = app.extensions["engine"]
        engine.deploy(db.session, read_models([PROCESSES], FORMS, roles=ROLES), actor="tester")
        db.session.commit()
        seed(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def seed(app: Flask) -> int:
    """What `pis2 demo seed` does; returns how many instances it started."""
    with app.app_context():
        engine = app.extensions["engine"]
        seed_demo(db.session, engine.clock_now().date())
        started = seed_demo_cases(db.session, engine)
        db.session.commit()
    return started


def ready(session: Session, role: str) -> list[HumanTask]:
    """The demo user's own task list, as the task page shows it."""
    return list(session.scalars(my_tasks(demo_actor(role))))


def counts(session: Session) -> dict[str, int]:
    return {model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (ProcessInstance, HumanTask, Message, Timer, Incident, Household, CaseEvent)}


def household_of(session: Session, name: str) -> Household:
    return session.scalars(select(Household).where(Household.display_name == name)).one()


@pytest.mark.parametrize("demo_app", DAYS, ids=lambda day: day.date().isoformat(), indirect=True)
def test_every_task_role_finds_work_and_nothing_failed(demo_app: Flask) -> None:
    with demo_app.app_context():
        session = db.session
        lists = {role: ready(session, role) for role in TASK_ROLES}
        assert {role for role, tasks in lists.items() if not tasks} == set()
        assert session.scalars(select(Incident)).all() == []
        processes = set(session.scalars(select(ProcessInstance.process_id)))
        assert processes == {"intake", "housing_placement", "monitoring", "mediation"}
        assert "error" not in session.scalars(select(ProcessInstance.status)).all()
        assert [(m.name, m.status) for m in session.scalars(select(Message).order_by(Message.id))] == [
            ("enrollment_opened", "delivered"), ("move_in_recorded", "delivered"),
            ("landlord_notice", "delivered"), ("mediation_requested", "delivered")]
        # Nothing is left for the worker to catch up on: the due timers fired during the seed.
        now = demo_app.extensions["engine"].clock_now()
        assert session.scalars(select(Timer).where(Timer.due_at < now)).all() == []
        specs = {role: sorted(task.task_spec_id for task in tasks) for role, tasks in lists.items()}
        assert "needs_profile" in specs["case_manager"]
        assert "home_visit" in specs["case_manager"]
        assert {"pay_rent", "record_contribution"} <= set(specs["amministrazione"])
        assert specs["mediatore"] == ["open_case"]
        assert specs["referente_abitativo"] == ["assess_landlord_notice"]
        assert specs["operatore_lavoro"] == ["work_situation"]
        assert specs["equipe"] == ["assessment"]
        assert specs["assistente_sociale"] == ["co_sign_plan"]


def test_the_processes_take_up_the_households_where_their_records_leave_them(demo_app: Flask) -> None:
    with demo_app.app_context():
        session = db.session

        def started_for(name: str) -> list[str]:
            reference = household_of(session, name).reference
            return sorted(session.scalars(select(ProcessInstance.process_id)
                                          .where(ProcessInstance.business_key == reference)))

        assert started_for("Sig.ra Amadi") == ["housing_placement"]
        assert started_for("Sig. Haddad e figli") == ["mediation", "monitoring"]
        # The case file already charged the Rossi's rent and contribution since the move-in: a
        # monitoring would charge those months again and stop on the refusal, so it is not started.
        rossi = household_of(session, "Famiglia Rossi")
        housed = session.execute(select(Placement, Enrollment.household_id)
                                 .join(Enrollment, Enrollment.id == Placement.enrollment_id)
                                 .where(Placement.end_date.is_(None), Placement.move_in_date.is_not(None))).all()
        assert [already_charged(session, placement) for placement, household in housed if household == rossi.id] == [
            True]
        assert started_for("Famiglia Rossi") == []
        assert started_for("Famiglia Ionescu") == started_for("Famiglia Conti") == []

def test_the_mediator_can_open_the_new_case_beside_the_seeded_one(demo_app: Flask) -> None:
    with demo_app.app_context():
        session, engine = db.session, demo_app.extensions["engine"]
        [task] = ready(session, "mediatore")
        workflow = engine.load(session.get(ProcessInstance, task.instance_id))
        [spiff] = [t for t in workflow.get_tasks(state=TaskState.READY) if str(t.id) == task.id]
        request = spiff.data["mediation_request"]
        assert request["conflict_type"] == "spazi_comuni"
        today = engine.clock_now().date().isoformat()
        engine.complete_task(session, task.id, {
            "opened_date": today, "reported_by": request["reported_by"], "conflict_type": request["conflict_type"],
            "severity": request["severity"], "parties": ["nucleo", "amministratore_condominio"]},
            demo_actor("mediatore"))
        [triage] = ready(session, "mediatore")
        engine.complete_task(session, triage.id, {"safety_concern": False}, demo_actor("mediatore"))
        db.session.commit()
        assert session.scalars(select(Incident)).all() == []
        cases = session.scalars(select(MediationCase).order_by(MediationCase.id)).all()
        assert [(c.conflict_type, c.status) for c in cases] == [("rumori", "aperto"), ("spazi_comuni", "aperto")]


def test_the_co_signed_plan_starts_the_housing_placement_once(demo_app: Flask) -> None:
    with demo_app.app_context():
        session, engine = db.session, demo_app.extensions["engine"]
        [task] = ready(session, "assistente_sociale")
        engine.complete_task(session, task.id, {
            "plan_signed_date": engine.clock_now().date().isoformat(), "household_signed": True,
            "social_worker_username": "assistente_sociale"}, demo_actor("assistente_sociale"))
        db.session.commit()
        reference = household_of(session, "Kwame Mensah").reference
        assert session.scalars(select(ProcessInstance.process_id).where(
            ProcessInstance.business_key == reference).order_by(ProcessInstance.id)).all() == [
            "intake", "housing_placement"]
        assert session.scalars(select(Incident)).all() == []
        # Seeding again does not start a second housing placement for the household just enrolled.
        assert seed(demo_app) == 0


def test_seeding_twice_adds_nothing(demo_app: Flask) -> None:
    with demo_app.app_context():
        before = counts(db.session)
    assert seed(demo_app) == 0
    with demo_app.app_context():
        assert counts(db.session) == before
