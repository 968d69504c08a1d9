"""Correcting the data of a failed step, then retrying it: the service succeeds on the corrected value."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Engine, repair
from engine.errors import TaskNotReadyError
from engine.models import AuditEvent, HumanTask, Incident, ProcessInstance
from engine.services import ServiceContext, ServiceRegistry
from tests.engine.conftest import COORD


def _strict_referral(context: ServiceContext, household: str) -> dict[str, str]:
    """Refuses a household reference that does not start with NUC- (as the case file refuses a bad code)."""
    if not household.startswith("NUC-"):
        raise ValueError(f"riferimento nucleo non valido: {household}")
    return {"household": household}


@pytest.fixture
def failed(deployed: Engine, services: ServiceRegistry, session: Session) -> ProcessInstance:
    services.register("record_referral", _strict_referral)
    instance = deployed.start(session, "service_call", {"household": "NUX-7", "attempts": 1}, COORD)
    assert instance.status == "error"
    return instance


def _incidents(session: Session, instance: ProcessInstance) -> list[tuple[str, str]]:
    return [(row.status, row.message) for row in session.scalars(
        select(Incident).where(Incident.instance_id == instance.id).order_by(Incident.id))]


def _events(session: Session, instance: ProcessInstance, kind: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                         AuditEvent.kind == kind).order_by(AuditEvent.id)))


def test_failed_data_shows_the_variables_the_failed_step_sees(deployed: Engine, failed: ProcessInstance) -> None:
    data = repair.failed_data(deployed.load(failed))
    assert data["household"] == "NUX-7"
    assert data["attempts"] == 1


def test_corrected_value_lets_the_retry_run_to_the_next_task(deployed: Engine, failed: ProcessInstance,
                                                             session: Session) -> None:
    # Retrying with the same data fails again.
    deployed.retry(session, failed.id, COORD)
    assert failed.status == "error"
    deployed.retry(session, failed.id, COORD, corrections={"household": "NUC-7"})
    assert failed.status == "running"
    assert [status for status, _message in _incidents(session, failed)] == ["resolved", "resolved"]
    task = session.scalars(select(HumanTask).where(HumanTask.instance_id == failed.id)).one()
    assert task.task_spec_id == "check"
    (event,) = _events(session, failed, "data_corrected")
    assert event.actor == COORD.username
    assert event.details["changes"] == {"household": {"old": "NUX-7", "new": "NUC-7"}}
    assert event.details["task_spec"] == "record"
    kinds = list(session.scalars(select(AuditEvent.kind).where(AuditEvent.instance_id == failed.id)
                                 .order_by(AuditEvent.id)))
    assert kinds[-2:] == ["data_corrected", "retry"]
    # The corrected value is what the next steps see.
    workflow = deployed.load(failed)
    assert workflow.get_tasks(spec_name="check")[0].data["household"] == "NUC-7"


def test_a_correction_that_is_still_wrong_opens_a_new_incident(deployed: Engine, failed: ProcessInstance,
                                                               session: Session) -> None:
    deployed.retry(session, failed.id, COORD, corrections={"household": "NUY-7"})
    assert failed.status == "error"
    incidents = _incidents(session, failed)
    assert [status for status, _message in incidents] == ["resolved", "open"]
    assert "NUY-7" in incidents[-1][1]
    assert repair.failed_data(deployed.load(failed))["household"] == "NUY-7"


def test_unknown_variable_is_refused_by_name_and_nothing_changes(deployed: Engine, failed: ProcessInstance,
                                                                 session: Session) -> None:
    state = failed.state
    with pytest.raises(repair.UnknownVariableError) as refused:
        deployed.retry(session, failed.id, COORD, corrections={"household": "NUC-7", "houshold": "NUC-7"})
    assert "houshold" in refused.value.message
    assert set(refused.value.fields) == {"houshold"}
    assert failed.status == "error"
    assert failed.state == state
    assert _events(session, failed, "data_corrected") == []
    assert [status for status, _message in _incidents(session, failed)] == ["open"]


def test_corrections_need_an_instance_in_error(deployed: Engine, failed: ProcessInstance, session: Session) -> None:
    deployed.retry(session, failed.id, COORD, corrections={"household": "NUC-7"})
    with pytest.raises(TaskNotReadyError):
        deployed.retry(session, failed.id, COORD, corrections={"household": "NUC-8"})


def test_unchanged_values_are_not_audited(deployed: Engine, failed: ProcessInstance, session: Session) -> None:
    deployed.retry(session, failed.id, COORD, corrections={"attempts": 1})
    assert _events(session, failed, "data_corrected") == []
    assert len(_events(session, failed, "retry")) == 1


def test_masked_fields_are_hidden_in_the_diff(deployed: Engine, failed: ProcessInstance) -> None:
    workflow = deployed.load(failed)
    changes = repair.apply_corrections(workflow, {"household": "NUC-7", "attempts": 2}, masked={"household"})
    assert changes == {"household": {"old": "***", "new": "***"}, "attempts": {"old": 1, "new": 2}}
    (task,) = repair.failed_tasks(workflow)
    assert task.data["household"] == "NUC-7"


def test_workflow_data_is_corrected_where_the_value_lives_there(deployed: Engine, failed: ProcessInstance) -> None:
    workflow = deployed.load(failed)
    workflow.data["office"] = "Sede A"  # workflow-level data (a data object), not in the task's own data
    assert repair.failed_data(workflow)["office"] == "Sede A"
    changes = repair.apply_corrections(workflow, {"office": "Sede B"})
    assert changes == {"office": {"old": "Sede A", "new": "Sede B"}}
    assert workflow.data["office"] == "Sede B"
    assert repair.failed_data(workflow)["office"] == "Sede B"
