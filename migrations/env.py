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
    # Batch mode lets later migrations alter SQLite tables (it has no ALTER COLUMN) by rebuilding them:
    # copy, drop, rename. Dropping a table other tables refer to fails while foreign keys are enforced,
    # so SQLite enforces them again only after the migrations, once every reference checks out. The
    # pragma goes through the driver's connection: inside a transaction SQLite would ignore it.
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if sqlite:
            driver = connection.connection.driver_connection
            broken = driver.execute("PRAGMA foreign_key_check").fetchall()
            driver.execute("PRAGMA foreign_keys=ON")
            if broken:
                raise RuntimeError(f"rows whose foreign keys point nowhere after migrating: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
