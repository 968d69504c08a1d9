"""Database engine set-up shared by the web app, the CLI, the worker and the tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine as DbEngine


def configure_sqlite(db_engine: DbEngine) -> None:
    """WAL journal, a busy timeout and foreign keys for every SQLite connection (no-op elsewhere)."""
    if db_engine.dialect.name != "sqlite":
        return

    @event.listens_for(db_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def make_db_engine(url: str, **options: Any) -> DbEngine:
    """A SQLAlchemy engine for ``url`` with our SQLite pragmas applied."""
    db_engine = create_engine(url, **options)
    configure_sqlite(db_engine)
    return db_engine
