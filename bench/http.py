"""The JSON API over HTTP: start an instance, complete its first task, read "my tasks", with a backlog.

A real server (werkzeug's ``make_server``, HTTP/1.1 keep-alive, in a child process) runs the
whole web app on a SQLite file database (WAL); one client (``http.client``, one persistent
connection) sends the requests with a personal access token, as an API user would. The model is
``tests/webapp/api/bpmn/api_flow.bpmn``: start → user task A (one required string field) → user task B
→ end, the shape of the issue's spiff-arena figures. Timed, each round trip including JSON encoding
and decoding on both sides:

* start: ``POST /api/v1/instances`` — the instance runs to task A (in the coordinator's queue);
* complete: ``POST /api/v1/tasks/<A>/complete`` with ``{"data": {"title": …}}`` — on to task B;
* my tasks: ``GET /api/v1/tasks`` — the first page (50) of the coordinator's queue.

With 1k and with 10k instances waiting at task A in the same queue, on two servers and databases
whose requests are interleaved (a busier moment of the machine hits both sizes alike): a started
instance is cloned straight into the tables (its state with fresh task ids, its task row), which is
what thousands of starts would leave behind, in seconds instead of minutes. Printed: p50/p95 per
size and operation, the server's CPU time per request (``X-Server-CPU``: what our code costs, whatever
else the machine is doing), the 10k/1k ratio, and spiff-arena's reference p50 from the issue beside ours.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from werkzeug.serving import WSGIRequestHandler, make_server

from bench import ROOT, Databases, Options, Timings, ratio
from casefile import accounts
from engine.models import HumanTask, ProcessInstance
from engine.specs import read_models
from webapp import create_app
from webapp.extensions import db

MODELS = ROOT / "tests" / "webapp" / "api" / "bpmn"
PROCESS_ID = "api_flow"
SIZES = (1_000, 10_000)
CHUNK = 2_000
FORM_DATA = {"data": {"title": "Caldaia guasta"}}
# spiff-arena's backend on this kind of machine, same shape (issue 6), p50 in ms.
SPIFF_ARENA = {"start": {None: 44.0}, "complete": {None: 38.0}, "my tasks": {1_000: 17.5, 10_000: 58.0}}
OPERATIONS = ("start", "complete", "my tasks")
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class QuietHandler(WSGIRequestHandler):
    """Keep-alive (HTTP/1.1) and no access log: one line per request would be part of the timing."""

    protocol_version = "HTTP/1.1"

    def log_request(self, *args: Any) -> None:
        pass


class ApiServer:
    """The web app on a database URL, with the model deployed and a coordinator holding a token."""

    def __init__(self, url: str) -> None:
        self.app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                               "PROCESSES_DIR": MODELS, "FORMS_DIR": MODELS / "forms"})
        with self.app.app_context():
            engine = self.app.extensions["engine"]
            engine.deploy(db.session, read_models([MODELS / f"{PROCESS_ID}.bpmn"], MODELS / "forms"), actor="bench")
            capofila = accounts.ensure_organisation(db.session, "capofila", "Ente capofila")
            user = accounts.create_user(db.session, "bench_coordinatore", organisation=capofila,
                                        roles=["coordinatore"], password_hash=None)
            self.token = accounts.create_api_token(db.session, user, "bench")[1]
            db.session.commit()

    @contextmanager
    def serving(self) -> Iterator[int]:
        """Serve on a free loopback port (yielded) from a child process until the block ends.

        A process of its own, as in production: the client's Python does not share the server's GIL.
        """
        server = make_server("127.0.0.1", 0, self.app, threaded=False, request_handler=QuietHandler)
        child = multiprocessing.get_context("fork").Process(target=_serve, args=(self.app, server), daemon=True)
        child.start()
        server.socket.close()  # the child accepts; the parent only connects
        try:
            yield server.server_port
        finally:
            child.terminate()
            child.join()

    def grow_backlog(self, template_instance_id: int, count: int) -> None:
        """``count`` copies of a started instance waiting at task A: fresh task ids, same state otherwise."""
        with self.app.app_context():
            template = db.session.get(ProcessInstance, template_instance_id)
            task = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == template_instance_id,
                                                              HumanTask.status == "ready")).one()
            instance_row = {c.name: getattr(template, c.key) for c in ProcessInstance.__table__.columns}
            task_row = {c.name: getattr(task, c.key) for c in HumanTask.__table__.columns}
            next_id = (db.session.scalar(select(ProcessInstance.id).order_by(ProcessInstance.id.desc())) or 0) + 1
            moment = datetime.now(UTC)
            for start in range(0, count, CHUNK):
                instances, tasks = [], []
                for number in range(start, min(count, start + CHUNK)):
                    ids: dict[str, str] = {}
                    state = UUID_PATTERN.sub(lambda m, ids=ids: ids.setdefault(m.group(0), str(uuid.uuid4())),
                                             template.state)
                    created = moment - timedelta(seconds=number)
                    instances.append({**instance_row, "id": next_id + number, "state": state, "started_at": created,
                                      "updated_at": created, "business_key": f"BK-{next_id + number}"})
                    tasks.append({**task_row, "id": ids[task.id], "instance_id": next_id + number,
                                  "business_key": f"BK-{next_id + number}", "created_at": created,
                                  "due_at": task.due_at + timedelta(minutes=number % 5000),
                                  "queue_order": task.queue_order + timedelta(minutes=number % 5000)})
                db.session.execute(insert(ProcessInstance.__table__), instances)
                db.session.execute(insert(HumanTask.__table__), tasks)
            db.session.commit()


def _serve(app: Any, server: Any) -> None:
    with app.app_context():
        db.engine.dispose(close=False)  # connections opened before the fork belong to the parent
    server.app = cpu_header(app)
    server.serve_forever(poll_interval=0.05)


def cpu_header(app: Any) -> Any:
    """WSGI wrapper: the CPU time the request took in the server (until its headers), as ``X-Server-CPU``.

    Wall-clock latency also counts whatever else the machine is running; CPU time hardly does, so it
    tells our code's cost apart from a busy machine.
    """

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        started = time.thread_time()

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers.append(("X-Server-CPU", f"{time.thread_time() - started:.6f}"))
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return wrapped


class ApiClient:
    """One API user on one persistent connection."""

    def __init__(self, port: int, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                        "Accept": "application/json"}
        self.server_cpu = 0.0  # seconds, of the last response

    def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        payload = json.dumps(body).encode() if body is not None else None
        self.connection.request(method, path, body=payload, headers=self.headers)
        response = self.connection.getresponse()
        data = json.loads(response.read())
        self.server_cpu = float(response.getheader("X-Server-CPU") or 0)
        if response.status != expect:
            raise RuntimeError(f"{method} {path}: {response.status} {data}")
        return data

    def start(self) -> str:
        """Start an instance; the id of its task A."""
        body = self.call("POST", "/api/v1/instances", {"process_id": PROCESS_ID}, expect=201)
        return str(body["tasks"][0]["id"])

    def complete(self, task_id: str) -> None:
        body = self.call("POST", f"/api/v1/tasks/{task_id}/complete", FORM_DATA)
        if body["instance_status"] != "running":
            raise RuntimeError(f"after A the instance is {body['instance_status']}, expected running (at B)")

    def my_tasks(self) -> int:
        return len(self.call("GET", "/api/v1/tasks")["items"])

    def close(self) -> None:
        self.connection.close()


def timed(call: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def interleaved(clients: dict[int, ApiClient], count: int, warmup: int, timings: dict[int, tuple[Timings, Timings]],
                call: Callable[[int, ApiClient, int], Any]) -> dict[int, list[Any]]:
    """``call(size, client, number)`` ``count`` times per backlog, sizes taking turns; records the wall-clock
    time and the server's CPU time of all but the warm-up calls."""
    values: dict[int, list[Any]] = {size: [] for size in clients}
    for number in range(count):
        for size, client in clients.items():
            started = time.perf_counter()
            values[size].append(call(size, client, number))
            if number >= warmup:
                wall, cpu = timings[size]
                wall.add(time.perf_counter() - started)
                cpu.add(client.server_cpu)
    return values


