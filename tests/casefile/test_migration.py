"""Migration 0003: the case-file tables arrive on top of the engine's schema and leave cleanly."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from casefile.models import Base
from engine import migrate
from engine.db import make_db_engine

ENGINE_SCHEMA = "0002"
CASEFILE_TABLES = {name for name in Base.metadata.tables if name not in {"organisation", "user_account", "user_role"}}


def test_upgrade_from_the_engine_schema_keeps_organisations_and_downgrades_cleanly(make_database) -> None:
    url = make_database()
    migrate.downgrade(url, ENGINE_SCHEMA)
    db_engine = make_db_engine(url)
    try:
        assert not CASEFILE_TABLES & set(inspect(db_engine).get_table_names())
        with db_engine.begin() as conn:
            conn.execute(text("INSERT INTO organisation (key, name, kind) VALUES ('capofila', 'Capofila', 'ETS')"))

        migrate.upgrade(url)
        assert set(inspect(db_engine).get_table_names()) >= CASEFILE_TABLES
        with db_engine.connect() as conn:
            roles = conn.execute(text("SELECT programme_roles FROM organisation WHERE key = 'capofila'")).scalar_one()
        assert roles in ([], "[]")  # the JSON column decodes on PostgreSQL, not through a raw SQLite query

        migrate.downgrade(url, ENGINE_SCHEMA)
        tables = set(inspect(db_engine).get_table_names())
        assert not CASEFILE_TABLES & tables
        assert {"process_instance", "audit_event", "organisation"} <= tables
        assert "programme_roles" not in {c["name"] for c in inspect(db_engine).get_columns("organisation")}
        with db_engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM organisation")).scalars().all() == ["Capofila"]
    finally:
        db_engine.dispose()


@pytest.mark.parametrize("statement", ["UPDATE data_access_event SET purpose = 'x'", "DELETE FROM data_access_event"])
def test_access_log_rows_cannot_be_rewritten(session, statement: str) -> None:
    session.execute(text("INSERT INTO data_access_event (at, action, record_type, data_class, purpose, roles, fields)"
                         " VALUES (CURRENT_TIMESTAMP, 'read', 'visit', 'riservato', 'p', '[]', '[]')"))
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text(statement))
