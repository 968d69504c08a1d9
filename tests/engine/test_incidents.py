"""Failures in pre- and post-scripts become incidents; a retry runs the failed part again."""

from __future__ import annotations

from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Engine
from engine.models import HumanTask, Incident, ProcessInstance
from tests.engine.conftest import COORD


def _open_incidents(session: Session, instance: ProcessInstance) -> list[Incident]:
    return list(session.scalars(select(Incident).where(Incident.instance_id == instance.id,
                                                       Incident.status == "open")))


def _fix_data(engine: Engine, session: Session, instance: ProcessInstance, **values: object) -> None:
    """What an administrator's data correction does: change the failed task's data and save."""
    workflow = engine.load(instance)
    for task in workflow.get_tasks(state=TaskState.ERROR):
        task.data.update(values)
    engine.save(session, instance, workflow, failed=True)


def test_failing_pre_script_is_run_again_on_retry(deployed: Engine, session: Session) -> None:
    instance = deployed.start(session, "scripted", {"total": 1200, "months": 0}, COORD)
    assert instance.status == "error"
    (incident,) = _open_incidents(session, instance)
    assert incident.task_spec_id == "split"
    assert "division by zero" in incident.message
    # Retrying without a fix fails again: the pre-script is not skipped.
    deployed.retry(session, instance.id, COORD)
    assert instance.status == "error"
    assert len(_open_incidents(session, instance)) == 1
    _fix_data(deployed, session, instance, months=12)
    deployed.retry(session, instance.id, COORD)
    assert instance.status == "running"
    task = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).one()
    assert deployed.load(instance).get_task_from_id(UUID(task.id)).data["monthly"] == 100


def test_failing_post_script_becomes_incident_not_an_exception(deployed: Engine, session: Session) -> None:
    instance = deployed.start(session, "scripted", {"total": 1200, "months": 12}, COORD)
    task = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).one()
    deployed.complete_task(session, task.id, {"parts": 0}, COORD)
    assert instance.status == "error"
    (incident,) = _open_incidents(session, instance)
    assert incident.task_spec_id == "split"
    # After the fix the step is offered again, to be completed with sound data.
    _fix_data(deployed, session, instance, parts=4)
    deployed.retry(session, instance.id, COORD)
    again = session.get(HumanTask, task.id)
    assert again.status == "ready"
    assert again.completed_by is None
    deployed.complete_task(session, task.id, {"parts": 4}, COORD)
    assert instance.status == "completed"
