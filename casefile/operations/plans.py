"""Operations on the personalised plan (*progetto personalizzato*): drafting, signing, reviewing.

Registered by importing :mod:`casefile.operations.cases`. A plan is versioned: one draft at a time,
signing a draft supersedes the previously signed version, reviews record each goal's status.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import func, select

from casefile.codes import ASSESSMENT_DOMAINS, GOAL_STATUSES, PLAN_ACTION_KINDS
from casefile.errors import RuleViolationError
from casefile.models import Enrollment, PersonalisedPlan, PlanAction, PlanGoal, PlanReview
from casefile.operations.base import OperationContext, operation
from casefile.operations.cases import active_user_with_role, open_enrollment_of
from casefile.operations.fields import Code, Money
from casefile.roles import ROLES


class ActionSchema(Schema):
    """A support, action or household commitment towards a goal."""

    kind = Code(PLAN_ACTION_KINDS, required=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    responsible_role = Code(ROLES, load_default=None, allow_none=True)
    frequency = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60))


class GoalSchema(Schema):
    """A goal in one life domain, with how progress is seen and by when."""

    domain = Code(ASSESSMENT_DOMAINS, required=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    indicator = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    target_date = fields.Date(load_default=None, allow_none=True)
    actions = fields.List(fields.Nested(ActionSchema), load_default=list, validate=validate.Length(max=30))


class DraftPlanSchema(Schema):
    """A new version of an enrollment's plan, with at least one goal."""

    enrollment_id = fields.Integer(required=True, strict=True)
    drafted_on = fields.Date(required=True)
    summary = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    household_contribution = Money(load_default=None, allow_none=True)
    goals = fields.List(fields.Nested(GoalSchema), required=True, validate=validate.Length(min=1, max=30))

    @validates_schema
    def targets_after_drafting(self, data: dict[str, Any], **_: Any) -> None:
        errors = {f"goals.{i}.target_date": ["The target date cannot be before the plan is drafted."]
                  for i, goal in enumerate(data["goals"])
                  if goal["target_date"] is not None and goal["target_date"] < data["drafted_on"]}
        if errors:
            raise ValidationError(errors)


