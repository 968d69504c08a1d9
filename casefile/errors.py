"""Domain errors of the case file: what was refused, and which fields were wrong."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """An operation refused its input or broke a business rule; nothing it started was saved.

    ``fields`` maps each offending input field (dotted for nested ones) to its messages, so the
    web app can put each message next to its field.
    """

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None,
                 fields: dict[str, list[str]] | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        if field is not None:
            self.fields.setdefault(field, []).append(message)
        self.details = details


class InvalidInputError(DomainError):
    """The input failed its schema (types, required fields, code lists)."""

    code = "invalid_input"


class RuleViolationError(DomainError):
    """The input is well-formed but a business rule forbids it (e.g. move-in without keys)."""

    code = "rule_violation"


class NotFoundError(DomainError):
    """A record the input refers to does not exist."""

    code = "not_found"


class AccessDeniedError(DomainError):
    """The access policy refuses this reader or writer."""

    code = "forbidden"
