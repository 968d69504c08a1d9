"""The ``pis2`` command line: database, models, instances, tasks, worker, users, demo data."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup
from sqlalchemy import select

from casefile import accounts
from engine import Actor, Engine, EngineError
from engine import migrate as migrations
from engine.models import HumanTask, Incident, Message, ProcessInstance, ProcessVersion
from engine.specs import read_models, validate
from webapp.extensions import db


def _engine() -> Engine:
    return current_app.extensions["engine"]  # type: ignore[no-any-return]


def emit(as_json: bool, payload: Any, text: str) -> None:
    """Print ``payload`` as JSON for scripts, or ``text`` for people."""
    click.echo(json.dumps(payload, default=str, indent=2) if as_json else text)


def fail(as_json: bool, code: str, message: str, details: Any = None) -> None:
    """Report an error without a traceback and exit 1."""
    if as_json:
        click.echo(json.dumps({"error": {"code": code, "message": message, "details": details or {}}}))
    else:
        click.echo(f"error: {message}", err=True)
    sys.exit(1)


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--json`` to a command."""
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(func)


def parse_json_arg(as_json: bool, value: str | None, name: str) -> dict[str, Any]:
    """A JSON object given on the command line, or a clear error."""
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        fail(as_json, "bad_json", f"{name} is not valid JSON: {exc}")
    if not isinstance(parsed, dict):
        fail(as_json, "bad_json", f"{name} must be a JSON object")
    return parsed


def actor_for(as_json: bool, username: str | None) -> Actor:
    """The engine actor of a user account (the system when no user is named)."""
    if not username:
        return Actor.system("cli")
    user = accounts.find_user(db.session, username)
    if user is None:
        fail(as_json, "user_not_found", f"no user '{username}'")
    return Actor(username=user.username, roles=user.roles, organisation=user.organisation.key)


def run_engine(as_json: bool, action: Callable[[], Any]) -> Any:
    """Run an engine action in one transaction; engine errors become a clean exit 1."""
    try:
        result = action()
        db.session.commit()
        return result
    except EngineError as exc:
        db.session.rollback()
        fail(as_json, exc.code, exc.message, exc.details)


def _create_app() -> Any:
    from webapp import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main() -> None:
    """PIS 2 process application."""


# --- db ------------------------------------------------------------------------------------------


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrations.upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"], revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. base)."""
    migrations.downgrade(current_app.config["SQLALCHEMY_DATABASE_URI"], revision)
    click.echo(f"database at {revision}")


# --- processes -----------------------------------------------------------------------------------


def _model_paths(paths: tuple[str, ...]) -> list[Path]:
    return [Path(p) for p in paths] or [current_app.config["PROCESSES_DIR"]]


@main.group("processes")
def processes_group() -> None:
    """Process models."""


@processes_group.command("validate")
@click.argument("paths", nargs=-1)
@json_option
def processes_validate(paths: tuple[str, ...], as_json: bool) -> None:
    """Check models and forms; one 'file:line: element-id: message' line per problem."""
    problems = validate(_model_paths(paths), current_app.config["FORMS_DIR"], _engine().roles)
    if as_json:
        click.echo(json.dumps({"problems": [p.as_dict() for p in problems]}, indent=2))
    else:
        for problem in problems:
            click.echo(str(problem))
        if not problems:
            click.echo("all models are valid")
    sys.exit(1 if problems else 0)


@processes_group.command("deploy")
@click.argument("paths", nargs=-1)
@click.option("--as", "username", help="Who deploys (recorded on the version).")
@json_option
def processes_deploy(paths: tuple[str, ...], username: str | None, as_json: bool) -> None:
    """Validate, then store a new version of each changed model."""
    model_paths = _model_paths(paths)
    problems = validate(model_paths, current_app.config["FORMS_DIR"], _engine().roles)
    if problems:
        if not as_json:
            for problem in problems:
                click.echo(str(problem), err=True)
        fail(as_json, "model_invalid", f"{len(problems)} problem(s): nothing deployed",
             {"problems": [p.as_dict() for p in problems]})
    models = read_models(model_paths, current_app.config["FORMS_DIR"])
    stored = run_engine(as_json, lambda: _engine().deploy(db.session, models, username))
    emit(as_json, [{"process_id": v.process_id, "version_id": v.id, "hash": v.content_hash} for v in stored],
         "\n".join(f"deployed {v.process_id} as version {v.id}" for v in stored) or "no model changed")


