"""Case operations: referral, enrollment and its team, assessments, the personalised plan, status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from casefile.errors import AccessDeniedError, InvalidInputError, NotFoundError, RuleViolationError
from casefile.models import (
    Assessment,
    AssessmentScore,
    CaseEvent,
    CaseTeamMember,
    Enrollment,
    PersonalisedPlan,
    PlanAction,
    PlanGoal,
    PlanReview,
    Referral,
)
from tests.casefile.conftest import MARIO

Run = Callable[..., dict[str, Any]]

REFERRAL = {"referral_date": "2026-01-12", "source": "servizio_sociale_territoriale",
            "referring_org": "Polo Nord", "referring_worker": "A. Verdi", "urgency": "sfratto_esecutivo",
            "housing_need_type": "emergenza_abitativa"}


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _refused(run: Run, name: str, payload: dict, field: str, error: type = RuleViolationError) -> None:
    with pytest.raises(error) as info:
        run(name, payload)
    assert field in info.value.fields, info.value.fields


@pytest.fixture
def referral(run: Run, household: dict) -> int:
    return run("register_referral", {"household_id": household["household_id"], **REFERRAL})["referral_id"]


@pytest.fixture
def accepted(run: Run, referral: int) -> int:
    run("record_referral_result", {"referral_id": referral, "result": "accettato", "result_date": "2026-01-20"})
    return referral


@pytest.fixture
def enrollment(run: Run, household: dict, accepted: int, users) -> int:
    return run("open_enrollment", {"household_id": household["household_id"], "referral_id": accepted,
                                   "project_start_date": "2026-02-01",
                                   "team": [{"username": "case_manager", "role": "case_manager"}]})["enrollment_id"]


@pytest.fixture
def other_household(run: Run, orgs) -> int:
    return run("register_household", {"display_name": "Neri", "organisation": "capofila", "since": "2026-01-05",
                                      "members": [{**MARIO, "codice_fiscale": None}]})["household_id"]


# --- referral ----------------------------------------------------------------------------------------

def test_register_referral(session, household, referral) -> None:
    row = session.get(Referral, referral)
    assert (row.household_id, row.referral_date, row.source, row.result) == (
        household["household_id"], date(2026, 1, 12), "servizio_sociale_territoriale", None)
    event = session.scalars(select(CaseEvent).where(CaseEvent.operation == "register_referral")).one()
    assert (event.record_id, event.occurred_on) == (referral, date(2026, 1, 12))


def test_one_pending_referral_per_household(session, run, household, referral) -> None:
    payload = {"household_id": household["household_id"], **REFERRAL, "referral_date": "2026-02-01"}
    _refused(run, "register_referral", payload, "household_id")
    assert _count(session, Referral) == 1
    run("record_referral_result", {"referral_id": referral, "result": "non_idoneo", "result_date": "2026-01-15",
                                   "reason": "fuori target"})
    run("register_referral", payload)
    assert _count(session, Referral) == 2


@pytest.mark.parametrize(("change", "field"), [
    ({"source": "polizia"}, "source"), ({"urgency": None}, "urgency"), ({"housing_need_type": "x"},
                                                                        "housing_need_type"),
    ({"referring_org": ""}, "referring_org"), ({"referral_date": "12/01/2026"}, "referral_date"),
])
def test_register_referral_input(session, run, household, change, field) -> None:
    _refused(run, "register_referral", {"household_id": household["household_id"], **REFERRAL, **change}, field,
             InvalidInputError)
    assert _count(session, Referral) == 0


def test_acknowledge_referral_once_and_not_before_it(session, run, referral) -> None:
    _refused(run, "acknowledge_referral", {"referral_id": referral, "ack_date": "2026-01-11"}, "ack_date")
    assert session.get(Referral, referral).acknowledged_date is None
    assert run("acknowledge_referral", {"referral_id": referral, "ack_date": "2026-01-14"})["ack_days"] == 2
    _refused(run, "acknowledge_referral", {"referral_id": referral, "ack_date": "2026-01-15"}, "referral_id")
    assert session.get(Referral, referral).acknowledged_date == date(2026, 1, 14)
    _refused(run, "acknowledge_referral", {"referral_id": 999, "ack_date": "2026-01-15"}, "referral_id",
             NotFoundError)


@pytest.mark.parametrize(("change", "field", "error"), [
    ({"result": "rifiutato"}, "reason", InvalidInputError),
    ({"result": "ritirato", "reason": "  "}, "reason", InvalidInputError),
    ({"result": "forse", "reason": "x"}, "result", InvalidInputError),
    ({"result_date": "2026-01-11"}, "result_date", RuleViolationError),
])
def test_record_referral_result_refusals(session, run, referral, change, field, error) -> None:
    payload = {"referral_id": referral, "result": "accettato", "result_date": "2026-01-20", **change}
    _refused(run, "record_referral_result", payload, field, error)
    assert session.get(Referral, referral).result is None


def test_referral_result_once_unless_waiting_list(session, run, referral) -> None:
    run("record_referral_result", {"referral_id": referral, "result": "lista_attesa", "result_date": "2026-01-20",
                                   "reason": "nessun alloggio libero"})
    base = {"referral_id": referral, "result_date": "2026-03-01"}
    _refused(run, "record_referral_result", {**base, "result": "lista_attesa", "reason": "ancora"}, "result")
    _refused(run, "record_referral_result", {**base, "result": "accettato", "result_date": "2026-01-19"},
             "result_date")
    run("record_referral_result", {**base, "result": "accettato"})
    row = session.get(Referral, referral)
    assert (row.result, row.result_date, row.result_reason) == ("accettato", date(2026, 3, 1), None)
    _refused(run, "record_referral_result", {**base, "result": "ritirato", "reason": "x"}, "referral_id")
    assert session.get(Referral, referral).result == "accettato"


# --- enrollment --------------------------------------------------------------------------------------

def test_open_enrollment_with_its_team(session, household, enrollment, users) -> None:
    row = session.get(Enrollment, enrollment)
    assert (row.household_id, row.status, row.project_start_date) == (
        household["household_id"], "in_attesa_alloggio", date(2026, 2, 1))
    assert [(m.user_id, m.role, m.since, m.until) for m in row.team] == [
        (users["case_manager"].id, "case_manager", date(2026, 2, 1), None)]
    event = session.scalars(select(CaseEvent).where(CaseEvent.operation == "open_enrollment")).one()
    assert event.enrollment_id == enrollment


@pytest.mark.parametrize(("change", "field", "error"), [
    ({"project_start_date": "2026-01-11"}, "project_start_date", RuleViolationError),
    ({"team": [{"username": "nobody", "role": "case_manager"}]}, "team.0.username", RuleViolationError),
    ({"team": [{"username": "coordinatore", "role": "coordinatore"},
               {"username": "coordinatore", "role": "case_manager"}]}, "team.1.role", RuleViolationError),
    ({"team": [{"username": "inactive", "role": "case_manager"}]}, "team.0.username", RuleViolationError),
    ({"team": [{"username": "supervisore", "role": "supervisore"}]}, "team.0.role", InvalidInputError),
    ({"team": [{"username": "case_manager", "role": "case_manager"}] * 2}, "team", InvalidInputError),
    ({"referral_id": 999}, "referral_id", NotFoundError),
])
def test_open_enrollment_refusals(session, run, household, accepted, users, change, field, error) -> None:
    users["operatore_lavoro"].username = "inactive"
    users["operatore_lavoro"].active = False
    session.flush()
    payload = {"household_id": household["household_id"], "referral_id": accepted,
               "project_start_date": "2026-02-01", **change}
    _refused(run, "open_enrollment", payload, field, error)
    assert (_count(session, Enrollment), _count(session, CaseTeamMember)) == (0, 0)


def test_open_enrollment_needs_an_accepted_referral_of_the_household(session, run, household, referral,
                                                                     other_household) -> None:
    payload = {"household_id": household["household_id"], "referral_id": referral,
               "project_start_date": "2026-02-01"}
    _refused(run, "open_enrollment", payload, "referral_id")
    run("record_referral_result", {"referral_id": referral, "result": "accettato", "result_date": "2026-01-20"})
    _refused(run, "open_enrollment", {**payload, "household_id": other_household}, "referral_id")
    assert _count(session, Enrollment) == 0
    run("open_enrollment", payload)
    assert _count(session, Enrollment) == 1


def test_one_open_enrollment_per_household(session, run, household, enrollment) -> None:
    hh = household["household_id"]
    _refused(run, "open_enrollment", {"household_id": hh, "referral_id": session.get(Enrollment, enrollment)
                                      .referral_id, "project_start_date": "2026-03-01"}, "referral_id")
    second = run("register_referral", {"household_id": hh, **REFERRAL, "referral_date": "2026-03-01"})["referral_id"]
    run("record_referral_result", {"referral_id": second, "result": "accettato", "result_date": "2026-03-02"})
    payload = {"household_id": hh, "referral_id": second, "project_start_date": "2026-03-05"}
    _refused(run, "open_enrollment", payload, "household_id")
    assert _count(session, Enrollment) == 1
    session.get(Enrollment, enrollment).status = "chiuso"
    session.flush()
    run("open_enrollment", payload)
    assert _count(session, Enrollment) == 2


def test_case_team_member_joins_and_leaves(session, run, enrollment) -> None:
    member = run("assign_case_team_member", {"enrollment_id": enrollment, "username": "assistente_sociale",
                                             "role": "assistente_sociale", "since": "2026-02-10"})["team_member_id"]
    row = session.get(CaseTeamMember, member)
    assert (row.role, row.since, row.until) == ("assistente_sociale", date(2026, 2, 10), None)
    _refused(run, "end_case_team_member", {"team_member_id": member, "until": "2026-02-09"}, "until")
    assert session.get(CaseTeamMember, member).until is None
    run("end_case_team_member", {"team_member_id": member, "until": "2026-05-31"})
    assert session.get(CaseTeamMember, member).until == date(2026, 5, 31)
    _refused(run, "end_case_team_member", {"team_member_id": member, "until": "2026-06-30"}, "team_member_id")
    assert session.get(CaseTeamMember, member).until == date(2026, 5, 31)
    events = session.scalars(select(CaseEvent.operation).where(CaseEvent.record_type == "case_team")
                             .order_by(CaseEvent.id)).all()
    assert events == ["assign_case_team_member", "end_case_team_member"]


@pytest.mark.parametrize(("change", "field"), [
    ({"username": "case_manager", "role": "case_manager"}, "username"),
    ({"username": "mediatore", "role": "case_manager"}, "role"),
    ({"username": "ghost"}, "username"),
    ({"since": "2026-01-31"}, "since"),
    ({"enrollment_id": "closed"}, "enrollment_id"),
])
def test_assign_case_team_member_refusals(session, run, enrollment, change, field) -> None:
    if change.get("enrollment_id") == "closed":
        session.get(Enrollment, enrollment).status = "chiuso"
        session.flush()
        change = {"enrollment_id": enrollment}
    members = _count(session, CaseTeamMember)
    _refused(run, "assign_case_team_member", {"enrollment_id": enrollment, "username": "mediatore",
                                              "role": "mediatore", "since": "2026-02-10", **change}, field)
    assert _count(session, CaseTeamMember) == members


# --- assessment --------------------------------------------------------------------------------------

def test_record_assessment(session, run, enrollment) -> None:
    result = run("record_assessment", {"enrollment_id": enrollment, "kind": "preliminare",
                                       "assessment_date": "2026-02-05", "assessor": "case_manager",
                                       "scores": {"reddito": 2, "abitare": 1}, "strengths": "rete familiare",
                                       "risks": "debiti pregressi"})
    row = session.get(Assessment, result["assessment_id"])
    assert [(s.domain, s.score) for s in row.scores] == [("abitare", 1), ("reddito", 2)]
    event = session.scalars(select(CaseEvent).where(CaseEvent.operation == "record_assessment")).one()
    assert "rete" not in event.summary
    assert "debiti" not in event.summary
    assert event.enrollment_id == enrollment


@pytest.mark.parametrize(("scores", "field"), [
    ({}, "scores"), ({"felicita": 3}, "scores.felicita"), ({"abitare": 6}, "scores.abitare"),
    ({"abitare": 0}, "scores.abitare"), ({"abitare": "3"}, "scores.abitare"), ({"abitare": True}, "scores.abitare"),
    ([3], "scores"),
])
def test_record_assessment_scores(session, run, enrollment, scores, field) -> None:
    _refused(run, "record_assessment", {"enrollment_id": enrollment, "kind": "preliminare",
                                        "assessment_date": "2026-02-05", "scores": scores}, field, InvalidInputError)
    assert (_count(session, Assessment), _count(session, AssessmentScore)) == (0, 0)


def test_no_assessment_on_a_closed_enrollment(session, run, enrollment) -> None:
    session.get(Enrollment, enrollment).status = "chiuso"
    session.flush()
    _refused(run, "record_assessment", {"enrollment_id": enrollment, "kind": "uscita",
                                        "assessment_date": "2026-02-05", "scores": {"abitare": 3}}, "enrollment_id")
    assert _count(session, Assessment) == 0


# --- plan --------------------------------------------------------------------------------------------

GOAL = {"domain": "abitare", "description": "Mantenere l'alloggio", "indicator": "contributo pagato",
        "target_date": "2026-12-31",
        "actions": [{"kind": "sostegno", "description": "visite domiciliari", "responsible_role": "case_manager",
                     "frequency": "settimanale"},
                    {"kind": "impegno", "description": "pagare il contributo"}]}


def _draft(run: Run, enrollment: int, **change: Any) -> dict[str, Any]:
    return run("draft_plan", {"enrollment_id": enrollment, "drafted_on": "2026-02-10", "summary": "primo progetto",
                              "household_contribution": "150.50", "goals": [GOAL], **change})


def _sign(run: Run, plan_id: int, **change: Any) -> dict[str, Any]:
    return run("sign_plan", {"plan_id": plan_id, "signed_on": "2026-02-20", "co_signed_by": "assistente_sociale",
                             **change})


def test_draft_plan(session, run, enrollment) -> None:
    result = _draft(run, enrollment)
    plan = session.get(PersonalisedPlan, result["plan_id"])
    assert (plan.version, plan.status, plan.household_contribution_cents) == (1, "bozza", 15050)
    assert [(g.id, g.domain, g.status, g.target_date) for g in plan.goals] == [
        (result["goal_ids"][0], "abitare", "non_avviato", date(2026, 12, 31))]
    assert [(a.kind, a.responsible_role) for a in plan.goals[0].actions] == [
        ("sostegno", "case_manager"), ("impegno", None)]


@pytest.mark.parametrize(("change", "field"), [
    ({"goals": []}, "goals"),
    ({"goals": [{**GOAL, "domain": "svago"}]}, "goals.0.domain"),
    ({"goals": [GOAL, {**GOAL, "target_date": "2026-02-09"}]}, "goals.1.target_date"),
    ({"goals": [{**GOAL, "actions": [{"kind": "sostegno", "description": "x", "responsible_role": "capo"}]}]},
     "goals.0.actions.0.responsible_role"),
    ({"goals": [{**GOAL, "actions": [{"kind": "regalo", "description": "x"}]}]}, "goals.0.actions.0.kind"),
    ({"household_contribution": "-5"}, "household_contribution"),
])
def test_draft_plan_input(session, run, enrollment, change, field) -> None:
    with pytest.raises(InvalidInputError) as info:
        _draft(run, enrollment, **change)
    assert field in info.value.fields
    assert (_count(session, PersonalisedPlan), _count(session, PlanGoal), _count(session, PlanAction)) == (0, 0, 0)


def test_plan_versions_draft_sign_supersede(session, run, enrollment) -> None:
    first = _draft(run, enrollment)["plan_id"]
    with pytest.raises(RuleViolationError) as info:
        _draft(run, enrollment)
    assert "enrollment_id" in info.value.fields
    assert _count(session, PersonalisedPlan) == 1
    _sign(run, first)
    second = _draft(run, enrollment, drafted_on="2026-06-01")
    assert second["version"] == 2
    result = _sign(run, second["plan_id"], signed_on="2026-06-05")
    assert result["superseded_plan_ids"] == [first]
    plans = session.scalars(select(PersonalisedPlan).order_by(PersonalisedPlan.version)).all()
    assert [(p.version, p.status, p.signed_on) for p in plans] == [
        (1, "sostituito", date(2026, 2, 20)), (2, "firmato", date(2026, 6, 5))]


@pytest.mark.parametrize(("change", "field"), [
    ({"signed_on": "2026-02-09"}, "signed_on"),
    ({"co_signed_by": "case_manager"}, "co_signed_by"),
    ({"co_signed_by": "nobody"}, "co_signed_by"),
    ({"co_signed_by": "inactive"}, "co_signed_by"),
])
def test_sign_plan_refusals(session, run, enrollment, users, change, field) -> None:
    users["assistente_sociale"].active = False
    users["assistente_sociale"].username = "inactive"
    session.flush()
    plan_id = _draft(run, enrollment)["plan_id"]
    with pytest.raises(RuleViolationError) as info:
        _sign(run, plan_id, **change)
    assert field in info.value.fields
    assert session.get(PersonalisedPlan, plan_id).status == "bozza"


def test_only_a_draft_is_signed(session, run, enrollment) -> None:
    plan_id = _draft(run, enrollment)["plan_id"]
    _sign(run, plan_id)
    with pytest.raises(RuleViolationError) as info:
        _sign(run, plan_id, signed_on="2026-03-01")
    assert "plan_id" in info.value.fields
    assert session.get(PersonalisedPlan, plan_id).signed_on == date(2026, 2, 20)


@pytest.fixture
def signed_plan(run: Run, enrollment: int) -> dict[str, Any]:
    draft = _draft(run, enrollment, goals=[GOAL, {**GOAL, "domain": "lavoro", "actions": []}])
    _sign(run, draft["plan_id"])
    return draft


def test_review_plan_updates_goal_statuses(session, run, signed_plan) -> None:
    housing, work = signed_plan["goal_ids"]
    result = run("review_plan", {"plan_id": signed_plan["plan_id"], "review_date": "2026-05-20",
                                 "goal_statuses": {str(housing): "raggiunto", str(work): "in_corso"},
                                 "next_review_due": "2026-08-20", "notes": "bene"})
    assert [session.get(PlanGoal, g).status for g in (housing, work)] == ["raggiunto", "in_corso"]
    review = session.get(PlanReview, result["plan_review_id"])
    assert (review.goal_statuses, review.next_review_due) == (
        {str(housing): "raggiunto", str(work): "in_corso"}, date(2026, 8, 20))
    event = session.scalars(select(CaseEvent).where(CaseEvent.operation == "review_plan")).one()
    assert (event.record_type, event.summary) == ("plan_review", "plan v1 reviewed: 1 of 2 goals reached")


def test_review_plan_refusals(session, run, signed_plan, enrollment) -> None:
    housing = signed_plan["goal_ids"][0]
    base = {"plan_id": signed_plan["plan_id"], "review_date": "2026-05-20"}
    cases = [
        ({"next_review_due": "2026-05-20"}, "next_review_due", InvalidInputError),
        ({"goal_statuses": {str(housing): "finito"}}, f"goal_statuses.{housing}", InvalidInputError),
        ({"goal_statuses": {"abc": "in_corso"}}, "goal_statuses.abc", InvalidInputError),
        ({"goal_statuses": {str(housing): "raggiunto", "999": "in_corso"}}, "goal_statuses.999",
         RuleViolationError),
        ({"review_date": "2026-02-19"}, "review_date", RuleViolationError),
    ]
    for change, field, error in cases:
        _refused(run, "review_plan", {**base, **change}, field, error)
    draft = _draft(run, enrollment, drafted_on="2026-06-01")["plan_id"]
    _refused(run, "review_plan", {**base, "plan_id": draft}, "plan_id")
    assert _count(session, PlanReview) == 0
    assert session.get(PlanGoal, housing).status == "non_avviato"


# --- enrollment status -------------------------------------------------------------------------------

def test_enrollment_status_moves_forward_one_step_at_a_time(session, run, enrollment) -> None:
    def move(status: str) -> dict[str, Any]:
        return run("update_enrollment_status", {"enrollment_id": enrollment, "status": status,
                                                "status_date": "2026-04-01"})

    for wrong in ("in_valutazione", "in_uscita", "in_attesa_alloggio"):
        with pytest.raises(RuleViolationError) as info:
            move(wrong)
        assert "status" in info.value.fields
    assert move("inserito") == {"enrollment_id": enrollment, "status": "inserito",
                                "previous_status": "in_attesa_alloggio"}
    assert move("in_uscita")["status"] == "in_uscita"
    with pytest.raises(RuleViolationError):
        move("inserito")
    assert session.get(Enrollment, enrollment).status == "in_uscita"
    with pytest.raises(InvalidInputError) as info:
        move("chiuso")
    assert "status" in info.value.fields


def test_enrollment_status_date(session, run, enrollment) -> None:
    _refused(run, "update_enrollment_status", {"enrollment_id": enrollment, "status": "inserito",
                                               "status_date": "2026-01-31"}, "status_date")
    assert session.get(Enrollment, enrollment).status == "in_attesa_alloggio"
    run("update_enrollment_status", {"enrollment_id": enrollment, "status": "inserito"})
    event = session.scalars(select(CaseEvent).where(CaseEvent.operation == "update_enrollment_status")).one()
    assert event.summary == "status in_attesa_alloggio → inserito"
    assert event.occurred_on >= date(2026, 2, 1)


def test_an_enrollment_under_assessment_moves_on_to_waiting_for_housing(session, run, household) -> None:
    row = Enrollment(household_id=household["household_id"], project_start_date=date(2026, 2, 1),
                     status="in_valutazione")
    session.add(row)
    session.flush()
    _refused(run, "update_enrollment_status", {"enrollment_id": row.id, "status": "inserito"}, "status")
    run("update_enrollment_status", {"enrollment_id": row.id, "status": "in_attesa_alloggio",
                                     "status_date": "2026-02-03"})
    assert session.get(Enrollment, row.id).status == "in_attesa_alloggio"


def test_staff_callers_are_held_to_the_policy(session, run, household, callers) -> None:
    payload = {"household_id": household["household_id"], **REFERRAL}
    with pytest.raises(AccessDeniedError):
        run("register_referral", payload, callers["referente_abitativo"])
    assert _count(session, Referral) == 0
    referral_id = run("register_referral", payload, callers["coordinatore"])["referral_id"]
    event = session.scalars(select(CaseEvent).where(CaseEvent.record_id == referral_id,
                                                    CaseEvent.operation == "register_referral")).one()
    assert event.actor == "coordinatore"
