"""The housing placement process (domain.md §3.2): from the enrollment to the household's move-in.

Cases are built through the case-file operations; the process is started by its ``enrollment_opened``
message, as intake sends it, and driven task by task as staff would. Timers (registration, police
notice, time-to-housing alerts) and relocations are in ``test_housing_placement_timers.py``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from casefile.models import (
    CaseEvent,
    Enrollment,
    HousingUnit,
    Landlord,
    LeaseContract,
    OccupancyAgreement,
    Organisation,
    Placement,
)
from casefile.operations import Caller, execute
from engine import FormValidationError
from engine.models import Incident, Message, ProcessInstance, Timer

from .conftest import ProcessDriver, task_summary

SYSTEM = Caller.system("test")
PROCESS = "housing_placement"

PROFILE = {"profile_date": "2026-03-03", "rooms_needed": 2, "preferred_zones": "Barriera di Milano",
           "constraints": "Scuola dei figli in via Cigna", "max_contribution": "150,00", "non_eu_hosted": False}
NEW_UNIT = {"search_outcome": "alloggio_trovato", "landlord_choice": "nuovo", "landlord_name": "Giuseppe Bianchi",
            "landlord_kind": "persona", "landlord_tax_code": "BNCGPP60A01L219X", "unit_choice": "nuovo",
            "source": "locare", "address": "Via Cigna 12, Torino", "circoscrizione": "6",
            "cadastral_category": "A/3", "sqm": 62, "rooms": 3, "floor": 2, "lift": True, "ape_class": "E",
            "availability_date": "2026-03-20"}
INSPECTION = {"inspection_date": "2026-03-10", "unit_condition": "buono", "systems_compliant": True,
              "heating_working": True, "free_of_damp": True, "defects": "Rubinetto del bagno da sostituire",
              "utilities_status": "da_volturare"}
SUITABLE = {"suitability_date": "2026-03-11", "unit_suitable": "si"}
ACCEPTS = {"visit_date": "2026-03-12", "household_choice": "accetta"}
LANDLORD_OK = {"landlord_answer_date": "2026-03-13", "landlord_accepts": "si"}
LEASE = {"lease_type": "4+4", "lease_signed_date": "2026-03-16", "lease_start_date": "2026-04-01",
         "lease_first_expiry": "2030-03-31", "monthly_rent": "650", "service_charges": "60,00", "rent_due_day": 5,
         "deposit": "1300,00"}
REGISTRATION = {"registration_date": "2026-03-25", "registration_code": "TK326T001234000AB"}
AGREEMENT = {"agreement_kind": "sublocazione", "agreement_signed_date": "2026-03-30",
             "agreement_start_date": "2026-04-01", "monthly_contribution": "150", "house_rules_ack": True}
UTILITIES = {"utilities_date": "2026-03-31", "utilities_holder": "ente", "electricity_supplier": "Iren",
             "electricity_pod": "IT001E12345678", "gas_pdr": "00881234567890", "water_included": True}
POLICE = {"police_notice_kind": "cessione_fabbricato", "police_notice_date": "2026-04-01",
          "police_office": "Commissariato Barriera di Milano", "police_receipt": "2026/4411"}
KEYS = {"keys_handed_over_date": "2026-04-01", "keys_count": 3,
        "handover_report": "Alloggio in buono stato; contatori luce 1234, gas 567."}
MOVE_IN = {"move_in_date": "2026-04-02", "first_night_confirmed": True}
RESIDENCE = {"residence_request_kind": "iscrizione", "anagrafe_request_date": "2026-04-10",
             "residence_outcome": "ottenuta", "residence_obtained_date": "2026-05-20"}

# The whole way from the needs profile to the residence, with who does each step and where.
MAIN_PATH = [
    ("needs_profile", PROFILE, "case_manager", "capofila"),
    ("find_unit", NEW_UNIT, "referente_abitativo", "locatario"),
    ("inspect_unit", INSPECTION, "referente_abitativo", "locatario"),
    ("assess_unit", SUITABLE, "coordinatore", "capofila"),
    ("household_choice", ACCEPTS, "case_manager", "capofila"),
    ("landlord_terms", LANDLORD_OK, "referente_abitativo", "locatario"),
    ("lease_signature", LEASE, "referente_abitativo", "locatario"),
    ("lease_registration", REGISTRATION, "amministrazione", "locatario"),
    ("occupancy_agreement", AGREEMENT, "referente_abitativo", "locatario"),
    ("utilities", UTILITIES, "referente_abitativo", "locatario"),
    ("police_notice", POLICE, "referente_abitativo", "locatario"),
    ("keys_handover", KEYS, "referente_abitativo", "locatario"),
    ("move_in", MOVE_IN, "case_manager", "capofila"),
    ("residence_registration", RESIDENCE, "case_manager", "capofila"),
]
STEPS = [step for step, *_ in MAIN_PATH]


# --- building a case through the case file ---------------------------------------------------------


def run(driver: ProcessDriver, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    return execute(driver.session, name, payload, SYSTEM)


def make_case(driver: ProcessDriver, project_start: str = "2026-03-02") -> dict[str, Any]:
    """An enrolled household waiting for a flat; returns the case context intake would send."""
    referred = (date.fromisoformat(project_start) - timedelta(days=20)).isoformat()
    household = run(driver, "register_household", {
        "display_name": "Famiglia Benali", "organisation": "capofila", "since": referred,
        "members": [{"first_name": "Ahmed", "last_name": "Benali", "relationship_to_hoh": 1,
                     "citizenship": "Marocco"},
                    {"first_name": "Sara", "last_name": "Benali", "relationship_to_hoh": 2}]})
    referral = run(driver, "register_referral", {
        "household_id": household["household_id"], "referral_date": referred, "source": "sad",
        "referring_org": "SAD", "urgency": "sfratto_esecutivo", "housing_need_type": "emergenza_abitativa"})
    run(driver, "record_referral_result", {"referral_id": referral["referral_id"], "result": "accettato",
                                           "result_date": referred})
    enrollment = run(driver, "open_enrollment", {
        "household_id": household["household_id"], "referral_id": referral["referral_id"],
        "project_start_date": project_start,
        "team": [{"username": "case_manager", "role": "case_manager"},
                 {"username": "referente_abitativo", "role": "referente_abitativo"}]})
    return {"household_id": household["household_id"], "household_reference": household["reference"],
            "business_key": household["reference"], "enrollment_id": enrollment["enrollment_id"],
            "project_start_date": project_start, "task_organisations": {}}


def start(driver: ProcessDriver, case: dict[str, Any]) -> ProcessInstance:
    message = driver.send("enrollment_opened", case)
    assert message.status == "delivered", message.reason
    instance = driver.session.get(ProcessInstance, message.target_instance_id)
    assert instance is not None
    assert instance.process_id == PROCESS
    return instance


def walk(driver: ProcessDriver, instance: ProcessInstance, until: str | None = None,
         changes: dict[str, dict[str, Any]] | None = None, start_at: str = "needs_profile") -> None:
    """Complete the main path's steps from ``start_at`` up to (not including) ``until``."""
    changes = changes or {}
    for step, data, _role, _org in MAIN_PATH[STEPS.index(start_at):]:
        if step == until:
            return
        merged = {**data, **changes.get(step, {})}
        driver.complete(step, {k: v for k, v in merged.items() if v is not None}, instance=instance)


