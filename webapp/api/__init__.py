"""The JSON API under /api/v1: flask-smorest blueprints, OpenAPI document, browsable docs.

Clients authenticate with a personal access token (``Authorization: Bearer …``), never the session
cookie, so CSRF does not apply to these blueprints. Errors, flask-smorest's own included, use the one
envelope of webapp.errors.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api

from webapp.extensions import csrf
from webapp.schemas.common import ErrorSchema

PREFIX = "/api/v1"


class PisApi(Api):  # type: ignore[misc]
    """flask-smorest's Api, documenting and answering errors with our envelope."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        # webapp.errors handles HTTPException for the whole app (webargs' 422 included): one envelope.
        pass



def _api_config(app: Flask) -> None:
    defaults: dict[str, Any] = {
        "API_TITLE": "PIS 2 API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": PREFIX,
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "info": {"description": "Tasks, process instances, households and process models of PIS 2. "
                                    "Authenticate with a personal access token: `Authorization: Bearer pis2_…`."},
            "security": [{"bearerAuth": []}],
        },
    }
    for key, value in defaults.items():
        app.config.setdefault(key, value)


def register_api(app: Flask) -> PisApi:
    """Build the app's Api and register the resource blueprints (token-authenticated, so exempt from CSRF)."""
    from webapp.api import docs, households, instances, processes, tasks, tracking

    _api_config(app)
    api = PisApi(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "A personal access token."})
    for module in (tasks, instances, households, processes, tracking):
        csrf.exempt(module.bp)
        api.register_blueprint(module.bp)
    csrf.exempt(tracking.migrations_bp)
    api.register_blueprint(tracking.migrations_bp)
    app.register_blueprint(docs.bp)
    app.extensions["api"] = api
    return api
