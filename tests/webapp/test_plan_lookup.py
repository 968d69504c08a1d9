"""The read-only ``current_plan`` service: the signed plan a process reviews, found from the enrollment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casefile.models import CaseEvent
from engine.services import ServiceContext, ServiceRegistry, service_context
from tests.casefile.conftest import household, orgs, run, users  # noqa: F401  (fixtures reused)
from tests.casefile.test_housing import new_enrollment
from webapp.casefile_services import register_casefile_operations

GOALS = [{"domain": "abitare", "description": "Mantenere l'alloggio"}, {"domain": "lavoro", "description": "Tirocinio"}]


def current_plan(session: Session, enrollment_id: int) -> dict[str, Any]:
    registry = ServiceRegistry()
    register_casefile_operations(registry)
    context = ServiceContext(session=session, instance_id=1, process_id="monitoring", organisation="capofila",
                             actor="equipe")
    with service_context(context):
        return registry.call("current_plan", {"enrollment_id": enrollment_id})


def test_current_plan_is_the_latest_signed_version(session: Session, run: Callable[..., dict[str, Any]],  # noqa: F811
                                                   household: dict[str, Any], users: Any) -> None:  # noqa: F811
    enrollment = new_enrollment(session, household["household_id"]).id
    assert current_plan(session, enrollment) == {"plan_id": None, "version": None, "goal_ids": []}
    first = run("draft_plan", {"enrollment_id": enrollment, "drafted_on": "2026-01-25", "goals": GOALS})
    assert current_plan(session, enrollment)["plan_id"] is None  # a draft is not the plan in force
    run("sign_plan", {"plan_id": first["plan_id"], "signed_on": "2026-02-01", "co_signed_by": "assistente_sociale"})
    assert current_plan(session, enrollment) == {"plan_id": first["plan_id"], "version": 1,
                                                 "goal_ids": first["goal_ids"]}
    second = run("draft_plan", {"enrollment_id": enrollment, "drafted_on": "2026-05-02", "goals": GOALS[:1]})
    run("sign_plan", {"plan_id": second["plan_id"], "signed_on": "2026-05-03", "co_signed_by": "assistente_sociale"})
    assert current_plan(session, enrollment) == {"plan_id": second["plan_id"], "version": 2,
                                                 "goal_ids": second["goal_ids"]}
    journaled = session.scalar(select(func.count()).select_from(CaseEvent))
    current_plan(session, enrollment)
    assert session.scalar(select(func.count()).select_from(CaseEvent)) == journaled  # a read writes nothing
