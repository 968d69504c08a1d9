"""/api/v1/processes: the deployed process models, their versions, and whether I may start each."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select

from engine.models import ProcessVersion
from webapp.api.auth import api_actor, get_engine, resource_blueprint
from webapp.api.common import errors
from webapp.extensions import db
from webapp.schemas.processes import ProcessListSchema
from webapp.starting import may_start

bp = resource_blueprint("api_processes", "/api/v1/processes", "Deployed process models.")


@bp.route("", methods=["GET"])
@bp.response(200, ProcessListSchema)
@errors(bp)
def list_processes() -> dict[str, Any]:
    """Every deployed process with its versions, newest first."""
    actor, engine = api_actor(), get_engine()
    versions: dict[str, list[ProcessVersion]] = defaultdict(list)
    for version in db.session.scalars(select(ProcessVersion).order_by(ProcessVersion.process_id,
                                                                      ProcessVersion.id.desc())):
        versions[version.process_id].append(version)
    items = [{"process_id": process_id, "name": rows[0].name, "latest_version_id": rows[0].id, "versions": rows,
              "may_start": may_start(engine, rows[0], actor)} for process_id, rows in versions.items()]
    return {"items": items}
