"""Model problems and migration reasons in the reader's language (webapp.i18n.problems).

The engine names each problem and reason with a code and the values its sentence mentions; every code
must have a sentence here, and every sentence must be one the engine (or the form editor) can emit.
Real problems, from the broken models the engine tests keep, must read as Italian (or English) sentences
with nothing left unfilled.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from flask import Flask, session

from engine import form_library
from engine.compatibility import check_files
from engine.errors import Problem
from engine.migration import Reason
from engine.specs import validate
from webapp.i18n.problems import PROBLEMS, REASONS, problem_text, reason_text

ROOT = Path(__file__).resolve().parents[2]
# Where codes are given: the engine, and the form editor's own refusals.
CODE_SOURCES = [*sorted((ROOT / "engine").glob("*.py")), ROOT / "webapp" / "views" / "form_editor.py"]
MODELS = ROOT / "tests" / "engine" / "models"
INTEROP = ROOT.parent / "shared" / "interop"
PO_FILE = ROOT / "webapp" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)")
ROLES = {"coordinatore": "Coordinatore di progetto", "operatore": "Operatore sociale"}


def _literal_codes(node: ast.expr) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):  # code="a" if ... else "b"
        yield from _literal_codes(node.body)
        yield from _literal_codes(node.orelse)


def emitted_codes(path: Path) -> set[str]:
    """Every ``code=`` keyword given a literal string in a call (class attributes such as
    ``EngineError.code`` are assignments, not keywords, and are left out)."""
    codes: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.keyword) and node.arg == "code":
            codes.update(_literal_codes(node.value))
    return codes


def test_every_code_the_engine_gives_has_a_sentence_and_every_sentence_a_code() -> None:
    codes = set().union(*(emitted_codes(path) for path in CODE_SOURCES))
    templates = set(PROBLEMS) | set(REASONS)
    assert codes - templates == set(), "codes without a sentence in webapp/i18n/problems.py"
    assert templates - codes == set(), "sentences for codes nothing gives"
    assert not set(PROBLEMS) & set(REASONS)


# Keys a call gives without naming them at the call site, by the function it calls.
IMPLIED_KEYS = {
    "_problem": {"element"},  # engine.compatibility._problem: the XML element's name
    "_Refusal": {"element"},  # passed on to _problem
    "_Expression": {"detail", "parameter"},  # ParsedDocument.problem gets detail=, and a parameter's id
    "Reason": {"where"},  # webapp.i18n.problems.reason_text: "in subprocess ..." or nothing
}
NOT_PARAMS = {"code", "params", "rule", "message", "node"}


def _dict_keys(node: ast.expr | None, assignments: dict[str, ast.expr]) -> set[str]:
    """The string keys of a dict display, following ``**name`` and plain names to their assignment."""
    if isinstance(node, ast.Name) and node.id in assignments:
        return _dict_keys(assignments[node.id], assignments)
    if not isinstance(node, ast.Dict):
        return set()
    keys = set()
    for key, value in zip(node.keys, node.values, strict=True):
        if key is None:
            keys |= _dict_keys(value, assignments)
        elif isinstance(key, ast.Constant):
            keys.add(str(key.value))
    return keys


def given_params(path: Path) -> Iterator[tuple[str, set[str]]]:
    """(code, the params keys its call gives) for each call with a literal ``code=``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for function in [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))]:
        assignments = {target.id: node.value for node in ast.walk(function) if isinstance(node, ast.Assign)
                       for target in node.targets if isinstance(target, ast.Name)}
        for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
            code = next((k.value for k in call.keywords if k.arg == "code"), None)
            if code is None:
                continue
            name = getattr(call.func, "id", getattr(call.func, "attr", ""))
            keys = IMPLIED_KEYS.get(name, set()) | {k.arg for k in call.keywords if k.arg and k.arg not in NOT_PARAMS}
            keys |= _dict_keys(next((k.value for k in call.keywords if k.arg == "params"), None), assignments)
            for literal in _literal_codes(code):
                yield literal, keys


def test_each_sentence_uses_only_the_params_its_code_is_given(app: Flask) -> None:
    given: dict[str, set[str]] = {}
    for path in CODE_SOURCES:
        for code, keys in given_params(path):
            # A code given at several places must give what its sentence needs at each one.
            given[code] = given[code] & keys if code in given else keys
    with app.test_request_context("/"):
        for code, template in {**PROBLEMS, **REASONS}.items():
            needed = set(PLACEHOLDER.findall(str(template)))
            assert needed <= given[code], (code, needed - given[code])


