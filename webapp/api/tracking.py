"""/api/v1/tracking: coordinators, supervisors and administrators follow and steer process instances.

Coordinators and supervisors reach their organisation's instances, administrators every one; another
organisation's instance answers 404. Household data is never here: only process facts, the business
key, and (for roles that may read household files) the values a step changed, masked ones masked.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from engine import Actor, migration, tracking
from engine.errors import ConflictError, NotAllowedError
from engine.models import ProcessInstance
from webapp.api.auth import api_actor, get_engine, resource_blueprint
from webapp.api.common import MAX_ID, errors
from webapp.api.instances import instance_summary
from webapp.extensions import db
from webapp.i18n.localtime import start_of_day
from webapp.schemas.instances import InstanceSchema
from webapp.schemas.tracking import (
    BulkMigrationArgsSchema,
    BulkMigrationSchema,
    HistorySchema,
    MigrateArgsSchema,
    MigrationReportSchema,
    ReasonSchema,
    RetryArgsSchema,
    TrackingListArgsSchema,
    TrackingListSchema,
)
from webapp.tracking import (
    history_steps,
    may_read_households,
    organisation_scope,
    record_reason,
    require_tracking,
    step_as_dict,
    tracked_instance,
)

bp = resource_blueprint("api_tracking", "/api/v1/tracking/instances",
                        "Instance tracking for coordinators, supervisors and administrators.")
migrations_bp = resource_blueprint("api_migrations", "/api/v1/tracking/migrations",
                                   "Moving running instances to a newer version of their process (analysts).")
ID = f"/<int(max={MAX_ID}):instance_id>"
MIGRATING_ROLES = frozenset({"analista", "admin"})


def _tracker() -> Actor:
    actor = api_actor()
    require_tracking(actor)
    return actor


def _visible(instance_id: int) -> tuple[Actor, ProcessInstance]:
    actor = api_actor()
    return actor, tracked_instance(db.session, actor, instance_id)


def _filter(args: dict[str, Any], actor: Actor) -> tracking.InstanceFilter:
    started_to = args.get("started_to")
    return tracking.InstanceFilter(
        organisation=organisation_scope(actor), process_id=args.get("process"), version_id=args.get("version"),
        status=args.get("status"), business_key=args.get("household"), current_task=args.get("task"),
        overdue=args["overdue"], search=args.get("q"),
        started_from=start_of_day(args["started_from"]) if args.get("started_from") else None,
        started_before=start_of_day(started_to + timedelta(days=1)) if started_to else None)


@bp.route("", methods=["GET"])
@bp.arguments(TrackingListArgsSchema, location="query")
@bp.response(200, TrackingListSchema)
@errors(bp, 403, 422)
def list_tracked(args: dict[str, Any]) -> dict[str, Any]:
    """The instances I follow, newest first, filtered, with their ready tasks."""
    actor = _tracker()
    filters = _filter(args, actor)
    now = get_engine().clock_now()
    session: Session = db.session
    rows = session.scalars(tracking.instances(filters, now, limit=args["limit"], offset=args["offset"])).all()
    tasks = tracking.ready_tasks_of(session, [row.id for row in rows])
    items = [{**instance_summary(row), "tasks": tasks[row.id],
              "overdue": any(tracking.is_overdue(task, now) for task in tasks[row.id])} for row in rows]
    return {"items": items, "total": tracking.count_instances(session, filters, now), "limit": args["limit"],
            "offset": args["offset"]}


@bp.route(f"{ID}/history", methods=["GET"])
@bp.response(200, HistorySchema)
@errors(bp, 403, 404)
def instance_history(instance_id: int) -> dict[str, Any]:
    """Every recorded step of an instance, oldest first."""
    actor, instance = _visible(instance_id)
    events = tracking.history(db.session, instance.id)
    names = tracking.task_names(db.session, {event.task_id for event in events if event.task_id})
    steps = history_steps(events, names, show_values=may_read_households(actor))
    return {"items": [step_as_dict(step) for step in steps]}


@bp.route(f"{ID}/retry", methods=["POST"])
@bp.arguments(RetryArgsSchema)
@bp.response(200, InstanceSchema)
@errors(bp, 403, 404, 409, 422)
def retry(body: dict[str, Any], instance_id: int) -> dict[str, Any]:
    """Run the failed step of an instance in error again, once its cause is fixed (409 if not in error).

    ``data`` first corrects values of the failed step's variables (e.g. a code typed wrong in a form);
    only roles that may read household data may send it.
    """
    actor, instance = _visible(instance_id)
    corrections = body.get("data") or {}
    if corrections and not may_read_households(actor):
        raise NotAllowedError("correcting an instance's data is for roles that may read household data")
    return instance_summary(get_engine().retry(db.session, instance.id, actor, corrections=corrections))


@bp.route(f"{ID}/suspend", methods=["POST"])
@bp.arguments(ReasonSchema)
@bp.response(200, InstanceSchema)
@errors(bp, 403, 404, 409, 422)
def suspend(body: dict[str, Any], instance_id: int) -> dict[str, Any]:
    """Suspend a running or waiting instance: no completions, no timers, until resumed."""
    return _lifecycle(instance_id, body["reason"], suspended=True)


@bp.route(f"{ID}/resume", methods=["POST"])
@bp.arguments(ReasonSchema)
@bp.response(200, InstanceSchema)
@errors(bp, 403, 404, 409, 422)
def resume(body: dict[str, Any], instance_id: int) -> dict[str, Any]:
    """Resume a suspended instance."""
    return _lifecycle(instance_id, body["reason"], suspended=False)


def _lifecycle(instance_id: int, reason: str, *, suspended: bool) -> dict[str, Any]:
    actor, instance = _visible(instance_id)
    engine = get_engine()
    engine.set_suspended(db.session, instance.id, actor, suspended)
    record_reason(db.session, engine, instance.id, actor, "suspended" if suspended else "resumed", reason.strip())
    return instance_summary(instance)


@bp.route(f"{ID}/terminate", methods=["POST"])
@bp.arguments(ReasonSchema)
@bp.response(200, InstanceSchema)
@errors(bp, 403, 404, 409, 422)
def terminate(body: dict[str, Any], instance_id: int) -> dict[str, Any]:
    """Terminate an instance for good (its tasks are cancelled); the reason is kept in its history."""
    actor, instance = _visible(instance_id)
    return instance_summary(get_engine().terminate(db.session, instance.id, actor, body["reason"].strip()))


# --- migration to a newer version (analysts and administrators) ------------------------------------


def _migrator() -> Actor:
    actor = api_actor()
    if not MIGRATING_ROLES & actor.roles:
        raise NotAllowedError("migrating instances is for analysts and administrators")
    return actor


def _migration_scope(actor: Actor) -> str | None:
    """Administrators migrate every organisation's instances, analysts their own organisation's."""
    if "admin" in actor.roles:
        return None
    if not actor.organisation:
        raise NotAllowedError("migrating instances needs an organisation")
    return actor.organisation


@bp.route(f"{ID}/migrate", methods=["POST"])
@bp.arguments(MigrateArgsSchema)
@bp.response(200, MigrationReportSchema)
@errors(bp, 403, 404, 409, 422)
def migrate(body: dict[str, Any], instance_id: int) -> dict[str, Any]:
    """Move an instance to a newer version of its process, or (dry run) say whether it could; 409 with
    the reasons when it cannot."""
    actor = _migrator()
    instance = tracking.visible_instance(db.session, instance_id, _migration_scope(actor))
    report = migration.migrate_instance(get_engine(), db.session, instance.id, actor,
                                        to_version=body.get("to_version"), dry_run=body["dry_run"],
                                        expected_version=body.get("expected_version"))
    if not report.migratable and not body["dry_run"]:
        raise ConflictError(f"instance {instance.id} cannot migrate to version {report.to_version}",
                            reasons=report.reasons)
    return report.as_dict()


@migrations_bp.route("", methods=["POST"])
@migrations_bp.arguments(BulkMigrationArgsSchema)
@migrations_bp.response(200, BulkMigrationSchema)
@errors(migrations_bp, 403, 404, 422)
def migrate_many(body: dict[str, Any]) -> dict[str, Any]:
    """Move every unfinished instance of a process (of one version) to a newer one, each on its own;
    a report per instance says which moved and why the others did not."""
    actor = _migrator()
    reports = migration.migrate_process(get_engine(), db.session, body["process"].strip(), actor,
                                        from_version=body.get("from_version"), to_version=body.get("to_version"),
                                        dry_run=body["dry_run"], organisation=_migration_scope(actor))
    return {"items": [r.as_dict() for r in reports], "dry_run": body["dry_run"],
            "migrated": sum(r.migrated for r in reports), "refused": sum(not r.migratable for r in reports)}