@processes_group.command("list")
@json_option
def processes_list(as_json: bool) -> None:
    """Deployed process versions."""
    versions = db.session.scalars(select(ProcessVersion).order_by(ProcessVersion.process_id, ProcessVersion.id))
    rows = [{"process_id": v.process_id, "version_id": v.id, "name": v.name, "hash": v.content_hash[:12],
             "deployed_at": v.deployed_at} for v in versions]
    emit(as_json, rows, "\n".join(f"{r['process_id']}\tv{r['version_id']}\t{r['hash']}\t{r['name'] or ''}"
                                  for r in rows) or "no process deployed")


# --- instances -----------------------------------------------------------------------------------


def instance_summary(instance: ProcessInstance) -> dict[str, Any]:
    """What `instances show` prints."""
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                       HumanTask.status == "ready"))
    incidents = db.session.scalars(select(Incident).where(Incident.instance_id == instance.id,
                                                          Incident.status == "open"))
    return {
        "id": instance.id, "process_id": instance.process_id, "version_id": instance.process_version_id,
        "status": instance.status, "version": instance.version, "started_at": instance.started_at,
        "ready_tasks": [{"id": t.id, "name": t.name, "role": t.role} for t in tasks],
        "incidents": [{"id": i.id, "task": i.task_spec_id, "message": i.message} for i in incidents],
    }


@main.group("instances")
def instances_group() -> None:
    """Process instances."""


@instances_group.command("start")
@click.argument("process_id")
@click.option("--data", help="Start data as a JSON object.")
@click.option("--as", "username", help="Start as this user (the instance belongs to their organisation).")
@click.option("--org", "organisation", help="Organisation the instance belongs to (default: the user's).")
@json_option
def instances_start(process_id: str, data: str | None, username: str | None, organisation: str | None,
                    as_json: bool) -> None:
    """Start the latest version of PROCESS_ID."""
    payload = parse_json_arg(as_json, data, "--data")
    actor = actor_for(as_json, username)
    instance = run_engine(as_json, lambda: _engine().start(db.session, process_id, payload, actor,
                                                           organisation=organisation))
    summary = instance_summary(instance)
    emit(as_json, summary, f"started instance {instance.id} ({instance.status})")


@instances_group.command("show")
@click.argument("instance_id", type=int)
@json_option
def instances_show(instance_id: int, as_json: bool) -> None:
    """Status, ready tasks and open incidents of an instance."""
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        fail(as_json, "instance_not_found", f"no process instance {instance_id}")
    summary = instance_summary(instance)
    lines = [f"instance {summary['id']} {summary['process_id']} v{summary['version_id']}: {summary['status']}"]
    lines += [f"  task {t['id']} {t['name']} [{t['role']}]" for t in summary["ready_tasks"]]
    lines += [f"  incident {i['id']} at {i['task']}: {i['message']}" for i in summary["incidents"]]
    emit(as_json, summary, "\n".join(lines))


@instances_group.command("retry")
@click.argument("instance_id", type=int)
@click.option("--as", "username")
@json_option
def instances_retry(instance_id: int, username: str | None, as_json: bool) -> None:
    """Retry the failed step of an instance in error."""
    actor = actor_for(as_json, username)
    instance = run_engine(as_json, lambda: _engine().retry(db.session, instance_id, actor))
    emit(as_json, instance_summary(instance), f"instance {instance.id}: {instance.status}")


# --- tasks ---------------------------------------------------------------------------------------


@main.group("tasks")
def tasks_group() -> None:
    """Human tasks."""


@tasks_group.command("list")
@click.option("--role")
@click.option("--user", "username")
@json_option
def tasks_list(role: str | None, username: str | None, as_json: bool) -> None:
    """Ready tasks, by role or assignee."""
    query = select(HumanTask).where(HumanTask.status == "ready").order_by(HumanTask.created_at)
    if role:
        query = query.where(HumanTask.role == role)
    if username:
        query = query.where(HumanTask.assigned_user == username)
    rows = [{"id": t.id, "instance_id": t.instance_id, "name": t.name, "role": t.role,
             "organisation": t.organisation, "assigned_user": t.assigned_user, "form": t.form_key,
             "due_at": t.due_at} for t in db.session.scalars(query)]
    emit(as_json, rows, "\n".join(f"{r['id']}\t#{r['instance_id']}\t{r['role']}\t{r['name']}" for r in rows)
         or "no ready task")


