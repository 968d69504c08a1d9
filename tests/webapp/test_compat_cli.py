"""`pis2 processes check`: models from other tools are OK (with what is ignored) or refused with a list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask

from webapp.cli import main

ROOT = Path(__file__).resolve().parents[2]
INTEROP = ROOT.parent / "shared" / "interop"
needs_corpus = pytest.mark.skipif(not INTEROP.is_dir(), reason=f"interop corpus not found at {INTEROP}")


def check(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(main, ["processes", "check", *args])


def test_our_processes_are_ok(app: Flask) -> None:
    result = check(app, str(ROOT / "processes"), "--forms", str(ROOT / "forms"))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"{ROOT / 'processes' / name}: OK" for name in (
        "exit.bpmn", "housing_placement.bpmn", "intake.bpmn", "intake_eligibility.dmn", "mediation.bpmn",
        "monitoring.bpmn")]


@needs_corpus
def test_refused_file_lists_what_is_not_supported(app: Flask) -> None:
    result = check(app, str(INTEROP / "chor-js" / "pizzaDelivery.bpmn"))
    assert result.exit_code == 1
    assert "pizzaDelivery.bpmn: REFUSED (2 not supported)" in result.output
    assert "PizzaDelivery: choreography: choreographies are not supported" in result.output


@needs_corpus
def test_json_output_names_errors_and_warnings(app: Flask) -> None:
    result = check(app, str(INTEROP / "camunda7" / "reviewInvoice.bpmn"), "--json")
    assert result.exit_code == 1
    (report,) = json.loads(result.output)["files"]
    assert report["importable"] is False
    assert {p["element_id"] for p in report["problems"]} >= {"assignReviewer", "reviewInvoice"}
    assert any("camunda:formKey" in p["message"] for p in report["ignored"])


def test_missing_file_is_refused_without_traceback(app: Flask, tmp_path: Path) -> None:
    result = check(app, str(tmp_path / "nope.bpmn"))
    assert result.exit_code == 1
    assert "nope.bpmn:0: -: file not found" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_folder_without_models_says_so(app: Flask, tmp_path: Path) -> None:
    result = check(app, str(tmp_path))
    assert result.exit_code == 1
    assert result.output == "no .bpmn or .dmn file in the given paths\n"
