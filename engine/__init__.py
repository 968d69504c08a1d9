"""Generic BPMN runtime on SpiffWorkflow: knows nothing of households or of Flask."""

from engine.engine import Engine
from engine.errors import (
    ConflictError,
    EngineError,
    FormValidationError,
    InstanceNotFoundError,
    ModelValidationError,
    NotAllowedError,
    OrganisationRequiredError,
    Problem,
    ProcessNotFoundError,
    ScriptError,
    ServiceError,
    TaskNotFoundError,
    TaskNotReadyError,
)
from engine.runtime import Actor

__all__ = [
    "Actor",
    "ConflictError",
    "Engine",
    "EngineError",
    "FormValidationError",
    "InstanceNotFoundError",
    "ModelValidationError",
    "NotAllowedError",
    "OrganisationRequiredError",
    "Problem",
    "ProcessNotFoundError",
    "ScriptError",
    "ServiceError",
    "TaskNotFoundError",
    "TaskNotReadyError",
]
