"""Restricted script environment: normal scripts run, dangerous ones fail without side effects."""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from engine.errors import ServiceError
from engine.scripting import (
    RestrictedEnvironment,
    RestrictedScriptEngine,
    ScriptTimeoutError,
    add_working_days,
    compile_check,
    make_script_engine,
)
from engine.services import ServiceContext, ServiceRegistry, service_context


@pytest.fixture
def env() -> RestrictedEnvironment:
    return RestrictedEnvironment()


# --- normal scripts -----------------------------------------------------------------------------------


def test_assignments_land_in_task_data(env: RestrictedEnvironment) -> None:
    data: dict[str, Any] = {"x": 21}
    assert env.execute("y = x * 2\nlabel = f'x={x}'", data) is True
    assert data == {"x": 21, "y": 42, "label": "x=21"}


def test_dict_and_list_mutation(env: RestrictedEnvironment) -> None:
    data: dict[str, Any] = {"items": [1], "household": {"size": 3}}
    env.execute(
        "d = {}\nd['a'] = 1\nitems.append(2)\nhousehold['size'] = household.get('size', 0) + 1\n"
        "n = 0\nn += 5\nfor k, v in d.items():\n    n += v\nfirst, *rest = items\n",
        data,
    )
    assert data["d"] == {"a": 1}
    assert data["items"] == [1, 2]
    assert data["household"] == {"size": 4}
    assert data["n"] == 6
    assert (data["first"], data["rest"]) == (1, [2])


def test_comprehensions_builtins_and_helpers(env: RestrictedEnvironment) -> None:
    data: dict[str, Any] = {"amounts": [3, 1, 2]}
    env.execute(
        "squares = [a * a for a in amounts if a > 1]\n"
        "by_key = {str(a): a for a in sorted(amounts)}\n"
        "stats = [len(amounts), sum(amounts), min(amounts), max(amounts), abs(-2), round(2.567, 2)]\n"
        "flags = [any(a > 2 for a in amounts), all(isinstance(a, int) for a in amounts)]\n"
        "pairs = list(zip(range(2), map(str, filter(bool, amounts))))\n"
        "indexed = dict(enumerate(tuple(set([1]))))\n"
        "money = str(Decimal('1.10') + Decimal('2.20'))\n"
        "print('collected, not written to stdout')\n",
        data,
    )
    assert data["squares"] == [9, 4]
    assert data["by_key"] == {"1": 1, "2": 2, "3": 3}
    assert data["stats"] == [3, 6, 1, 3, 2, 2.57]
    assert data["flags"] == [True, True]
    assert data["pairs"] == [(0, "3"), (1, "1")]
    assert data["indexed"] == {0: 1}
    assert data["money"] == "3.30"


def test_datetime_arithmetic(env: RestrictedEnvironment) -> None:
    data: dict[str, Any] = {"start": "2026-01-30"}
    env.execute(
        "due = date.fromisoformat(start) + timedelta(days=3)\n"
        "stamp = datetime(2026, 1, 1, tzinfo=timezone.utc).isoformat()\n"
        "work = add_working_days(start, 1).isoformat()\n"
        "t = today()\n",
        data,
    )
    assert data["due"] == date(2026, 2, 2)
    assert data["stamp"] == "2026-01-01T00:00:00+00:00"
    assert data["work"] == "2026-02-02"  # Friday + 1 working day = Monday
    assert isinstance(data["t"], date)


def test_add_working_days_skips_weekends() -> None:
    friday = date(2026, 1, 30)
    assert add_working_days(friday, 0) == friday
    assert add_working_days(friday, 1) == date(2026, 2, 2)
    assert add_working_days(friday, 6) == date(2026, 2, 9)
    assert add_working_days(date(2026, 2, 2), -1) == friday


def test_helpers_functions_and_modules_are_removed_afterwards(env: RestrictedEnvironment) -> None:
    data: dict[str, Any] = {}
    env.execute("def f(v):\n    return v + 1\ny = f(1)\nm = math\ng = len\nc = math.ceil(1.2)", data)
    assert data == {"y": 2, "c": 2}


def test_task_data_may_not_hide_helpers(env: RestrictedEnvironment) -> None:
    with pytest.raises(ValueError, match="date"):
        env.execute("y = 1", {"date": "2026-01-01"})
    with pytest.raises(ValueError, match="_getattr_"):
        env.execute("y = 1", {"_getattr_": "x"})


