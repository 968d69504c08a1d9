"""The exit process on the clock: the 7-day exit-data escalation and the follow-ups at +3, +6, +12 months.

Also the two read-only services the exit model calls besides the case-file operations.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from casefile.models import ExitRecord, FollowUp
from engine import FormValidationError
from engine.models import ProcessInstance, Timer
from engine.services import ServiceContext, service_context

from .conftest import ProcessDriver
from .test_exit import DECISION, HANDOVER, NO_DEBT, SUBENTRO, decide_planned, handed, make_case, request_exit

REACHED = {"reached": True, "living_situation": "subentro", "still_housed": True, "returned_to_services": False,
           "employment_status": "occupato_pt", "follow_up_notes": "Paga l'affitto regolarmente."}


def at(day: str, hour: int = 8, minute: int = 0) -> datetime:
    """A moment in UTC: the follow-up timers fire at 09:00 Turin winter time, 08:00 UTC."""
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


def handed_over(driver: ProcessDriver) -> tuple[dict[str, Any], ProcessInstance]:
    """A planned exit on 31 March 2026 with subentro, handed over on 15 April: only the follow-ups are left."""
    case = make_case(driver)
    instance = request_exit(driver, case)
    decide_planned(driver, instance)
    driver.complete("exit_interview", SUBENTRO, instance=instance)
    driver.complete("close_lease", {"lease_end_date": "2026-04-01", "keys_returned": False,
                                    "deposit_outcome": "trasferito_al_nucleo", "utilities_transferred": True},
                    instance=instance)
    driver.complete("settle_account", NO_DEBT, instance=instance)
    driver.complete("hand_over_case", HANDOVER, instance=instance)
    return case, instance


def timers(driver: ProcessDriver, instance: ProcessInstance) -> list[tuple[str, datetime]]:
    driver.session.flush()
    return [(t.task_spec_id, t.due_at) for t in driver.session.scalars(
        select(Timer).where(Timer.instance_id == instance.id).order_by(Timer.due_at))]


def follow_ups(driver: ProcessDriver) -> list[FollowUp]:
    record = driver.session.scalars(select(ExitRecord)).one()
    driver.session.refresh(record)
    return list(record.follow_ups)


# --- follow-ups ------------------------------------------------------------------------------------


def test_follow_ups_come_due_at_three_six_and_twelve_months(driver: ProcessDriver) -> None:
    _, instance = handed_over(driver)
    due_dates = ["2026-06-30", "2026-09-30", "2027-03-31"]
    for number, due in enumerate(due_dates):
        assert timers(driver, instance) == [("follow_up_due", at(due))]
        assert driver.advance_to(at(due, hour=7, minute=59)) == 0  # not yet
        assert handed(driver, instance) == []
        assert driver.advance_to(at(due, minute=1)) == 1
        assert handed(driver, instance) == [("follow_up_contact", "case_manager", "capofila")]
        task = driver.task("follow_up_contact", instance)
        assert task.due_at == at(due, minute=1) + timedelta(days=7)
        if number == 0:  # a reached household must say where it lives
            with pytest.raises(FormValidationError) as error:
                driver.complete("follow_up_contact", {"contact_date": due, "reached": True}, instance=instance)
            assert list(error.value.fields) == ["living_situation"]
        driver.complete("follow_up_contact", {**REACHED, "contact_date": due}, instance=instance)

        recorded = follow_ups(driver)[number]
        assert (recorded.due_date, recorded.done_date, recorded.reached, recorded.living_situation,
                recorded.still_housed, recorded.returned_to_services) == (
            date.fromisoformat(due), date.fromisoformat(due), True, "subentro", True, False)
        assert recorded.notes == "Condizione lavorativa: occupato_pt. Paga l'affitto regolarmente."
        assert [f.done_date is not None for f in follow_ups(driver)] == [i <= number for i in range(3)]

    assert instance.status == "completed"
    assert timers(driver, instance) == []


def test_an_unreachable_household_is_recorded_as_no_contact_after_three_attempts(driver: ProcessDriver) -> None:
    _, instance = handed_over(driver)
    driver.advance_to(at("2026-06-30", minute=1))
    for attempt, day in enumerate(["2026-06-30", "2026-07-07", "2026-07-14"], start=1):
        assert handed(driver, instance) == [("follow_up_contact", "case_manager", "capofila")]
        assert driver.data(instance)["follow_up_attempt"] == attempt
        driver.complete("follow_up_contact", {"contact_date": day, "reached": False,
                                              "follow_up_notes": "Telefono spento."}, instance=instance)
        if attempt < 3:  # try again in a week
            assert handed(driver, instance) == []
            assert follow_ups(driver)[0].done_date is None
            [(spec, due)] = timers(driver, instance)
            assert spec == "retry_wait"
            assert driver.advance_to(due + timedelta(minutes=1)) == 1

    first = follow_ups(driver)[0]
    assert (first.done_date, first.reached, first.living_situation, first.still_housed) == (
        date(2026, 7, 14), False, None, None)
    assert first.notes == "Nessun contatto dopo 3 tentativi"
    # On to the six-month follow-up, with a fresh count of attempts.
    assert timers(driver, instance) == [("follow_up_due", at("2026-09-30"))]
    driver.advance_to(at("2026-09-30", minute=1))
    assert driver.data(instance)["follow_up_attempt"] == 1
    assert driver.data(instance)["reached"] is None  # the last contact's answers are not carried over
    driver.complete("follow_up_contact", {"contact_date": "2026-10-01", "reached": True, "living_situation": "410",
                                          "still_housed": True, "returned_to_services": True}, instance=instance)
    second = follow_ups(driver)[1]
    assert (second.reached, second.living_situation, second.returned_to_services, second.notes) == (
        True, "410", True, None)


# --- the 7-day deadline on the exit data -----------------------------------------------------------


def test_exit_data_missing_seven_days_after_the_exit_reach_the_coordinator(driver: ProcessDriver) -> None:
    instance = request_exit(driver, make_case(driver))
    decide_planned(driver, instance)  # planned exit on 31 March
    assert timers(driver, instance) == [("exit_data_deadline", at("2026-04-07"))]

    assert driver.advance_to(at("2026-04-07", hour=7, minute=59)) == 0
    assert driver.advance_to(at("2026-04-07", minute=1)) == 1
    # The interview stays with the case manager; the coordinator is asked to chase it.
    assert handed(driver, instance) == [("exit_data_overdue", "coordinatore", "capofila"),
                                        ("exit_interview", "case_manager", "capofila")]
    assert driver.task("exit_data_overdue", instance).due_at == at("2026-04-07", minute=1) + timedelta(days=2)
    driver.complete("exit_data_overdue", {"reminder_date": "2026-04-07",
                                          "reminder_notes": "Il colloquio si fa giovedì."}, instance=instance)
    assert handed(driver, instance) == [("exit_interview", "case_manager", "capofila")]
    assert instance.status == "running"

    driver.complete("exit_interview", SUBENTRO, instance=instance)
    assert driver.session.scalars(select(ExitRecord)).one().exit_date == date(2026, 3, 31)
    assert handed(driver, instance) == [("close_lease", "referente_abitativo", "locatario"),
                                        ("settle_account", "amministrazione", "locatario")]


def test_exit_data_on_time_raise_no_reminder(driver: ProcessDriver) -> None:
    instance = request_exit(driver, make_case(driver))
    decide_planned(driver, instance)
    driver.complete("exit_interview", SUBENTRO, instance=instance)
    assert [spec for spec, _ in timers(driver, instance)] == []
    assert driver.advance_to(at("2026-05-01")) == 0
    assert "exit_data_overdue" not in [row[0] for row in handed(driver, instance)]


def test_the_deadline_counts_from_the_decided_exit_date(driver: ProcessDriver) -> None:
    instance = request_exit(driver, make_case(driver))
    decide_planned(driver, instance, {**DECISION, "exit_date": "2026-05-15"})
    assert timers(driver, instance) == [("exit_data_deadline", at("2026-05-22"))]


# --- the read-only services of the model ---------------------------------------------------------------


def call(driver: ProcessDriver, name: str, actor: str = "assistente_sociale", **params: Any) -> Any:
    context = ServiceContext(session=driver.session, instance_id=1, process_id="exit", organisation="capofila",
                             actor=actor)
    with service_context(context):
        return driver.services.call(name, params)


def test_acting_user_names_who_moved_the_step(driver: ProcessDriver) -> None:
    assert call(driver, "acting_user") == {"username": "assistente_sociale"}
    assert call(driver, "acting_user", actor="timer") == {"username": "timer"}


def test_placement_summary_gives_the_lease_and_the_household_balance(driver: ProcessDriver) -> None:
    case = make_case(driver, unpaid_months=2)
    summary = call(driver, "placement_summary", placement_id=case["placement_id"])
    assert summary == {
        "placement_id": case["placement_id"], "lease_id": case["lease_id"], "lease_type": "4+4",
        "lease_status": "attivo", "notice_period_months": 6, "deposit": "1200.00",
        "agreement_id": case["agreement_id"], "monthly_contribution": "150.00", "contribution_balance": "300.00",
        "oldest_unpaid_due": "2026-01-05", "months_unpaid": 2}
    paid_up = call(driver, "placement_summary", placement_id=make_case(driver, unpaid_months=0)["placement_id"])
    assert (paid_up["contribution_balance"], paid_up["oldest_unpaid_due"], paid_up["months_unpaid"]) == (
        "0.00", None, 0)
    with pytest.raises(Exception, match="no placement with id 999"):
        call(driver, "placement_summary", placement_id=999)