Results = dict[int, dict[str, tuple[Timings, Timings]]]  # size -> operation -> (wall clock, server CPU)


def measure(clients: dict[int, ApiClient], runs: int, warmup: int) -> Results:
    """Starts, then completions of the tasks they reached, then first pages, each request sent to every
    backlog in turn, so that a slower moment of the machine hits all sizes alike."""
    timings = {name: {size: (Timings(), Timings()) for size in clients} for name in OPERATIONS}
    count = warmup + runs
    task_ids = interleaved(clients, count, warmup, timings["start"], lambda size, client, number: client.start())
    interleaved(clients, count, warmup, timings["complete"],
                lambda size, client, number: client.complete(task_ids[size][number]))
    pages = interleaved(clients, count, warmup, timings["my tasks"], lambda size, client, number: client.my_tasks())
    for size, rows in pages.items():
        if set(rows) != {min(50, size)}:
            raise RuntimeError(f"my tasks returned {sorted(set(rows))} rows with {size} waiting")
    return {size: {name: timings[name][size] for name in OPERATIONS} for size in clients}


def reference(name: str, size: int) -> str:
    figures = SPIFF_ARENA[name]
    value = figures.get(size, figures.get(None))
    return f"{value:.1f}" if value is not None else "-"


def report(results: Results, sizes: tuple[int, ...]) -> None:
    print(f"  {'waiting':>8}  {'operation':<10}{'p50 ms':>8}{'p95 ms':>8}{'server CPU p50':>16}"
          f"{'spiff-arena p50':>17}{'faster':>8}")
    for size in sizes:
        for name in OPERATIONS:
            wall, cpu = results[size][name]
            ref = SPIFF_ARENA[name].get(size, SPIFF_ARENA[name].get(None))
            print(f"  {size:>8}  {name:<10}{wall.p50:>8.2f}{wall.p95:>8.2f}{cpu.p50:>16.2f}"
                  f"{reference(name, size):>17}{ratio(ref, wall.p50) if ref else '-':>8}")
    small, large = sizes[0], sizes[-1]
    flat = ", ".join(f"{name} {ratio(results[large][name][0].p50, results[small][name][0].p50)}"
                     for name in OPERATIONS)
    print(f"  {large}/{small} p50: {flat} (spiff-arena my tasks: x{58.0 / 17.5:.1f})")


