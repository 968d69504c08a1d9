"""Form files that models reference, read once each from the forms directory, and judged as JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from engine.errors import Problem

__all__ = ["FormStore"]


class FormStore:
    """Reads form files from one directory, each at most once, refusing paths outside it."""

    def __init__(self, forms_dir: Path) -> None:
        self.forms_dir = Path(forms_dir)
        self._cache: dict[str, tuple[Any, Problem | None]] = {}

    def load(self, name: str) -> tuple[Any, Problem | None]:
        """(parsed JSON, None) or (None, the problem, on the form file)."""
        if name not in self._cache:
            self._cache[name] = self._read(name)
        return self._cache[name]

    def _read(self, name: str) -> tuple[Any, Problem | None]:
        # A model must not make us read arbitrary files: only plain names inside forms_dir.
        if not name or Path(name).name != name or name.startswith("."):
            return None, Problem(name, None, None, f"form file name {name!r} must be a plain file name",
                                 code="form_file_name", params={"file": name})
        path = self.forms_dir / name
        try:
            return json.loads(path.read_text(encoding="utf-8")), None
        except FileNotFoundError:
            return None, Problem(name, None, None, f"form file {name} not found in {self.forms_dir}",
                                 code="form_file_missing", params={"file": name})
        except (OSError, UnicodeDecodeError) as exc:
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return None, Problem(name, None, None, f"form file {name} cannot be read: {exc}",
                                 code="form_file_unreadable", params={"file": name, "detail": detail})
        except json.JSONDecodeError as exc:
            return None, Problem(name, None, None, f"form file {name} is not valid JSON: {exc}",
                                 code="form_file_json", params={"file": name, "detail": exc.msg,
                                                                "line": exc.lineno, "column": exc.colno})

    def schema_problem(self, name: str) -> Problem | None:
        """The problem with form ``name`` as a JSON Schema (reading it included), or None."""
        schema, error = self.load(name)
        if error:
            return error
        if not isinstance(schema, dict | bool):
            return Problem(name, None, None, f"form {name} is not a valid JSON Schema: it must be a JSON object",
                           code="form_schema_not_object", params={"file": name})
        try:
            validator_for(schema, default=Draft202012Validator).check_schema(schema)
        except SchemaError as exc:
            return Problem(name, None, None, f"form {name} is not a valid JSON Schema: {exc.message}",
                           code="form_schema_invalid", params={"file": name, "detail": exc.message})
        return None
