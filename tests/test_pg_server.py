"""The throw-away PostgreSQL helper starts a real 15.x server and cleans up after itself.

Cheap (about a second), so it runs in both database lanes.
"""

import os

import pytest
import sqlalchemy as sa

try:
    from pg_server import start_postgres
except ImportError:  # tests/ turned into a package: imported from the repository root
    from tests.pg_server import start_postgres


@pytest.fixture
def server():
    try:
        srv = start_postgres()
    except RuntimeError as exc:
        if "binaries not found" in str(exc) and not os.environ.get("CI"):
            pytest.skip(str(exc))  # a developer machine without the server; CI installs it
        raise
    yield srv
    srv.stop()


def test_server_runs_postgresql_15_and_is_removed_on_stop(server):
    assert server.url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    assert server.url.endswith("/pis2_test")
    if os.geteuid() == 0:  # root cannot run PostgreSQL: the cluster belongs to a system user
        assert server.data_dir.stat().st_uid != 0

    engine = sa.create_engine(server.url)
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("select version()")).scalar_one()
            dbname = conn.execute(sa.text("select current_database()")).scalar_one()
            encoding = conn.execute(sa.text("show server_encoding")).scalar_one()
    finally:
        engine.dispose()
    assert "PostgreSQL 15" in version
    assert dbname == "pis2_test"
    assert encoding == "UTF8"

    base_dir = server.base_dir
    assert base_dir.is_dir()
    server.stop()
    assert not base_dir.exists()
    server.stop()  # idempotent

    engine = sa.create_engine(server.url, connect_args={"connect_timeout": 2})
    try:
        with pytest.raises(sa.exc.OperationalError):
            engine.connect().close()
    finally:
        engine.dispose()
