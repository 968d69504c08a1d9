"""Task-list latency: "my tasks" and "my role's tasks" with 1k and 100k instances, SQLite and PostgreSQL.

Rows are bulk-loaded straight into ``process_instance`` (minimal ``state``) and ``human_task``
(``session.execute(insert(Model.__table__), rows)``: executemany), deterministic from a seeded RNG:
8 roles (skewed), 20 users in 4 organisations (one or two roles each). About 25% of instances
are running with one ready task (30% of those claimed by a user of the organisation holding the
role), 5% waiting, 60% completed, 10% terminated, each with 1-3 earlier completed tasks; ~10% of
tasks have no due date. The database is loaded to 1k instances, measured, topped up to 100k and
measured again. PostgreSQL gets VACUUM ANALYZE after each load; SQLite is left as the app leaves it
(no statistics).

Queries, exactly as the web app builds them:
* my tasks: ``engine.tasklist.my_tasks(actor, limit=50)`` (what the web app's task list runs);
* my role's tasks: ``engine.tasklist.role_tasks(role, organisation, limit=50)``.
Each run builds the query, executes it in a fresh ``Session`` and loads the ORM objects; the actor
(or role + organisation) rotates over the 20 users. Printed: p50/p95 in ms per (database, size,
query), a round-trip floor (``SELECT 1`` the same way), the 100k/1k ratio of p50, and the plan
(EXPLAIN) of any query whose ratio exceeds 3 (of every query with ``--explain``). On SQLite a bad
query is then measured again after ANALYZE, to tell missing statistics from a missing index.
"""

from __future__ import annotations

import itertools
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, literal, select, text
from sqlalchemy.engine import Engine as DbEngine
from sqlalchemy.orm import Session

from bench import Databases, Options, Timings, ratio, timed
from engine.models import HumanTask, ProcessInstance, ProcessVersion
from engine.runtime import NO_DUE_DATE, Actor
from engine.tasklist import my_tasks, role_tasks

SIZES = (1_000, 100_000)
CHUNK = 10_000
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ROLE_NAMES = ["coordinatore", "case_manager", "assistente_sociale", "educatore", "psicologo",
              "amministrativo", "responsabile", "revisore"]
