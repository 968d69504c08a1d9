"""``pis2 instances migrate``: move running instances to a newer version of their process."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from engine.migration import MigrationReport, migrate_instance, migrate_process
from webapp.cli.support import actor_for, current_engine, emit, fail, json_option, run_engine
from webapp.extensions import db


def _line(report: MigrationReport, dry_run: bool) -> str:
    if report.migrated:
        verdict = "migrated"
    elif report.migratable:
        verdict = "would migrate" if dry_run else "not migrated"
    else:
        verdict = "would not migrate" if dry_run else "refused"
    lines = [f"instance {report.instance_id} ({report.process_id}) v{report.from_version} -> "
             f"v{report.to_version}: {verdict}"]
    return "\n".join(lines + [f"  - {reason}" for reason in report.reasons])


@click.command("migrate")
@click.argument("instance_id", type=int, required=False)
@click.option("--process", "process_id", help="Migrate every unfinished instance of this process.")
@click.option("--from-version", type=int, help="With --process: only the instances on this version id.")
@click.option("--to-version", type=int, help="Target version id (default: the latest of the process).")
@click.option("--dry-run", is_flag=True, help="Only report what would migrate and why the rest would not.")
@click.option("--as", "username", help="Record the migration as done by this user.")
@json_option
@with_appcontext
def instances_migrate(instance_id: int | None, process_id: str | None, from_version: int | None,
                      to_version: int | None, dry_run: bool, username: str | None, as_json: bool) -> None:
    """Move INSTANCE_ID, or every instance of --process, to a newer version where that is safe.

    Exits 1 when an instance was refused (a dry run exits 0 and lists the reasons).
    """
    if (instance_id is None) == (process_id is None):
        fail(as_json, "bad_arguments", "give either INSTANCE_ID or --process")
    if instance_id is not None and from_version is not None:
        fail(as_json, "bad_arguments", "--from-version goes with --process")
    actor = actor_for(as_json, username)
    engine = current_engine()
    if instance_id is not None:
        reports = [run_engine(as_json, lambda: migrate_instance(engine, db.session, instance_id, actor,
                                                                to_version=to_version, dry_run=dry_run))]
    else:
        assert process_id is not None
        reports = run_engine(as_json, lambda: migrate_process(engine, db.session, process_id, actor,
                                                              from_version=from_version, to_version=to_version,
                                                              dry_run=dry_run))
    text = "\n".join(_line(report, dry_run) for report in reports) or "no instance to migrate"
    emit(as_json, {"dry_run": dry_run, "items": [report.as_dict() for report in reports]}, text)
    sys.exit(0 if dry_run or all(report.migratable for report in reports) else 1)
