"""Alembic environment: the engine's and the case file's tables, one database URL."""

from __future__ import annotations

from alembic import context

from casefile.models import Base as CasefileBase
from engine.db import make_db_engine
from engine.models import Base as EngineBase

config = context.config
target_metadata = [EngineBase.metadata, CasefileBase.metadata]


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    db_engine = make_db_engine(config.get_main_option("sqlalchemy.url"))
    with db_engine.connect() as connection:
        _run(connection)
    db_engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    # Batch mode lets later migrations alter SQLite tables (it has no ALTER COLUMN).
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
