"""Completion overhead: the engine's full task-completion path against bare SpiffWorkflow.

Both sides complete the user task ``fill`` of ``tests/engine/bpmn/approval.bpmn`` with
``{"title": "abcd"}``; the script task after it runs and the workflow stops at ``review``.

* engine: ``Engine.complete_task`` in a new ``Session`` followed by ``COMMIT``, on a file SQLite
  database (WAL, ``engine.db.make_db_engine``): load the task row and the instance (with its
  version) from the database, JSON Schema validation, spec-less state deserialization (spec from
  the cache), run + engine steps with the restricted script engine, save the state, project human
  tasks, timers and message subscriptions, audit row, flush and commit.
* bare: what a bare SpiffWorkflow application does in memory: ``BpmnWorkflowSerializer`` with
  ``SPIFF_CONFIG`` (full serialization, spec included) ``deserialize_json``, complete the same task,
  ``do_engine_steps``, ``serialize_json``. The spec is parsed once with ``SpiffBpmnParser``.

Each measured run works on its own fresh instance, prepared beforehand (not timed); engine and
bare runs are interleaved so drift hits both alike. With ``--postgres`` (or PIS2_BENCH_POSTGRES=1)
the engine side is also measured on a throw-away PostgreSQL 15. Figures: p50 and p95 in ms and the
engine/bare ratio.
"""

from __future__ import annotations

import gc
import os
from copy import deepcopy
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.engine import Engine as DbEngine
from sqlalchemy.orm import Session

from bench import ROLES, TEST_FORMS, TEST_MODELS, Databases, Options, Timings, ratio, timed
from engine import Actor, Engine
from engine.models import HumanTask, ProcessInstance
from engine.specs import read_models

PROCESS_ID = "approval"
MODEL = TEST_MODELS / "approval.bpmn"
DATA = {"title": "abcd"}
COORD = Actor("anna", frozenset({"coordinatore"}), "capofila")


class BareApp:
    """Plain SpiffWorkflow: one parsed spec, full JSON serialization with the spec in it."""

    def __init__(self) -> None:
        parser = SpiffBpmnParser()
        parser.add_bpmn_file(str(MODEL))
        self.spec = parser.get_spec(PROCESS_ID)
        self.subprocess_specs = parser.get_subprocess_specs(PROCESS_ID)
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(deepcopy(SPIFF_CONFIG)))

    def new_instance(self) -> tuple[str, UUID]:
        """A started workflow waiting at ``fill``, serialized, and the id of that task."""
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs)
        workflow.do_engine_steps()
        (task,) = workflow.get_tasks(state=TaskState.READY, manual=True)
        return self.serializer.serialize_json(workflow), task.id

    def complete(self, state: str, task_id: UUID) -> str:
        """Deserialize, complete the task, step, serialize: the timed unit."""
        workflow = self.serializer.deserialize_json(state)
        task = workflow.get_task_from_id(task_id)
        task.data.update(deepcopy(DATA))
        task.run()
        workflow.do_engine_steps()
        return self.serializer.serialize_json(workflow)

    def check(self, state: str) -> None:
        workflow = self.serializer.deserialize_json(state)
        ready = [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY, manual=True)]
        if ready != ["review"]:
            raise RuntimeError(f"bare run ended at {ready}, expected ['review']")