@contextmanager
def backlog_server(databases: Databases, size: int) -> Iterator[tuple[ApiServer, ApiClient]]:
    """A server whose coordinator has ``size`` instances waiting at task A, and a client of it."""
    server = ApiServer(databases.sqlite(f"bench_http_{size}").url.render_as_string(hide_password=False))
    with server.serving() as port:
        client = ApiClient(port, server.token)
        template_task = client.start()
        with server.app.app_context():
            template_id = db.session.get(HumanTask, template_task).instance_id  # type: ignore[union-attr]
        seconds, _ = timed(lambda: server.grow_backlog(template_id, size - 1))
        print(f"  backlog: {size} instances waiting at task A (cloned in {seconds:.1f} s)")
        yield server, client
        with server.app.app_context():  # a clone's state is real: completing its task works like any other
            clone_task = db.session.scalar(select(HumanTask.id).where(
                HumanTask.instance_id != template_id, HumanTask.status == "ready").limit(1))
        client.complete(str(clone_task))
        client.close()


def run(options: Options, databases: Databases, sizes: tuple[int, ...] = SIZES) -> Results:
    runs = options.runs or (30 if options.quick else 200)
    warmup = 5 if options.quick else 20
    print(f"== http: {PROCESS_ID} (start → A → B → end) over loopback HTTP, one keep-alive client, SQLite file; "
          f"{runs} runs after {warmup} warm-up ==")
    with ExitStack() as stack:
        clients = {size: stack.enter_context(backlog_server(databases, size))[1] for size in sizes}
        results = measure(clients, runs, warmup)
    report(results, sizes)
    return results
