"""Engine exceptions: named failures with no notion of HTTP.

The web layer maps these types to status codes in one table (webapp/errors.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "engine_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ProcessNotFoundError(EngineError):
    """No deployed process has the requested id."""

    code = "process_not_found"


class InstanceNotFoundError(EngineError):
    """No process instance has the requested id."""

    code = "instance_not_found"


class TaskNotFoundError(EngineError):
    """No human task has the requested id."""

    code = "task_not_found"


class TaskNotReadyError(EngineError):
    """The task exists but cannot be completed now (done, cancelled, instance not running)."""

    code = "task_not_ready"


class NotAllowedError(EngineError):
    """The caller's role, organisation or assignment does not permit the action."""

    code = "not_allowed"


class OrganisationRequiredError(EngineError):
    """An instance must belong to an organisation: its tasks are handed to that organisation's staff."""

    code = "organisation_required"


class ConflictError(EngineError):
    """Somebody else changed the instance first: reload and try again."""

    code = "conflict"


class FormValidationError(EngineError):
    """Submitted task data does not satisfy the task's JSON Schema."""

    code = "form_invalid"

    def __init__(self, message: str, fields: dict[str, list[str]],
                 rules: dict[str, list[tuple[str, Any]]] | None = None) -> None:
        super().__init__(message, fields=fields)
        self.fields = fields
        # Per field, the JSON Schema keyword that failed and its value (e.g. ("minLength", 3)),
        # so that a user interface can say it in the reader's language.
        self.rules = rules or {}


class ScriptError(EngineError):
    """A script, condition or expression failed inside an instance."""

    code = "script_error"

    def __init__(self, message: str, *, task_spec: str | None = None, line_number: int | None = None,
                 task_trace: list[str] | None = None) -> None:
        super().__init__(message, task_spec=task_spec, line_number=line_number)
        self.task_spec = task_spec
        self.line_number = line_number
        self.task_trace = task_trace or []


class ServiceError(EngineError):
    """A service task's operation is unknown or failed."""

    code = "service_error"


@dataclass(frozen=True)
class Problem:
    """One problem found in a model file, printed as ``file:line: element-id: message``.

    ``message`` is English, for the command line and logs. ``code`` names the rule that failed and
    ``params`` holds the values its message interpolates (str, int or None), so that a user interface
    can say the same in its reader's language.
    """

    file: str
    line: int | None
    element_id: str | None
    message: str
    code: str | None = None
    # Left out of the hash (a dict has none): problems are collected in sets to drop duplicates.
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        return f"{self.file}:{self.line or 0}: {self.element_id or '-'}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"file": self.file, "line": self.line, "element_id": self.element_id, "message": self.message,
                "code": self.code, "params": dict(self.params)}


@dataclass
class ModelValidationError(EngineError):
    """A model bundle failed validation; ``problems`` lists every problem found."""

    problems: list[Problem] = field(default_factory=list)
    code = "model_invalid"

    def __post_init__(self) -> None:
        EngineError.__init__(self, f"{len(self.problems)} problem(s) in the models",
                             problems=[p.as_dict() for p in self.problems])
