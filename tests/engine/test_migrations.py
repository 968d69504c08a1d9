"""Migrations: they match the models, go up and down cleanly, and keep the audit append-only."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from casefile.models import Base as CasefileBase
from engine import migrate
from engine.db import make_db_engine
from engine.models import Base as EngineBase


def test_migrated_schema_matches_the_models(db_engine) -> None:
    with db_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, [EngineBase.metadata, CasefileBase.metadata])
    assert diff == []


def test_downgrade_to_base_and_up_again(make_database) -> None:
    url = make_database()
    db_engine = make_db_engine(url)
    migrate.downgrade(url, "base")
    assert set(inspect(db_engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(url)
    assert {"process_instance", "human_task", "timer", "audit_event", "user_account"} <= set(
        inspect(db_engine).get_table_names())
    db_engine.dispose()


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET kind = 'x'", "DELETE FROM audit_event"])
def test_audit_rows_cannot_be_rewritten(session, statement: str) -> None:
    session.execute(text("INSERT INTO audit_event (at, kind, details) VALUES (CURRENT_TIMESTAMP, 'k', '{}')"))
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text(statement))
