"""/api/v1/households: the households in my case load, one household's file, its timeline.

Everything is read through casefile.file and casefile.timeline, so the access policy decides; a
household the caller may read nothing of answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import select

from casefile import access
from casefile.errors import AccessDeniedError, NotFoundError
from casefile.file import household_file, visible_households
from casefile.timeline import household_timeline
from engine.models import HumanTask
from engine.runtime import ACTIVE
from webapp.api.auth import api_actor, api_viewer, get_engine, resource_blueprint
from webapp.api.common import MAX_ID, errors
from webapp.api.tasks import may_see
from webapp.casefile_services import household_instances, process_events
from webapp.extensions import db
from webapp.schemas.common import PurposeArgsSchema
from webapp.schemas.households import HouseholdFileSchema, HouseholdListArgsSchema, HouseholdListSchema, TimelineSchema

bp = resource_blueprint("api_households", "/api/v1/households",
                        "Households in my case load, as the access policy lets me read them.")

HOUSEHOLD_PATH = f"/<int(max={MAX_ID}):household_id>"


class HouseholdNotFoundError(NotFoundError):
    """Unknown, or outside the caller's reach: the answer is the same (existence is not revealed)."""


def _not_found(household_id: int) -> HouseholdNotFoundError:
    return HouseholdNotFoundError(f"no household {household_id}", household_id=household_id)


@bp.route("", methods=["GET"])
@bp.arguments(HouseholdListArgsSchema, location="query")
@bp.response(200, HouseholdListSchema)
@errors(bp)
def list_households(args: dict[str, Any]) -> dict[str, Any]:
    """The households my roles reach; names and statuses only where I may read them."""
    page = visible_households(db.session, api_viewer(), search=args.get("search"), status=args.get("status"),
                              limit=args["limit"], offset=args["offset"])
    return {"items": page.items, "total": page.total, "limit": args["limit"], "offset": args["offset"]}


def _active_work(household_id: int, scope: access.CaseScope) -> tuple[list[Any], list[HumanTask]] | None:
    # Process steps count as the household's timeline (case data): shown to those who may read it.
    if not access.decide(api_viewer(), "read", "timeline", scope):
        return None
    instances = [i for i in household_instances(db.session, household_id) if i.status in (*ACTIVE, "error")]
    tasks = db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id.in_([i.id for i in instances]), HumanTask.status == "ready")
        .order_by(HumanTask.queue_order, HumanTask.created_at)).all() if instances else []
    active = [{"id": i.id, "process_id": i.process_id, "process_name": i.process_version.name, "status": i.status}
              for i in instances]
    # Another organisation's or role's tasks stay out of sight here too, as in /tasks.
    actor = api_actor()
    return active, [task for task in tasks if may_see(task, actor)]


@bp.route(HOUSEHOLD_PATH, methods=["GET"])
@bp.arguments(PurposeArgsSchema, location="query")
@bp.response(200, HouseholdFileSchema)
@errors(bp, 404)
def get_household(args: dict[str, Any], household_id: int) -> dict[str, Any]:
    """A household's file: the sections I may read (others are null), and its running processes."""
    try:
        result = household_file(db.session, household_id, api_viewer(), args["purpose"],
                                as_of=get_engine().clock_now().date())
    except (NotFoundError, AccessDeniedError):
        raise _not_found(household_id) from None
    body = asdict(result)
    work = _active_work(household_id, access.case_scope(db.session, household_id))
    body["active_instances"], body["active_tasks"] = work if work is not None else (None, None)
    return body


@bp.route(f"{HOUSEHOLD_PATH}/timeline", methods=["GET"])
@bp.arguments(PurposeArgsSchema, location="query")
@bp.response(200, TimelineSchema)
@errors(bp, 404)
def get_household_timeline(args: dict[str, Any], household_id: int) -> dict[str, Any]:
    """Everything that happened to the household, records and process steps, as I may read them."""
    try:
        entries = household_timeline(db.session, household_id, viewer=api_viewer(), purpose=args["purpose"],
                                     process_events=process_events(db.session, household_id))
    except (NotFoundError, AccessDeniedError):
        raise _not_found(household_id) from None
    return {"household_id": household_id, "items": entries}
