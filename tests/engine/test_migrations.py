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


def test_existing_versions_are_numbered_within_their_process(make_database) -> None:
    url = make_database()
    db_engine = make_db_engine(url)
    migrate.downgrade(url, "0004")
    with db_engine.begin() as connection:
        for process_id, content_hash in [("intake", "a"), ("exit", "b"), ("intake", "c"), ("intake", "d")]:
            connection.execute(text(
                "INSERT INTO process_version (process_id, content_hash, source_file, bpmn_xml, dmn_files, forms,"
                " start_messages, deployed_at) VALUES (:p, :h, 'f.bpmn', '<x/>', '{}', '{}', '[]', CURRENT_TIMESTAMP)"),
                {"p": process_id, "h": content_hash})
        # An instance refers to a version: rebuilding the table (SQLite batch mode) must keep it valid.
        connection.execute(text(
            "INSERT INTO process_instance (process_version_id, process_id, status, state, serializer_version,"
            " version, started_at, updated_at) VALUES (3, 'intake', 'running', '{}', '1.5', 1,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    migrate.upgrade(url)
    with db_engine.connect() as connection:
        numbers = connection.execute(text(
            "SELECT process_id, content_hash, number FROM process_version ORDER BY id")).all()
        instance_version = connection.execute(text(
            "SELECT v.content_hash, v.number FROM process_instance i JOIN process_version v"
            " ON v.id = i.process_version_id")).one()
    db_engine.dispose()
    assert [tuple(row) for row in numbers] == [("intake", "a", 1), ("exit", "b", 1), ("intake", "c", 2),
                                               ("intake", "d", 3)]
    assert tuple(instance_version) == ("c", 2)
