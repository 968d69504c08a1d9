"""Mediation between the other processes: monitoring asks for it, and its outcomes reach monitoring and
housing placement by the contract's messages (the other models are deployed with it)."""

from __future__ import annotations

from typing import Any

import pytest

from casefile.models import CaseIncident
from engine.models import Message, ProcessInstance

from .conftest import ProcessDriver
from .test_mediation import INDIVIDUAL, JOINT, OPEN, SAFE, UNRESOLVED, case, deployed  # noqa: F401  (fixture)


def context(housed: dict[str, Any]) -> dict[str, Any]:
    """The case context every message between the processes carries."""
    return {"household_id": housed["household_id"], "household_reference": housed["household_reference"],
            "business_key": housed["household_reference"], "enrollment_id": housed["enrollment_id"],
            "project_start_date": "2026-01-20", "task_organisations": {}}


def thrown(driver: ProcessDriver, name: str, source: ProcessInstance) -> Message:
    [message] = driver.rows(Message, name=name, source_instance_id=source.id)
    return message


@pytest.fixture
def monitoring(driver: ProcessDriver, case: dict[str, Any]) -> ProcessInstance:  # noqa: F811
    """The monitoring of the household's placement, started as housing placement starts it at move-in."""
    if not deployed(driver, "monitoring"):
        pytest.skip("monitoring is not deployed yet")
    moved_in = {**context(case), "placement_id": case["placement_id"], "lease_id": case["lease_id"],
                "move_in_date": "2026-02-02", "lease_first_expiry": "2030-01-31", "rent_due_day": 5,
                "monthly_rent": "550.00", "monthly_contribution": "120.00"}
    message = driver.send("move_in_recorded", moved_in)
    assert message.status == "delivered", message.reason
    return driver.instance("monitoring")


def test_a_conflict_reported_to_monitoring_opens_mediation_and_an_exit_proposal_goes_back(
        driver: ProcessDriver, case: dict[str, Any], monitoring: ProcessInstance) -> None:  # noqa: F811
    conflict = {**context(case), "reported_by": "vicino", "conflict_type": "rumori", "severity": "medio",
                "description": "Musica alta di notte.", "reported_date": "2026-03-02"}
    reported = driver.send("conflict_reported", conflict, {"enrollment_id": case["enrollment_id"]})
    assert (reported.status, reported.target_instance_id) == ("delivered", monitoring.id)

    requested = thrown(driver, "mediation_requested", monitoring)
    mediation = driver.instance("mediation")
    assert (requested.status, requested.target_instance_id) == ("delivered", mediation.id)
    assert mediation.business_key == case["household_reference"]
    [incident] = driver.rows(CaseIncident)
    opening = driver.task("open_case", mediation)
    assert (opening.role, opening.organisation) == ("mediatore", "partner")

    driver.complete("open_case", OPEN, instance=mediation)
    driver.complete("safety_triage", SAFE, instance=mediation)
    driver.complete("individual_meeting", INDIVIDUAL, instance=mediation)
    driver.complete("joint_meeting", {**JOINT, "agreement_reached": False}, instance=mediation)
    driver.complete("decide_outcome", UNRESOLVED, instance=mediation)
    driver.complete("escalate_unresolved", {"escalation_date": "2026-04-10", "escalation_decision": "proposta_uscita",
                                            "exit_reason": "non_adesione"}, instance=mediation)
    assert mediation.status == "completed"
    assert requested.payload["incident_id"] == incident.id

    proposed = thrown(driver, "exit_proposed", mediation)
    assert (proposed.status, proposed.target_instance_id) == ("delivered", monitoring.id)
    exit_requested = thrown(driver, "exit_requested", monitoring)
    assert {k: exit_requested.payload[k] for k in ("enrollment_id", "placement_id", "exit_type", "exit_reason")} == {
        "enrollment_id": case["enrollment_id"], "placement_id": case["placement_id"], "exit_type": "non_programmata",
        "exit_reason": "non_adesione"}
    if deployed(driver, "exit"):
        assert exit_requested.status == "delivered", exit_requested.reason
        assert driver.session.get(ProcessInstance, exit_requested.target_instance_id).process_id == "exit"
