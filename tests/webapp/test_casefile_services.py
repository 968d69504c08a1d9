"""Case-file operations as BPMN service tasks: records written in the step's transaction, on the timeline."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from casefile import accounts
from casefile.models import CaseEvent, Household, Referral
from casefile.roles import ROLES
from casefile.timeline import household_timeline
from engine import Actor, Engine
from engine.models import HumanTask, Incident
from engine.services import ServiceRegistry
from engine.specs import read_models
from webapp.casefile_services import process_events, register_casefile_operations

MODELS = Path(__file__).resolve().parent / "bpmn"
COORD = Actor("anna", frozenset({"coordinatore"}), "capofila")
START = {"household_name": "Famiglia Benali", "referral_date": "2026-03-02", "urgency": "sfratto_esecutivo",
         "members": [{"first_name": "Ahmed", "last_name": "Benali", "relationship_to_hoh": 1}]}


@pytest.fixture
def engine(session) -> Engine:
    accounts.ensure_organisation(session, "capofila", "Ente capofila")
    services = ServiceRegistry()
    register_casefile_operations(services)
    # The real clock: case-file rows are stamped with it, and the timeline orders by those stamps.
    engine = Engine(roles=ROLES, services=services)
    engine.deploy(session, read_models([MODELS], MODELS / "forms", roles=ROLES), actor="tester")
    return engine


def _ready(session, instance_id: int) -> HumanTask:
    return session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                   HumanTask.status == "ready")).one()


def test_service_tasks_write_records_on_behalf_of_the_instance(session, engine) -> None:
    instance = engine.start(session, "household_intake", START, COORD)
    household = session.scalars(select(Household)).one()
    assert household.display_name == "Famiglia Benali"

    engine.complete_task(session, _ready(session, instance.id).id, {"approved": True}, COORD)
    assert instance.status == "completed"
    referral = session.scalars(select(Referral)).one()
    assert (referral.household_id, referral.source, referral.urgency) == (household.id, "sad", "sfratto_esecutivo")
    journal = session.scalars(select(CaseEvent).order_by(CaseEvent.id)).all()
    assert [(e.operation, e.instance_id, e.process_id, e.actor) for e in journal] == [
        ("register_household", instance.id, "household_intake", "anna"),
        ("register_referral", instance.id, "household_intake", "anna")]


def test_timeline_merges_the_instance_steps_with_the_records(session, engine) -> None:
    instance = engine.start(session, "household_intake", START, COORD)
    engine.complete_task(session, _ready(session, instance.id).id, {"approved": True}, COORD)
    household_id = session.scalars(select(Household.id)).one()
    entries = household_timeline(session, household_id, process_events=process_events(session, household_id))
    assert [(e.source, e.kind) for e in entries] == [
        ("record", "register_household"), ("record", "register_referral"),
        ("process", "instance_started"), ("process", "task_completed")]
    assert entries[-1].summary == "Registrazione nucleo: Verifica invio"


def test_refused_input_becomes_an_incident_naming_the_field_and_saves_nothing(session, engine) -> None:
    bad = {**START, "members": [{"first_name": "Ahmed", "last_name": "Benali", "relationship_to_hoh": 9}]}
    instance = engine.start(session, "household_intake", bad, COORD)
    assert instance.status == "error"
    incident = session.scalars(select(Incident).where(Incident.instance_id == instance.id)).one()
    assert "members.0.relationship_to_hoh" in incident.message
    assert session.scalar(select(func.count()).select_from(Household)) == 0
