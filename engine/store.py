"""Workflow state in and out of the database: spec-less serialization and per-version spec cache.

Functions take a ``Session`` and only flush; the caller (request, CLI command, worker job) commits.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from copy import deepcopy
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_VERSION
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InstanceNotFoundError, ProcessNotFoundError
from engine.models import ProcessInstance, ProcessVersion
from engine.specs import parse_model

__all__ = ["SERIALIZER_VERSION", "SpecCache", "StateSerializer", "get_instance", "latest_version"]


class _StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    """Writes a workflow without its spec; reads it back with a spec handed in from the cache.

    The spec is ~2/3 of a serialized instance and identical for every instance of a version.
    """

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None) -> BpmnWorkflow:
        dct.pop("spec", None)
        dct.pop("subprocess_specs", None)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _register_plain_types(registry: Any) -> None:
    """Scripts may put euro amounts (Decimal) and calendar dates into task data: keep both exact."""
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]), "Decimal")
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"]), "date")


class StateSerializer:
    """Serialize workflow state to JSON text and back, with the spec kept out."""

    version = SERIALIZER_VERSION

    def __init__(self) -> None:
        config = deepcopy(SPIFF_CONFIG)
        config[BpmnWorkflow] = _StateOnlyWorkflowConverter
        registry = BpmnWorkflowSerializer.configure(config)
        _register_plain_types(registry)
        self._serializer = BpmnWorkflowSerializer(registry)
        self._full = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(deepcopy(SPIFF_CONFIG)))

    def dumps(self, workflow: BpmnWorkflow) -> str:
        """The workflow's state as JSON text, without the spec."""
        state: str = self._serializer.serialize_json(workflow)
        return state

    def loads(self, state: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
        """Rebuild a workflow from stored state and its version's parsed spec."""
        dct = json.loads(state)
        if dct.get(BpmnWorkflowSerializer.VERSION_KEY) != self.version:
            # Older formats are migrated with their spec in place, as SpiffWorkflow's migrations expect.
            dct["spec"] = self._full.to_dict(spec)
            dct["subprocess_specs"] = {k: self._full.to_dict(v) for k, v in subprocess_specs.items()}
        self._serializer.migrate(dct)
        return self._serializer.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)


class SpecCache:
    """Parsed specs per process version id (parsing costs ~1 ms; versions never change)."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[int, tuple[Any, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version: ProcessVersion) -> tuple[Any, dict[str, Any]]:
        """The (spec, subprocess_specs) of a stored version, parsed at most once."""
        with self._lock:
            if version.id in self._items:
                self._items.move_to_end(version.id)
                return self._items[version.id]
        parsed = parse_model(version.bpmn_xml, version.dmn_files or {}, version.process_id)
        with self._lock:
            self._items[version.id] = parsed
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return parsed


def latest_version(session: Session, process_id: str) -> ProcessVersion:
    """The newest deployed version of a process."""
    version = session.scalars(
        select(ProcessVersion).where(ProcessVersion.process_id == process_id)
        .order_by(ProcessVersion.id.desc()).limit(1)
    ).first()
    if version is None:
        raise ProcessNotFoundError(f"no deployed process '{process_id}'", process_id=process_id)
    return version


def get_instance(session: Session, instance_id: int) -> ProcessInstance:
    """An instance by id, or InstanceNotFoundError."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise InstanceNotFoundError(f"no process instance {instance_id}", instance_id=instance_id)
    return instance
