"""Exceptions → HTTP status codes, in one table, with one JSON envelope for API callers."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from casefile.errors import DomainError
from engine.errors import (
    ConflictError,
    EngineError,
    FormValidationError,
    InstanceNotFoundError,
    ModelValidationError,
    NotAllowedError,
    OrganisationRequiredError,
    ProcessNotFoundError,
    TaskNotFoundError,
    TaskNotReadyError,
)

STATUS_BY_ERROR: dict[type[EngineError], int] = {
    ProcessNotFoundError: 404,
    InstanceNotFoundError: 404,
    TaskNotFoundError: 404,
    NotAllowedError: 403,
    ConflictError: 409,
    TaskNotReadyError: 409,
    FormValidationError: 422,
    ModelValidationError: 422,
    OrganisationRequiredError: 422,
}


def status_for(error: EngineError) -> int:
    """The HTTP status of an engine error (400 for any not in the table)."""
    for error_type, status in STATUS_BY_ERROR.items():
        if isinstance(error, error_type):
            return status
    return 400


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one error envelope: {"error": {"code", "message", "details"}}."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


# Case-file errors by their code (casefile.errors): what the policy refuses is 403, a missing record 404.
STATUS_BY_DOMAIN_ERROR = {"not_found": 404, "forbidden": 403, "invalid_input": 422, "rule_violation": 422}


def request_fields(messages: Any) -> dict[str, list[str]]:
    """webargs' messages ({location: {field: [...]}} and nested) as {"dotted.field": [messages]}."""
    fields: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            fields.setdefault(prefix or "_request", []).extend(value)
        else:
            fields.setdefault(prefix or "_request", []).append(str(value))

    for location_messages in (messages or {}).values():
        walk("", location_messages)
    return fields


def http_error_response(error: HTTPException) -> tuple[Any, int]:
    """An HTTP error in the envelope, keeping its headers (WWW-Authenticate, Allow) and webargs' field errors."""
    code = (error.name or "error").lower().replace(" ", "_")
    data = getattr(error, "data", None) or {}
    details = {"fields": request_fields(data["messages"])} if "messages" in data else {}
    response = jsonify(error_body(code, error.description or error.name, details))
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response, error.code or 500


def domain_error_response(error: DomainError) -> tuple[Any, int]:
    """A case-file refusal: the envelope naming the fields for API callers, a page for people."""
    status = STATUS_BY_DOMAIN_ERROR.get(error.code, 422)
    if wants_json():
        details = {**error.details, **({"fields": error.fields} if error.fields else {})}
        return jsonify(error_body(error.code, error.message, details)), status
    return render_template("error.html", status=status, message=error.message), status


def wants_json() -> bool:
    """API paths and JSON clients get JSON; browsers get a page."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register(app: Flask) -> None:
    """Install the handlers on the app."""

    @app.errorhandler(EngineError)
    def _engine_error(error: EngineError) -> tuple[Any, int]:
        status = status_for(error)
        if wants_json():
            return jsonify(error_body(error.code, error.message, error.details)), status
        return render_template("error.html", status=status, message=error.message), status

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> tuple[Any, int]:
        # A form without (or with an expired) CSRF token: say what to do instead of werkzeug's terse page.
        if wants_json():
            return jsonify(error_body("csrf_failed", error.description or "CSRF token missing or invalid")), 400
        message = _("Il modulo è scaduto o non è valido (controllo di sicurezza CSRF). "
                    "Ricarica la pagina e riprova: quanto inviato non è stato salvato.")
        return render_template("error.html", status=400, message=message), 400

    app.register_error_handler(DomainError, domain_error_response)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response | tuple[Any, int]:
        if not wants_json():
            return error.get_response()
        return http_error_response(error)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Any, int]:
        if current_app.testing:
            raise error
        current_app.logger.exception("unhandled error")
        if wants_json():
            return jsonify(error_body("internal_error", "unexpected error; it has been logged")), 500
        return render_template("error.html", status=500, message="Errore imprevisto."), 500
