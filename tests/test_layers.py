"""The layout is the architecture, and the tools hold it: import contracts, lint, and types on engine/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "engine is framework-free KEPT" in result.stdout
    assert "casefile is framework-free KEPT" in result.stdout


def _run_tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).parent / name
    return subprocess.run([str(tool), *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.sqlite_only  # static checks: one lane is enough
def test_ruff_finds_nothing() -> None:
    result = _run_tool("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.sqlite_only
def test_engine_is_strictly_typed() -> None:
    result = _run_tool("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.sqlite_only
def test_page_scripts_pass_eslint() -> None:
    eslint = ROOT / "node_modules" / ".bin" / "eslint"
    assert eslint.exists(), "node_modules is missing: run make assets"
    result = subprocess.run([str(eslint), "assets"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
