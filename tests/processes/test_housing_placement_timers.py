"""Housing placement on the clock and on the move: deadlines, time-to-housing alerts, relocations.

The registration deadline (30 days after signature), the police notice for non-EU nationals (48 hours)
and the coordinator's alerts at 30, 60 and 90 days after the project start run on the injected clock.
A relocation starts from ``relocation_requested`` and ends the household's previous placement.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from casefile.models import Enrollment, LeaseContract, Placement
from engine.models import HumanTask, Message, ProcessInstance, Timer

from .conftest import ProcessDriver
from .test_housing_placement import (
    CONTINUE,
    LEASE,
    MAIN_PATH,
    NEW_UNIT,
    PROFILE,
    REGISTRATION,
    STEPS,
    journal,
    make_case,
    messages,
    one,
    ready,
    run,
    start,
    task_data,
    walk,
)

FOLLOW_UP = {"follow_up_date": "2026-04-16", "follow_up_action": "Sollecitata l'amministrazione, registra oggi."}
CLOSE = {"review_date": "2026-06-01", "search_decision": "chiudi", "placement_failure_reason": "nessun_alloggio_idoneo",
         "exit_reason": "trasferito_altro_progetto"}
COORDINATOR = ("coordinatore", "capofila")


def timers(driver: ProcessDriver, instance: ProcessInstance) -> dict[str, datetime]:
    driver.session.flush()
    return {t.task_spec_id: t.due_at for t in driver.rows(Timer, instance_id=instance.id)}


def rome_morning(day: str) -> datetime:
    """09:00 in Turin (as +01:00) of ``day``, in UTC."""
    return datetime.fromisoformat(f"{day}T08:00:00+00:00")


# --- lease registration within 30 days -----------------------------------------------------------------


def test_a_lease_not_registered_within_30_days_is_escalated(driver: ProcessDriver) -> None:
    instance = start(driver, make_case(driver, project_start="2026-03-10"))
    walk(driver, instance, until="lease_registration")
    # Signed on 16 March: due by 15 April, overdue from the next morning.
    assert timers(driver, instance)["registration_deadline"] == rome_morning("2026-04-16")

    driver.advance_to(rome_morning("2026-04-16"))
    assert ("registration_overdue", *COORDINATOR) not in ready(driver, instance)
    assert driver.advance(seconds=1) == 1
    assert ready(driver, instance) == [("delay_alert", *COORDINATOR),  # 30 days after the project start
                                       ("lease_registration", "amministrazione", "locatario"),
                                       ("registration_overdue", *COORDINATOR)]
    assert "registration_deadline" not in timers(driver, instance)

    driver.complete("registration_overdue", FOLLOW_UP, instance=instance)
    driver.complete("lease_registration", {**REGISTRATION, "registration_date": "2026-04-17"}, instance=instance)
    assert task_data(driver, instance, "occupancy_agreement")["lease_registration_result"]["late"] is True
    lease = one(driver, LeaseContract, lease_type="4+4")
    assert (lease.registration_date, lease.signed_on) == (date(2026, 4, 17), date(2026, 3, 16))
    assert ("occupancy_agreement", "referente_abitativo", "locatario") in ready(driver, instance)


def test_a_lease_registered_in_time_raises_no_escalation(driver: ProcessDriver) -> None:
    instance = start(driver, make_case(driver, project_start="2026-03-10"))
    walk(driver, instance, until="occupancy_agreement")
    assert "registration_deadline" not in timers(driver, instance)
    driver.advance_to(rome_morning("2026-04-20"))
    assert ("registration_overdue", *COORDINATOR) not in ready(driver, instance)
    assert task_data(driver, instance, "occupancy_agreement")["lease_registration_result"]["late"] is False


# --- police notice: 48 hours when non-EU nationals are hosted --------------------------------------------


def test_a_non_eu_household_gets_a_48_hour_hospitality_notice(driver: ProcessDriver) -> None:
    instance = start(driver, make_case(driver))
    walk(driver, instance, until="police_notice", changes={"needs_profile": {"non_eu_hosted": True}})
    assert ready(driver, instance) == [("hospitality_notice", "referente_abitativo", "locatario")]
    notice = driver.task("hospitality_notice", instance)
    assert notice.form_key == "housing_placement_police_notice.schema.json"
    assert notice.due_at == driver.clock() + timedelta(hours=48)
    assert timers(driver, instance)["notice_deadline"] == driver.clock() + timedelta(hours=48)

    driver.advance(hours=48, seconds=1)
    assert ready(driver, instance) == [("hospitality_notice", "referente_abitativo", "locatario"),
                                       ("hospitality_overdue", *COORDINATOR)]
    driver.complete("hospitality_notice", {"police_notice_kind": "comunicazione_ospitalita",
                                           "police_notice_date": "2026-04-02", "police_office": "Questura di Torino"},
                    instance=instance)
    assert ("keys_handover", "referente_abitativo", "locatario") in ready(driver, instance)
    driver.complete("hospitality_overdue", {**FOLLOW_UP, "follow_up_date": "2026-04-02"}, instance=instance)
    walk(driver, instance, start_at="keys_handover")
    driver.session.refresh(instance)
    assert instance.status == "completed"


def test_a_household_of_eu_citizens_gets_no_48_hour_timer(driver: ProcessDriver) -> None:
    instance = start(driver, make_case(driver))
    walk(driver, instance, until="police_notice")
    assert ready(driver, instance) == [("police_notice", "referente_abitativo", "locatario")]
    assert set(timers(driver, instance)) == {"alert_threshold"}
    driver.advance(days=3)
    assert ready(driver, instance) == [("police_notice", "referente_abitativo", "locatario")]


# --- time to housing: alerts at 30, 60 and 90 days after the project start ---------------------------


def test_the_coordinator_is_alerted_at_30_60_and_90_days_without_a_home(driver: ProcessDriver) -> None:
    instance = start(driver, make_case(driver, project_start="2026-02-20"))  # enrolled before the message
    driver.complete("needs_profile", PROFILE, instance=instance)
    for days, moment in ((30, "2026-03-22"), (60, "2026-04-21"), (90, "2026-05-21")):
        assert timers(driver, instance)["alert_threshold"] == rome_morning(moment), days
        driver.advance_to(rome_morning(moment))
        assert driver.advance(seconds=1) == 1
        assert ready(driver, instance) == [("delay_alert", *COORDINATOR),
                                           ("find_unit", "referente_abitativo", "locatario")]
        alert = driver.task("delay_alert", instance)
        assert (alert.form_key, alert.due_at) == ("housing_placement_review_search.schema.json",
                                                  driver.clock() + timedelta(days=5))
        driver.complete("delay_alert", {**CONTINUE, "review_date": moment}, instance=instance)
    assert timers(driver, instance) == {}  # after the third alert nothing is left to fire
    driver.advance(days=60)
    assert ready(driver, instance) == [("find_unit", "referente_abitativo", "locatario")]


def test_moving_in_cancels_the_alerts(driver: ProcessDriver) -> None:
    instance = start(driver, make_case(driver, project_start="2026-02-20"))
    walk(driver, instance, until="move_in")
    driver.advance_to(rome_morning("2026-03-22") + timedelta(seconds=1))
    alert = driver.task("delay_alert", instance)  # left open by the coordinator

    driver.complete("move_in", dict(MAIN_PATH[STEPS.index("move_in")][1]), instance=instance)
    assert driver.session.get(HumanTask, alert.id).status == "cancelled"
    assert ready(driver, instance) == [("residence_registration", "case_manager", "capofila")]
    assert timers(driver, instance) == {}


def test_the_coordinator_may_close_the_search_from_an_alert(driver: ProcessDriver) -> None:
    case = make_case(driver, project_start="2026-01-01")  # 30 and 60 days are already past
    instance = start(driver, case)
    assert ready(driver, instance) == [("delay_alert", *COORDINATOR), ("needs_profile", "case_manager", "capofila")]
    driver.complete("delay_alert", {**CONTINUE, "review_date": "2026-03-02"}, instance=instance)
    assert ("delay_alert", *COORDINATOR) in ready(driver, instance)  # the 60-day alert, due already
    driver.complete("delay_alert", CLOSE, instance=instance)

    driver.session.refresh(instance)
    assert instance.status == "completed"
    assert driver.ready(instance) == []
    assert timers(driver, instance) == {}
    [request] = messages(driver, "exit_requested")
    assert request.payload["placement_id"] is None
    assert (request.payload["exit_reason"], request.payload["placement_failure_reason"]) == (
        "trasferito_altro_progetto", "nessun_alloggio_idoneo")
    assert request.payload["enrollment_id"] == case["enrollment_id"]
    assert driver.session.get(ProcessInstance, request.target_instance_id).process_id == "exit"


# --- relocation ----------------------------------------------------------------------------------------


def housed_case(driver: ProcessDriver) -> dict[str, Any]:
    """A household living since October 2025 in a flat leased by the lease holder, with its monitoring."""
    case = make_case(driver, project_start="2025-09-15")
    landlord = run(driver, "register_landlord", {"name": "Giuseppe Bianchi", "kind": "persona",
                                                 "managed_by": "locatario"})["landlord_id"]
    unit = run(driver, "register_housing_unit", {"address": "Via Nizza 3, Torino", "rooms": 2, "source": "locare",
                                                 "landlord_id": landlord})["unit_id"]
    lease = run(driver, "sign_lease", {"unit_id": unit, "landlord_id": landlord, "tenant": "locatario",
                                       "lease_type": "3+2", "signed_on": "2025-09-20", "start_date": "2025-10-01",
                                       "first_expiry": "2028-09-30", "monthly_rent": "500", "rent_due_day": 5})
    placement = run(driver, "place_household", {"enrollment_id": case["enrollment_id"],
                                                "lease_id": lease["lease_id"], "start_date": "2025-10-01"})
    placement_id = placement["placement_id"]
    run(driver, "sign_occupancy_agreement", {"placement_id": placement_id, "kind": "ospitalita",
                                             "signed_on": "2025-10-01", "start_date": "2025-10-01",
                                             "monthly_contribution": "120", "house_rules_ack": True})
    run(driver, "hand_over_keys", {"placement_id": placement_id, "handed_over_on": "2025-10-01", "keys_count": 2})
    run(driver, "record_move_in", {"placement_id": placement_id, "move_in_date": "2025-10-02"})
    monitoring = driver.send("move_in_recorded", {**case, "placement_id": placement_id, "lease_id": lease["lease_id"],
                                                  "move_in_date": "2025-10-02", "lease_first_expiry": "2028-09-30",
                                                  "rent_due_day": 5, "monthly_rent": "500.00",
                                                  "monthly_contribution": "120.00"})
    assert monitoring.status == "delivered", monitoring.reason
    return {**case, "placement_id": placement_id, "landlord_id": landlord,
            "monitoring_id": monitoring.target_instance_id}


def relocate(driver: ProcessDriver, case: dict[str, Any]) -> ProcessInstance:
    payload = {k: case[k] for k in ("household_id", "household_reference", "business_key", "enrollment_id",
                                    "project_start_date", "task_organisations", "placement_id")}
    message = driver.send("relocation_requested", {**payload, "relocation_reason": "Conflitto con i vicini"})
    assert message.status == "delivered", message.reason
    instance = driver.session.get(ProcessInstance, message.target_instance_id)
    assert instance.process_id == "housing_placement"
    return instance


def test_a_relocation_moves_the_household_and_closes_the_previous_placement(driver: ProcessDriver) -> None:
    case = housed_case(driver)
    instance = relocate(driver, case)
    assert ready(driver, instance) == [("needs_profile", "case_manager", "capofila")]
    assert timers(driver, instance) == {}  # no time-to-housing alerts for a relocation
    data = task_data(driver, instance, "needs_profile")
    assert (data["relocating"], data["old_placement_id"], data["relocation_reason"]) == (
        True, case["placement_id"], "Conflitto con i vicini")

    # Same landlord, another of its flats.
    new_unit = {**{k: v for k, v in NEW_UNIT.items() if not k.startswith("landlord_")},
                "landlord_choice": "registrato", "landlord_id": case["landlord_id"]}
    walk(driver, instance, changes={"find_unit": new_unit})

    driver.session.refresh(instance)
    assert instance.status == "completed"
    old = driver.session.get(Placement, case["placement_id"])
    assert (old.end_date, old.end_reason) == (date(2026, 4, 1), "trasferimento ad altro alloggio")
    new = one(driver, Placement, start_date=date(2026, 4, 1))
    assert (new.enrollment_id, new.move_in_date) == (case["enrollment_id"], date(2026, 4, 2))
    assert driver.session.get(LeaseContract, new.lease_id).landlord_id == case["landlord_id"]
    enrollment = driver.session.get(Enrollment, case["enrollment_id"])
    assert (enrollment.status, enrollment.move_in_date) == ("inserito", date(2025, 10, 2))  # the first move-in
    assert journal(driver, instance)[0] == "end_placement"

    [closed] = messages(driver, "placement_closed")
    assert (closed.payload["placement_id"], closed.payload["reason"], closed.correlations) == (
        case["placement_id"], "trasferimento", {"placement_id": case["placement_id"]})
    assert (closed.status, closed.target_instance_id) == ("delivered", case["monitoring_id"])
    announced: Message = messages(driver, "move_in_recorded")[-1]
    assert (announced.source_instance_id, announced.payload["placement_id"]) == (instance.id, new.id)
    assert announced.status == "delivered"
    assert announced.target_instance_id != case["monitoring_id"]


def test_a_relocation_that_finds_nothing_asks_to_exit_from_the_current_flat(driver: ProcessDriver) -> None:
    case = housed_case(driver)
    instance = relocate(driver, case)
    driver.complete("needs_profile", PROFILE, instance=instance)
    driver.complete("find_unit", {"search_outcome": "nessun_alloggio", "search_notes": "Nessun alloggio"},
                    instance=instance)
    driver.complete("review_search", CLOSE, instance=instance)

    [request] = messages(driver, "exit_requested")
    assert (request.payload["placement_id"], request.payload["requested_by"]) == (case["placement_id"],
                                                                                 "housing_placement")
    assert driver.session.get(Placement, case["placement_id"]).end_date is None  # the exit will end it
    assert messages(driver, "placement_closed") == []


def test_amounts_are_announced_in_euro_with_two_decimals(driver: ProcessDriver) -> None:
    instance = start(driver, make_case(driver))
    walk(driver, instance, changes={"lease_signature": {**LEASE, "monthly_rent": "700,5", "rent_due_day": 10}})
    announced = messages(driver, "move_in_recorded")[-1]
    assert (announced.payload["monthly_rent"], announced.payload["rent_due_day"]) == ("700.50", 10)
    assert one(driver, LeaseContract, lease_type="4+4").monthly_rent_cents == 70050
