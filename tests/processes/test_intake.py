"""The intake process (domain.md §3.1): from the referral to the enrollment that starts housing placement.

This module drives the main path and checks the forms; ``test_intake_branches.py`` drives the other
outcomes (not eligible, refused, withdrawn, waiting list), the timers and the incidents. Both use the
``driver`` of ``conftest.py``: every step is checked against the stored instance and completed with a
fresh engine.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from casefile.models import (
    Assessment,
    CaseEvent,
    CaseTeamMember,
    Consent,
    Enrollment,
    HouseholdMembership,
    Organisation,
    Person,
    PersonalisedPlan,
    PersonSensitive,
    PrivacyNotice,
    Referral,
    User,
)
from engine import Actor, FormValidationError, NotAllowedError
from engine.models import HumanTask, Message, MessageSubscription, ProcessInstance, Timer

from .conftest import ProcessDriver, actor_for, task_summary

# --- what staff type, step by step ----------------------------------------------------------------

HEAD_CF = "BNLHMD85M01Z330T"
REFERRAL = {
    "referral_date": "2026-03-02",
    "referring_org": "Polo di Inclusione Sociale, Distretto Nord",
    "referring_worker": "Maria Rossi",
    "referral_source": "servizio_sociale_territoriale",
    "urgency": "sfratto_esecutivo",
    "housing_need_type": "emergenza_abitativa",
    "household_name": "Ahmed Benali",
    "referral_notes": "Sfratto fissato per il 15 aprile.",
}
ACK = {"ack_date": "2026-03-03"}
INTERVIEW = {
    "privacy_notice_given": True,
    "interview_date": "2026-03-10",
    "language": "arabo",
    "interpreter_needed": True,
    "consents": ["foto", "newsletter"],
    "interview_notes": "Nucleo di tre persone.",
}
HEAD = {"first_name": "Ahmed", "last_name": "Benali", "relationship_to_hoh": 1, "codice_fiscale": HEAD_CF,
        "birth_date": "1985-08-01", "sex": "M", "citizenship": "Marocco", "residence_status": "residente",
        "permit_type": "Permesso UE per soggiornanti di lungo periodo", "permit_expiry": "2030-01-31"}
COMPOSITION = {
    "members": [
        HEAD,
        {"first_name": "Fatima", "last_name": "Benali", "relationship_to_hoh": 3, "codice_fiscale": "BNLFTM88B51Z330M",
         "birth_date": "1988-02-11", "sex": "F"},
        {"first_name": "Youssef", "last_name": "Benali", "relationship_to_hoh": 2, "birth_date": "2015-06-30"},
    ],
    "legal_status": "permesso_valido",
}
HOUSING = {
    "prior_living_situation": "410", "length_of_stay": "5", "ethos_category": "insecure",
    "eviction_status": "esecutivo", "eviction_validation_date": "2026-01-15",
    "eviction_execution_date": "2026-04-15", "turin_residence_or_work": True,
}
ECONOMIC = {
    "isee_available": True, "isee_value": "8500,00", "isee_expiry_date": "2026-12-31",
    "income_sources": [{"source": "adi", "monthly_amount": "500.00"},
                       {"source": "reddito_lavoro", "monthly_amount": "400"}],
    "prior_arrears": "1200",
}
WORK = {"employment_status": "occupato_pt", "education_level": "secondaria_primo_grado", "cpi_registered": True}
HEALTH = {"health_data_needed": True, "disability": False, "mental_health_service": False,
          "addiction_service": False, "dv_survivor": False, "chronic_condition": "Diabete di tipo 2"}
SCORES = {"abitare": 1, "reddito": 2, "lavoro": 3, "salute": 3, "relazioni": 4, "competenze_domestiche": 4,
          "documenti": 5}
ASSESSMENT = {"assessment_date": "2026-03-20", "assessment_kind": "preliminare",
              **{f"score_{domain}": score for domain, score in SCORES.items()},
              "strengths": "Rete familiare solida.", "risks": "Sfratto imminente."}
ACCEPT = {"decision": "accettato", "decision_date": "2026-03-23"}
ENROLL = {"project_start_date": "2026-03-23", "case_manager_username": "case_manager",
          "social_worker_username": "assistente_sociale"}
PLAN = {
    "plan_draft_date": "2026-03-30",
    "goals": [
        {"domain": "abitare", "description": "Mantenere l'alloggio", "indicator": "Contributo versato ogni mese",
         "target_date": "2026-12-31",
         "actions": [{"kind": "sostegno", "description": "Visite domiciliari", "responsible_role": "case_manager",
                      "frequency": "settimanale"},
                     {"kind": "impegno", "description": "Versare il contributo mensile"}]},
        {"domain": "lavoro", "description": "Contratto a tempo pieno"},
    ],
    "household_contribution": "150.00",
    "plan_summary": "Accompagnamento all'abitare e al lavoro.",
}
SIGN = {"plan_signed_date": "2026-04-08", "household_signed": True, "social_worker_username": "assistente_sociale"}

# The main path in order; the two situation tasks run in parallel.
STEPS: list[tuple[str, dict[str, Any]]] = [
    ("enter_referral", REFERRAL), ("confirm_receipt", ACK), ("first_interview", INTERVIEW),
    ("household_composition", COMPOSITION), ("housing_history", HOUSING), ("economic_situation", ECONOMIC),
    ("work_situation", WORK), ("health_data", HEALTH), ("assessment", ASSESSMENT), ("decide_admission", ACCEPT),
    ("enroll_household", ENROLL), ("write_plan", PLAN), ("co_sign_plan", SIGN),
]
WHO = {  # each step's role and organisation (task_organisations of the instance)
    "enter_referral": ("coordinatore", "capofila"), "confirm_receipt": ("coordinatore", "capofila"),
    "first_interview": ("case_manager", "capofila"), "household_composition": ("case_manager", "capofila"),
    "housing_history": ("case_manager", "capofila"), "economic_situation": ("case_manager", "capofila"),
    "work_situation": ("operatore_lavoro", "partner"), "health_data": ("case_manager", "capofila"),
    "assessment": ("equipe", "capofila"), "decide_admission": ("coordinatore", "capofila"),
    "enroll_household": ("coordinatore", "capofila"), "write_plan": ("case_manager", "capofila"),
    "co_sign_plan": ("assistente_sociale", "comune"),
}


def start(driver: ProcessDriver) -> ProcessInstance:
    """A new referral, as the coordinator's "new referral" button starts it."""
    return driver.start("intake")


