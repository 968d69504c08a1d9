"""The ``pis2`` command line: database, models, instances, tasks, messages, worker.

The commands about records, accounts and demo data live in webapp.cli.records.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup
from sqlalchemy import select

from engine import migrate as migrations
from engine.models import HumanTask, Incident, Message, ProcessInstance, ProcessVersion
from engine.specs import read_models, validate
from webapp.cli.accounts import orgs_group, users_group
from webapp.cli.compat import processes_check
from webapp.cli.indicators import indicators_command
from webapp.cli.migration import instances_migrate
from webapp.cli.records import casefile_group, demo_group
from webapp.cli.support import actor_for, current_engine, emit, fail, json_option, parse_json_arg, run_engine
from webapp.extensions import db


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
    problems = validate(_model_paths(paths), current_app.config["FORMS_DIR"], current_engine().roles)
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
@click.option("--as", "username", help="Who deploys (recorded on the version); default: the system user.")
@json_option
def processes_deploy(paths: tuple[str, ...], username: str | None, as_json: bool) -> None:
    """Validate, then store a new version of each changed model."""
    model_paths = _model_paths(paths)
    problems = validate(model_paths, current_app.config["FORMS_DIR"], current_engine().roles)
    if problems:
        if not as_json:
            for problem in problems:
                click.echo(str(problem), err=True)
        fail(as_json, "model_invalid", f"{len(problems)} problem(s): nothing deployed",
             {"problems": [p.as_dict() for p in problems]})
    models = read_models(model_paths, current_app.config["FORMS_DIR"])
    deployer = username or getpass.getuser()
    stored = run_engine(as_json, lambda: current_engine().deploy(db.session, models, deployer))
    emit(as_json, [{"process_id": v.process_id, "version_id": v.id, "number": v.number, "hash": v.content_hash}
                   for v in stored],
         "\n".join(f"deployed {v.process_id} v{v.number} (stored version id {v.id})" for v in stored)
         or "no model changed")


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
    instance = run_engine(as_json, lambda: current_engine().start(db.session, process_id, payload, actor,
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
    instance = run_engine(as_json, lambda: current_engine().retry(db.session, instance_id, actor))
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
    instance = run_engine(as_json, lambda: current_engine().complete_task(db.session, task_id, payload, actor))
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
    message = run_engine(as_json, lambda: current_engine().messages.send(db.session, name, body, keys,
                                                                  organisation=organisation))
    emit(as_json, {"id": message.id, "status": message.status, "reason": message.reason},
         f"message {message.id}: {message.status} {message.reason or ''}".rstrip())


@messages_group.command("redeliver")
@click.argument("message_id", type=int)
@json_option
def messages_redeliver(message_id: int, as_json: bool) -> None:
    """Try an undeliverable message again."""
    message = run_engine(as_json, lambda: current_engine().messages.redeliver(db.session, message_id))
    emit(as_json, {"id": message.id, "status": message.status, "reason": message.reason},
         f"message {message.id}: {message.status} {message.reason or ''}".rstrip())


# --- worker ------------------------------------------------------------------------------------


@main.command("worker")
@click.option("--once", is_flag=True, help="Fire what is due now, then exit.")
@json_option
def worker(once: bool, as_json: bool) -> None:
    """Fire due timers (several workers may run side by side)."""
    from webapp.worker import run_worker

    fired = run_worker(current_app, once=once)
    if once:
        emit(as_json, {"fired": fired}, f"fired {fired} timer(s)")


processes_group.add_command(processes_check)
instances_group.add_command(instances_migrate)
main.add_command(casefile_group)
main.add_command(users_group)
main.add_command(orgs_group)
main.add_command(demo_group)
main.add_command(indicators_command)
