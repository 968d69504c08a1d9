"""/api/v1/instances: start a process, list and show the instances of the caller's organisation.

An instance belongs to the organisation of whoever started it; another organisation's instance
answers 404, like one that does not exist. Instance data is not exposed here: household data is read
through /households, where the access policy decides.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from engine import Actor, InstanceNotFoundError, NotAllowedError
from engine.models import HumanTask, Incident, ProcessInstance
from engine.runtime import ACTIVE
from engine.store import latest_version
from webapp.api.auth import api_actor, get_engine, resource_blueprint
from webapp.api.common import MAX_ID, errors
from webapp.extensions import db
from webapp.schemas.instances import (
    InstanceDetailSchema,
    InstanceListArgsSchema,
    InstanceListSchema,
    StartInstanceSchema,
)
from webapp.starting import may_start

bp = resource_blueprint("api_instances", "/api/v1/instances", "Process instances of my organisation.")


def _detail(instance: ProcessInstance) -> dict[str, Any]:
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                       HumanTask.status == "ready")
                               .order_by(HumanTask.queue_order, HumanTask.created_at)).all()
    # A running or waiting instance has no open incident (an incident puts it in error, a retry resolves
    # them all): no query for the common case.
    incidents = [] if instance.status in ACTIVE else db.session.scalars(
        select(Incident).where(Incident.instance_id == instance.id, Incident.status == "open")
        .order_by(Incident.id)).all()
    return {**instance_summary(instance), "tasks": tasks, "incidents": incidents}


def instance_summary(instance: ProcessInstance) -> dict[str, Any]:
    """An instance as the API's lists show it (the tracking endpoints reuse it)."""
    return {"id": instance.id, "process_id": instance.process_id, "process_name": instance.process_version.name,
            "process_version_id": instance.process_version_id,
            "process_version_number": instance.process_version.number, "status": instance.status,
            "organisation": instance.organisation, "business_key": instance.business_key,
            "started_by": instance.started_by, "started_at": instance.started_at, "updated_at": instance.updated_at,
            "ended_at": instance.ended_at, "version": instance.version}


def organisation_instance(instance_id: int, actor: Actor) -> ProcessInstance:
    """The instance, or InstanceNotFoundError (404) when missing or of another organisation."""
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None or actor.organisation is None or instance.organisation != actor.organisation:
        raise InstanceNotFoundError(f"no instance {instance_id}", instance_id=instance_id)
    return instance


@bp.route("", methods=["POST"])
@bp.arguments(StartInstanceSchema)
@bp.response(201, InstanceDetailSchema)
@errors(bp, 403, 404, 422)
def start_instance(body: dict[str, Any]) -> dict[str, Any]:
    """Start the latest version of a process my roles may start; it runs to its first wait."""
    actor = api_actor()
    engine = get_engine()
    version = latest_version(db.session, body["process_id"])
    if not may_start(engine, version, actor):
        raise NotAllowedError(f"none of your roles may start '{version.process_id}'", process_id=version.process_id)
    instance = engine.start(db.session, version.process_id, body["data"], actor, business_key=body["business_key"])
    return _detail(instance)


@bp.route("", methods=["GET"])
@bp.arguments(InstanceListArgsSchema, location="query")
@bp.response(200, InstanceListSchema)
@errors(bp)
def list_instances(args: dict[str, Any]) -> dict[str, Any]:
    """The instances of my organisation, newest first."""
    actor = api_actor()
    conditions = [ProcessInstance.organisation == actor.organisation]
    if args.get("process"):
        conditions.append(ProcessInstance.process_id == args["process"])
    if args.get("status"):
        conditions.append(ProcessInstance.status == args["status"])
    total = db.session.scalar(select(func.count()).select_from(ProcessInstance).where(*conditions)) or 0
    # The workflow state is not shown: leave the (large) column unread.
    rows = db.session.scalars(select(ProcessInstance).options(defer(ProcessInstance.state)).where(*conditions)
                              .order_by(ProcessInstance.id.desc()).limit(args["limit"]).offset(args["offset"]))
    return {"items": [instance_summary(row) for row in rows], "total": total, "limit": args["limit"],
            "offset": args["offset"]}


@bp.route(f"/<int(max={MAX_ID}):instance_id>", methods=["GET"])
@bp.response(200, InstanceDetailSchema)
@errors(bp, 404)
def get_instance(instance_id: int) -> dict[str, Any]:
    """An instance of my organisation: its status, its ready tasks and its open incidents."""
    return _detail(organisation_instance(instance_id, api_actor()))