def ready(driver: ProcessDriver, instance: ProcessInstance) -> list[tuple[str, str | None, str | None]]:
    return task_summary(driver.ready(instance))


def messages(driver: ProcessDriver, name: str) -> list[Message]:
    return list(driver.session.scalars(select(Message).where(Message.name == name).order_by(Message.id)))


def journal(driver: ProcessDriver, instance: ProcessInstance) -> list[str]:
    """The case-file operations the instance journaled on the household, oldest first."""
    return list(driver.session.scalars(select(CaseEvent.operation).where(CaseEvent.instance_id == instance.id)
                                       .order_by(CaseEvent.id)))


def task_data(driver: ProcessDriver, instance: ProcessInstance, step: str) -> dict[str, Any]:
    """The data the ready task ``step`` sees (the alerts branch keeps its own copy)."""
    row = driver.task(step, instance)
    return dict(driver.fresh_engine().load(instance).get_task_from_id(UUID(row.id)).data)


def one(driver: ProcessDriver, model: Any, **where: Any) -> Any:
    [row] = driver.rows(model, **where)
    return row


# --- the main path -----------------------------------------------------------------------------------


def test_main_path_houses_the_household_and_starts_monitoring(driver: ProcessDriver) -> None:
    case = make_case(driver)
    instance = start(driver, case)
    assert (instance.organisation, instance.business_key) == ("capofila", case["household_reference"])

    for step, data, role, organisation in MAIN_PATH:
        # The alerts branch waits beside the main path on a timer: only the step itself is handed out.
        rows = driver.ready(instance)
        assert task_summary(rows) == [(step, role, organisation)], step
        [row] = rows
        assert row.form_key == f"{PROCESS}_{step}.schema.json"
        assert row.instructions
        driver.complete(step, data, instance=instance)

    driver.session.refresh(instance)
    assert instance.status == "completed"
    assert driver.rows(Timer, instance_id=instance.id) == []
    locatario = one(driver, Organisation, key="locatario")
    landlord = one(driver, Landlord, name="Giuseppe Bianchi")
    assert (landlord.kind, landlord.tax_code, landlord.managed_by_org_id) == (
        "persona", "BNCGPP60A01L219X", locatario.id)
    unit = one(driver, HousingUnit, address="Via Cigna 12, Torino")
    assert (unit.source, unit.rooms, unit.sqm, unit.lift, unit.ape_class, unit.landlord_id) == (
        "locare", 3, 62, True, "E", landlord.id)
    lease = one(driver, LeaseContract, unit_id=unit.id)
    assert (lease.tenant_org_id, lease.landlord_id, lease.lease_type, lease.status) == (
        locatario.id, landlord.id, "4+4", "attivo")
    assert (lease.monthly_rent_cents, lease.service_charges_cents, lease.deposit_cents, lease.rent_due_day) == (
        65000, 6000, 130000, 5)
    assert (lease.signed_on, lease.first_expiry, lease.sublet_clause) == (date(2026, 3, 16), date(2030, 3, 31), True)
    assert (lease.registration_date, lease.registration_code) == (date(2026, 3, 25), "TK326T001234000AB")
    placement = one(driver, Placement, lease_id=lease.id)
    assert (placement.enrollment_id, placement.unit_id, placement.start_date) == (
        case["enrollment_id"], unit.id, date(2026, 4, 1))
    assert (placement.keys_handed_over_on, placement.keys_count, placement.move_in_date, placement.end_date) == (
        date(2026, 4, 1), 3, date(2026, 4, 2), None)
    agreement = one(driver, OccupancyAgreement, placement_id=placement.id)
    assert (agreement.kind, agreement.monthly_contribution_cents, agreement.contribution_due_day,
            agreement.end_date) == ("sublocazione", 15000, 5, None)
    enrollment = driver.session.get(Enrollment, case["enrollment_id"])
    assert (enrollment.status, enrollment.move_in_date) == ("inserito", date(2026, 4, 2))
    assert journal(driver, instance) == ["place_household", "sign_occupancy_agreement", "hand_over_keys",
                                         "record_move_in"]

    [announced] = messages(driver, "move_in_recorded")
    assert announced.source_instance_id == instance.id
    assert announced.payload == {**case, "task_organisations": announced.payload["task_organisations"],
                                 "placement_id": placement.id, "lease_id": lease.id, "move_in_date": "2026-04-02",
                                 "lease_first_expiry": "2030-03-31", "rent_due_day": 5, "monthly_rent": "650.00",
                                 "monthly_contribution": "150.00"}
    assert announced.payload["task_organisations"]["referente_abitativo"] == "locatario"
    assert announced.status == "delivered"
    monitoring = driver.session.get(ProcessInstance, announced.target_instance_id)
    assert monitoring.process_id == "monitoring"
    assert messages(driver, "placement_closed") == messages(driver, "exit_requested") == []
    data = driver.data(instance)
    assert data["matching_history"] == []
    assert (data["residence_outcome"], data["residence_obtained_date"]) == ("ottenuta", "2026-05-20")


