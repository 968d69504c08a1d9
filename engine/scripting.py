"""Restricted script environment for the Python in BPMN scripts, conditions, timers and DMN cells.

SpiffWorkflow's default environment runs model code with plain ``eval``/``exec``, which reaches a shell
through ``import os`` or ``().__class__.__base__.__subclasses__()``. Here every source string is compiled
with RestrictedPython, which refuses names and attributes starting with ``_`` (and frame/generator
introspection attributes) at compile time and routes attribute, item, iteration and write access
through guards at run time. Scripts see only an allow-list of builtins and helpers: no imports, no
``open``, ``getattr``, ``type``, ``vars``, ``globals``, ``locals``, ``eval``, ``exec`` or ``compile``.

Run time is bounded with a trace function (``time_limit`` seconds). Memory is **not** bounded:
``'x' * 10**10`` or ``10**10**8`` run inside one C call that neither the tracer nor RestrictedPython can
interrupt; run the engine in a worker with an OS memory limit if models come from untrusted authors.
"""

from __future__ import annotations

import ast
import copy
import functools
import json
import math
import operator
import re
import sys
import time
import types
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, NamedTuple

from RestrictedPython import PrintCollector, compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr_raise,
)
from RestrictedPython.Limits import limited_range
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine import clock
from engine.errors import ScriptError
from engine.services import ServiceRegistry

# SpiffWorkflow finds the failing line of a script by looking for this file name in the traceback.
SCRIPT_FILENAME = "<string>"
DEFAULT_TIME_LIMIT = 2.0


class ScriptTimeoutError(ScriptError):
    """A script or expression ran longer than the environment's time limit."""

    code = "script_timeout"


def today() -> date:
    """Return today's date in UTC by the engine clock, so that scripts and timers agree on the date."""
    return clock.now().astimezone(UTC).date()


def add_working_days(d: date | str, n: int) -> date:
    """Return the date ``n`` working days (Monday to Friday, no holidays) after ``d``; negative goes back.

    ``d`` may be an ISO date string, since task data holds dates as JSON strings.
    """
    current = date.fromisoformat(d) if isinstance(d, str) else d
    step = timedelta(days=1 if n >= 0 else -1)
    remaining = abs(n)
    while remaining:
        current += step
        if current.weekday() < 5:
            remaining -= 1
    return current


# Names a script may rebind freely, like Python's own builtins (a form field called ``sum`` or ``filter``
# must not break every script). Taken from RestrictedPython's safe_builtins minus class building and
# attribute writes, plus the iteration helpers that are safe here because ``_getiter_`` is plain ``iter``.
_EXCLUDED_SAFE_BUILTINS = {"__build_class__", "setattr", "delattr", "_getattr_"}
SCRIPT_BUILTINS: dict[str, Any] = {
    **{k: v for k, v in safe_builtins.items() if k not in _EXCLUDED_SAFE_BUILTINS},
    "min": min,
    "max": max,
    "sum": sum,
    "sorted": sorted,
    "reversed": reversed,
    "any": any,
    "all": all,
    "enumerate": enumerate,
    "zip": zip,
    "map": map,
    "filter": filter,
    "dict": dict,
    "list": list,
    "set": set,
    "frozenset": frozenset,
    "tuple": tuple,
    # limited_range caps ranges at 1000 items, one cheap guard against list(range(10**9)).
    "range": limited_range,
}

# Helpers that task data must not shadow (checked before every script, as TaskDataEnvironment does).
DEFAULT_HELPERS: dict[str, Any] = {
    "datetime": datetime,
    "date": date,
    "timedelta": timedelta,
    "timezone": timezone,
    "Decimal": Decimal,
    "math": math,
    "today": today,
    "add_working_days": add_working_days,
}

_INPLACE_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "@=": operator.imatmul,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "&=": operator.iand,
    "^=": operator.ixor,
    "|=": operator.ior,
}


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    return _INPLACE_OPERATORS[op](target, value)


def _getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


# Guards the RestrictedPython transformer calls; set after task data so data can never replace them.
_GUARDS: dict[str, Any] = {
    "__builtins__": SCRIPT_BUILTINS,
    "_getattr_": safer_getattr_raise,
    "_getitem_": _getitem,
    "_getiter_": iter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    # dicts and lists pass through unwrapped; any other object refuses item and attribute writes.
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_apply_": _apply,
    # print() output is collected into a local and dropped instead of reaching the server's stdout.
    "_print_": PrintCollector,
}


class _Compiled(NamedTuple):
    code: types.CodeType | None
    error: str | None
    lineno: int | None


_LINE_PREFIX = re.compile(r"^Line (\d+):")


