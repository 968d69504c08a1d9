"""`pis2 indicators`: the programme's indicators for a period from the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from openpyxl import load_workbook

from tests.casefile.indicators_seed import seed_programme
from webapp.cli import main
from webapp.extensions import db


@pytest.fixture
def seeded(app: Flask) -> None:
    with app.app_context():
        seed_programme(db.session)
        db.session.commit()


def invoke(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(main, ["indicators", *args])


def test_json_output(app: Flask, seeded: None) -> None:
    result = invoke(app, "--from", "2026-01-01", "--to", "2026-06-30", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    by_key = {item["key"]: item for item in payload["indicators"]}
    assert (payload["from"], payload["to"], payload["organisation"]) == ("2026-01-01", "2026-06-30", None)
    assert by_key["households_housed"]["details"] == {"stock": 2, "flow": 2}
    assert (by_key["plans_signed_in_time"]["numerator"], by_key["plans_signed_in_time"]["denominator"]) == (1, 3)


def test_text_output_and_files(app: Flask, seeded: None, tmp_path: Path) -> None:
    csv_path, xlsx_path = tmp_path / "ind.csv", tmp_path / "ind.xlsx"
    result = invoke(app, "--from", "2026-01-01", "--to", "2026-06-30", "--org", "capofila",
                    "--csv", str(csv_path), "--xlsx", str(xlsx_path))
    assert result.exit_code == 0, result.output
    assert "retention_6m: 0.5 (1/2)" in result.output
    assert "time_to_housing: 44.5" in result.output
    assert csv_path.read_text(encoding="utf-8").startswith("periodo,2026-01-01,2026-06-30\n")
    sheet = load_workbook(io.BytesIO(xlsx_path.read_bytes()))["Indicatori"]
    assert sheet["A3"].value == "households_housed"


@pytest.mark.parametrize(("args", "code"), [
    (["--from", "2026-13-01", "--to", "2026-06-30"], "bad_date"),
    (["--from", "2026-06-30", "--to", "2026-01-01"], "bad_period"),
    (["--from", "2026-01-01", "--to", "2026-06-30", "--org", "nessuno"], "organisation_not_found"),
])
def test_bad_input_is_a_clear_error(app: Flask, args: list[str], code: str) -> None:
    result = invoke(app, *args, "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["error"]["code"] == code