def test_builtins_can_be_shadowed_by_task_data(env: RestrictedEnvironment) -> None:
    data: dict[str, Any] = {"sum": 5}
    env.execute("total = sum + 1", data)
    assert data["total"] == 6


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("decision == 'accettato'", True),
        ("household.get('size', 0) > 2", True),
        ("len(members) == 2 and members[0]['name'] == 'Ada'", True),
        ('"P5D"', "P5D"),
        ('f"PT{n}H"', "PT4H"),
        ("timedelta(days=n)", timedelta(days=4)),
        ("[m['name'] for m in members]", ["Ada", "Bo"]),
    ],
)
def test_evaluate(env: RestrictedEnvironment, expression: str, expected: Any) -> None:
    data = {"decision": "accettato", "household": {"size": 3}, "n": 4, "members": [{"name": "Ada"}, {"name": "Bo"}]}
    assert env.evaluate(expression, data) == expected
    assert compile_check(expression, "eval") is None


def test_evaluate_uses_external_context(env: RestrictedEnvironment) -> None:
    assert env.evaluate("dmninputexpr > 3", {}, external_context={"dmninputexpr": 5}) is True


def test_compile_check() -> None:
    assert compile_check("y = x * 2\nz = [i for i in range(3)]", "exec") is None
    assert compile_check("x =", "exec") == "SyntaxError: invalid syntax (line 1)"
    assert compile_check("y = 1", "eval") is not None
    assert compile_check("x = 1\nimport os", "exec") == "Line 2: import statements are not allowed."
    assert compile_check("().__class__", "eval") == (
        'Line 1: "__class__" is an invalid attribute name because it starts with "_".'
    )
    with pytest.raises(ValueError, match="mode"):
        compile_check("1", "single")


def test_compile_errors_are_raised_not_swallowed(env: RestrictedEnvironment) -> None:
    with pytest.raises(SyntaxError, match="invalid syntax") as info:
        env.execute("y = 1\nx =", {})
    assert info.value.lineno == 2
    with pytest.raises(SyntaxError, match="__class__") as info:
        env.evaluate("().__class__", {})
    assert info.value.lineno == 1


# --- dangerous scripts ----------------------------------------------------------------------------------

# How a refusal shows: compile-time refusal, missing name, or a guard saying no.
REFUSED = (SyntaxError, NameError, ImportError, NotImplementedError)

# (expression, refused at compile time). ``{marker}`` becomes a path that must never be created.
DANGEROUS_EXPRESSIONS = [
    ("__import__('os').system('touch {marker}')", True),
    ("open('{marker}', 'w').write('x')", False),
    ("open('/etc/passwd').read()", False),
    ("().__class__.__base__.__subclasses__()", True),
    ("[c for c in ().__class__.__bases__[0].__subclasses__()]", True),
    ("getattr((), '__class__')", False),
    ("(lambda: 0).__globals__", True),
    ("(x for x in ()).gi_frame.f_globals", True),
    ("(x for x in ()).gi_frame.f_back", True),
    ("sys._getframe()", True),
    ("type(1)", False),
    ("type(1).__subclasses__", True),
    ("eval('1')", True),
    ("exec('x=1')", True),
    ("compile('1', 'f', 'eval')", False),
    ("globals()", False),
    ("vars()", False),
    ("locals()", False),
    ("dir()", False),
    ("'{0.__class__}'.format(1)", False),
    ("'{0.__class__}'.format_map({})", False),
    ("list(map(str.format, ['{0.__class__}'], [1]))", False),
    ("f'{().__class__}'", True),
    ("__builtins__['open']", True),
    ("datetime.__class__", True),
    ("isinstance.__self__", True),
    ("math.__loader__", True),
    ("today.__globals__['sys']", True),
    ("os.system('touch {marker}')", False),
    ("os.environ['HOME']", False),
    ("breakpoint()", True),
]

DANGEROUS_STATEMENTS = [
    ("import os\nos.system('touch {marker}')", True),
    ("from os import environ\nleak = environ", True),
    ("try:\n    1/0\nexcept Exception as e:\n    leak = e.__traceback__.tb_frame", True),
    ("class A:\n    pass\nleak = A", False),
    ("d = {}\nsetattr(d, 'x', 1)", False),
    ("leak = date.today.__self__", True),
]


def _ids(cases: list[tuple[str, bool]]) -> list[str]:
    return [source.splitlines()[0][:40] for source, _ in cases]


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