def run_until(driver: ProcessDriver, instance: ProcessInstance, stop: str | None = None, *,
              first: str = "enter_referral", **changes: dict[str, Any]) -> None:
    """Complete the main path's steps from ``first`` up to (not including) ``stop``.

    ``changes`` alter a step's data: ``first_interview={"language": "rumeno", "consents": None}`` changes one
    field and leaves one out.
    """
    specs = [spec for spec, _data in STEPS]
    for spec, data in STEPS[specs.index(first):]:
        if spec == stop:
            return
        driver.complete(spec, changed(data, changes.get(spec, {})), instance=instance)
    assert stop is None, f"{stop} is not a step of the main path after {first}"


def changed(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``changes`` applied; a change to None leaves the field out."""
    return {key: value for key, value in {**data, **changes}.items() if value is not None}


def journal(driver: ProcessDriver, household_id: int) -> list[str]:
    """The operations journaled for the household, oldest first (``driver.journal`` reads a column that
    ``case_event`` does not have)."""
    return list(driver.session.scalars(select(CaseEvent.operation).where(CaseEvent.household_id == household_id)
                                       .order_by(CaseEvent.id)))


def instance_data(driver: ProcessDriver, instance: ProcessInstance) -> dict[str, Any]:
    """The instance's data as its most recent ready or waiting step sees it.

    ``driver.data`` reads the last ready or waiting task, which here can be a join still waiting for its
    other branches (the finished withdrawal listener's, say), holding no data yet.
    """
    workflow = driver.fresh_engine().load(instance)
    tasks = [t for t in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING) if t.data]
    return dict(max(tasks, key=lambda t: t.last_state_change).data) if tasks else dict(workflow.data)


def case_context(driver: ProcessDriver, instance: ProcessInstance) -> dict[str, Any]:
    data = instance_data(driver, instance)
    return {key: data[key] for key in ("household_id", "household_reference", "business_key", "referral_id")}


# --- the main path -------------------------------------------------------------------------------


def test_main_path_hands_each_step_to_its_role_and_opens_the_enrollment(driver: ProcessDriver) -> None:
    instance = start(driver)
    assert instance.organisation == "capofila"
    for spec, data in STEPS:
        ready = {row.task_spec_id: row for row in driver.ready(instance)}
        assert spec in ready, (spec, sorted(ready))
        assert (ready[spec].role, ready[spec].organisation) == WHO[spec], spec
        if spec == "economic_situation":  # the work situation runs beside it, for the employment worker
            assert task_summary(ready.values()) == [("economic_situation", "case_manager", "capofila"),
                                                    ("work_situation", "operatore_lavoro", "partner")]
        driver.complete(spec, data, instance=instance)
        if spec == "enter_referral":
            assert instance.business_key == instance_data(driver, instance)["household_reference"] == "NUC-2026-0001"

    assert instance.status == "completed"
    assert driver.ready(instance) == []
    assert driver.rows(Timer, instance_id=instance.id) == []
    assert driver.rows(MessageSubscription, instance_id=instance.id) == []
    # Special-category data does not stay in the process state once recorded.
    data = instance_data(driver, instance)
    assert data["household_reference"] == "NUC-2026-0001"
    health = ("disability", "chronic_condition", "mental_health_service", "addiction_service", "dv_survivor")
    assert {name: data[name] for name in health} == dict.fromkeys(health)


def test_main_path_writes_the_case_file(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance)
    context = case_context(driver, instance)
    household = driver.household(context["household_reference"])
    organisation = driver.session.get(Organisation, household.organisation_id)
    assert (household.id, household.display_name, organisation.key) == (
        context["household_id"], "Ahmed Benali", "capofila")

    memberships = sorted(driver.rows(HouseholdMembership, household_id=household.id), key=lambda m: m.id)
    assert [(m.person.first_name, m.relationship_to_hoh, m.is_hoh, m.valid_from.isoformat()) for m in memberships] == [
        ("Ahmed", 1, True, "2026-03-02"), ("Fatima", 3, False, "2026-03-02"), ("Youssef", 2, False, "2026-03-02")]
    head = memberships[0].person
    assert (head.last_name, head.codice_fiscale, head.birth_date.isoformat(), head.sex, head.language,
            head.permit_expiry.isoformat()) == ("Benali", HEAD_CF, "1985-08-01", "M", "arabo", "2030-01-31")

    [referral] = driver.rows(Referral, household_id=household.id)
    assert (referral.id, referral.source, referral.referring_worker, referral.urgency) == (
        context["referral_id"], "servizio_sociale_territoriale", "Maria Rossi", "sfratto_esecutivo")
    assert (referral.acknowledged_date.isoformat(), referral.result, referral.result_date.isoformat(),
            referral.result_reason) == ("2026-03-03", "accettato", "2026-03-23", None)

    [notice] = driver.rows(PrivacyNotice, household_id=household.id)
    assert (notice.person_id, notice.language, notice.interpreter_used, notice.given_by) == (
        head.id, "arabo", True, "case_manager")
    assert notice.given_at.date().isoformat() == "2026-03-10"
    assert sorted(c.purpose for c in driver.rows(Consent, person_id=head.id)) == ["foto", "newsletter"]
    [sensitive] = driver.rows(PersonSensitive, person_id=head.id)
    assert (sensitive.chronic_condition, sensitive.disability, sensitive.pregnancy) == (
        "Diabete di tipo 2", False, None)

    [enrollment] = driver.rows(Enrollment, household_id=household.id)
    assert (enrollment.referral_id, enrollment.status, enrollment.project_start_date.isoformat()) == (
        referral.id, "in_attesa_alloggio", "2026-03-23")
    team = driver.session.execute(select(CaseTeamMember.role, User.username).join(User)
                                  .where(CaseTeamMember.enrollment_id == enrollment.id)).all()
    assert sorted(team) == [("assistente_sociale", "assistente_sociale"), ("case_manager", "case_manager")]
    [assessment] = driver.rows(Assessment, enrollment_id=enrollment.id)
    assert (assessment.kind, assessment.assessment_date.isoformat(), assessment.risks) == (
        "preliminare", "2026-03-20", "Sfratto imminente.")
    assert {s.domain: s.score for s in assessment.scores} == SCORES

    [plan] = driver.rows(PersonalisedPlan, enrollment_id=enrollment.id)
    assert (plan.version, plan.status, plan.drafted_on.isoformat(), plan.signed_on.isoformat()) == (
        1, "firmato", "2026-03-30", "2026-04-08")
    assert (plan.co_signed_by, plan.household_contribution_cents) == ("assistente_sociale", 15000)
    assert [(g.domain, [a.kind for a in g.actions]) for g in plan.goals] == [
        ("abitare", ["sostegno", "impegno"]), ("lavoro", [])]

    assert journal(driver, household.id) == [
        "register_household", "register_referral", "acknowledge_referral", "record_privacy_notice",
        "record_consent", "record_consent", "update_person", "add_household_member", "add_household_member",
        "record_sensitive_data", "record_referral_result", "open_enrollment", "record_assessment", "draft_plan",
        "sign_plan"]


def test_the_enrollment_opened_message_carries_the_case_context(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance)
    data = instance_data(driver, instance)
    [message] = driver.rows(Message, name="enrollment_opened")
    assert message.source_instance_id == instance.id
    enrollment = driver.session.scalars(select(Enrollment)).one()
    assert message.payload == {
        "household_id": data["household_id"], "household_reference": "NUC-2026-0001",
        "business_key": "NUC-2026-0001", "enrollment_id": enrollment.id, "project_start_date": "2026-03-23",
        "task_organisations": {"assistente_sociale": "comune", "coordinatore": "capofila", "equipe": "capofila",
                               "case_manager": "capofila", "referente_abitativo": "locatario",
                               "amministrazione": "locatario", "mediatore": "partner",
                               "operatore_lavoro": "partner"}}
    # Housing placement may not be deployed yet: delivered (it started) or kept as undeliverable.
    assert message.status in ("delivered", "undeliverable")


def test_steps_are_only_for_their_role_and_organisation(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance, "first_interview")
    interview = driver.task("first_interview", instance)
    for outsider in ("coordinatore", "operatore_lavoro"):
        with pytest.raises(NotAllowedError):
            driver.engine.complete_task(driver.session, interview.id, INTERVIEW, actor_for(outsider))
    other_partner = Actor("dario", frozenset({"case_manager"}), "altro")
    with pytest.raises(NotAllowedError):
        driver.engine.complete_task(driver.session, interview.id, INTERVIEW, other_partner)


def test_due_dates_follow_the_tasks_deadlines(driver: ProcessDriver) -> None:
    instance = start(driver)
    register = driver.task("enter_referral", instance)
    assert register.due_at == driver.clock() + timedelta(days=2)
    assert (register.form_key, register.ui_form_key) == ("intake_enter_referral.schema.json",
                                                         "intake_enter_referral.uischema.json")
    driver.clock.advance(hours=3)  # due times count from when each task becomes ready
    run_until(driver, instance, "first_interview")
    assert driver.task("first_interview", instance).due_at == driver.clock() + timedelta(days=10)


def test_only_the_consents_given_are_recorded(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance, "housing_history", first_interview={"consents": None, "interview_notes": None},
              household_composition={"members": [HEAD], "legal_status": "permesso_valido"})
    household_id = instance_data(driver, instance)["household_id"]
    assert driver.session.scalars(select(Consent)).all() == []
    assert len(driver.rows(HouseholdMembership, household_id=household_id)) == 1
    assert journal(driver, household_id)[-2:] == ["record_privacy_notice", "update_person"]


def test_health_data_that_the_plan_does_not_need_is_not_recorded(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance, "assessment", health_data={"health_data_needed": False, "chronic_condition": None})
    assert driver.session.scalars(select(PersonSensitive)).all() == []
    assert "record_sensitive_data" not in journal(driver, instance_data(driver, instance)["household_id"])


# --- forms ---------------------------------------------------------------------------------------


def refused_fields(driver: ProcessDriver, instance: ProcessInstance, spec: str, data: dict[str, Any]) -> list[str]:
    """The fields a form refuses; the task stays ready and nothing moves."""
    task = driver.task(spec, instance)
    with pytest.raises(FormValidationError) as error:
        driver.engine.complete_task(driver.session, task.id, data, actor_for(task.role or ""))
    assert driver.task(spec, instance).id == task.id
    return sorted(error.value.fields)


@pytest.mark.parametrize(("change", "field"), [
    ({"referral_date": "2026-02-30"}, "referral_date"),
    ({"referral_source": "passaparola"}, "referral_source"),
    ({"urgency": "Sfratto esecutivo con data"}, "urgency"),  # the label is not the stored value
    ({"housing_need_type": None}, "housing_need_type"),
    ({"household_name": "Benali"}, "household_name"),  # first name and surname
    ({"codice_fiscale": "RSSMRA80A01L219M"}, "codice_fiscale"),  # no fields beyond the form's
])
def test_enter_referral_rejects_bad_data(driver: ProcessDriver, change: dict[str, Any], field: str) -> None:
    instance = start(driver)
    assert refused_fields(driver, instance, "enter_referral", changed(REFERRAL, change)) == [field]
    assert driver.session.scalars(select(Referral)).all() == []


@pytest.mark.parametrize(("spec", "change", "fields"), [
    ("first_interview", {"privacy_notice_given": False}, ["privacy_notice_given"]),
    ("first_interview", {"consents": ["foto", "foto"]}, ["consents"]),
    ("household_composition", {"members": [{**HEAD, "relationship_to_hoh": 2}]}, ["members"]),  # no head
    ("household_composition", {"members": [HEAD, HEAD]}, ["members"]),  # two heads
    ("household_composition", {"members": [{**HEAD, "codice_fiscale": "benali"}]}, ["members.0.codice_fiscale"]),
    ("housing_history", {"eviction_validation_date": None, "eviction_execution_date": None},
     ["eviction_execution_date", "eviction_validation_date"]),
    ("economic_situation", {"isee_value": None}, ["isee_value"]),
    ("economic_situation", {"income_sources": [{"source": "adi", "monthly_amount": "500 euro"}]},
     ["income_sources.0.monthly_amount"]),
])
def test_data_collection_forms_refuse_bad_data(driver: ProcessDriver, spec: str, change: dict[str, Any],
                                               fields: list[str]) -> None:
    instance = start(driver)
    run_until(driver, instance, spec)
    assert refused_fields(driver, instance, spec, changed(dict(STEPS)[spec], change)) == fields


def test_health_form_refuses_data_the_plan_does_not_need(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance, "health_data")
    assert refused_fields(driver, instance, "health_data", {**HEALTH, "health_data_needed": False}) == [
        "chronic_condition"]
    assert refused_fields(driver, instance, "health_data", {"health_data_needed": True}) == [
        "addiction_service", "disability", "dv_survivor", "mental_health_service"]


def test_decisions_other_than_acceptance_need_a_reason(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance, "decide_admission")
    assert refused_fields(driver, instance, "decide_admission", {**ACCEPT, "decision": "rifiutato"}) == [
        "decision_reason"]
    assert refused_fields(driver, instance, "decide_admission", {**ACCEPT, "decision": "sospeso"}) == ["decision"]


def test_the_plan_needs_a_goal_and_the_households_signature(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance, "write_plan")
    assert refused_fields(driver, instance, "write_plan", {**PLAN, "goals": []}) == ["goals"]
    assert refused_fields(driver, instance, "write_plan", {**PLAN, "household_contribution": "150 €"}) == [
        "household_contribution"]
    driver.complete("write_plan", PLAN, instance=instance)
    assert refused_fields(driver, instance, "co_sign_plan", {**SIGN, "household_signed": False}) == [
        "household_signed"]


def test_instances_started_at_once_keep_their_own_households(driver: ProcessDriver) -> None:
    first, second = start(driver), start(driver)
    driver.complete("enter_referral", REFERRAL, instance=first)
    driver.complete("enter_referral", {**REFERRAL, "household_name": "Ioana Popescu"}, instance=second)
    assert (first.business_key, second.business_key) == ("NUC-2026-0001", "NUC-2026-0002")
    assert [row.business_key for row in driver.ready(second)] == ["NUC-2026-0002"]
    assert driver.household("NUC-2026-0002").display_name == "Ioana Popescu"
    assert driver.session.get(Person, instance_data(driver, second)["head_person_id"]).first_name == "Ioana"
    assert driver.session.scalars(select(HumanTask.task_spec_id).where(HumanTask.status == "ready")).all() == [
        "confirm_receipt", "confirm_receipt"]
