"""Correcting the data of an instance in error before its failed step is retried.

A step that failed on data typed earlier (a codice fiscale with a wrong check letter) fails again on
every retry: the operator corrects the variables the failed task sees, then retries. Only variables
that already exist can be corrected, so a typo in a name cannot slip a new variable into the process.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from copy import deepcopy
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.errors import FormValidationError
from engine.models import Incident, ProcessInstance


class UnknownVariableError(FormValidationError):
    """A correction names a variable the failed step does not have."""

    code = "unknown_variable"


def failed_tasks(workflow: BpmnWorkflow) -> list[Any]:
    """The tasks a failed step left in error (usually one)."""
    return list(workflow.get_tasks(state=TaskState.ERROR))


def failed_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The top-level variables the failed step sees, as plain JSON.

    SpiffWorkflow keeps data per task; the workflow's own data (the start data, data objects) is
    shown under the task's, which wins where both have a variable.
    """
    data: dict[str, Any] = dict(workflow.data)
    for task in failed_tasks(workflow):
        data.update(task.data)
    safe: dict[str, Any] = audit.json_safe(data)
    return safe


def apply_corrections(workflow: BpmnWorkflow, corrections: Mapping[str, Any],
                      masked: Collection[str] = ()) -> dict[str, Any]:
    """Write ``corrections`` into the failed tasks' data (and the workflow data where the variable
    lives there too); returns what changed, ``masked`` values hidden.

    Raises UnknownVariableError, naming them, when a correction names a variable that is not there.
    """
    before = failed_data(workflow)
    unknown = sorted(name for name in corrections if name not in before)
    if unknown:
        raise UnknownVariableError(
            f"no variable {', '.join(repr(name) for name in unknown)} in the data of the failed step",
            fields={name: ["no such variable in the data of the failed step"] for name in unknown})
    for task in failed_tasks(workflow):
        task.data.update(deepcopy(dict(corrections)))
    for name, value in corrections.items():
        if name in workflow.data:
            workflow.data[name] = deepcopy(value)
    return audit.data_diff(before, failed_data(workflow), masked)


def correct(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow,
            corrections: Mapping[str, Any], actor: str, masked: Collection[str] = ()) -> dict[str, Any]:
    """Apply the corrections to a loaded instance in error and audit them ("data_corrected").

    Nothing is recorded when no value actually changes.
    """
    tasks = failed_tasks(workflow)
    changes = apply_corrections(workflow, corrections, masked)
    if changes:
        audit.record(session, "data_corrected", instance_id=instance.id, actor=actor,
                     task_id=str(tasks[0].id) if tasks else None,
                     task_spec=tasks[0].task_spec.bpmn_id if tasks else None, changes=changes)
    return changes


def resolve_incidents(session: Session, instance_id: int, when: datetime, username: str) -> None:
    """Close the instance's open incidents: its failed steps are about to run again."""
    for incident in session.scalars(select(Incident).where(Incident.instance_id == instance_id,
                                                           Incident.status == "open")):
        incident.status, incident.resolved_at, incident.resolved_by = "resolved", when, username