@pytest.mark.parametrize(("expression", "refused_at_compile"), DANGEROUS_EXPRESSIONS, ids=_ids(DANGEROUS_EXPRESSIONS))
def test_dangerous_expressions_fail(
    env: RestrictedEnvironment, marker: Path, expression: str, refused_at_compile: bool
) -> None:
    expression = expression.replace("{marker}", str(marker))
    data: dict[str, Any] = {"x": 1}

    with pytest.raises(REFUSED):
        env.evaluate(expression, data)
    with pytest.raises(REFUSED):
        env.execute(f"leak = {expression}", data)

    assert data == {"x": 1}
    assert not marker.exists()
    assert (compile_check(expression, "eval") is not None) is refused_at_compile


@pytest.mark.parametrize(("script", "refused_at_compile"), DANGEROUS_STATEMENTS, ids=_ids(DANGEROUS_STATEMENTS))
def test_dangerous_statements_fail(
    env: RestrictedEnvironment, marker: Path, script: str, refused_at_compile: bool
) -> None:
    script = script.replace("{marker}", str(marker))
    data: dict[str, Any] = {"x": 1}

    with pytest.raises(REFUSED):
        env.execute(script, data)

    assert "leak" not in data
    assert not marker.exists()
    assert (compile_check(script, "exec") is not None) is refused_at_compile


def test_environment_variables_stay_out_of_reach(env: RestrictedEnvironment, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIS2_SECRET_FOR_TEST", "s3cret")
    data: dict[str, Any] = {}
    for script in ("leak = os.environ", "import os\nleak = os.environ", "leak = __import__('os').environ"):
        with pytest.raises(REFUSED):
            env.execute(script, data)
    assert data == {}
    assert os.environ["PIS2_SECRET_FOR_TEST"] == "s3cret"


# --- time limit -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        "while True: pass",
        "while True:\n    try:\n        pass\n    except Exception:\n        pass",
        "def spin():\n    while True:\n        yield 1\nfor _ in spin():\n    pass",
    ],
)
def test_infinite_loop_stops(script: str) -> None:
    env = RestrictedEnvironment(time_limit=0.2)
    tracer_before = sys.gettrace()
    started = time.monotonic()
    with pytest.raises(ScriptTimeoutError, match=r"time limit of 0\.2 s"):
        env.execute(script, {})
    assert time.monotonic() - started < 2
    assert sys.gettrace() is tracer_before


def test_infinite_expression_stops() -> None:
    env = RestrictedEnvironment(time_limit=0.2)
    with pytest.raises(ScriptTimeoutError):
        env.evaluate("[x for x in spin()]", {}, external_context={"spin": _endless})


def _endless() -> Any:
    while True:
        yield 1


