"""``pis2`` commands about the programme's records: retention, demo data (accounts: webapp.cli.accounts)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.cli.support import current_engine, emit, fail, json_option
from webapp.extensions import db

# --- case file ----------------------------------------------------------------------------------


@click.group("casefile", cls=AppGroup)
def casefile_group() -> None:
    """Case-file records."""


@casefile_group.command("retention")
@click.option("--older-than-days", type=click.IntRange(min=0), default=None,
              help="Closed for more than this many days (default: RETENTION_DAYS, 730).")
@click.option("--dry-run", is_flag=True, help="Report what would be pseudonymised; change nothing.")
@json_option
def casefile_retention(older_than_days: int | None, dry_run: bool, as_json: bool) -> None:
    """Pseudonymise households whose enrollments all closed long ago (names, notes, health data)."""
    from casefile.retention import pseudonymise_closed_households

    days = current_app.config["RETENTION_DAYS"] if older_than_days is None else older_than_days
    try:
        report = pseudonymise_closed_households(db.session, now=current_engine().clock_now(), older_than_days=days,
                                                actor="pis2 casefile retention", dry_run=dry_run)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    except ValueError as exc:
        db.session.rollback()
        fail(as_json, "invalid_argument", str(exc))
    verb = "would pseudonymise" if dry_run else "pseudonymised"
    emit(as_json, report.as_dict(),
         f"{verb} {report.households} household(s) closed more than {days} days ago "
         f"({report.persons} person(s), {report.sensitive_deleted} health record(s) deleted)")


@click.group("demo", cls=AppGroup)
def demo_group() -> None:
    """Demo data for local use."""


@demo_group.command("seed")
def demo_seed() -> None:
    """One demo user per role, password 'demo', and a few cases in progress (idempotent)."""
    from webapp.demo import seed_demo
    from webapp.demo.cases import seed_demo_cases

    created, households = seed_demo(db.session, current_engine().clock_now().date())
    cases = seed_demo_cases(db.session, current_engine())
    db.session.commit()
    click.echo(f"demo accounts ready ({created} new, password: demo); {households} demo household(s) recorded; "
               f"{cases} demo case(s) started")
