"""The PIS 2 web application: staff task lists and forms on top of the engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, request, session
from flask_babel import get_locale

from casefile.roles import ROLES
from engine import Engine
from engine.db import configure_sqlite
from engine.services import ServiceRegistry
from webapp.casefile_services import register_casefile_operations
from webapp.config import load_config
from webapp.extensions import babel, csrf, db, login_manager


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; tests pass ``config`` overrides."""
    app = Flask(__name__)
    app.config.from_mapping(load_config(config))
    register_extensions(app)
    register_engine(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_security_headers(app)
    return app


def select_locale() -> str:
    """The user's chosen language, else Italian."""
    from flask_login import current_user

    chosen = session.get("lang") or getattr(current_user, "language", None)
    return chosen if chosen in ("it", "en") else "it"


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions of webapp.extensions."""
    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale


def register_engine(app: Flask) -> None:
    """One engine per app, with the role catalogue and the service registry the case file fills."""
    services = ServiceRegistry()
    register_casefile_operations(services)
    app.extensions["engine"] = Engine(roles=ROLES, services=services,
                                      now=app.config.get("ENGINE_CLOCK"),
                                      script_time_limit=app.config["SCRIPT_TIME_LIMIT"])


def register_blueprints(app: Flask) -> None:
    """HTML views, and the JSON API under /api/v1."""
    from webapp.accounts import auth
    from webapp.api import register_api
    from webapp.views import account, admin, admin_orgs, dashboard, households, modeller, tasks, tracking

    app.register_blueprint(auth.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(households.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(admin_orgs.bp)
    app.register_blueprint(tracking.bp)
    app.register_blueprint(modeller.bp)
    app.register_blueprint(dashboard.bp)
    register_api(app)


def register_error_handlers(app: Flask) -> None:
    """Engine errors and HTTP errors → one JSON envelope for API callers, a page for people."""
    from webapp import errors

    errors.register(app)


def register_security_headers(app: Flask) -> None:
    """No inline scripts, no framing, no sniffing."""

    @app.after_request
    def _headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.before_request
    def _language() -> None:
        lang = request.args.get("lang")
        if lang in ("it", "en"):
            session["lang"] = lang
