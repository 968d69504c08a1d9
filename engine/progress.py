"""Where an instance stands on its diagram: which BPMN elements ran, which wait, which failed.

Read from the SpiffWorkflow task tree of a loaded workflow (subprocesses included), so the answer is
the engine's own, not a reconstruction from the audit trail. Spiff's internal task specs (Root, Start,
End, EndJoin, boundary-event splits) have no ``bpmn_id`` and are left out: they are not on the diagram.
Which sequence flows were taken is not answered: SpiffWorkflow's specs do not keep flow ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Incident

COMPLETED = "completed"
ACTIVE = "active"
FAILED = "failed"
# A task waits for a person, a timer or a message (READY/WAITING) or is running a subprocess (STARTED).
_ACTIVE_STATES = TaskState.READY | TaskState.STARTED | TaskState.WAITING


@dataclass(frozen=True)
class ElementProgress:
    """One BPMN element of an instance: its state and how many times it finished (loops count each pass)."""

    element_id: str
    name: str | None
    state: str  # completed, active, failed
    completed: int


@dataclass(frozen=True)
class Progress:
    """Every element an instance has reached, by BPMN id."""

    elements: dict[str, ElementProgress]

    def with_state(self, state: str) -> list[ElementProgress]:
        """The elements in one state, in id order."""
        return [item for _, item in sorted(self.elements.items()) if item.state == state]

    def repeated(self) -> dict[str, int]:
        """Elements that finished more than once (loops), with the number of passes."""
        return {key: item.completed for key, item in sorted(self.elements.items()) if item.completed > 1}


@dataclass
class _Tally:
    name: str | None = None
    completed: int = 0
    active: bool = False
    failed: bool = False


def _element_of(task: Any) -> str | None:
    """The BPMN id a task stands for, or None for Spiff's internal tasks and multi-instance children.

    A multi-instance (or standard loop) child has the same BPMN id as its parent task: counting both
    would count one pass of the element twice.
    """
    bpmn_id: str | None = getattr(task.task_spec, "bpmn_id", None)
    if not bpmn_id:
        return None
    parent = task.parent
    if parent is not None and getattr(parent.task_spec, "bpmn_id", None) == bpmn_id:
        return None
    return bpmn_id


def _tally(workflow: Any) -> dict[str, _Tally]:
    tallies: dict[str, _Tally] = {}
    for task in workflow.get_tasks():
        element = _element_of(task)
        if element is None or not task.state & (TaskState.COMPLETED | TaskState.ERROR | _ACTIVE_STATES):
            continue
        tally = tallies.setdefault(element, _Tally(name=getattr(task.task_spec, "bpmn_name", None)))
        if task.state == TaskState.COMPLETED:
            tally.completed += 1
        elif task.state == TaskState.ERROR:
            tally.failed = True
        else:
            tally.active = True
    return tallies


def element_progress(workflow: Any, failed: Iterable[str] = ()) -> Progress:
    """Each reached element's state: failed beats active, which beats completed.

    ``failed`` adds elements known to have failed outside the task tree (an open incident's element:
    a failed service task may be back to READY, waiting for a retry).
    """
    tallies = _tally(workflow)
    for element in failed:
        tallies.setdefault(element, _Tally()).failed = True
    elements = {}
    for element, tally in tallies.items():
        state = FAILED if tally.failed else ACTIVE if tally.active else COMPLETED
        elements[element] = ElementProgress(element, tally.name, state, tally.completed)
    return Progress(elements)


def open_incident_elements(session: Session, instance_id: int) -> set[str]:
    """The elements of an instance with an open incident."""
    rows = session.scalars(select(Incident.task_spec_id).where(Incident.instance_id == instance_id,
                                                               Incident.status == "open"))
    return {element for element in rows if element}
