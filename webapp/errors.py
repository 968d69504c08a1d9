"""Exceptions → HTTP status codes, in one table, with one JSON envelope for API callers."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

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

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response | tuple[Any, int]:
        if not wants_json():
            return error.get_response()
        code = (error.name or "error").lower().replace(" ", "_")
        return jsonify(error_body(code, error.description or error.name)), error.code or 500

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Any, int]:
        if current_app.testing:
            raise error
        current_app.logger.exception("unhandled error")
        if wants_json():
            return jsonify(error_body("internal_error", "unexpected error; it has been logged")), 500
        return render_template("error.html", status=500, message="Errore imprevisto."), 500