# --- matching: each "no" loops back to the search, through the coordinator's review -------------------

SETBACKS = {
    "ricerca": ("find_unit", {"search_outcome": "nessun_alloggio",
                              "search_notes": "Nessun alloggio a canone sostenibile in zona"},
                "nessun_alloggio_idoneo", "Nessun alloggio a canone sostenibile in zona"),
    "idoneita": ("assess_unit", {"unit_suitable": "no", "unsuitable_reason": "Quarto piano senza ascensore"},
                 "nessun_alloggio_idoneo", "Quarto piano senza ascensore"),
    "scelta_nucleo": ("household_choice", {"household_choice": "rifiuta",
                                           "household_refusal_reason": "Troppo lontano dalla scuola"},
                      "rifiuto_nucleo", "Troppo lontano dalla scuola"),
    "proprietario": ("landlord_terms", {"landlord_accepts": "no",
                                        "landlord_refusal_reason": "Non accetta la sublocazione"},
                     "rifiuto_proprietario", "Non accetta la sublocazione"),
}
CONTINUE = {"review_date": "2026-03-20", "search_decision": "continua"}


def registered_unit(driver: ProcessDriver) -> tuple[int, int]:
    """A flat offered through the co-design with the City, already on file with its landlord."""
    landlord = run(driver, "register_landlord", {"name": "Immobiliare Dora srl", "kind": "societa",
                                                 "tax_code": "01234567890", "managed_by": "locatario"})
    unit = run(driver, "register_housing_unit", {"address": "Corso Vercelli 40, Torino", "rooms": 2,
                                                 "source": "co_progettazione", "landlord_id": landlord["landlord_id"]})
    return landlord["landlord_id"], unit["unit_id"]


