"""Shared fixtures: one database lane per run (PIS2_TEST_DB=sqlite|postgres), schema via Alembic."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine as DbEngine
from sqlalchemy.orm import Session

from engine import migrate
from engine.db import make_db_engine

LANE = os.environ.get("PIS2_TEST_DB", "sqlite")
ROOT = Path(__file__).resolve().parent.parent


def pytest_report_header() -> str:
    return f"database lane: {LANE}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: needs the SQLite lane")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if LANE == "sqlite":
        return
    skip = pytest.mark.skip(reason="SQLite lane only")
    # The screens do not depend on the database, and every query they run is tested in this lane below
    # them; driving Chromium a second time would only double the lane's slowest part.
    skip_browser = pytest.mark.skip(reason="browser tests run in the SQLite lane")
    browser_tests = ROOT / "tests" / "browser"
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)
        elif browser_tests in item.path.parents:
            item.add_marker(skip_browser)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object | None]:
    """The lane's throw-away PostgreSQL server (None in the SQLite lane)."""
    if LANE != "postgres":
        yield None
        return
    from tests.pg_server import start_postgres

    server = start_postgres()
    yield server
    server.stop()


_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def make_database(postgres_server: object | None,
                  tmp_path_factory: pytest.TempPathFactory) -> Callable[[], str]:
    """A factory of fresh, migrated, empty databases of this run's lane; returns their URLs."""

    def make() -> str:
        number = next(_database_numbers)
        if postgres_server is not None:
            server: Any = postgres_server
            admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE pis2_test_{number}"))
            admin.dispose()
            url = server.url.rsplit("/", 1)[0] + f"/pis2_test_{number}"
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / f'test{number}.sqlite'}"
        migrate.upgrade(url)
        return url

    return make


@pytest.fixture(scope="session")
def database_url(make_database: Callable[[], str]) -> str:
    """The run's shared database (tests roll back what they write)."""
    return make_database()


@pytest.fixture(scope="session")
def db_engine(database_url: str) -> Iterator[DbEngine]:
    db_engine = make_db_engine(database_url)
    if db_engine.dialect.name == "sqlite":
        # pysqlite only BEGINs before DML, so a test's first SAVEPOINT would open (and its RELEASE
        # commit) a real transaction, leaking rows into later tests. Give the test transaction a real
        # BEGIN (SQLAlchemy's documented recipe); the app keeps pysqlite's default.
        @event.listens_for(db_engine, "connect")
        def _no_implicit_begin(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None

        @event.listens_for(db_engine, "begin")
        def _explicit_begin(connection):  # type: ignore[no-untyped-def]
            connection.exec_driver_sql("BEGIN")

    yield db_engine
    db_engine.dispose()


@pytest.fixture
def session(db_engine: DbEngine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test; commits become savepoints."""
    connection = db_engine.connect()
    outer = connection.begin()
    db_session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield db_session
    db_session.close()
    outer.rollback()
    connection.close()


@pytest.fixture
def count_queries(db_engine: DbEngine) -> Callable[[], object]:
    """Count SQL statements run inside a ``with count_queries() as counter:`` block."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counting() -> Iterator[list[str]]:
        statements: list[str] = []

        def _before(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
            statements.append(statement)

        event.listen(db_engine, "before_cursor_execute", _before)
        try:
            yield statements
        finally:
            event.remove(db_engine, "before_cursor_execute", _before)

    return counting
