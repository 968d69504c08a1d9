"""Benchmarks of the pis2 engine (``python -m bench``); shared helpers live here.

Each benchmark module exposes ``run(options)`` and prints its figures; nothing here asserts a timing.
The helpers give every benchmark: timing statistics, fresh migrated SQLite or PostgreSQL databases,
and one lazily started throw-away PostgreSQL 15 server (``tests/pg_server.py``) shared by the run.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine as DbEngine

from engine import migrate
from engine.db import make_db_engine

ROOT = Path(__file__).resolve().parent.parent
TEST_MODELS = ROOT / "tests" / "engine" / "bpmn"
TEST_FORMS = TEST_MODELS / "forms"
ROLES = {"coordinatore": "Coordinatore di progetto", "case_manager": "Case manager"}


@dataclass
class Options:
    """Command-line options shared by the benchmarks."""

    quick: bool = False
    postgres: bool = False
    runs: int | None = None  # overrides each benchmark's default number of measured runs
    explain: bool = False  # tasklist: print every query plan, not only those of badly scaling queries


@dataclass
class Timings:
    """Wall-clock samples in seconds, summarised in milliseconds."""

    samples: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.samples.append(seconds)

    def percentile(self, fraction: float) -> float:
        """Nearest-rank percentile in ms."""
        ordered = sorted(self.samples)
        rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p95(self) -> float:
        return self.percentile(0.95)


def timed(func: Callable[[], Any]) -> float:
    """Seconds one call of ``func`` takes."""
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def ratio(numerator: float, denominator: float) -> str:
    """``a/b`` as ``x12.3`` (or ``n/a`` when b is 0)."""
    return f"x{numerator / denominator:.1f}" if denominator else "n/a"


class Databases:
    """Fresh, migrated databases: SQLite files in a temp dir, PostgreSQL on one shared server."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="pis2-bench-")
        self._server: Any = None
        self._engines: list[DbEngine] = []

    def sqlite(self, name: str) -> DbEngine:
        """A new SQLite file database (WAL, via make_db_engine) with the schema applied."""
        url = f"sqlite:///{Path(self._tmp.name) / f'{name}.sqlite'}"
        migrate.upgrade(url)
        return self._keep(make_db_engine(url))

    def postgres(self, name: str) -> DbEngine:
        """A new database on the throw-away PostgreSQL server (started on first use)."""
        if self._server is None:
            from tests.pg_server import start_postgres

            started = time.perf_counter()
            self._server = start_postgres()
            print(f"  (throw-away PostgreSQL 15 started in {time.perf_counter() - started:.1f} s)")
        admin = create_engine(self._server.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = self._server.url.rsplit("/", 1)[0] + f"/{name}"
        migrate.upgrade(url)
        return self._keep(make_db_engine(url))

    def make(self, kind: str, name: str) -> DbEngine:
        """``sqlite`` or ``postgres``."""
        return self.sqlite(name) if kind == "sqlite" else self.postgres(name)

    def _keep(self, db: DbEngine) -> DbEngine:
        self._engines.append(db)
        return db

    def close(self) -> None:
        for db in self._engines:
            db.dispose()
        if self._server is not None:
            self._server.stop()
        self._tmp.cleanup()