@pytest.mark.parametrize("stage", list(SETBACKS))
def test_a_no_loops_back_to_the_search_through_the_review(driver: ProcessDriver, stage: str) -> None:
    step, answer, failure_reason, reason = SETBACKS[stage]
    instance = start(driver, make_case(driver))
    walk(driver, instance, until=step)
    driver.complete(step, {**dict(MAIN_PATH[STEPS.index(step)][1]), **answer}, instance=instance)

    assert ready(driver, instance) == [("review_search", "coordinatore", "capofila")]
    data = task_data(driver, instance, "review_search")
    unit_id = None if stage == "ricerca" else one(driver, HousingUnit, address="Via Cigna 12, Torino").id
    assert data["matching_history"] == [{"stage": stage, "unit_id": unit_id, "reason": reason}]
    assert data["placement_failure_reason"] == failure_reason  # pre-fills the review form
    driver.complete("review_search", CONTINUE, instance=instance)

    assert ready(driver, instance) == [("find_unit", "referente_abitativo", "locatario")]
    blank = task_data(driver, instance, "find_unit")  # a new round starts from a blank form
    assert (blank["search_outcome"], blank["unit_id"], blank["address"]) == (None, None, None)
    landlord_id, unit_id = registered_unit(driver)
    driver.complete("find_unit", {"search_outcome": "alloggio_trovato", "landlord_choice": "registrato",
                                  "landlord_id": landlord_id, "unit_choice": "registrato", "unit_id": unit_id},
                    instance=instance)
    assert ready(driver, instance) == [("inspect_unit", "referente_abitativo", "locatario")]
    data = task_data(driver, instance, "inspect_unit")
    assert (data["landlord_id"], data["unit_id"]) == (landlord_id, unit_id)
    assert [row["stage"] for row in data["matching_history"]] == [stage]
    assert len(driver.rows(Landlord)) == (1 if stage == "ricerca" else 2)  # nothing registered twice
    assert driver.rows(LeaseContract) == []


def test_a_flat_already_on_file_is_leased_without_registering_it_again(driver: ProcessDriver) -> None:
    instance = start(driver, make_case(driver))
    landlord_id, unit_id = registered_unit(driver)
    walk(driver, instance, changes={"find_unit": {
        "landlord_choice": "registrato", "landlord_id": landlord_id, "unit_choice": "registrato", "unit_id": unit_id,
        "landlord_name": None, "address": None}})

    driver.session.refresh(instance)
    assert instance.status == "completed"
    assert [landlord.id for landlord in driver.rows(Landlord)] == [landlord_id]
    assert [unit.id for unit in driver.rows(HousingUnit)] == [unit_id]
    lease = one(driver, LeaseContract, unit_id=unit_id)
    assert (lease.landlord_id, lease.registration_code) == (landlord_id, "TK326T001234000AB")
    assert one(driver, Placement, lease_id=lease.id).move_in_date == date(2026, 4, 2)
    assert [m.status for m in messages(driver, "move_in_recorded")] == ["delivered"]