def test_english_catalogue_says_each_sentence_with_the_same_placeholders() -> None:
    with PO_FILE.open("rb") as file:
        catalogue = read_po(file)
    source = ast.parse((ROOT / "webapp" / "i18n" / "problems.py").read_text(encoding="utf-8"))
    italian = [node.args[0].value for node in ast.walk(source)
               if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_"]
    assert len(italian) == len(PROBLEMS) + len(REASONS) + 1  # and the subprocess a task reason may name
    for msgid in italian:
        message = catalogue.get(msgid)
        assert message is not None, f"no English for {msgid!r}"
        assert message.string, f"no English for {msgid!r}"
        assert sorted(PLACEHOLDER.findall(message.string)) == sorted(PLACEHOLDER.findall(msgid)), msgid


# --- real problems ------------------------------------------------------------------------------------


def real_problems(tmp_path: Path) -> list[Problem]:
    """Problems of every kind we can provoke: the engine tests' broken models, other tools' models, forms."""
    problems = [p for path in sorted((MODELS / "bad").iterdir())
                for p in validate([path], MODELS / "forms", ROLES)]
    problems += validate([tmp_path / "absent.bpmn", tmp_path], MODELS / "forms", ROLES)
    if INTEROP.is_dir():
        for report in check_files([p for p in sorted(INTEROP.rglob("*")) if p.suffix in (".bpmn", ".dmn")],
                                  MODELS / "forms", {}):
            problems += report.problems + report.ignored
    problems += form_library.parse_json("{", "x.schema.json")[1]
    problems += form_library.check_name("Not A Name")
    problems += form_library.check_form({"type": "object", "properties": {"a": {"type": "string"}},
                                         "required": ["b"]}, {"ui:order": ["a", "a", "c"], "z": {}}, "x")
    problems += form_library.check_form({"type": 3}, None, "x")
    return problems


@pytest.mark.parametrize("lang", ["it", "en"])
def test_real_problems_read_as_sentences_in_the_readers_language(app: Flask, tmp_path: Path, lang: str) -> None:
    problems = real_problems(tmp_path)
    codes = {p.code for p in problems}
    assert len(codes) >= 30, codes  # a broad sample of the rules
    assert None not in codes
    with app.test_request_context("/"):
        session["lang"] = lang
        for problem in problems:
            text = problem_text(problem)
            assert text == problem_text(problem.as_dict())
            assert text, problem.code
            assert "%(" not in text, (problem.code, text)
            if lang == "it":  # not the English fallback: the template was found and filled
                assert text != problem.message, (problem.code, text)


def test_an_unknown_code_or_a_missing_param_falls_back_to_the_english_message(app: Flask) -> None:
    with app.test_request_context("/"):
        assert problem_text({"code": "no_such_code", "params": {}, "message": "as it is"}) == "as it is"
        assert problem_text(Problem("f", 1, None, "english", "lane_unknown_role", {"lane": "x"})) == "english"
        assert problem_text({"message": "old shape"}) == "old shape"
        assert reason_text(Reason(code="version_not_newer", params={}, message="english")) == "english"
        assert reason_text("a plain string") == "a plain string"


# --- migration reasons --------------------------------------------------------------------------------

TASK = {"task": "review", "kind": "UserTask", "subprocess": None, "version": 3}
# One reason per code, with the params engine.migration gives it.
REASON_SAMPLES: dict[str, dict[str, Any]] = {
    "task_missing": TASK, "task_missing_done": TASK, "task_event_changed": TASK,
    "task_kind_changed": {**TASK, "new_kind": "ManualTask"},
    "subprocess_missing": {"subprocess": "sub", "version": 3},
    "subprocess_call_changed": {"task": "call", "called": "other", "subprocess": "sub", "version": 3},
    "version_other_process": {"version": 3, "process": "a", "instance_process": "b"},
    "instance_status": {"status": "completed"},
    "version_not_newer": {"version": 2, "current": 3},
    "rebuild_failed": {"version": 3, "detail": "KeyError: 'x'"},
    "instance_conflict": {"detail": "instance 1 changed (version 4, you had 3)"},
}


def test_every_reason_reads_in_italian_and_in_english(app: Flask) -> None:
    assert set(REASON_SAMPLES) == set(REASONS)
    for lang in ("it", "en"):
        with app.test_request_context("/"):
            session["lang"] = lang
            for code, params in REASON_SAMPLES.items():
                text = reason_text(Reason(code=code, params=params, message="english"))
                assert text != "english", (lang, code)
                assert "%(" not in text, (lang, code, text)


def test_a_task_reason_names_its_subprocess_and_the_instance_status_its_label(app: Flask) -> None:
    inner = Reason(code="task_missing", params={**TASK, "subprocess": "sub"}, message="english")
    done = Reason(code="instance_status", params={"status": "completed"}, message="english")
    with app.test_request_context("/"):
        assert reason_text(inner) == ("L'attività «review» (UserTask) nel sottoprocesso «sub» non esiste nella "
                                      "versione 3.")
        assert reason_text(done).startswith("L'istanza è nello stato «Conclusa»")
    with app.test_request_context("/"):
        session["lang"] = "en"
        assert reason_text(inner) == "Task 'review' (UserTask) in subprocess 'sub' does not exist in version 3."