@functools.lru_cache(maxsize=2048)
def _compile(source: str, mode: str) -> _Compiled:
    if mode not in ("eval", "exec"):
        raise ValueError(f"mode must be 'eval' or 'exec', not {mode!r}")
    try:
        tree = ast.parse(source, SCRIPT_FILENAME, mode)
    except SyntaxError as err:
        return _Compiled(None, f"SyntaxError: {err.msg} (line {err.lineno})", err.lineno)
    # RestrictedPython only fails imports when they run; refusing them here lets the model validator
    # report them.
    errors = [
        f"Line {node.lineno}: import statements are not allowed."
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(tree, SCRIPT_FILENAME)
    errors.extend(result.errors)
    if errors:
        match = _LINE_PREFIX.match(errors[0])
        return _Compiled(None, "; ".join(errors), int(match.group(1)) if match else None)
    return _Compiled(result.code, None, None)


def compile_check(source: str, mode: str) -> str | None:
    """Compile ``source`` restrictedly (``"eval"`` or ``"exec"``) without running it.

    Returns a readable error message, or None when the source compiles.
    """
    return _compile(source, mode).error


def _compiled_code(source: str, mode: str) -> types.CodeType:
    compiled = _compile(source, mode)
    if compiled.code is None:
        # A fresh exception each time: cached instances would pile up tracebacks.
        raise SyntaxError(compiled.error or "invalid script", (SCRIPT_FILENAME, compiled.lineno, None, None))
    return compiled.code


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Runs model code with RestrictedPython, an allow-list of helpers and a time limit.

    Same contract as SpiffWorkflow's ``TaskDataEnvironment``: ``execute`` writes the variables a script
    assigns into the task data and then drops helpers, functions and modules; ``evaluate`` returns the
    value of an expression. Memory use is not bounded (see the module docstring).
    """

    def __init__(self, extra_helpers: Mapping[str, Any] | None = None, time_limit: float = DEFAULT_TIME_LIMIT) -> None:
        helpers = {**DEFAULT_HELPERS, **(extra_helpers or {})}
        bad = sorted(name for name in helpers if name.startswith("_"))
        if bad:
            raise ValueError(f"helper names cannot start with '_': {bad}")
        super().__init__(helpers)
        self.time_limit = time_limit

    def evaluate(
        self, expression: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> Any:
        """Return the value of ``expression`` with the task data ``context`` as variables."""
        code = _compiled_code(expression, "eval")
        namespace = copy.copy(self.globals)
        namespace.update(external_context or {})
        namespace.update(context)
        namespace.update(_GUARDS)
        return self._run(code, namespace)

    def execute(self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None) -> bool:
        """Run ``script`` with the task data ``context`` as its globals, keeping what it assigns."""
        self.check_for_overwrite(context, external_context or {})
        code = _compiled_code(script, "exec")
        context.update(self.globals)
        context.update(external_context or {})
        context.update(_GUARDS)
        try:
            self._run(code, context)
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True

    def check_for_overwrite(self, context: Mapping[str, Any], external_context: Mapping[str, Any]) -> None:
        """Fail fast when task data would hide a helper, an external name or a guard."""
        clashes = (set(self.globals) | set(external_context) | set(_GUARDS)) & set(context)
        if clashes:
            raise ValueError(
                "You have task data that overwrites a predefined function(s). Please change the "
                f"following variable or field name(s) to something else: {sorted(clashes)}"
            )

    def _remove_globals_and_functions_from_context(
        self, context: dict[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> None:
        for key in list(context):
            value = context[key]
            if (
                key in _GUARDS
                or key in self.globals
                or (external_context and key in external_context)
                or callable(value)
                or isinstance(value, types.ModuleType)
            ):
                del context[key]

    def _run(self, code: types.CodeType, namespace: dict[str, Any]) -> Any:
        deadline = time.monotonic() + self.time_limit
        limit = self.time_limit

        # A tracer rather than a signal: it works in any thread. Script frames are traced per opcode
        # because `while True: pass` jumps back within one line and so never emits a line event.
        def tracer(frame: types.FrameType, event: str, arg: Any) -> Any:
            if event == "call" and frame.f_code.co_filename == SCRIPT_FILENAME:
                frame.f_trace_opcodes = True
            if time.monotonic() > deadline:
                raise ScriptTimeoutError(f"script exceeded its time limit of {limit:g} s")
            return tracer

        previous = sys.gettrace()
        sys.settrace(tracer)
        try:
            # The code was compiled by RestrictedPython and runs with guarded globals only.
            return eval(code, namespace)  # noqa: S307
        finally:
            # Give debuggers and coverage their tracer back.
            sys.settrace(previous)


class RestrictedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow script engine using :class:`RestrictedEnvironment` and a :class:`ServiceRegistry`."""

    def __init__(
        self, environment: RestrictedEnvironment | None = None, services: ServiceRegistry | None = None
    ) -> None:
        super().__init__(environment=environment or RestrictedEnvironment())
        self.services = services if services is not None else ServiceRegistry()

    def call_service(self, task: Any, operation_name: str, operation_params: Mapping[str, Any], **kwargs: Any) -> str:
        """Call a registered operation for a service task and return its result as a JSON string.

        Spiff's service task passes parameters as ``{name: {"value": v, "type": t}}`` and ``json.loads``
        the returned string into the task's result variable.
        """
        try:
            params = {name: _param_value(param) for name, param in operation_params.items()}
            return json.dumps(self.services.call(operation_name, params), default=str)
        except Exception as err:
            raise WorkflowTaskException(f"service '{operation_name}' failed: {err}", task=task, exception=err) from err


def _param_value(param: Any) -> Any:
    return param["value"] if isinstance(param, Mapping) and "value" in param else param


def make_script_engine(
    services: ServiceRegistry | None = None, time_limit: float = DEFAULT_TIME_LIMIT
) -> RestrictedScriptEngine:
    """Build the restricted script engine every workflow instance must be given (also after loading)."""
    return RestrictedScriptEngine(RestrictedEnvironment(time_limit=time_limit), services)