@tasks_group.command("complete")
@click.argument("task_id")
@click.option("--data", required=True, help="Form data as a JSON object.")
@click.option("--as", "username", required=True)
@json_option
def tasks_complete(task_id: str, data: str, username: str, as_json: bool) -> None:
    """Complete a task as a user."""
    payload = parse_json_arg(as_json, data, "--data")
    actor = actor_for(as_json, username)
    instance = run_engine(as_json, lambda: _engine().complete_task(db.session, task_id, payload, actor))
    emit(as_json, instance_summary(instance), f"completed; instance {instance.id} is {instance.status}")


# --- messages ------------------------------------------------------------------------------------


@main.group("messages")
def messages_group() -> None:
    """Messages between instances."""


@messages_group.command("list")
@click.option("--status")
@json_option
def messages_list(status: str | None, as_json: bool) -> None:
    """Messages thrown, with what became of them."""
    query = select(Message).order_by(Message.id.desc()).limit(200)
    if status:
        query = query.where(Message.status == status)
    rows = [{"id": m.id, "name": m.name, "status": m.status, "from": m.source_instance_id,
             "to": m.target_instance_id, "correlations": m.correlations, "reason": m.reason}
            for m in db.session.scalars(query)]
    emit(as_json, rows, "\n".join(f"{r['id']}\t{r['name']}\t{r['status']}\t{r['from']}->{r['to']}"
                                  f"\t{r['reason'] or ''}" for r in rows) or "no message")


@messages_group.command("send")
@click.argument("name")
@click.option("--payload", help="JSON object.")
@click.option("--correlations", help="JSON object of correlation property values.")
@click.option("--org", "organisation", help="Organisation of a process the message starts.")
@json_option
def messages_send(name: str, payload: str | None, correlations: str | None, organisation: str | None,
                  as_json: bool) -> None:
    """Send a message from outside."""
    body = parse_json_arg(as_json, payload, "--payload")
    keys = parse_json_arg(as_json, correlations, "--correlations")
    message = run_engine(as_json, lambda: _engine().messages.send(db.session, name, body, keys,
                                                                  organisation=organisation))
    emit(as_json, {"id": message.id, "status": message.status, "reason": message.reason},
         f"message {message.id}: {message.status} {message.reason or ''}".rstrip())


@messages_group.command("redeliver")
@click.argument("message_id", type=int)
@json_option
def messages_redeliver(message_id: int, as_json: bool) -> None:
    """Try an undeliverable message again."""
    message = run_engine(as_json, lambda: _engine().messages.redeliver(db.session, message_id))
    emit(as_json, {"id": message.id, "status": message.status, "reason": message.reason},
         f"message {message.id}: {message.status} {message.reason or ''}".rstrip())


# --- case file ----------------------------------------------------------------------------------


@main.group("casefile")
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
        report = pseudonymise_closed_households(db.session, now=_engine().clock_now(), older_than_days=days,
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


# --- worker, users, demo -------------------------------------------------------------------------


@main.command("worker")
@click.option("--once", is_flag=True, help="Fire what is due now, then exit.")
@json_option
def worker(once: bool, as_json: bool) -> None:
    """Fire due timers (several workers may run side by side)."""
    from webapp.worker import run_worker

    fired = run_worker(current_app, once=once)
    if once:
        emit(as_json, {"fired": fired}, f"fired {fired} timer(s)")


@main.group("users")
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


@main.group("demo")
def demo_group() -> None:
    """Demo data for local use."""


@demo_group.command("seed")
def demo_seed() -> None:
    """One demo user per role, password 'demo', and a few cases in progress (idempotent)."""
    from webapp.demo import seed_demo, seed_demo_cases

    created, households = seed_demo(db.session, _engine().clock_now().date())
    cases = seed_demo_cases(db.session, _engine())
    db.session.commit()
    click.echo(f"demo accounts ready ({created} new, password: demo); {households} demo household(s) recorded; "
               f"{cases} demo case(s) started")
