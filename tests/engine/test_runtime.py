"""Starting instances, completing tasks, projection, permissions, versions, audit, incidents."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import (
    ConflictError,
    Engine,
    FormValidationError,
    NotAllowedError,
    OrganisationRequiredError,
    TaskNotReadyError,
)
from engine.drafts import draft_of, save_draft
from engine.models import AuditEvent, HumanTask, Incident, ProcessVersion, TaskDraft
from engine.specs import ModelFile, read_models
from tests.engine.conftest import CASE_MANAGER, COORD, FORMS, MODELS, OTHER_ORG_COORD


def edited(model: ModelFile, old: str, new: str) -> ModelFile:
    """A copy of a model with its BPMN text edited (and its hash recomputed)."""
    return ModelFile(**{**model.__dict__, "bpmn_xml": model.bpmn_xml.replace(old, new), "content_hash": ""})


def test_start_projects_first_user_task(deployed: Engine, session: Session, clock) -> None:
    instance = deployed.start(session, "approval", {"household": "H1"}, COORD)
    rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all()
    assert instance.status == "running"
    assert [(r.task_spec_id, r.role, r.organisation, r.status) for r in rows] == [
        ("fill", "coordinatore", "capofila", "ready")]
    row = rows[0]
    assert row.name == "Compila la richiesta"
    assert row.lane == "Coordinatore di progetto"
    assert row.form_key == "approval_fill.schema.json"
    assert row.instructions == "Scrivi un titolo."
    assert row.due_at == clock() + timedelta(days=2)


def test_state_is_stored_without_spec(deployed: Engine, session: Session) -> None:
    instance = deployed.start(session, "approval", {}, COORD)
    assert '"spec"' not in instance.state
    # Task specs (names, scripts) live in the version, not in every instance.
    assert "title.upper()" not in instance.state
    assert "Compila la richiesta" not in instance.state
    assert instance.serializer_version == "1.5"


def test_complete_runs_script_and_hands_next_task_to_other_role(deployed: Engine, session: Session,
                                                                ready_task) -> None:
    instance = deployed.start(session, "approval", {}, COORD)
    fill = ready_task(session, instance.id, "fill")
    deployed.complete_task(session, fill.id, {"title": "Casa per H1", "amount": 12.5}, COORD)
    review = ready_task(session, instance.id, "review")
    assert review.role == "case_manager"
    workflow = deployed.load(instance)
    assert workflow.get_task_from_id(UUID(review.id)).data["summary"] == "CASA PER H1"
    assert session.get(HumanTask, fill.id).status == "completed"
    assert session.get(HumanTask, fill.id).completed_by == "anna"
    deployed.complete_task(session, review.id, {"approved": True}, CASE_MANAGER)
    assert instance.status == "completed"
    assert instance.ended_at is not None


def test_form_data_is_validated_against_schema(deployed: Engine, session: Session, ready_task) -> None:
    instance = deployed.start(session, "approval", {}, COORD)
    fill = ready_task(session, instance.id, "fill")
    with pytest.raises(FormValidationError) as caught:
        deployed.complete_task(session, fill.id, {"title": "x", "amount": -1, "due": "31/02/2026"}, COORD)
    assert set(caught.value.fields) == {"title", "amount", "due"}
    with pytest.raises(FormValidationError) as missing:
        deployed.complete_task(session, fill.id, {}, COORD)
    assert list(missing.value.fields) == ["title"]
    assert session.get(HumanTask, fill.id).status == "ready"


def test_only_the_right_role_and_organisation_may_complete(deployed: Engine, session: Session,
                                                          ready_task) -> None:
    instance = deployed.start(session, "approval", {}, COORD)
    fill = ready_task(session, instance.id, "fill")
    with pytest.raises(NotAllowedError):
        deployed.complete_task(session, fill.id, {"title": "abc"}, CASE_MANAGER)
    with pytest.raises(NotAllowedError):
        deployed.complete_task(session, fill.id, {"title": "abc"}, OTHER_ORG_COORD)
    deployed.claim(session, fill.id, COORD)
    colleague = COORD.__class__("dario", COORD.roles, COORD.organisation)
    with pytest.raises(NotAllowedError):
        deployed.complete_task(session, fill.id, {"title": "abc"}, colleague)
    deployed.unclaim(session, fill.id, COORD)
    deployed.complete_task(session, fill.id, {"title": "abc"}, colleague)


def test_completed_task_cannot_be_completed_again(deployed: Engine, session: Session, ready_task) -> None:
    instance = deployed.start(session, "approval", {}, COORD)
    fill = ready_task(session, instance.id, "fill")
    deployed.complete_task(session, fill.id, {"title": "abc"}, COORD)
    with pytest.raises(TaskNotReadyError):
        deployed.complete_task(session, fill.id, {"title": "abc"}, COORD)


def test_audit_records_start_and_completion_with_data_diff(deployed: Engine, session: Session,
                                                          ready_task) -> None:
    instance = deployed.start(session, "approval", {"household": "H1"}, COORD)
    fill = ready_task(session, instance.id, "fill")
    deployed.complete_task(session, fill.id, {"title": "abc"}, COORD)
    events = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                             .order_by(AuditEvent.id)).all()
    assert [e.kind for e in events] == ["instance_started", "task_completed"]
    assert events[1].actor == "anna"
    assert events[1].details["changes"] == {"title": {"old": None, "new": "abc"}}


def test_deploy_stores_one_version_per_content_hash(engine: Engine, session: Session, tmp_path) -> None:
    models = read_models([MODELS / "approval.bpmn"], FORMS)
    assert len(engine.deploy(session, models)) == 1
    assert engine.deploy(session, models) == []
    changed = edited(models[0], "Rivedi", "Rivedi bene")
    assert len(engine.deploy(session, [changed])) == 1
    count = session.scalar(select(func.count()).select_from(ProcessVersion)
                           .where(ProcessVersion.process_id == "approval"))
    assert count == 2


def test_versions_are_numbered_within_their_process(engine: Engine, session: Session) -> None:
    approval = read_models([MODELS / "approval.bpmn"], FORMS)[0]
    first = engine.deploy(session, [approval])[0]
    second = engine.deploy(session, [edited(approval, "Rivedi", "Rivedi bene")])[0]
    other = engine.deploy(session, [ModelFile(**{**approval.__dict__, "process_id": "other", "content_hash": ""})])[0]
    assert (first.number, second.number, other.number) == (1, 2, 1)
    assert second.id > first.id


def test_instances_stay_on_their_version(engine: Engine, session: Session, ready_task) -> None:
    models = read_models([MODELS / "approval.bpmn"], FORMS)
    engine.deploy(session, models)
    old = engine.start(session, "approval", {}, COORD)
    renamed = edited(models[0], "Compila la richiesta", "Compila v2")
    engine.deploy(session, [renamed])
    new = engine.start(session, "approval", {}, COORD)
    assert new.process_version_id != old.process_version_id
    assert ready_task(session, new.id, "fill").name == "Compila v2"
    # The old instance keeps running on its own version.
    engine.complete_task(session, ready_task(session, old.id, "fill").id, {"title": "abc"}, COORD)
    assert ready_task(session, old.id, "review").name == "Rivedi"


def test_failing_service_becomes_incident_and_retry_resumes(deployed: Engine, session: Session,
                                                           services, ready_task) -> None:
    instance = deployed.start(session, "service_call", {"household": "H9"}, COORD)
    assert instance.status == "error"
    incident = session.scalars(select(Incident).where(Incident.instance_id == instance.id)).one()
    assert incident.task_spec_id == "record"
    assert "record_referral" in incident.message
    assert incident.status == "open"
    # The fix: the operation gets registered; retry runs the failed step again.
    calls = []

    def record_referral(context, household):
        calls.append((context.instance_id, context.process_id, context.actor, context.session is session))
        return {"id": 41, "household": household}

    services.register("record_referral", record_referral)
    deployed.retry(session, instance.id, COORD)
    assert instance.status == "running"
    assert calls == [(instance.id, "service_call", COORD.username, True)]
    assert session.get(Incident, incident.id).status == "resolved"
    check = ready_task(session, instance.id, "check")
    workflow = deployed.load(instance)
    assert workflow.get_task_from_id(UUID(check.id)).data["referral"] == {
        "id": 41, "household": "H9"}
    kinds = session.scalars(select(AuditEvent.kind).where(AuditEvent.instance_id == instance.id)).all()
    assert "incident" in kinds
    assert "retry" in kinds


DANGEROUS_SCRIPTS = [
    "summary = ().__class__.__base__.__subclasses__()",
    "import os\nsummary = os.popen('id').read()",
    "summary = open('/etc/passwd').read()",
    "summary = (x for x in ()).gi_frame.f_globals",
    "summary = getattr(title, '__class__')",
    "summary = __import__('os').environ",
    "while True:\n    pass",
]


@pytest.mark.parametrize("script", DANGEROUS_SCRIPTS)
def test_dangerous_script_in_a_deployed_model_becomes_incident(clock, services, session: Session,
                                                              script: str) -> None:
    # Validation refuses these at deploy; the runtime must hold even if a bad model got in.
    engine = Engine(roles={"coordinatore": "Coordinatore di progetto", "case_manager": "Case manager"},
                    services=services, now=clock, script_time_limit=0.3)
    models = read_models([MODELS / "approval.bpmn"], FORMS)
    engine.deploy(session, [edited(models[0], "summary = title.upper()", script)])
    instance = engine.start(session, "approval", {}, COORD)
    fill = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).one()
    engine.complete_task(session, fill.id, {"title": "abc"}, COORD)
    assert instance.status == "error"
    incident = session.scalars(select(Incident).where(Incident.instance_id == instance.id)).one()
    assert incident.task_spec_id == "summarise"
    assert incident.message
    assert "summary" not in engine.load(instance).last_task.data  # nothing leaked into the data


def test_terminate_and_suspend(deployed: Engine, session: Session, ready_task) -> None:
    instance = deployed.start(session, "approval", {}, COORD)
    fill = ready_task(session, instance.id, "fill")
    deployed.set_suspended(session, instance.id, COORD, True)
    with pytest.raises(TaskNotReadyError):
        deployed.complete_task(session, fill.id, {"title": "abc"}, COORD)
    deployed.set_suspended(session, instance.id, COORD, False)
    assert instance.status == "running"
    deployed.terminate(session, instance.id, COORD, reason="duplicato")
    assert instance.status == "terminated"
    assert session.get(HumanTask, fill.id).status == "cancelled"


def test_task_list_query_reads_only_the_projection(deployed: Engine, session: Session, count_queries) -> None:
    for _ in range(3):
        deployed.start(session, "approval", {}, COORD)
    session.flush()
    with count_queries() as statements:
        rows = session.scalars(select(HumanTask).where(HumanTask.status == "ready",
                                                       HumanTask.role == "coordinatore")).all()
    assert len(rows) >= 3
    assert len(statements) == 1
    assert "process_instance" not in statements[0]


def test_task_organisation_follows_the_case_partners(deployed: Engine, session: Session, ready_task) -> None:
    # The case manager role is held by another partner for this case.
    instance = deployed.start(session, "approval", {"task_organisations": {"case_manager": "partner"}}, COORD)
    deployed.complete_task(session, ready_task(session, instance.id, "fill").id, {"title": "abc"}, COORD)
    review = ready_task(session, instance.id, "review")
    assert review.organisation == "partner"
    with pytest.raises(NotAllowedError):
        deployed.complete_task(session, review.id, {"approved": True}, CASE_MANAGER)  # capofila's


def test_dates_and_decimals_survive_save_and_load(deployed: Engine, session: Session, ready_task) -> None:
    instance = deployed.start(session, "approval", {}, COORD)
    fill = ready_task(session, instance.id, "fill")
    workflow = deployed.load(instance)
    task = workflow.get_task_from_id(UUID(fill.id))
    task.data.update({"signed_on": date(2026, 3, 2), "rent": Decimal("512.30")})
    deployed.save(session, instance, workflow)
    restored = deployed.load(instance).get_task_from_id(UUID(fill.id)).data
    assert restored["signed_on"] == date(2026, 3, 2)
    assert restored["rent"] == Decimal("512.30")


def test_loaded_instances_get_the_restricted_script_engine_back(deployed: Engine, session: Session) -> None:
    from engine.scripting import RestrictedScriptEngine

    instance = deployed.start(session, "approval", {}, COORD)
    workflow = deployed.load(instance)
    assert isinstance(workflow.script_engine, RestrictedScriptEngine)
    assert workflow.script_engine is deployed.script_engine


def test_state_of_an_older_serializer_version_is_migrated_on_load(deployed: Engine, session: Session,
                                                                 ready_task) -> None:
    instance = deployed.start(session, "approval", {}, COORD)
    fill = ready_task(session, instance.id, "fill")
    stored = json.loads(instance.state)
    stored["serializer_version"] = "1.4"  # as written by SpiffWorkflow 3.1
    instance.state = json.dumps(stored)
    workflow = deployed.load(instance)  # SpiffWorkflow's 1.4 -> 1.5 migration runs, spec in place
    assert str(workflow.get_tasks(state=TaskState.READY)[0].id) == fill.id
    deployed.complete_task(session, fill.id, {"title": "abc"}, COORD)
    assert json.loads(instance.state)["serializer_version"] == "1.5"
    assert instance.serializer_version == "1.5"


def test_an_instance_needs_an_organisation(deployed: Engine, session: Session) -> None:
    with pytest.raises(OrganisationRequiredError):
        deployed.start(session, "approval", {})  # the system actor belongs to no organisation
    instance = deployed.start(session, "approval", {}, organisation="capofila")
    assert instance.organisation == "capofila"


def test_fields_outside_the_form_are_refused(deployed: Engine, session: Session, ready_task) -> None:
    instance = deployed.start(session, "approval", {}, COORD)
    fill = ready_task(session, instance.id, "fill")
    with pytest.raises(FormValidationError) as caught:
        deployed.complete_task(session, fill.id, {"title": "abc", "task_organisations": {"case_manager": "x"}},
                               COORD)
    assert caught.value.fields == {"task_organisations": ["not a field of this form"]}
    assert session.get(HumanTask, fill.id).status == "ready"


def test_completion_against_a_stale_version_is_a_conflict(deployed: Engine, session: Session, ready_task) -> None:
    instance = deployed.start(session, "approval", {}, COORD)
    fill = ready_task(session, instance.id, "fill")
    seen = instance.version
    deployed.set_suspended(session, instance.id, COORD, True)
    deployed.set_suspended(session, instance.id, COORD, False)  # someone touched the case meanwhile
    with pytest.raises(ConflictError):
        deployed.complete_task(session, fill.id, {"title": "abc"}, COORD, expected_version=seen)
    deployed.complete_task(session, fill.id, {"title": "abc"}, COORD, expected_version=instance.version)
    assert session.get(HumanTask, fill.id).status == "completed"


def test_a_process_names_its_business_key_once_it_knows_it(engine: Engine, session: Session, ready_task) -> None:
    [model] = read_models([MODELS / "approval.bpmn"], FORMS)
    engine.deploy(session, [edited(model, "summary = title.upper()",
                                   "summary = title.upper()\nbusiness_key = 'NUC-' + summary")])
    instance = engine.start(session, "approval", {}, COORD)
    assert instance.business_key is None
    engine.complete_task(session, ready_task(session, instance.id, "fill").id, {"title": "abc"}, COORD)
    assert instance.business_key == "NUC-ABC"
    assert ready_task(session, instance.id, "review").business_key == "NUC-ABC"
    # A key given at the start is never overwritten by the process.
    keyed = engine.start(session, "approval", {}, COORD, business_key="NUC-KEPT")
    engine.complete_task(session, ready_task(session, keyed.id, "fill").id, {"title": "xyz"}, COORD)
    assert keyed.business_key == "NUC-KEPT"


def test_drafts_keep_what_was_typed_until_completion(deployed: Engine, session: Session, ready_task) -> None:
    instance = deployed.start(session, "approval", {}, COORD)
    fill = ready_task(session, instance.id, "fill")
    now = deployed.clock_now()
    save_draft(session, fill, {"title": ""}, COORD, now)  # a draft need not be valid yet
    save_draft(session, fill, {"title": "bozza"}, COORD, now)
    assert draft_of(session, fill, COORD) == {"title": "bozza"}
    assert draft_of(session, fill, OTHER_ORG_COORD) is None
    with pytest.raises(NotAllowedError):
        save_draft(session, fill, {"title": "x"}, OTHER_ORG_COORD, now)
    deployed.complete_task(session, fill.id, {"title": "bozza"}, COORD)
    assert session.get(TaskDraft, fill.id) is None
    with pytest.raises(TaskNotReadyError):
        save_draft(session, fill, {"title": "tardi"}, COORD, now)


def test_reassign_hands_a_task_to_someone_and_back_to_the_queue(deployed: Engine, session: Session,
                                                                 ready_task) -> None:
    instance = deployed.start(session, "approval", {}, COORD)
    fill = ready_task(session, instance.id, "fill")
    deployed.reassign(session, fill.id, "other_coordinator", COORD)
    assert fill.assigned_user == "other_coordinator"
    with pytest.raises(NotAllowedError):
        deployed.complete_task(session, fill.id, {"title": "abc"}, COORD)
    deployed.reassign(session, fill.id, None, COORD)
    assert fill.assigned_user is None
    kinds = session.scalars(select(AuditEvent.kind).where(AuditEvent.kind == "task_reassigned")).all()
    assert len(kinds) == 2


def test_sensitive_form_fields_never_reach_the_audit_trail(engine: Engine, session: Session, ready_task) -> None:
    [model] = read_models([MODELS / "approval.bpmn"], FORMS)
    forms = json.loads(json.dumps(model.forms))
    forms["approval_fill.schema.json"]["properties"]["title"]["x-sensitive"] = True
    engine.deploy(session, [ModelFile(**{**model.__dict__, "forms": forms, "content_hash": ""})])
    instance = engine.start(session, "approval", {"title": "diagnosi iniziale", "household": "H1"}, COORD)
    engine.complete_task(session, ready_task(session, instance.id, "fill").id, {"title": "diagnosi"}, COORD)
    started, completed = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                                         .order_by(AuditEvent.id)).all()
    assert started.details["data"] == {"title": "***", "household": "H1"}
    assert completed.details["changes"] == {"title": {"old": "***", "new": "***"}}
    assert "diagnosi" not in json.dumps([started.details, completed.details])


def test_audit_rows_carry_the_engine_clock(deployed: Engine, session: Session, clock, ready_task) -> None:
    clock.advance(days=400)  # far from the real date: a row stamped by the real clock would show
    instance = deployed.start(session, "approval", {}, COORD)
    fill = ready_task(session, instance.id, "fill")
    deployed.claim(session, fill.id, COORD)
    deployed.complete_task(session, fill.id, {"title": "abc"}, COORD)
    stamps = session.scalars(select(AuditEvent.at).where(AuditEvent.instance_id == instance.id)).all()
    assert len(stamps) == 3
    assert {stamp.replace(tzinfo=None) for stamp in stamps} == {clock().replace(tzinfo=None)}
