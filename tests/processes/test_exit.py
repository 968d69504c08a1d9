"""The exit process (domain.md §3.5): decision, exit interview, lease and account, handover, follow-ups.

Cases are built through the case-file operations; the process is started by its ``exit_requested``
message, as monitoring or housing placement would send it, and driven task by task as staff would.
The follow-ups and the escalations run on the injected clock (``test_exit_follow_ups.py``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from casefile import accounts
from casefile.models import (
    CaseEvent,
    Enrollment,
    ExitRecord,
    LeaseContract,
    Organisation,
    Placement,
    RepaymentPlan,
)
from casefile.operations import Caller, execute
from casefile.roles import ROLES
from engine import Actor, FormValidationError
from engine.models import HumanTask, Incident, Message, ProcessInstance
from engine.specs import read_models

from . import FORMS, PROCESSES
from .conftest import ProcessDriver, task_summary

SYSTEM = Caller.system("test")
TEAM = {"case_manager": "capofila", "assistente_sociale": "comune", "coordinatore": "capofila",
        "equipe": "capofila", "referente_abitativo": "locatario", "amministrazione": "locatario"}

DECISION = {"exit_type": "programmata", "decision_date": "2026-03-02", "exit_date": "2026-03-31",
            "decision_notes": "Obiettivi del progetto raggiunti, il nucleo può subentrare nel contratto."}
UNPLANNED = {"exit_type": "non_programmata", "decision_date": "2026-03-02", "exit_date": "2026-03-02"}
SUBENTRO = {"exit_date": "2026-03-31", "exit_reason": "obiettivi_raggiunti", "project_completion": "completato",
            "destination": "subentro", "housing_at_exit": "mantiene_alloggio_progetto",
            "employment_status_at_exit": "occupato_pt", "monthly_income_at_exit": "1150,00"}
ABANDONED = {"exit_date": "2026-03-02", "exit_reason": "abbandono_volontario",
             "project_completion": "uscita_anticipata_volontaria", "destination": "116",
             "housing_at_exit": "senza_dimora"}
HANDOVER = {"handover_date": "2026-04-15", "handover_notes": "Presa in carico dal Polo Nord."}
NO_DEBT = {"settlement_date": "2026-04-10", "final_balance": "0.00", "repayment_plan": False}


# --- building a case through the case file ---------------------------------------------------------


def run(driver: ProcessDriver, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    return execute(driver.session, name, payload, SYSTEM)


def make_case(driver: ProcessDriver, *, housed: bool = True, unpaid_months: int = 0) -> dict[str, Any]:
    """A household enrolled in September 2025 and, when ``housed``, living since October 2025 in a flat
    leased by the lease-holding partner, paying 150 € a month of which ``unpaid_months`` are unpaid."""
    household = run(driver, "register_household", {
        "display_name": "Famiglia Benali", "organisation": "capofila", "since": "2025-09-01",
        "members": [{"first_name": "Ahmed", "last_name": "Benali", "relationship_to_hoh": 1}]})
    household_id = household["household_id"]
    referral_id = run(driver, "register_referral", {
        "household_id": household_id, "referral_date": "2025-09-01", "source": "sad",
        "referring_org": "SAD", "urgency": "sfratto_esecutivo",
        "housing_need_type": "emergenza_abitativa"})["referral_id"]
    run(driver, "record_referral_result", {"referral_id": referral_id, "result": "accettato",
                                           "result_date": "2025-09-05"})
    enrollment_id = run(driver, "open_enrollment", {
        "household_id": household_id, "referral_id": referral_id, "project_start_date": "2025-09-10",
        "team": [{"username": "case_manager", "role": "case_manager"},
                 {"username": "assistente_sociale", "role": "assistente_sociale"}]})["enrollment_id"]
    case = {"household_id": household_id, "household_reference": household["reference"],
            "enrollment_id": enrollment_id, "placement_id": None}
    if housed:
        case.update(house(driver, enrollment_id, unpaid_months))
    return case


def house(driver: ProcessDriver, enrollment_id: int, unpaid_months: int) -> dict[str, Any]:
    landlord_id = run(driver, "register_landlord", {"name": "Rossi Immobiliare srl", "kind": "societa",
                                                    "managed_by": "locatario"})["landlord_id"]
    unit_id = run(driver, "register_housing_unit", {"address": "Via Nizza 10, Torino", "rooms": 3,
                                                    "source": "mercato_privato", "landlord_id": landlord_id})["unit_id"]
    lease_id = run(driver, "sign_lease", {
        "unit_id": unit_id, "landlord_id": landlord_id, "tenant": "locatario", "lease_type": "4+4",
        "signed_on": "2025-09-25", "start_date": "2025-10-01", "first_expiry": "2029-09-30",
        "monthly_rent": "600.00", "rent_due_day": 5, "deposit": "1200.00"})["lease_id"]
    placement_id = run(driver, "place_household", {"enrollment_id": enrollment_id, "lease_id": lease_id,
                                                   "start_date": "2025-10-01"})["placement_id"]
    agreement_id = run(driver, "sign_occupancy_agreement", {
        "placement_id": placement_id, "kind": "sublocazione", "signed_on": "2025-10-01",
        "start_date": "2025-10-01", "monthly_contribution": "150.00", "house_rules_ack": True})["agreement_id"]
    run(driver, "hand_over_keys", {"placement_id": placement_id, "handed_over_on": "2025-10-01", "keys_count": 2})
    run(driver, "record_move_in", {"placement_id": placement_id, "move_in_date": "2025-10-02"})
    months = ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02"]
    for month in months:
        run(driver, "issue_contribution_charge", {"agreement_id": agreement_id, "period": month})
    paid = len(months) - unpaid_months
    if paid:
        run(driver, "record_contribution_payment", {"agreement_id": agreement_id, "paid_on": "2026-02-20",
                                                    "amount": f"{150 * paid}.00", "method": "bonifico"})
    return {"placement_id": placement_id, "lease_id": lease_id, "agreement_id": agreement_id}


def request_exit(driver: ProcessDriver, case: dict[str, Any], **change: Any) -> ProcessInstance:
    """Send ``exit_requested`` as the contract between the processes has it; returns the exit instance."""
    payload = {"household_id": case["household_id"], "household_reference": case["household_reference"],
               "business_key": case["household_reference"], "enrollment_id": case["enrollment_id"],
               "project_start_date": "2025-09-10", "task_organisations": {},
               "placement_id": case["placement_id"], "exit_type": "programmata",
               "exit_reason": "obiettivi_raggiunti", "requested_by": "monitoring", **change}
    message = driver.send("exit_requested", payload, role="case_manager")
    assert message.status == "delivered", message.reason
    instance = driver.instance("exit")
    assert message.target_instance_id == instance.id
    return instance


def operations_journaled(driver: ProcessDriver, instance: ProcessInstance) -> list[str]:
    """The case-file operations the instance wrote, in order."""
    return list(driver.session.scalars(select(CaseEvent.operation).where(CaseEvent.instance_id == instance.id)
                                       .order_by(CaseEvent.id)))


def handed(driver: ProcessDriver, instance: ProcessInstance) -> list[tuple[str, str | None, str | None]]:
    return task_summary(driver.ready(instance))


def decide_planned(driver: ProcessDriver, instance: ProcessInstance, decision: dict[str, Any] = DECISION) -> None:
    driver.complete("decide_exit", decision, instance=instance)
    driver.complete("co_sign_exit", {"co_sign_decision": "controfirmata"}, instance=instance)


def decide_unplanned(driver: ProcessDriver, instance: ProcessInstance) -> None:
    driver.complete("decide_exit", UNPLANNED, instance=instance)
    driver.complete("approve_unplanned_exit", {"approval_decision": "approvata"}, instance=instance)


# --- the model -------------------------------------------------------------------------------------


def test_the_model_is_deployed_with_its_forms_and_start_message() -> None:
    [model] = read_models([PROCESSES / "exit.bpmn"], FORMS, roles=ROLES)
    assert model.name == "Uscita dal progetto e follow-up"
    assert model.start_messages == ["exit_requested"]
    tasks = ["approve_unplanned_exit", "choose_lease_disposition", "close_lease", "co_sign_exit", "decide_exit",
             "exit_data_overdue", "exit_interview", "follow_up_contact", "hand_over_case", "settle_account"]
    assert sorted(model.forms) == sorted(f"exit_{task}.{kind}.json" for task in tasks
                                         for kind in ("schema", "uischema"))


# --- planned exit: the household takes over the lease ----------------------------------------------


def test_planned_exit_with_subentro(driver: ProcessDriver) -> None:
    case = make_case(driver)
    instance = request_exit(driver, case)
    assert (instance.organisation, instance.business_key) == ("capofila", case["household_reference"])
    data = driver.data(instance)
    assert (data["placement_id"], data["requested_by"], data["task_organisations"]) == (
        case["placement_id"], "monitoring", {**data["task_organisations"], **TEAM})

    assert handed(driver, instance) == [("decide_exit", "equipe", "capofila")]
    assert driver.task("decide_exit").name == "Decidi l'uscita"
    driver.complete("decide_exit", DECISION, instance=instance)
    # A planned exit is co-signed by the City's social worker, not approved by the coordinator.
    assert handed(driver, instance) == [("co_sign_exit", "assistente_sociale", "comune")]
    driver.complete("co_sign_exit", {"co_sign_decision": "controfirmata"}, instance=instance)

    assert handed(driver, instance) == [("exit_interview", "case_manager", "capofila")]
    assert driver.data(instance)["co_signer"] == {"username": "assistente_sociale"}
    driver.complete("exit_interview", SUBENTRO, instance=instance)

    # Taking over the lease fixes its disposition: no choice for the housing officer, straight to closing.
    record = driver.session.scalars(select(ExitRecord)).one()
    assert (record.exit_type, record.decision_date, record.exit_date, record.reason, record.project_completion,
            record.destination, record.subsidy_type, record.housing_at_exit, record.employment_status_at_exit,
            record.lease_disposition, record.co_signed_by) == (
        "programmata", date(2026, 3, 2), date(2026, 3, 31), "obiettivi_raggiunti", "completato", "subentro", None,
        "mantiene_alloggio_progetto", "occupato_pt", "subentro", "assistente_sociale")
    placement = driver.session.get(Placement, case["placement_id"])
    assert (placement.end_date, placement.end_reason) == (date(2026, 3, 31), "uscita")
    assert [f.due_date for f in record.follow_ups] == [date(2026, 6, 30), date(2026, 9, 30), date(2027, 3, 31)]
    assert handed(driver, instance) == [("close_lease", "referente_abitativo", "locatario"),
                                        ("settle_account", "amministrazione", "locatario")]
    assert driver.data(instance)["final_balance"] == "0.00"

    driver.complete("close_lease", {"lease_end_date": "2026-04-01", "keys_returned": False,
                                    "deposit_outcome": "trasferito_al_nucleo", "utilities_transferred": True},
                    instance=instance)
    lease = driver.session.get(LeaseContract, case["lease_id"])
    assert (lease.status, lease.ended_on) == ("volturato", date(2026, 4, 1))
    assert handed(driver, instance) == [("settle_account", "amministrazione", "locatario")]  # the join waits
    driver.complete("settle_account", NO_DEBT, instance=instance)
    assert driver.session.scalars(select(RepaymentPlan)).all() == []

    assert handed(driver, instance) == [("hand_over_case", "assistente_sociale", "comune")]
    driver.complete("hand_over_case", HANDOVER, instance=instance)
    enrollment = driver.session.get(Enrollment, case["enrollment_id"])
    assert (enrollment.status, record.handover_date) == ("chiuso", date(2026, 4, 15))

    # Now the follow-ups wait for their dates: nothing to do until June.
    assert handed(driver, instance) == []
    assert instance.status == "waiting"
    # end_lease journals only on a household still placed under the lease: here the exit ended it.
    assert operations_journaled(driver, instance) == ["record_exit", "record_handover"]


# --- unplanned exit: abandonment -------------------------------------------------------------------


@pytest.mark.parametrize(("disposition", "status", "ended_on"), [
    ("riassegnazione", "attivo", None),
    ("disdetta", "in_disdetta", date(2026, 9, 1)),
    ("risoluzione_consensuale", "risolto", date(2026, 9, 1)),
])
def test_unplanned_exit_by_abandonment(driver: ProcessDriver, disposition: str, status: str,
                                       ended_on: date | None) -> None:
    case = make_case(driver)
    instance = request_exit(driver, case, exit_type="non_programmata", exit_reason="abbandono_volontario")
    assert driver.data(instance)["exit_type"] == "non_programmata"  # the form shows the request's values
    driver.complete("decide_exit", UNPLANNED, instance=instance)
    assert handed(driver, instance) == [("approve_unplanned_exit", "coordinatore", "capofila")]
    driver.complete("approve_unplanned_exit", {"approval_decision": "approvata"}, instance=instance)
    driver.complete("exit_interview", ABANDONED, instance=instance)

    # The housing officer, with the coordinator, decides about the lease before the exit is recorded.
    assert handed(driver, instance) == [("choose_lease_disposition", "referente_abitativo", "locatario")]
    assert driver.session.scalars(select(ExitRecord)).all() == []
    driver.complete("choose_lease_disposition", {"lease_disposition": disposition, "coordinator_agreed": True},
                    instance=instance)
    record = driver.session.scalars(select(ExitRecord)).one()
    assert (record.exit_type, record.reason, record.destination, record.lease_disposition, record.co_signed_by) == (
        "non_programmata", "abbandono_volontario", "116", disposition, None)
    assert driver.session.get(Placement, case["placement_id"]).end_date == date(2026, 3, 2)

    driver.complete("close_lease", {"lease_end_date": "2026-09-01", "move_out_inspection_date": "2026-03-05",
                                    "keys_returned": True, "keys_count": 2, "deposit_outcome": "da_definire",
                                    "utilities_transferred": False, "final_charges": "80.00"}, instance=instance)
    lease = driver.session.get(LeaseContract, case["lease_id"])
    assert (lease.status, lease.ended_on) == (status, ended_on)
    driver.complete("settle_account", NO_DEBT, instance=instance)
    assert handed(driver, instance) == [("hand_over_case", "assistente_sociale", "comune")]
    assert operations_journaled(driver, instance) == ["record_exit"]


def test_exit_without_placement_after_a_failed_housing_placement(driver: ProcessDriver) -> None:
    case = make_case(driver, housed=False)
    instance = request_exit(driver, case, exit_type="non_programmata", exit_reason="altra_soluzione_abitativa",
                            requested_by="housing_placement")
    assert driver.data(instance)["placement_id"] is None
    decide_unplanned(driver, instance)
    driver.complete("exit_interview", {**ABANDONED, "exit_reason": "altra_soluzione_abitativa",
                                       "destination": "312", "housing_at_exit": "familiari_amici_temporaneo"},
                    instance=instance)

    # No lease to dispose of and no household account: straight to the handover.
    assert handed(driver, instance) == [("hand_over_case", "assistente_sociale", "comune")]
    record = driver.session.scalars(select(ExitRecord)).one()
    assert (record.lease_disposition, record.destination) == ("nessuna", "312")
    driver.complete("hand_over_case", {"handover_date": "2026-03-10"}, instance=instance)
    assert driver.session.get(Enrollment, case["enrollment_id"]).status == "chiuso"
    assert operations_journaled(driver, instance) == ["record_exit", "record_handover"]


# --- the decision sent back --------------------------------------------------------------------------


def test_a_refused_co_signature_or_approval_goes_back_to_the_equipe(driver: ProcessDriver) -> None:
    instance = request_exit(driver, make_case(driver))
    driver.complete("decide_exit", DECISION, instance=instance)
    with pytest.raises(FormValidationError) as error:  # sending it back needs a reason
        driver.complete("co_sign_exit", {"co_sign_decision": "rimandata"}, instance=instance)
    assert list(error.value.fields) == ["co_sign_notes"]
    driver.complete("co_sign_exit", {"co_sign_decision": "rimandata", "co_sign_notes": "Manca la casa."},
                    instance=instance)
    assert handed(driver, instance) == [("decide_exit", "equipe", "capofila")]

    driver.complete("decide_exit", UNPLANNED, instance=instance)
    driver.complete("approve_unplanned_exit", {"approval_decision": "rimandata", "approval_notes": "Riparliamone."},
                    instance=instance)
    assert handed(driver, instance) == [("decide_exit", "equipe", "capofila")]
    decide_planned(driver, instance)
    assert handed(driver, instance) == [("exit_interview", "case_manager", "capofila")]


def test_the_co_signer_is_the_social_worker_who_signed(driver: ProcessDriver) -> None:
    accounts.create_user(driver.session, "as_ferrero", organisation=driver.session.scalars(
        select(Organisation).where(Organisation.key == "comune")).one(), roles=["assistente_sociale"],
        password_hash=None)
    instance = request_exit(driver, make_case(driver))
    driver.complete("decide_exit", DECISION, instance=instance)
    row = driver.task("co_sign_exit", instance)
    driver.engine.complete_task(driver.session, row.id, {"co_sign_decision": "controfirmata"},
                                Actor("as_ferrero", frozenset({"assistente_sociale"}), "comune"))
    driver.complete("exit_interview", SUBENTRO, instance=instance)
    assert driver.session.scalars(select(ExitRecord)).one().co_signed_by == "as_ferrero"


# --- the household account ---------------------------------------------------------------------------


def to_account(driver: ProcessDriver, unpaid_months: int) -> tuple[dict[str, Any], ProcessInstance]:
    case = make_case(driver, unpaid_months=unpaid_months)
    instance = request_exit(driver, case)
    decide_planned(driver, instance)
    driver.complete("exit_interview", SUBENTRO, instance=instance)
    driver.complete("close_lease", {"lease_end_date": "2026-04-01", "keys_returned": False,
                                    "deposit_outcome": "trasferito_al_nucleo", "utilities_transferred": True},
                    instance=instance)
    return case, instance


def test_arrears_at_exit_become_a_repayment_plan(driver: ProcessDriver) -> None:
    case, instance = to_account(driver, unpaid_months=2)
    data = driver.data(instance)
    assert data["final_balance"] == "300.00"  # proposed from the ledger: two months unpaid
    assert (data["placement_details"]["agreement_id"], data["placement_details"]["months_unpaid"]) == (
        case["agreement_id"], 2)
    with pytest.raises(FormValidationError) as error:
        driver.complete("settle_account", {**NO_DEBT, "final_balance": "300.00", "repayment_plan": True},
                        instance=instance)
    assert sorted(error.value.fields) == ["arrears_cause", "first_instalment_date", "instalment"]
    driver.complete("settle_account", {"settlement_date": "2026-04-10", "final_balance": "300.00",
                                       "repayment_plan": True, "instalment": "50,00",
                                       "first_instalment_date": "2026-05-10",
                                       "arrears_cause": "incolpevole_perdita_lavoro",
                                       "account_notes": "Rate concordate con il nucleo."}, instance=instance)
    plan = driver.session.scalars(select(RepaymentPlan)).one()
    assert (plan.agreement_id, plan.total_cents, plan.instalment_cents, plan.first_due, plan.cause) == (
        case["agreement_id"], 30000, 5000, date(2026, 5, 10), "incolpevole_perdita_lavoro")
    assert driver.data(instance)["repayment"]["instalments"] == 6
    assert handed(driver, instance) == [("hand_over_case", "assistente_sociale", "comune")]


def test_arrears_at_exit_written_off(driver: ProcessDriver) -> None:
    _, instance = to_account(driver, unpaid_months=1)
    assert driver.data(instance)["final_balance"] == "150.00"
    driver.complete("settle_account", {"settlement_date": "2026-04-10", "final_balance": "150.00",
                                       "write_off": "150.00", "repayment_plan": False,
                                       "account_notes": "Debito stralciato: nucleo senza reddito."},
                    instance=instance)
    assert driver.session.scalars(select(RepaymentPlan)).all() == []
    assert driver.data(instance)["write_off"] == "150.00"
    assert handed(driver, instance) == [("hand_over_case", "assistente_sociale", "comune")]


# --- bad data ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "field"), [
    ({"destination": "999"}, "destination"),
    ({"destination": "Strada"}, "destination"),  # the label is not the code
    ({"destination": "435"}, "subsidy_type"),  # a subsidised rental says which subsidy
    ({"exit_date": "2026-02-30"}, "exit_date"),
    ({"exit_reason": "sfratto"}, "exit_reason"),
    ({"monthly_income_at_exit": "mille"}, "monthly_income_at_exit"),
    ({"lease_disposition": "subentro"}, "lease_disposition"),  # not a field of this form
])
def test_the_exit_interview_refuses_bad_data(driver: ProcessDriver, change: dict[str, Any], field: str) -> None:
    instance = request_exit(driver, make_case(driver))
    decide_planned(driver, instance)
    task = driver.task("exit_interview")
    with pytest.raises(FormValidationError) as error:
        driver.complete("exit_interview", {**SUBENTRO, **change}, instance=instance)
    assert list(error.value.fields) == [field]
    assert driver.task("exit_interview").id == task.id  # nothing moved
    assert driver.session.scalars(select(ExitRecord)).all() == []


def test_a_refused_exit_record_becomes_an_incident_naming_the_field(driver: ProcessDriver) -> None:
    # Housing placement failed upstream: there is no lease the household could take over.
    case = make_case(driver, housed=False)
    instance = request_exit(driver, case, requested_by="housing_placement")
    decide_planned(driver, instance)
    driver.complete("exit_interview", SUBENTRO, instance=instance)

    assert instance.status == "error"
    incident = driver.session.scalars(select(Incident).where(Incident.instance_id == instance.id)).one()
    assert incident.task_spec_id == "store_exit"
    assert "lease_disposition" in incident.message
    assert driver.session.scalars(select(ExitRecord)).all() == []
    assert driver.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                          HumanTask.status == "ready")).all() == []


def test_exit_messages_are_routed_to_one_new_instance_each(driver: ProcessDriver) -> None:
    first = make_case(driver)
    request_exit(driver, first)
    second = make_case(driver, housed=False)
    payload = {"household_id": second["household_id"], "household_reference": second["household_reference"],
               "business_key": second["household_reference"], "enrollment_id": second["enrollment_id"],
               "project_start_date": "2025-09-10", "task_organisations": {}, "placement_id": None,
               "exit_type": "non_programmata", "exit_reason": "irreperibile", "requested_by": "monitoring"}
    driver.send("exit_requested", payload, role="case_manager")
    instances = driver.instances("exit")
    assert [i.business_key for i in instances] == [first["household_reference"], second["household_reference"]]
    messages = driver.session.scalars(select(Message).where(Message.name == "exit_requested")).all()
    assert [(m.status, m.target_instance_id) for m in messages] == [("delivered", i.id) for i in instances]
    assert [driver.data(i)["enrollment_id"] for i in instances] == [first["enrollment_id"], second["enrollment_id"]]
