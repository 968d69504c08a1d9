"""``pis2 processes check``: can the engine run models made by other tools, and what would it ignore?"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from engine.compatibility import check_files
from webapp.cli.support import current_engine, json_option


@click.command("check")
@click.argument("paths", nargs=-1, required=True)
@click.option("--forms", "forms_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory of the JSON Schema forms the models name (default: the app's forms).")
@json_option
@with_appcontext
def processes_check(paths: tuple[str, ...], forms_dir: Path | None, as_json: bool) -> None:
    """Say per file whether it can be imported, listing what is not supported (exit 1 if any is refused)."""
    reports = check_files([Path(p) for p in paths], forms_dir or current_app.config["FORMS_DIR"],
                          current_engine().roles)
    if not reports and not as_json:
        click.echo("no .bpmn or .dmn file in the given paths")
    if as_json:
        click.echo(json.dumps({"files": [r.as_dict() for r in reports]}, indent=2))
    else:
        for report in reports:
            verdict = "OK" if report.importable else f"REFUSED ({len(report.problems)} not supported)"
            click.echo(f"{report.file}: {verdict}")
            for problem in report.problems:
                click.echo(f"  error: {problem}")
            for problem in report.ignored:
                click.echo(f"  warning: {problem}")
    sys.exit(0 if reports and all(r.importable for r in reports) else 1)
