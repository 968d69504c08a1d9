"""The intake's other outcomes, timers and incidents (domain.md §3.1); the main path is in test_intake.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from casefile.models import Enrollment, Household, Person, Referral
from engine import FormValidationError
from engine.models import HumanTask, Incident, Message, MessageSubscription, ProcessInstance, Timer

from .conftest import ProcessDriver, actor_for, task_summary
from .test_intake import (
    ACCEPT,
    ASSESSMENT,
    ENROLL,
    HEAD,
    REFERRAL,
    changed,
    instance_data,
    journal,
    run_until,
    start,
)


def referral_of(driver: ProcessDriver, instance: ProcessInstance) -> Referral:
    referral = driver.session.get(Referral, instance_data(driver, instance)["referral_id"])
    assert referral is not None
    driver.session.refresh(referral)
    return referral


def assert_closed(driver: ProcessDriver, instance: ProcessInstance) -> None:
    """Ended for good: nothing left to do, wait for or be told."""
    assert instance.status == "completed"
    assert driver.ready(instance) == []
    assert driver.rows(Timer, instance_id=instance.id) == []
    assert driver.rows(MessageSubscription, instance_id=instance.id) == []
    assert driver.session.scalars(select(Enrollment)).all() == []


# --- eligibility (DMN intake_eligibility) ------------------------------------------------------------


@pytest.mark.parametrize(("changes", "reason"), [
    ({"household_composition": {"legal_status": "senza_titolo"}}, "Il referente non ha un titolo di soggiorno valido"),
    ({"housing_history": {"turin_residence_or_work": False}},
     "Il nucleo non ha residenza né lavoro a Torino da almeno un anno"),
    ({"economic_situation": {"isee_value": "26000.01"}}, "L'ISEE del nucleo supera la soglia di 26.000 €"),
    ({"assessment": {"score_abitare": 4}}, "Il bisogno abitativo non è prioritario per il progetto (abitare 4 o 5)"),
], ids=["legal_status", "turin", "isee", "housing_need"])
def test_a_household_that_fails_the_rules_is_closed_as_not_eligible(driver: ProcessDriver, changes: dict[str, Any],
                                                                     reason: str) -> None:
    instance = start(driver)
    run_until(driver, instance, "decide_admission", **changes)

    referral = referral_of(driver, instance)
    assert (referral.result, referral.result_date.isoformat(), referral.result_reason) == (
        "non_idoneo", ASSESSMENT["assessment_date"], reason)
    assert_closed(driver, instance)
    done = driver.session.scalars(select(HumanTask.task_spec_id).where(HumanTask.instance_id == instance.id)).all()
    assert "decide_admission" not in done
    assert journal(driver, referral.household_id)[-1] == "record_referral_result"


@pytest.mark.parametrize("economic", [
    {"isee_value": "26000"},  # the threshold itself is allowed
    {"isee_available": False, "isee_value": None, "isee_expiry_date": None},  # no ISEE yet: not a reason to refuse
], ids=["isee_at_threshold", "no_isee"])
def test_households_within_the_rules_reach_the_decision(driver: ProcessDriver, economic: dict[str, Any]) -> None:
    instance = start(driver)
    run_until(driver, instance, "decide_admission", economic_situation=economic)
    assert task_summary(driver.ready(instance)) == [("decide_admission", "coordinatore", "capofila")]
    data = instance_data(driver, instance)
    assert (data["eligible"], data["eligibility_reason"]) == (True, "Requisiti soddisfatti")
    assert referral_of(driver, instance).result is None


# --- decisions --------------------------------------------------------------------------------------


@pytest.mark.parametrize("decision", ["rifiutato", "non_idoneo", "ritirato"])
def test_a_referral_closed_by_the_decision_keeps_its_reason(driver: ProcessDriver, decision: str) -> None:
    instance = start(driver)
    reason = "Il nucleo ha trovato una sistemazione presso parenti."
    run_until(driver, instance, "enroll_household", decide_admission={"decision": decision, "decision_reason": reason})

    referral = referral_of(driver, instance)
    assert (referral.result, referral.result_date.isoformat(), referral.result_reason) == (
        decision, ACCEPT["decision_date"], reason)
    assert_closed(driver, instance)
    assert driver.rows(Message, name="enrollment_opened") == []


def test_the_waiting_list_is_reviewed_every_30_days_until_the_household_is_accepted(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance, "enroll_household",
              decide_admission={"decision": "lista_attesa", "decision_reason": "Nessun alloggio disponibile"})
    referral = referral_of(driver, instance)
    assert (referral.result, referral.result_reason) == ("lista_attesa", "Nessun alloggio disponibile")
    [timer] = driver.rows(Timer, instance_id=instance.id, task_spec_id="waiting_list_timer")
    assert timer.due_at == driver.clock() + timedelta(days=30)

    assert driver.advance(days=29) == 0
    assert driver.ready(instance) == []
    assert driver.advance(days=1, seconds=1) == 1
    assert task_summary(driver.ready(instance)) == [("review_waiting_list", "coordinatore", "capofila")]
    driver.complete("review_waiting_list", {"decision": "lista_attesa", "decision_date": "2026-04-23"},
                    instance=instance)
    assert driver.ready(instance) == []
    assert referral_of(driver, instance).result == "lista_attesa"  # staying on the list records nothing new

    assert driver.advance(days=30, seconds=1) == 1
    driver.complete("review_waiting_list", {"decision": "accettato", "decision_date": "2026-05-25"},
                    instance=instance)
    referral = referral_of(driver, instance)
    assert (referral.result, referral.result_date.isoformat(), referral.result_reason) == (
        "accettato", "2026-05-25", None)
    assert task_summary(driver.ready(instance)) == [("enroll_household", "coordinatore", "capofila")]
    assert instance_data(driver, instance)["project_start_date"] == "2026-05-25"  # pre-filled from the decision

    driver.complete("enroll_household", {**ENROLL, "project_start_date": "2026-05-25"}, instance=instance)
    # The plan's deadline counts from the acceptance when the household waited after its assessment.
    [deadline] = driver.rows(Timer, instance_id=instance.id, task_spec_id="plan_deadline")
    assert deadline.due_at == datetime(2026, 6, 22, 22, 59, tzinfo=UTC)


def test_a_review_can_close_the_referral(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance, "enroll_household",
              decide_admission={"decision": "lista_attesa", "decision_reason": "Nessun alloggio disponibile"})
    driver.advance(days=30, seconds=1)
    review = {"decision": "rifiutato", "decision_date": "2026-04-22"}
    task = driver.task("review_waiting_list", instance)
    with pytest.raises(FormValidationError) as error:  # a closing decision needs its reason
        driver.engine.complete_task(driver.session, task.id, review, actor_for("coordinatore"))
    assert list(error.value.fields) == ["decision_reason"]
    driver.complete("review_waiting_list", {**review, "decision_reason": "Il nucleo rinuncia"}, instance=instance)
    assert (referral_of(driver, instance).result, referral_of(driver, instance).result_reason) == (
        "rifiutato", "Il nucleo rinuncia")
    assert_closed(driver, instance)


# --- withdrawal (message referral_withdrawn, correlated on household_reference) ---------------------


def withdraw(driver: ProcessDriver, reference: str, when: str = "2026-03-25") -> Message:
    payload = {"household_reference": reference, "withdrawn_date": when, "reason": "Il servizio ritira l'invio"}
    return driver.send("referral_withdrawn", payload, correlations={"household_reference": reference})


@pytest.mark.parametrize("step", ["confirm_receipt", "work_situation", "decide_admission"])
def test_a_withdrawal_closes_the_referral_at_any_step_before_acceptance(driver: ProcessDriver, step: str) -> None:
    instance = start(driver)
    run_until(driver, instance, step)
    reference = instance_data(driver, instance)["household_reference"]
    waiting = [row.id for row in driver.ready(instance)]

    message = withdraw(driver, reference)

    assert (message.status, message.target_instance_id) == ("delivered", instance.id)
    referral = referral_of(driver, instance)
    assert (referral.result, referral.result_date.isoformat(), referral.result_reason) == (
        "ritirato", "2026-03-25", "Il servizio ritira l'invio")
    assert_closed(driver, instance)
    assert {driver.session.get(HumanTask, task_id).status for task_id in waiting} == {"cancelled"}


def test_a_withdrawal_reaches_only_its_own_referral(driver: ProcessDriver) -> None:
    first, second = start(driver), start(driver)
    driver.complete("enter_referral", REFERRAL, instance=first)
    driver.complete("enter_referral", {**REFERRAL, "household_name": "Ioana Popescu"}, instance=second)

    message = withdraw(driver, "NUC-2026-0002")

    assert message.target_instance_id == second.id
    assert (first.status, second.status) == ("running", "completed")
    assert referral_of(driver, first).result is None
    assert withdraw(driver, "NUC-2026-0099").status == "undeliverable"


def test_a_household_on_the_waiting_list_can_still_be_withdrawn(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance, "enroll_household",
              decide_admission={"decision": "lista_attesa", "decision_reason": "Nessun alloggio disponibile"})
    withdraw(driver, instance_data(driver, instance)["household_reference"], "2026-04-10")
    assert referral_of(driver, instance).result == "ritirato"
    assert_closed(driver, instance)


def test_once_accepted_the_referral_can_no_longer_be_withdrawn(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance, "enroll_household")
    assert driver.rows(MessageSubscription, instance_id=instance.id) == []  # the acceptance stopped the listener

    message = withdraw(driver, instance_data(driver, instance)["household_reference"])

    assert message.status == "undeliverable"
    assert referral_of(driver, instance).result == "accettato"
    assert task_summary(driver.ready(instance)) == [("enroll_household", "coordinatore", "capofila")]


# --- timers --------------------------------------------------------------------------------------


def test_an_unacknowledged_referral_raises_a_reminder_after_five_days(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance, "confirm_receipt")
    acknowledge = driver.task("confirm_receipt", instance)

    assert driver.advance(days=5) == 0  # due, not yet overdue
    assert driver.advance(seconds=1) == 1

    assert driver.session.get(HumanTask, acknowledge.id).status == "cancelled"  # the timer interrupts
    [overdue] = driver.ready(instance)
    assert (overdue.task_spec_id, overdue.role, overdue.organisation) == (
        "acknowledge_overdue", "coordinatore", "capofila")
    assert overdue.due_at == driver.clock() + timedelta(days=1)
    driver.complete("acknowledge_overdue", {"ack_date": "2026-03-09", "delay_reason": "Coordinatore in ferie"},
                    instance=instance)
    assert referral_of(driver, instance).acknowledged_date.isoformat() == "2026-03-09"
    assert task_summary(driver.ready(instance)) == [("first_interview", "case_manager", "capofila")]


def test_acknowledging_in_time_drops_the_reminder(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance, "confirm_receipt")
    assert driver.advance(days=4, hours=23) == 0
    driver.complete("confirm_receipt", {"ack_date": "2026-03-06"}, instance=instance)
    assert [t.task_spec_id for t in driver.rows(Timer, instance_id=instance.id)] == ["first_contact_sla"]
    assert driver.advance(days=9) == 0
    assert task_summary(driver.ready(instance)) == [("first_interview", "case_manager", "capofila")]


def test_no_first_interview_within_ten_days_alerts_the_social_worker(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance, "first_interview")
    assert driver.advance(days=10, seconds=1) == 1

    # The interview stays open: the social worker of the referring City service is alerted beside it.
    assert task_summary(driver.ready(instance)) == [("first_contact_overdue", "assistente_sociale", "comune"),
                                                    ("first_interview", "case_manager", "capofila")]
    driver.complete("first_contact_overdue", {"followup_date": "2026-03-13",
                                              "followup_notes": "Sentito il case manager: colloquio il 16."},
                    instance=instance)
    assert task_summary(driver.ready(instance)) == [("first_interview", "case_manager", "capofila")]
    run_until(driver, instance, first="first_interview")
    assert instance.status == "completed"


def test_a_plan_not_signed_in_20_working_days_alerts_the_coordinator(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance, "write_plan")
    # Assessed on Friday 20 March: 20 working days later is Friday 17 April (end of the day in Turin).
    [deadline] = driver.rows(Timer, instance_id=instance.id, task_spec_id="plan_deadline")
    assert deadline.due_at == datetime(2026, 4, 17, 22, 59, tzinfo=UTC)

    assert driver.advance_to(deadline.due_at) == 0
    assert driver.advance(seconds=1) == 1
    assert task_summary(driver.ready(instance)) == [("plan_overdue", "coordinatore", "capofila"),
                                                    ("write_plan", "case_manager", "capofila")]
    driver.complete("plan_overdue", {"plan_followup_date": "2026-04-20",
                                     "plan_followup_notes": "Firma fissata per il 24 aprile."}, instance=instance)
    assert task_summary(driver.ready(instance)) == [("write_plan", "case_manager", "capofila")]
    run_until(driver, instance, first="write_plan")
    assert instance.status == "completed"


def test_signing_in_time_cancels_the_plan_deadline(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance)
    assert instance.status == "completed"
    assert driver.rows(Timer, instance_id=instance.id) == []
    driver.advance(days=60)  # housing placement, started by the intake, may have timers of its own
    assert driver.rows(HumanTask, instance_id=instance.id, task_spec_id="plan_overdue") == []


# --- incidents -----------------------------------------------------------------------------------


def test_a_tax_code_the_case_file_refuses_becomes_an_incident(driver: ProcessDriver) -> None:
    instance = start(driver)
    # The form checks the shape of the codice fiscale; the case file also checks its control character.
    bad = changed(HEAD, {"codice_fiscale": "BNLHMD85M01Z330A"})
    run_until(driver, instance, "housing_history", household_composition={"members": [bad]})

    assert instance.status == "error"
    [incident] = driver.rows(Incident, instance_id=instance.id)
    assert (incident.status, incident.task_spec_id) == ("open", "record_head")
    assert "codice_fiscale" in incident.message
    head = driver.session.get(Person, instance_data(driver, instance)["head_person_id"])
    assert head.codice_fiscale is None  # nothing of the refused step was written


def test_an_unknown_case_manager_becomes_an_incident_and_no_enrollment(driver: ProcessDriver) -> None:
    instance = start(driver)
    run_until(driver, instance, "write_plan", enroll_household={"case_manager_username": "nessuno"})

    assert instance.status == "error"
    [incident] = driver.rows(Incident, instance_id=instance.id)
    assert incident.task_spec_id == "record_enrollment"
    assert "team.0.username" in incident.message
    assert driver.session.scalars(select(Enrollment)).all() == []
    assert driver.session.scalars(select(Household)).one().reference == "NUC-2026-0001"
