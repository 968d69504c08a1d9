"""Validation of user-task data against the task's JSON Schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.validators import validator_for

from engine.errors import FormValidationError

_FORMAT_CHECKER = FormatChecker()


def field_path(error_path: Any) -> str:
    """Dotted path of a field, ``members.0.birth_date``; the empty path is the form itself."""
    return ".".join(str(part) for part in error_path) or "_form"


def refuse_fields_outside_form(schema: Mapping[str, Any] | None, data: Mapping[str, Any]) -> None:
    """Only a form's own fields may be submitted: task data is the process's memory, and a stray key
    (``task_organisations``, say) would change who gets the next steps."""
    if schema is not None and "properties" not in schema:
        return  # a composed schema (allOf, $ref…): jsonschema judges it alone
    allowed = set((schema or {}).get("properties", {}))
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise FormValidationError(
            f"{len(unknown)} field(s) are not part of this form",
            fields={name: ["not a field of this form"] for name in unknown},
            rules={name: [("additionalProperties", False)] for name in unknown})


def validate_task_data(schema: Mapping[str, Any], data: Mapping[str, Any]) -> None:
    """Raise FormValidationError listing every invalid field, or return quietly."""
    validator_cls = validator_for(schema, default=Draft202012Validator)
    validator = validator_cls(schema, format_checker=_FORMAT_CHECKER)
    fields: dict[str, list[str]] = {}
    rules: dict[str, list[tuple[str, Any]]] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(error.absolute_path)
        if error.validator == "required":
            # jsonschema reports a missing property on its parent; point at the field itself.
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path = [*path, missing]
        name = field_path(path)
        fields.setdefault(name, []).append(error.message)
        rules.setdefault(name, []).append((str(error.validator), error.validator_value))
    if fields:
        raise FormValidationError(f"{len(fields)} field(s) are not valid", fields=fields, rules=rules)


SENSITIVE = "x-sensitive"


def sensitive_fields(forms: Mapping[str, Any] | None) -> frozenset[str]:
    """Fields that forms mark ``"x-sensitive": true`` (GDPR special categories): kept out of the audit trail.

    A form marked sensitive as a whole marks all of its fields.
    """
    names: set[str] = set()
    for schema in (forms or {}).values():
        if not isinstance(schema, Mapping):
            continue
        properties = schema.get("properties")
        if not isinstance(properties, Mapping):
            continue
        whole = schema.get(SENSITIVE) is True
        names.update(name for name, prop in properties.items()
                      if whole or (isinstance(prop, Mapping) and prop.get(SENSITIVE) is True))
    return frozenset(names)