def test_the_coordinator_closes_the_search_and_asks_for_the_exit(driver: ProcessDriver) -> None:
    case = make_case(driver)
    instance = start(driver, case)
    walk(driver, instance, until="household_choice")
    driver.complete("household_choice", {**ACCEPTS, **SETBACKS["scelta_nucleo"][1]}, instance=instance)

    with pytest.raises(FormValidationError) as error:
        driver.complete("review_search", {"review_date": "2026-03-20", "search_decision": "chiudi"},
                        instance=instance)
    assert sorted(error.value.fields) == ["exit_reason", "placement_failure_reason"]
    driver.complete("review_search", {"review_date": "2026-03-20", "search_decision": "chiudi",
                                      "placement_failure_reason": "rifiuto_nucleo", "exit_reason": "non_adesione",
                                      "review_notes": "Il nucleo ha rifiutato la terza proposta."},
                    instance=instance)

    driver.session.refresh(instance)
    assert instance.status == "completed"
    assert driver.ready(instance) == []
    assert driver.rows(Timer, instance_id=instance.id) == []  # the time-to-housing alerts are gone too
    [request] = messages(driver, "exit_requested")
    assert request.source_instance_id == instance.id
    assert request.payload == {**case, "task_organisations": request.payload["task_organisations"],
                               "placement_id": None, "exit_type": "non_programmata", "exit_reason": "non_adesione",
                               "placement_failure_reason": "rifiuto_nucleo", "requested_by": PROCESS}
    assert request.status == "delivered"
    assert driver.session.get(ProcessInstance, request.target_instance_id).process_id == "exit"
    assert driver.rows(Placement) == []
    assert driver.rows(LeaseContract) == []
    assert messages(driver, "move_in_recorded") == []


# --- forms and refused operations --------------------------------------------------------------------


BAD_DATA = {
    "find_unit": [({"address": None}, ["address"]),
                  ({"search_outcome": "nessun_alloggio"}, ["search_notes"]),
                  ({"unit_choice": "registrato", "unit_id": 5}, ["landlord_choice"]),
                  ({"landlord_choice": "registrato"}, ["landlord_id"]),
                  ({"cadastral_category": "A3", "source": "agenzia"}, ["cadastral_category", "source"])],
    "assess_unit": [({"unit_suitable": "no"}, ["unsuitable_reason"])],
    "household_choice": [({"household_choice": "Accetta"}, ["household_choice"])],
    "lease_signature": [({"monthly_rent": "650 euro", "rent_due_day": 31}, ["monthly_rent", "rent_due_day"]),
                        ({"lease_first_expiry": None}, ["lease_first_expiry"])],
    "occupancy_agreement": [({"house_rules_ack": False, "agreement_start_date": "1 aprile"},
                             ["agreement_start_date", "house_rules_ack"])],
    "utilities": [({"electricity_pod": "12345", "utilities_holder": None}, ["electricity_pod", "utilities_holder"])],
    "police_notice": [({"police_notice_kind": "denuncia"}, ["police_notice_kind"])],
    "keys_handover": [({"keys_count": 0}, ["keys_count"])],
    "move_in": [({"first_night_confirmed": False}, ["first_night_confirmed"]),
                ({"task_organisations": {}}, ["task_organisations"])],  # no fields beyond the form's
    "residence_registration": [({"residence_obtained_date": None}, ["residence_obtained_date"])],
}


def test_bad_form_data_is_refused_naming_the_field(driver: ProcessDriver) -> None:
    instance = start(driver, make_case(driver))
    for step, data, _role, _org in MAIN_PATH:
        for change, fields in BAD_DATA.get(step, []):
            bad = {k: v for k, v in {**data, **change}.items() if v is not None}
            with pytest.raises(FormValidationError) as error:
                driver.complete(step, bad, instance=instance)
            assert sorted(error.value.fields) == fields, (step, change)
            assert [row.task_spec_id for row in driver.ready(instance)] == [step]  # nothing moved
        driver.complete(step, data, instance=instance)
    driver.session.refresh(instance)
    assert instance.status == "completed"


@pytest.mark.parametrize(("step", "change", "service", "field"), [
    ("lease_signature", {"deposit": "2000"}, "record_lease", "deposit"),  # more than three months' rent
    ("move_in", {"move_in_date": "2026-03-31"}, "record_move_in_date", "move_in_date"),  # before the keys
])
def test_a_refused_operation_becomes_an_incident(driver: ProcessDriver, step: str, change: dict[str, Any],
                                                 service: str, field: str) -> None:
    case = make_case(driver)
    instance = start(driver, case)
    walk(driver, instance, until=step)
    driver.complete(step, {**dict(MAIN_PATH[STEPS.index(step)][1]), **change}, instance=instance)

    driver.session.refresh(instance)
    assert instance.status == "error"
    [incident] = driver.rows(Incident, instance_id=instance.id)
    assert (incident.task_spec_id, incident.status) == (service, "open")
    assert field in incident.message
    assert driver.ready(instance) == []
    assert messages(driver, "move_in_recorded") == []
    if step == "move_in":
        placement = one(driver, Placement, enrollment_id=case["enrollment_id"])
        assert (placement.keys_handed_over_on, placement.move_in_date) == (date(2026, 4, 1), None)
    else:
        assert driver.rows(LeaseContract) == []