ROLE_CUM_WEIGHTS = list(itertools.accumulate([30, 20, 15, 10, 10, 7, 5, 3]))
ORGS = ["capofila", "ente_a", "ente_b", "ente_c"]
USERS = [Actor(f"user{k:02d}",
               frozenset({ROLE_NAMES[k % 8]} | ({ROLE_NAMES[(k + 3) % 8]} if k % 2 == 0 else set())),
               ORGS[k // 5])
         for k in range(20)]
HOLDERS = {(org, role): [u.username for u in USERS if u.organisation == org and role in u.roles]
           for org in ORGS for role in ROLE_NAMES}
BAD_RATIO = 3.0


QUERIES = {
    "my tasks": lambda actor: my_tasks(actor, limit=50),
    "my role's tasks": lambda actor: role_tasks(min(actor.roles), actor.organisation, limit=50),
}


# --- loading -----------------------------------------------------------------------------------


def _task(rng: random.Random, instance: dict[str, Any], status: str, created: datetime) -> dict[str, Any]:
    role = rng.choices(ROLE_NAMES, cum_weights=ROLE_CUM_WEIGHTS)[0]
    org = instance["organisation"]
    due = None if rng.random() < 0.1 else created + timedelta(days=rng.randint(2, 14))
    assigned = completed_by = completed_at = None
    if status == "ready" and rng.random() < 0.3:
        holders = HOLDERS[org, role]
        assigned = rng.choice(holders) if holders else None
    if status != "ready":
        completed_at = created + timedelta(hours=rng.randint(1, 200))
        completed_by = rng.choice(USERS).username if status == "completed" else None
    spec = rng.choice(["fill", "review", "visit", "approve"])
    return {"id": str(uuid.UUID(int=rng.getrandbits(128))), "instance_id": instance["id"],
            "process_id": "bench", "process_name": "Bench", "business_key": instance["business_key"],
            "task_spec_id": spec, "name": spec.title(), "lane": role, "role": role,
            "organisation": org, "assigned_user": assigned, "form_key": f"{spec}.schema.json",
            "ui_form_key": None, "instructions": None, "status": status, "created_at": created,
            "due_at": due, "queue_order": due or NO_DUE_DATE,
            "completed_at": completed_at, "completed_by": completed_by}


def make_rows(rng: random.Random, first_id: int, count: int,
              version_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``count`` instances from id ``first_id`` on, and their human-task rows."""
    instances, tasks = [], []
    for instance_id in range(first_id, first_id + count):
        started = NOW - timedelta(days=rng.uniform(0, 365))
        status = rng.choices(["running", "waiting", "completed", "terminated"], [25, 5, 60, 10])[0]
        instance = {"id": instance_id, "process_version_id": version_id, "process_id": "bench",
                    "status": status, "state": "{}", "serializer_version": "1.5", "version": 1,
                    "organisation": ORGS[instance_id % 4], "business_key": f"BK-{instance_id}",
                    "started_by": rng.choice(USERS).username, "started_at": started, "updated_at": started,
                    "ended_at": started + timedelta(days=20) if status in ("completed", "terminated") else None}
        instances.append(instance)
        created = started
        for _ in range(rng.randint(1, 3)):
            tasks.append(_task(rng, instance, "completed", created))
            created += timedelta(hours=rng.randint(1, 72))
        if status == "running":
            tasks.append(_task(rng, instance, "ready", created))
        elif status == "terminated":
            tasks.append(_task(rng, instance, "cancelled", created))
    return instances, tasks


def load(db: DbEngine, rng: random.Random, first_id: int, count: int) -> int:
    """Insert ``count`` instances with their tasks; returns the number of task rows."""
    task_rows = 0
    with Session(db) as session:
        version_id = session.scalar(select(ProcessVersion.id))
        if version_id is None:
            version = ProcessVersion(process_id="bench", number=1, name="bench", content_hash="0" * 64,
                                     source_file="bench.bpmn", bpmn_xml="<definitions/>", deployed_at=NOW)
            session.add(version)
            session.flush()
            version_id = version.id
        for start in range(first_id, first_id + count, CHUNK):
            instances, tasks = make_rows(rng, start, min(CHUNK, first_id + count - start), version_id)
            # Core inserts: one executemany per chunk (ORM bulk inserts split it by which values are None).
            session.execute(insert(ProcessInstance.__table__), instances)
            session.execute(insert(HumanTask.__table__), tasks)
            task_rows += len(tasks)
        session.commit()
    if db.dialect.name == "postgresql":
        # VACUUM too, so that autovacuum does not wake up on the fresh rows in the middle of a measurement.
        with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE process_instance")
            conn.exec_driver_sql("VACUUM ANALYZE human_task")
    return task_rows


# --- measuring ---------------------------------------------------------------------------------


def measure(db: DbEngine, build: Any, runs: int) -> tuple[Timings, float]:
    """p50/p95 of ``build(actor)`` executed in a fresh session; also the mean number of rows."""
    timings, rows = Timings(), 0

    def once(actor: Actor) -> int:
        with Session(db) as session:
            return len(session.scalars(build(actor)).all())

    for number in range(10):
        once(USERS[number % len(USERS)])
    for number in range(runs):
        actor = USERS[number % len(USERS)]
        start = time.perf_counter()
        rows += once(actor)
        timings.add(time.perf_counter() - start)
    return timings, rows / runs


def explain(db: DbEngine, query: Any) -> list[str]:
    """The database's plan for ``query`` (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite)."""
    sql = str(query.compile(dialect=db.dialect, compile_kwargs={"literal_binds": True}))
    with db.connect() as conn:
        if db.dialect.name == "postgresql":
            return [row[0] for row in conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")]
        return [f"{row[0]:>3} {row[1]:>3} {row[3]}" for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]


def counts(db: DbEngine) -> str:
    with db.connect() as conn:
        total = conn.scalar(text("SELECT count(*) FROM human_task"))
        ready = conn.scalar(text("SELECT count(*) FROM human_task WHERE status = 'ready'"))
    return f"{total} task rows, {ready} ready ({100 * ready / total:.0f}%)"


def floor(db: DbEngine, runs: int) -> Timings:
    """Round-trip floor: ``SELECT 1`` in a fresh session (connection checkout, BEGIN, ROLLBACK)."""
    return measure(db, lambda _actor: select(literal(1)), runs)[0]


def diagnose(db: DbEngine, name: str, build: Any, runs: int) -> None:
    """Print the plan of a badly scaling query; on SQLite, also what ANALYZE statistics change."""
    print(f"  ratio > {BAD_RATIO:.0f}: plan of '{name}' for {USERS[0].username} at 100k:")
    for line in explain(db, build(USERS[0])):
        print(f"      {line}")
    if db.dialect.name == "sqlite":
        with db.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        timings, _ = measure(db, build, runs)
        print(f"  diagnosis: same query after ANALYZE (sqlite_stat1 present), no index added: "
              f"p50 {timings.p50:.2f} ms, p95 {timings.p95:.2f} ms; plan:")
        for line in explain(db, build(USERS[0])):
            print(f"      {line}")


def run(options: Options, databases: Databases) -> None:
    runs = options.runs or (50 if options.quick else 200)
    print(f"== task list: {', '.join(QUERIES)}; LIMIT 50; {runs} runs each after 10 warm-up ==")
    print(f"  {'database':<10}{'instances':>10}  {'query':<17}{'p50 ms':>8}{'p95 ms':>8}{'rows':>6}")
    results: dict[tuple[str, int, str], Timings] = {}
    for kind in ("sqlite", "postgres"):
        db = databases.make(kind, "bench_tasklist")
        rng, loaded = random.Random(20260302), 0
        for size in SIZES:
            seconds = timed(lambda db=db, rng=rng, first=loaded + 1, count=size - loaded: load(db, rng, first, count))
            print(f"  {kind}: loaded to {size} instances in {seconds:.1f} s: {counts(db)}")
            loaded = size
            for name, build in QUERIES.items():
                timings, rows = measure(db, build, runs)
                results[kind, size, name] = timings
                print(f"  {kind:<10}{size:>10}  {name:<17}{timings.p50:>8.2f}{timings.p95:>8.2f}{rows:>6.0f}")
        base = floor(db, runs)
        print(f"  {kind:<10}{'':>10}  {'floor: SELECT 1':<17}{base.p50:>8.2f}{base.p95:>8.2f}")
        for name, build in QUERIES.items():
            small, large = results[kind, SIZES[0], name].p50, results[kind, SIZES[-1], name].p50
            print(f"  {kind}: {name}: 100k/1k p50 {ratio(large, small)}")
            if large > BAD_RATIO * small:
                diagnose(db, name, build, runs)
            elif options.explain:
                print(f"  plan of '{name}' for {USERS[0].username} at 100k:")
                for line in explain(db, build(USERS[0])):
                    print(f"      {line}")