def test_time_limit_works_in_a_thread() -> None:
    env = RestrictedEnvironment(time_limit=0.2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            env.execute("while True: pass", {})
        except BaseException as err:  # handed back to the test thread
            errors.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert len(errors) == 1
    assert isinstance(errors[0], ScriptTimeoutError)


# --- SpiffWorkflow integration --------------------------------------------------------------------------

BPMN_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="http://example.org/test">
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    {work}
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="f_small">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f_big</bpmn:outgoing><bpmn:outgoing>f_small</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f_big" sourceRef="gw" targetRef="end_big">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_small" sourceRef="gw" targetRef="end_small"/>
    <bpmn:endEvent id="end_big"><bpmn:incoming>f_big</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_small"><bpmn:incoming>f_small</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

SCRIPT_TASK = """<bpmn:scriptTask id="work">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>"""

SERVICE_TASK = """<bpmn:serviceTask id="work">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="{operation}" resultVariable="out">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="n" type="int" value="x"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>"""


def _workflow(work: str, condition: str, x: int, engine: RestrictedScriptEngine) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(BPMN_TEMPLATE.replace("{work}", work).replace("{condition}", condition).encode())
    workflow = BpmnWorkflow(parser.get_spec("proc"), parser.get_subprocess_specs("proc"), script_engine=engine)
    workflow.get_next_task(spec_name="start").data["x"] = x
    return workflow


def _completed(workflow: BpmnWorkflow) -> set[str]:
    return {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id}


@pytest.mark.parametrize(("x", "end"), [(7, "end_big"), (2, "end_small")])
def test_workflow_runs_script_and_gateway(x: int, end: str) -> None:
    workflow = _workflow(SCRIPT_TASK.replace("{script}", "y = x * 2"), "y &gt; 10", x, make_script_engine())
    workflow.do_engine_steps()

    assert workflow.is_completed()
    assert workflow.data["y"] == x * 2
    assert end in _completed(workflow)
    assert ({"end_big", "end_small"} - {end}).isdisjoint(_completed(workflow))


def test_workflow_with_dangerous_script_raises(marker: Path) -> None:
    script = f"import os\nos.system('touch {marker}')"
    workflow = _workflow(SCRIPT_TASK.replace("{script}", script), "True", 1, make_script_engine())

    with pytest.raises(WorkflowTaskException) as info:
        workflow.do_engine_steps()

    assert info.value.task.task_spec.bpmn_id == "work"
    assert info.value.line_number == 1
    assert not marker.exists()
    assert not workflow.is_completed()


def test_workflow_runtime_error_keeps_line_number() -> None:
    workflow = _workflow(SCRIPT_TASK.replace("{script}", "y = 1\nz = missing + 1"), "True", 1, make_script_engine())
    with pytest.raises(WorkflowTaskException, match="NameError") as info:
        workflow.do_engine_steps()
    assert info.value.line_number == 2


def test_workflow_dangerous_condition_raises() -> None:
    workflow = _workflow(SCRIPT_TASK.replace("{script}", "y = 1"), "().__class__", 1, make_script_engine())
    with pytest.raises(WorkflowTaskException):
        workflow.do_engine_steps()


def test_workflow_script_timeout_raises() -> None:
    engine = make_script_engine(time_limit=0.2)
    workflow = _workflow(SCRIPT_TASK.replace("{script}", "while True: pass"), "True", 1, engine)
    with pytest.raises(WorkflowTaskException, match="ScriptTimeoutError"):
        workflow.do_engine_steps()


# What the engine hands every operation while an instance steps (no database needed here).
STEP_CONTEXT = ServiceContext(session=Session(), instance_id=1, process_id="p", organisation="capofila",
                              actor="anna")


@pytest.fixture
def services() -> ServiceRegistry:
    registry = ServiceRegistry()

    @registry.operation("double")
    def double(context: ServiceContext, n: int) -> int:
        assert context is STEP_CONTEXT
        return n * 2

    @registry.operation("explode")
    def explode(_context: ServiceContext, n: int) -> int:
        raise RuntimeError(f"boom {n}")

    registry.register("when", lambda _context, n: {"on": date(2026, 1, n), "amount": Decimal("1.5")})
    return registry


@pytest.mark.parametrize(("x", "end"), [(7, "end_big"), (3, "end_small")])
def test_workflow_service_task(services: ServiceRegistry, x: int, end: str) -> None:
    workflow = _workflow(SERVICE_TASK.replace("{operation}", "double"), "out &gt; 10", x, make_script_engine(services))
    with service_context(STEP_CONTEXT):
        workflow.do_engine_steps()

    assert workflow.is_completed()
    assert workflow.data["out"] == x * 2
    assert end in _completed(workflow)


def test_service_results_become_json(services: ServiceRegistry) -> None:
    workflow = _workflow(SERVICE_TASK.replace("{operation}", "when"), "True", 5, make_script_engine(services))
    with service_context(STEP_CONTEXT):
        workflow.do_engine_steps()
    assert workflow.data["out"] == {"on": "2026-01-05", "amount": "1.5"}


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        ("nope", "service 'nope' failed: unknown service operation 'nope'"),
        ("explode", "service 'explode' failed: boom 2"),
    ],
)
def test_workflow_service_failures_raise(services: ServiceRegistry, operation: str, message: str) -> None:
    workflow = _workflow(SERVICE_TASK.replace("{operation}", operation), "True", 2, make_script_engine(services))
    with service_context(STEP_CONTEXT), pytest.raises(WorkflowTaskException, match=message) as info:
        workflow.do_engine_steps()
    assert info.value.task.task_spec.bpmn_id == "work"


def test_service_registry() -> None:
    registry = ServiceRegistry()
    registry.register("b", lambda _context: 1)
    registry.register("a", lambda context, value: (context.actor, value + 1))

    assert registry.names() == ["a", "b"]
    assert "a" in registry
    assert "c" not in registry
    with pytest.raises(ServiceError, match="outside an instance step"):
        registry.call("a", {"value": 1})
    with service_context(STEP_CONTEXT):
        assert registry.call("a", {"value": 1}) == ("anna", 2)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("a", lambda: 0)
    with pytest.raises(ServiceError, match="unknown service operation 'c'") as info:
        registry.call("c", {})
    assert info.value.details == {"operation": "c"}
