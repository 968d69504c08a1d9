"""Process-model schemas: the deployed processes and their versions."""

from __future__ import annotations

from marshmallow import Schema, fields


class ProcessVersionSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.Integer(required=True, metadata={"description": "1, 2, 3… within the process."})
    content_hash = fields.String(required=True)
    deployed_at = fields.AwareDateTime(required=True)
    deployed_by = fields.String(allow_none=True)


class ProcessSchema(Schema):
    """A deployed process, its versions (newest first) and whether the caller may start it."""

    process_id = fields.String(required=True)
    name = fields.String(allow_none=True)
    latest_version_id = fields.Integer(required=True)
    versions = fields.List(fields.Nested(ProcessVersionSchema), required=True)
    may_start = fields.Boolean(required=True)


class ProcessListSchema(Schema):
    items = fields.List(fields.Nested(ProcessSchema), required=True)
