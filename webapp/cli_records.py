"""``pis2`` commands about the programme's records and people: retention, accounts, demo data."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from casefile import accounts
from webapp.cli_support import current_engine, emit, fail, json_option
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



@click.group("users", cls=AppGroup)
def users_group() -> None:
    """Staff accounts."""


@users_group.command("create")
@click.argument("username")
@click.option("--org", required=True, help="Organisation key (created if new).")
@click.option("--role", "roles", required=True, multiple=True, help="Role key; repeat for several.")
@click.option("--name", "full_name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@json_option
def users_create(username: str, org: str, roles: tuple[str, ...], full_name: str | None,
                 password_stdin: bool, as_json: bool) -> None:
    """Create a staff account."""
    from webapp.auth import hash_password

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    if password_stdin and not password:
        fail(as_json, "bad_password", "empty password on standard input")
    try:
        organisation = accounts.ensure_organisation(db.session, org)
        user = accounts.create_user(db.session, username, organisation=organisation, roles=list(roles),
                                    password_hash=hash_password(password) if password else None,
                                    full_name=full_name)
        db.session.commit()
    except accounts.AccountError as exc:
        db.session.rollback()
        fail(as_json, "invalid_" + exc.field, str(exc), {"field": exc.field})
    emit(as_json, {"username": user.username, "organisation": org, "roles": sorted(user.roles)},
         f"created {user.username} ({org}: {', '.join(sorted(user.roles))})")


@click.group("demo", cls=AppGroup)
def demo_group() -> None:
    """Demo data for local use."""


@demo_group.command("seed")
def demo_seed() -> None:
    """One demo user per role, password 'demo', and a few cases in progress (idempotent)."""
    from webapp.demo import seed_demo, seed_demo_cases

    created, households = seed_demo(db.session, current_engine().clock_now().date())
    cases = seed_demo_cases(db.session, current_engine())
    db.session.commit()
    click.echo(f"demo accounts ready ({created} new, password: demo); {households} demo household(s) recorded; "
               f"{cases} demo case(s) started")
