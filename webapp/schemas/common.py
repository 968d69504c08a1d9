"""Schemas every resource shares: the error envelope and page arguments."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

MAX_LIMIT = 100
# Deeper pages are not browsing any more: filters answer better (and each queue is read up to it).
MAX_OFFSET = 10_000


def not_blank(value: str) -> None:
    """Refuse text made only of spaces."""
    if not value.strip():
        raise ValidationError("Must not be blank.")


class ErrorBodySchema(Schema):
    """What went wrong: a stable code, a message, and details (``fields``: messages per field)."""

    code = fields.String(required=True, metadata={"example": "form_invalid"})
    message = fields.String(required=True)
    details = fields.Dict(required=True, metadata={"description": "e.g. {'fields': {'title': ['required']}}"})


class ErrorSchema(Schema):
    """The one error envelope of the API."""

    error = fields.Nested(ErrorBodySchema, required=True)


class PageArgsSchema(Schema):
    """``limit`` and ``offset`` of a page."""

    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_LIMIT))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_OFFSET))


class PurposeArgsSchema(Schema):
    """Why the caller reads a household's data (written to the access log for protected data)."""

    class Meta:
        unknown = EXCLUDE

    purpose = fields.String(load_default="consultazione via API",
                            validate=[validate.Length(min=3, max=200), not_blank],
                            metadata={"description": "Why you read this household's data (access log)."})
