"""Settings, read once from the environment, with defaults for local use."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from engine.clock import FrozenClock

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("PIS2_INSTANCE_DIR", ROOT / "instance"))


def _local_secret_key() -> str:
    # Local use only: a random key kept in instance/ so sessions survive restarts.
    # Production sets PIS2_SECRET_KEY (PIS2_ENV=production refuses to start without it).
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _secret_key(environment: str) -> str:
    key = os.environ.get("PIS2_SECRET_KEY")
    if key:
        return key
    if environment == "production":
        raise RuntimeError("PIS2_SECRET_KEY must be set when PIS2_ENV=production")
    return _local_secret_key()


def _clock_from_env() -> FrozenClock | None:
    # PIS2_NOW pins the engine's clock (ISO 8601), e.g. to let `pis2 worker --once` fire what would
    # be due on a given day. Unset, the engine uses the real time.
    value = os.environ.get("PIS2_NOW")
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return FrozenClock(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


# Where the app is served over plain http (`make run` on http://127.0.0.1): no `Secure` cookies there.
LOCAL_ENVIRONMENTS = ("development", "testing")


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value in ("1", "true", "yes", "on")


def default_database_url() -> str:
    """A SQLite file under instance/ (WAL mode is set on connect)."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'pis2.sqlite'}"


def load_config(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The app's configuration: environment first, then ``overrides`` (tests pass theirs here)."""
    overrides = dict(overrides or {})
    environment = os.environ.get("PIS2_ENV", "development")
    config: dict[str, Any] = {
        "ENV_NAME": environment,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("PIS2_DATABASE_URL") or None,
        "PROCESSES_DIR": Path(os.environ.get("PIS2_PROCESSES_DIR", ROOT / "processes")),
        "FORMS_DIR": Path(os.environ.get("PIS2_FORMS_DIR", ROOT / "forms")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure everywhere but on a developer's machine; PIS2_SESSION_COOKIE_SECURE=0/1 overrides.
        "SESSION_COOKIE_SECURE": _flag("PIS2_SESSION_COOKIE_SECURE", environment not in LOCAL_ENVIRONMENTS),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=float(os.environ.get("PIS2_SESSION_HOURS", "8"))),
        "REMEMBER_COOKIE_HTTPONLY": True,
        # Login hardening (webapp/auth.py): lockout after repeated wrong passwords, per-address limit.
        "LOGIN_MAX_FAILURES": int(os.environ.get("PIS2_LOGIN_MAX_FAILURES", "5")),
        "LOGIN_LOCK_MINUTES": float(os.environ.get("PIS2_LOGIN_LOCK_MINUTES", "15")),
        "LOGIN_ADDRESS_MAX_FAILURES": int(os.environ.get("PIS2_LOGIN_ADDRESS_MAX_FAILURES", "30")),
        "LOGIN_ADDRESS_WINDOW_MINUTES": float(os.environ.get("PIS2_LOGIN_ADDRESS_WINDOW_MINUTES", "15")),
        "BABEL_DEFAULT_LOCALE": "it",
        "LANGUAGES": ("it", "en"),
        "SCRIPT_TIME_LIMIT": float(os.environ.get("PIS2_SCRIPT_TIME_LIMIT", "2.0")),
        "WORKER_INTERVAL": float(os.environ.get("PIS2_WORKER_INTERVAL", "5")),
        "ENGINE_CLOCK": _clock_from_env(),
        # Days after closure before a household's case file is pseudonymised (domain.md §6: 24 months).
        "RETENTION_DAYS": int(os.environ.get("PIS2_RETENTION_DAYS", "730")),
    }
    config.update(overrides)
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = default_database_url()
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _secret_key(environment)
    return config