@operation("draft_plan", DraftPlanSchema, record_type="plan")
def draft_plan(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Draft a new version of the personalised plan (one draft at a time)."""
    enrollment = open_enrollment_of(op, data["enrollment_id"])
    draft = op.session.scalars(select(PersonalisedPlan.id).where(
        PersonalisedPlan.enrollment_id == enrollment.id, PersonalisedPlan.status == "bozza")).first()
    if draft is not None:
        raise RuleViolationError(f"plan {draft} is already a draft: sign it or change it first",
                                 field="enrollment_id")
    highest = op.session.scalar(select(func.max(PersonalisedPlan.version))
                                .where(PersonalisedPlan.enrollment_id == enrollment.id)) or 0
    goals = [PlanGoal(domain=g["domain"], description=g["description"], indicator=g["indicator"],
                      target_date=g["target_date"], status="non_avviato",
                      actions=[PlanAction(**a) for a in g["actions"]]) for g in data["goals"]]
    plan = op.add(PersonalisedPlan(enrollment_id=enrollment.id, version=highest + 1, status="bozza",
                                   drafted_on=data["drafted_on"], summary=data["summary"],
                                   household_contribution_cents=data["household_contribution"], goals=goals))
    op.journal(enrollment.household_id, data["drafted_on"], f"plan v{plan.version} drafted: {len(goals)} goals",
               record=plan, enrollment_id=enrollment.id)
    return {"plan_id": plan.id, "version": plan.version, "goal_ids": [g.id for g in plan.goals]}


class SignPlanSchema(Schema):
    """The signature of a draft, co-signed by the public social worker."""

    plan_id = fields.Integer(required=True, strict=True)
    signed_on = fields.Date(required=True)
    co_signed_by = fields.String(required=True, validate=validate.Length(min=1, max=150))


@operation("sign_plan", SignPlanSchema, record_type="plan")
def sign_plan(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Sign a draft plan; the previously signed version is superseded."""
    plan: PersonalisedPlan = op.get(PersonalisedPlan, data["plan_id"], "plan_id")
    if plan.status != "bozza":
        raise RuleViolationError(f"only a draft can be signed; this plan is '{plan.status}'", field="plan_id")
    enrollment = open_enrollment_of(op, plan.enrollment_id, "plan_id")
    if data["signed_on"] < plan.drafted_on:
        raise RuleViolationError("a plan cannot be signed before it was drafted", field="signed_on")
    active_user_with_role(op, data["co_signed_by"], "assistente_sociale", "co_signed_by", "co_signed_by")
    previous = op.session.scalars(select(PersonalisedPlan).where(
        PersonalisedPlan.enrollment_id == plan.enrollment_id, PersonalisedPlan.status == "firmato")
        .order_by(PersonalisedPlan.version)).all()
    for old in previous:
        if old.signed_on is not None and data["signed_on"] < old.signed_on:
            raise RuleViolationError(f"version {old.version} was signed later, on {old.signed_on.isoformat()}",
                                     field="signed_on")
        old.status = "sostituito"
    plan.status, plan.signed_on, plan.co_signed_by = "firmato", data["signed_on"], data["co_signed_by"]
    op.session.flush()
    op.journal(enrollment.household_id, data["signed_on"], f"plan v{plan.version} signed", record=plan,
               enrollment_id=enrollment.id)
    return {"plan_id": plan.id, "version": plan.version, "superseded_plan_ids": [old.id for old in previous]}


class GoalStatuses(fields.Dict):
    """{"<goal id>": status}; errors are reported as ``goal_statuses.<id>``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[int, str]:
        if not isinstance(value, dict):
            raise ValidationError("Not a valid mapping of goal ids to statuses.")
        errors: dict[str, list[str]] = {}
        statuses: dict[int, str] = {}
        for key, status in value.items():
            if not str(key).isdigit():
                errors[str(key)] = ["Not a goal id."]
            elif status not in GOAL_STATUSES:
                errors[str(key)] = [f"Must be one of: {', '.join(GOAL_STATUSES)}."]
            else:
                statuses[int(key)] = status
        if errors:
            raise ValidationError(errors)
        return statuses


class ReviewPlanSchema(Schema):
    """A periodic review of a signed plan."""

    plan_id = fields.Integer(required=True, strict=True)
    review_date = fields.Date(required=True)
    reviewed_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=150))
    goal_statuses = GoalStatuses(load_default=dict)
    notes = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    next_review_due = fields.Date(load_default=None, allow_none=True)

    @validates_schema
    def next_review_later(self, data: dict[str, Any], **_: Any) -> None:
        if data["next_review_due"] is not None and data["next_review_due"] <= data["review_date"]:
            raise ValidationError({"next_review_due": ["The next review must come after this one."]})


@operation("review_plan", ReviewPlanSchema, record_type="plan_review")
def review_plan(op: OperationContext, data: dict[str, Any]) -> dict[str, Any]:
    """Review a signed plan: each goal's status and the next review date."""
    plan: PersonalisedPlan = op.get(PersonalisedPlan, data["plan_id"], "plan_id")
    if plan.status != "firmato":
        raise RuleViolationError(f"only the signed plan can be reviewed; this plan is '{plan.status}'",
                                 field="plan_id")
    if plan.signed_on is not None and data["review_date"] < plan.signed_on:
        raise RuleViolationError("a plan cannot be reviewed before it was signed", field="review_date")
    goals = {goal.id: goal for goal in plan.goals}
    for goal_id in sorted(data["goal_statuses"]):
        if goal_id not in goals:
            raise RuleViolationError(f"goal {goal_id} is not a goal of this plan", field=f"goal_statuses.{goal_id}")
    for goal_id, status in data["goal_statuses"].items():
        goals[goal_id].status = status
    review = op.add(PlanReview(plan_id=plan.id, review_date=data["review_date"], reviewed_by=data["reviewed_by"],
                               goal_statuses={str(k): v for k, v in sorted(data["goal_statuses"].items())},
                               notes=data["notes"], next_review_due=data["next_review_due"]))
    enrollment: Enrollment = op.get(Enrollment, plan.enrollment_id, "plan_id")
    reached = sum(1 for goal in goals.values() if goal.status == "raggiunto")
    op.journal(enrollment.household_id, data["review_date"],
               f"plan v{plan.version} reviewed: {reached} of {len(goals)} goals reached", record=review,
               enrollment_id=enrollment.id)
    return {"plan_review_id": review.id,
            "goal_statuses": {str(goal.id): goal.status for goal in plan.goals}}