class EngineApp:
    """The pis2 engine on one database, with the test models deployed."""

    def __init__(self, db: DbEngine) -> None:
        self.db = db
        self.engine = Engine(roles=ROLES)
        with Session(db) as session:
            self.engine.deploy(session, read_models([MODEL], TEST_FORMS), actor="bench")
            session.commit()

    def new_instances(self, count: int) -> list[str]:
        """Start ``count`` instances (committed) and return their ``fill`` task ids."""
        task_ids: list[str] = []
        with Session(self.db) as session:
            for number in range(count):
                instance = self.engine.start(session, PROCESS_ID, {}, COORD)
                task_ids.append(session.scalars(select(HumanTask.id).where(
                    HumanTask.instance_id == instance.id, HumanTask.status == "ready")).one())
                if number % 100 == 99:
                    session.commit()
            session.commit()
        return task_ids

    def complete(self, task_id: str) -> None:
        """One request's worth: new session, complete_task, COMMIT: the timed unit."""
        with Session(self.db) as session:
            self.engine.complete_task(session, task_id, DATA, COORD)
            session.commit()

    def check(self, task_id: str) -> tuple[int, int]:
        """Sanity check of the last run; returns (state size, instance id)."""
        with Session(self.db) as session:
            row = session.get(HumanTask, task_id)
            assert row is not None
            instance = session.get(ProcessInstance, row.instance_id)
            assert instance is not None
            ready = session.scalars(select(HumanTask.task_spec_id).where(
                HumanTask.instance_id == instance.id, HumanTask.status == "ready")).all()
            if row.status != "completed" or list(ready) != ["review"]:
                raise RuntimeError(f"engine run left fill {row.status}, ready {ready}")
            return len(instance.state), instance.id


def measure(app: EngineApp, bare: BareApp, runs: int, warmup: int) -> tuple[Timings, Timings, dict[str, Any]]:
    """Warm up, then ``runs`` interleaved engine and bare completions on fresh instances."""
    engine_tasks = app.new_instances(warmup + runs)
    bare_states = [bare.new_instance() for _ in range(warmup + runs)]
    for task_id, (state, bare_task) in zip(engine_tasks[:warmup], bare_states[:warmup], strict=True):
        app.complete(task_id)
        bare.complete(state, bare_task)
    engine_times, bare_times = Timings(), Timings()
    gc.collect()
    for task_id, (state, bare_task) in zip(engine_tasks[warmup:], bare_states[warmup:], strict=True):
        engine_times.add(timed(lambda task_id=task_id: app.complete(task_id)))
        bare_times.add(timed(lambda state=state, bare_task=bare_task: bare.complete(state, bare_task)))
    last_state = bare.complete(*bare_states[-1])  # untimed again, for the sanity check
    bare.check(last_state)
    engine_size, _ = app.check(engine_tasks[-1])
    return engine_times, bare_times, {"engine_state": engine_size, "bare_state": len(last_state)}


def report(label: str, engine_times: Timings, bare_times: Timings, sizes: dict[str, Any]) -> None:
    print(f"  {'':<28}{'p50 ms':>9}{'p95 ms':>9}")
    print(f"  {'bare SpiffWorkflow (memory)':<28}{bare_times.p50:>9.2f}{bare_times.p95:>9.2f}")
    print(f"  {'engine (' + label + ')':<28}{engine_times.p50:>9.2f}{engine_times.p95:>9.2f}")
    print(f"  ratio engine/bare: p50 {ratio(engine_times.p50, bare_times.p50)}, "
          f"p95 {ratio(engine_times.p95, bare_times.p95)}")
    print(f"  state after completion: engine {sizes['engine_state']} chars (no spec), "
          f"bare {sizes['bare_state']} chars (spec included)")


def run(options: Options, databases: Databases) -> None:
    runs = options.runs or (50 if options.quick else 300)
    warmup = 10 if options.quick else 30
    with_postgres = options.postgres or os.environ.get("PIS2_BENCH_POSTGRES") == "1"
    print(f"== completion overhead: approval.bpmn, complete 'fill' with {DATA}; "
          f"{runs} runs after {warmup} warm-up, fresh instance each ==")
    bare = BareApp()
    kinds = ["sqlite", "postgres"] if with_postgres else ["sqlite"]
    for kind in kinds:
        print(f"-- {kind}{' (file, WAL)' if kind == 'sqlite' else ' 15 (throw-away, fsync off)'}")
        app = EngineApp(databases.make(kind, "bench_completion"))
        engine_times, bare_times, sizes = measure(app, bare, runs, warmup)
        report(kind, engine_times, bare_times, sizes)
    if not with_postgres:
        print("  (PostgreSQL skipped: pass --postgres or set PIS2_BENCH_POSTGRES=1)")
