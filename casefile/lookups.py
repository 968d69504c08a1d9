"""Reads that processes need to fill in the next operation's input (no writes, no access checks:
service tasks act for the instance, whose lanes already decided who works on the case)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile.arrears import contribution_arrears
from casefile.errors import NotFoundError
from casefile.models import LeaseContract, OccupancyAgreement, PersonalisedPlan, Placement
from casefile.operations.fields import cents_to_euro


def placement_summary(session: Session, placement_id: int) -> dict[str, Any]:
    """A placement's lease and occupancy agreement, and what the household still owes under it (a read).

    The balance counts every contribution charged, due or not, against every payment: at exit the
    account is closed, so nothing is left to fall due later.
    """
    placement = session.get(Placement, placement_id)
    if placement is None:
        raise NotFoundError(f"no placement with id {placement_id}", field="placement_id")
    lease = session.get(LeaseContract, placement.lease_id)
    assert lease is not None  # a foreign key
    agreement = session.scalar(select(OccupancyAgreement).where(OccupancyAgreement.placement_id ==
                                                                        placement.id))
    arrears = contribution_arrears(session, agreement.id, date.max) if agreement is not None else None
    return {
        "placement_id": placement.id, "lease_id": lease.id, "lease_type": lease.lease_type,
        "lease_status": lease.status, "notice_period_months": lease.notice_period_months,
        "deposit": cents_to_euro(lease.deposit_cents),
        "agreement_id": agreement.id if agreement is not None else None,
        "monthly_contribution": cents_to_euro(agreement.monthly_contribution_cents) if agreement else None,
        "contribution_balance": cents_to_euro(arrears.amount_cents if arrears else 0),
        "oldest_unpaid_due": arrears.oldest_due.isoformat() if arrears and arrears.oldest_due else None,
        "months_unpaid": arrears.months_unpaid if arrears else 0,
    }


def current_plan(session: Session, enrollment_id: int) -> dict[str, Any]:
    """The enrollment's signed personalised plan: id, version and goal ids (a read; a None id when unsigned)."""
    plan = session.scalars(
        select(PersonalisedPlan).where(PersonalisedPlan.enrollment_id == enrollment_id,
                                       PersonalisedPlan.status == "firmato")
        .order_by(PersonalisedPlan.version.desc())).first()
    if plan is None:
        return {"plan_id": None, "version": None, "goal_ids": []}
    return {"plan_id": plan.id, "version": plan.version, "goal_ids": [goal.id for goal in plan.goals]}
