"""The pis2 command line, run as real processes: each call is a fresh start of the application."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
MODELS = ROOT / "tests" / "engine" / "bpmn"
BAD = ROOT / "tests" / "engine" / "models" / "bad"
PIS2 = str(Path(sys.executable).parent / "pis2")


@pytest.fixture
def pis2(make_database, tmp_path):
    """Run `pis2 ...` in a new process against a fresh database; returns the CompletedProcess."""
    env = {**os.environ, "PIS2_DATABASE_URL": make_database(), "PIS2_INSTANCE_DIR": str(tmp_path),
           "PIS2_SECRET_KEY": "cli-test", "PIS2_PROCESSES_DIR": str(MODELS), "PIS2_FORMS_DIR": str(MODELS / "forms")}

    def run(*args: str, stdin: str | None = None, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([PIS2, *args], input=stdin, capture_output=True, text=True, timeout=60,
                              env={**env, **extra_env}, cwd=ROOT, check=False)

    return run


def _json(result: subprocess.CompletedProcess[str]):  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def test_instance_survives_restarts_between_steps(pis2) -> None:
    assert pis2("users", "create", "anna", "--org", "capofila", "--role", "coordinatore",
                "--password-stdin", stdin="s3greta-lunga\n").returncode == 0
    assert pis2("users", "create", "bruno", "--org", "capofila", "--role", "case_manager").returncode == 0
    deployed = _json(pis2("processes", "deploy", str(MODELS), "--json"))
    assert {d["process_id"] for d in deployed} >= {"approval", "deadline", "opener", "placement"}
    assert {d["number"] for d in deployed} == {1}
    started = _json(pis2("instances", "start", "approval", "--data", '{"household": "H1"}', "--as", "anna",
                         "--json"))
    assert started["status"] == "running"
    (task,) = _json(pis2("tasks", "list", "--role", "coordinatore", "--json"))
    assert task["name"] == "Compila la richiesta"
    # A new process completes the task that the previous one created.
    done = _json(pis2("tasks", "complete", task["id"], "--data", '{"title": "Casa"}', "--as", "anna", "--json"))
    assert [t["name"] for t in done["ready_tasks"]] == ["Rivedi"]
    shown = _json(pis2("instances", "show", str(started["id"]), "--json"))
    assert shown["ready_tasks"][0]["role"] == "case_manager"
    listed = _json(pis2("processes", "list", "--json"))
    assert "approval" in {row["process_id"] for row in listed}


def test_bad_input_gets_clean_errors(pis2) -> None:
    pis2("users", "create", "anna", "--org", "capofila", "--role", "coordinatore")
    pis2("processes", "deploy", str(MODELS))
    wrong_role = pis2("users", "create", "xy", "--org", "capofila", "--role", "sindaco")
    assert wrong_role.returncode == 1
    assert "unknown role(s): sindaco" in wrong_role.stderr
    bad_json = pis2("instances", "start", "approval", "--data", "{oops", "--json")
    assert bad_json.returncode == 1
    assert json.loads(bad_json.stdout)["error"]["code"] == "bad_json"
    unknown = pis2("instances", "start", "nessuno")
    assert unknown.returncode == 1
    assert "no deployed process 'nessuno'" in unknown.stderr
    started = _json(pis2("instances", "start", "approval", "--as", "anna", "--json"))
    task_id = started["ready_tasks"][0]["id"]
    invalid = pis2("tasks", "complete", task_id, "--data", '{"title": "x"}', "--as", "anna", "--json")
    assert invalid.returncode == 1
    assert "title" in json.loads(invalid.stdout)["error"]["details"]["fields"]
    for result in (wrong_role, bad_json, unknown, invalid):
        assert "Traceback" not in result.stderr + result.stdout


def test_worker_once_fires_due_timer_with_injected_clock(pis2) -> None:
    pis2("users", "create", "anna", "--org", "capofila", "--role", "coordinatore")
    pis2("processes", "deploy", str(MODELS))
    start_time = "2026-03-02T09:00:00+00:00"
    started = _json(pis2("instances", "start", "deadline", "--as", "anna", "--json", PIS2_NOW=start_time))
    early = _json(pis2("worker", "--once", "--json", PIS2_NOW="2026-03-06T09:00:00+00:00"))
    assert early == {"fired": 0}
    due = _json(pis2("worker", "--once", "--json", PIS2_NOW="2026-03-07T09:00:01+00:00"))
    assert due == {"fired": 1}
    shown = _json(pis2("instances", "show", str(started["id"]), "--json"))
    assert [t["name"] for t in shown["ready_tasks"]] == ["Sollecito al coordinatore"]


BAD_MODELS = {
    "malformed.bpmn": "malformed.bpmn:",
    "entity_bomb.bpmn": "entity",
    "unknown_element.bpmn": "fooTask",
    "missing_form.bpmn": "Task_missing_file: form file missing.schema.json not found",
    "bad_condition.bpmn": "invalid condition",
}


@pytest.mark.parametrize(("name", "expected"), sorted(BAD_MODELS.items()))
def test_validate_reports_problems_quickly_without_traceback(pis2, name: str, expected: str) -> None:
    began = time.monotonic()
    result = pis2("processes", "validate", str(BAD / name))
    elapsed = time.monotonic() - began
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines, result.stderr
    assert all(line.startswith(str(BAD / name) + ":") for line in lines), lines
    assert expected in result.stdout
    assert elapsed < 20  # generous: a process start; an entity bomb would hang far longer


def test_validate_passes_good_models(pis2) -> None:
    result = pis2("processes", "validate", str(MODELS))
    assert result.returncode == 0, result.stdout
    assert "all models are valid" in result.stdout


def test_messages_and_organisations_from_the_command_line(pis2) -> None:
    pis2("processes", "deploy", str(MODELS))
    orphan = pis2("instances", "start", "approval", "--json")
    assert orphan.returncode == 1
    assert json.loads(orphan.stdout)["error"]["code"] == "organisation_required"
    started = _json(pis2("instances", "start", "approval", "--org", "capofila", "--json"))
    assert started["ready_tasks"][0]["role"] == "coordinatore"
    lost = _json(pis2("messages", "send", "enrollment_opened", "--payload", '{"household_id": 4}', "--json"))
    assert lost["status"] == "undeliverable"
    assert "names no organisation" in lost["reason"]
    listed = _json(pis2("messages", "list", "--status", "undeliverable", "--json"))
    assert [m["id"] for m in listed] == [lost["id"]]
    sent = _json(pis2("messages", "send", "enrollment_opened", "--payload", '{"household_id": 4}',
                      "--org", "capofila", "--json"))
    assert sent["status"] == "delivered"
