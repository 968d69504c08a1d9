"""The mediation process (domain.md §3.4), driven as staff would through the real model, forms and operations.

A conflict reported in monitoring arrives as ``mediation_requested``; the mediator opens the case and triages
safety; then individual meetings, landlord liaison through the lease holder, a joint meeting, an agreement,
its 30-day follow-up and the outcome, with a 3-working-day first-contact SLA and a 60-day escalation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile.models import CaseEvent, MediationAgreement, MediationCase, MediationSession
from casefile.operations import Caller, execute
from engine import FormValidationError, NotAllowedError
from engine.models import HumanTask, Incident, Message, ProcessInstance, ProcessVersion, Timer

from .conftest import ProcessDriver, task_summary

SETUP = Caller.system("test")

OPEN = {"opened_date": "2026-03-02", "reported_by": "vicino", "channel": "telefono", "conflict_type": "rumori",
        "severity": "medio", "parties": ["nucleo", "vicino"],
        "description": "Il vicino del piano di sopra lamenta musica alta dopo le 23."}
SAFE = {"safety_concern": False, "triage_notes": "Nessun segnale di violenza."}
INDIVIDUAL = {"individual_session_date": "2026-03-04", "party_role": "nucleo",
              "individual_summary": "Il nucleo riconosce il problema.", "more_individual_meetings": False}
JOINT = {"joint_session_date": "2026-03-10", "attendees_roles": ["nucleo", "vicino"],
         "joint_summary": "Orari concordati.", "agreement_reached": True}
AGREEMENT = {"signed_date": "2026-03-10", "signed_by_roles": ["nucleo", "vicino"],
             "actions": [{"who": "nucleo", "what": "Niente musica dopo le 22", "by_date": "2026-03-11"},
                         {"who": "vicino", "what": "Segnalare al mediatore, non al nucleo", "by_date": "2026-03-11"}]}
KEPT = {"checked_date": "2026-04-09", "followup_result": "rispettato"}
RESOLVED = {"outcome": "risolto_con_accordo", "closed_date": "2026-04-09"}
UNRESOLVED = {"outcome": "non_risolto_escalation", "closed_date": "2026-04-09", "outcome_notes": "Nuove lamentele."}

MEDIATOR = ("mediatore", "partner")


# --- the case file the request is about ---------------------------------------------------------------


def run(session: Session, operation: str, **payload: Any) -> dict[str, Any]:
    return execute(session, operation, payload, SETUP)


@pytest.fixture
def case(driver: ProcessDriver) -> dict[str, Any]:
    """A household housed in a flat leased by the lease holder, with the City's social worker on its team."""
    session = driver.session
    landlord = run(session, "register_landlord", name="Sig.ra Gallo", kind="persona", managed_by="locatario")
    unit = run(session, "register_housing_unit", address="Via Buniva 5, Torino", rooms=2, source="mercato_privato",
               landlord_id=landlord["landlord_id"])
    lease = run(session, "sign_lease", unit_id=unit["unit_id"], landlord_id=landlord["landlord_id"],
                tenant="locatario", lease_type="4+4", signed_on="2026-01-25", start_date="2026-02-01",
                first_expiry="2030-01-31", monthly_rent="550.00", rent_due_day=5)
    household = run(session, "register_household", display_name="Famiglia Haddad", organisation="capofila",
                    since="2026-01-05", members=[{"first_name": "Karim", "last_name": "Haddad",
                                                  "relationship_to_hoh": 1}])
    referral = run(session, "register_referral", household_id=household["household_id"], referral_date="2026-01-05",
                   source="sad", referring_org="SAD", urgency="altro", housing_need_type="emergenza_abitativa")
    run(session, "acknowledge_referral", referral_id=referral["referral_id"], ack_date="2026-01-06")
    run(session, "record_referral_result", referral_id=referral["referral_id"], result="accettato",
        result_date="2026-01-15")
    enrollment = run(session, "open_enrollment", household_id=household["household_id"],
                     referral_id=referral["referral_id"], project_start_date="2026-01-20",
                     team=[{"username": "case_manager", "role": "case_manager"},
                           {"username": "assistente_sociale", "role": "assistente_sociale"}])
    placement = run(session, "place_household", enrollment_id=enrollment["enrollment_id"],
                    lease_id=lease["lease_id"], start_date="2026-02-01")
    run(session, "sign_occupancy_agreement", placement_id=placement["placement_id"], kind="ospitalita",
        signed_on="2026-02-01", start_date="2026-02-01", monthly_contribution="120.00", house_rules_ack=True)
    run(session, "hand_over_keys", placement_id=placement["placement_id"], handed_over_on="2026-02-01", keys_count=2)
    run(session, "record_move_in", placement_id=placement["placement_id"], move_in_date="2026-02-02")
    return {"household_id": household["household_id"], "household_reference": household["reference"],
            "enrollment_id": enrollment["enrollment_id"], "placement_id": placement["placement_id"],
            "lease_id": lease["lease_id"]}


def request(case: dict[str, Any]) -> dict[str, Any]:
    """The ``mediation_requested`` payload monitoring sends (the contract's case context + the conflict)."""
    return {"household_id": case["household_id"], "household_reference": case["household_reference"],
            "business_key": case["household_reference"], "enrollment_id": case["enrollment_id"],
            "project_start_date": "2026-01-20", "task_organisations": {},
            "placement_id": case["placement_id"], "incident_id": None, "reported_by": "vicino",
            "conflict_type": "rumori", "severity": "medio", "description": "Musica alta di notte."}


def start(driver: ProcessDriver, case: dict[str, Any]) -> ProcessInstance:
    message = driver.send("mediation_requested", request(case))
    assert (message.status, message.reason) == ("delivered", None)
    return driver.instance("mediation")


def open_case(driver: ProcessDriver, case: dict[str, Any], **change: Any) -> ProcessInstance:
    """Start, open the case and find no safety concern: the mediator's first individual meeting is ready."""
    instance = start(driver, case)
    driver.complete("open_case", {**OPEN, **change})
    driver.complete("safety_triage", SAFE)
    return instance


def reach_outcome(driver: ProcessDriver, case: dict[str, Any], followup: dict[str, Any] = KEPT) -> ProcessInstance:
    """Open, one individual and one joint meeting, an agreement, its follow-up: the outcome is next."""
    instance = open_case(driver, case)
    driver.complete("individual_meeting", INDIVIDUAL)
    driver.complete("joint_meeting", JOINT)
    driver.complete("draft_agreement", AGREEMENT)
    driver.advance_to(datetime(2026, 4, 9, 9, 0, tzinfo=UTC))
    driver.complete("followup_check", followup)
    return instance


def ready(driver: ProcessDriver, instance: ProcessInstance) -> list[tuple[str, str | None, str | None]]:
    return task_summary(driver.ready(instance))


def task_data(driver: ProcessDriver, instance: ProcessInstance, spec_id: str) -> dict[str, Any]:
    """The data of one ready task (the instance runs parallel branches, each with its own data)."""
    workflow = driver.fresh_engine().load(instance)
    [task] = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == spec_id]
    return dict(task.data)


def mediation_journal(driver: ProcessDriver, household_id: int) -> list[str]:
    """The operations the mediation process wrote to the household's journal, oldest first."""
    query = select(CaseEvent.operation).where(CaseEvent.household_id == household_id,
                                             CaseEvent.process_id == "mediation").order_by(CaseEvent.id)
    return list(driver.session.scalars(query))


def the_case(driver: ProcessDriver, case: dict[str, Any]) -> MediationCase:
    [row] = driver.rows(MediationCase, enrollment_id=case["enrollment_id"])
    driver.session.refresh(row)
    return row


def timers(driver: ProcessDriver, instance: ProcessInstance) -> dict[str, datetime]:
    return {row.task_spec_id: row.due_at.replace(tzinfo=UTC) if row.due_at.tzinfo is None else row.due_at
            for row in driver.rows(Timer, instance_id=instance.id)}


def deployed(driver: ProcessDriver, process_id: str) -> bool:
    return driver.session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_id == process_id)) is not None


# --- main path -----------------------------------------------------------------------------------------


def test_main_path_agreement_kept(driver: ProcessDriver, case: dict[str, Any]) -> None:
    instance = start(driver, case)
    assert (instance.business_key, instance.organisation) == (case["household_reference"], "capofila")
    data = driver.data(instance)
    assert {k: data[k] for k in ("household_id", "enrollment_id", "placement_id", "conflict_type",
                                 "requested_date", "opened_date")} == {
        "household_id": case["household_id"], "enrollment_id": case["enrollment_id"],
        "placement_id": case["placement_id"], "conflict_type": "rumori", "requested_date": "2026-03-02",
        "opened_date": "2026-03-02"}
    assert {role: data["task_organisations"][role] for role in
            ("mediatore", "referente_abitativo", "coordinatore", "assistente_sociale")} == {
        "mediatore": "partner", "referente_abitativo": "locatario", "coordinatore": "capofila",
        "assistente_sociale": "comune"}
    [opening] = driver.ready(instance)
    assert (opening.task_spec_id, opening.role, opening.organisation, opening.lane) == (
        "open_case", "mediatore", "partner", "Mediatore")
    assert opening.form_key == "mediation_open_case.schema.json"
    assert opening.instructions
    assert opening.due_at.replace(tzinfo=UTC) == datetime(2026, 3, 5, 9, 0, tzinfo=UTC)

    driver.complete("open_case", OPEN)
    assert driver.rows(MediationCase) == []  # nothing is recorded before the safety triage
    driver.complete("safety_triage", SAFE)
    row = the_case(driver, case)
    assert (row.placement_id, row.opened_on, row.reported_by, row.channel, row.conflict_type, row.severity,
            row.safety_concern, row.status) == (case["placement_id"], date(2026, 3, 2), "vicino", "telefono",
                                                "rumori", "medio", False, "aperto")
    assert timers(driver, instance) == {"sixty_days": datetime(2026, 5, 1, 8, 0, tzinfo=UTC)}

    # Two individual meetings (the loop), no landlord among the parties: straight to the joint meeting.
    driver.complete("individual_meeting", {**INDIVIDUAL, "more_individual_meetings": True})
    driver.complete("individual_meeting", {**INDIVIDUAL, "individual_session_date": "2026-03-05",
                                           "party_role": "vicino", "individual_summary": "Il vicino accetta."})
    assert ready(driver, instance) == [("joint_meeting", *MEDIATOR)]
    driver.complete("joint_meeting", JOINT)
    driver.complete("draft_agreement", AGREEMENT)
    assert ready(driver, instance) == []
    assert timers(driver, instance) == {"sixty_days": datetime(2026, 5, 1, 8, 0, tzinfo=UTC),
                                        "followup_due": datetime(2026, 4, 9, 8, 0, tzinfo=UTC)}

    assert driver.advance(days=37) == 0  # 8 April: not yet
    assert driver.advance(days=1) == 1  # 9 April, 30 days after signing
    check = driver.task("followup_check")
    assert (check.role, check.organisation) == MEDIATOR
    driver.complete("followup_check", KEPT)
    driver.complete("decide_outcome", RESOLVED)

    assert instance.status == "completed"
    assert driver.rows(Timer, instance_id=instance.id) == []
    row = the_case(driver, case)
    assert (row.status, row.outcome, row.closed_on) == ("chiuso", "risolto_con_accordo", date(2026, 4, 9))
    sessions = driver.rows(MediationSession, case_id=row.id)
    assert [(s.kind, s.session_date, s.party_role, s.attendees_roles) for s in sessions] == [
        ("individuale", date(2026, 3, 4), "nucleo", []), ("individuale", date(2026, 3, 5), "vicino", []),
        ("congiunta", date(2026, 3, 10), None, ["nucleo", "vicino"])]
    [agreement] = driver.rows(MediationAgreement, case_id=row.id)
    assert (agreement.signed_on, agreement.followup_due, agreement.followup_result) == (
        date(2026, 3, 10), date(2026, 4, 9), "rispettato")
    assert agreement.actions == AGREEMENT["actions"]
    assert agreement.signed_by_roles == ["nucleo", "vicino"]
    assert mediation_journal(driver, case["household_id"]) == [
        "open_mediation_case", "record_mediation_session", "record_mediation_session", "record_mediation_session",
        "record_mediation_agreement", "record_mediation_followup", "close_mediation_case"]
    done = driver.rows(HumanTask, instance_id=instance.id)
    assert {(r.task_spec_id, r.role, r.organisation, r.status) for r in done} == {
        (spec, *MEDIATOR, "completed") for spec in ("open_case", "safety_triage", "individual_meeting",
                                                    "joint_meeting", "draft_agreement", "followup_check",
                                                    "decide_outcome")}
    assert driver.rows(Message, source_instance_id=instance.id) == []


def test_no_agreement_goes_straight_to_the_outcome(driver: ProcessDriver, case: dict[str, Any]) -> None:
    instance = open_case(driver, case)
    driver.complete("individual_meeting", INDIVIDUAL)
    driver.complete("joint_meeting", {**JOINT, "agreement_reached": False})
    assert ready(driver, instance) == [("decide_outcome", *MEDIATOR)]
    driver.complete("decide_outcome", {"outcome": "chiusura_rinuncia", "closed_date": "2026-03-12"})
    assert instance.status == "completed"
    assert (the_case(driver, case).outcome, driver.rows(MediationAgreement)) == ("chiusura_rinuncia", [])


# --- safety triage -------------------------------------------------------------------------------------


def test_violence_is_not_mediated_but_referred(driver: ProcessDriver, case: dict[str, Any]) -> None:
    instance = start(driver, case)
    driver.complete("open_case", {**OPEN, "conflict_type": "conflitti_interni", "parties": ["nucleo"]})
    with pytest.raises(FormValidationError) as error:
        driver.complete("safety_triage", {"safety_concern": True})
    assert list(error.value.fields) == ["safety_risks"]
    driver.complete("safety_triage", {"safety_concern": True, "safety_risks": ["violenza_domestica"]})

    row = the_case(driver, case)
    assert (row.safety_concern, row.status, row.outcome, row.closed_on) == (
        True, "chiuso", "inviato_servizi_specialistici", date(2026, 3, 2))
    assert driver.rows(MediationSession) == []
    assert ready(driver, instance) == [("safety_coordinator", "coordinatore", "capofila"),
                                       ("safety_social_worker", "assistente_sociale", "comune")]
    assert {r.due_at.replace(tzinfo=UTC) for r in driver.ready(instance)} == {datetime(2026, 3, 3, 9, 0, tzinfo=UTC)}
    assert timers(driver, instance) == {}  # no 60-day escalation: there is no mediation to chase
    driver.complete("safety_social_worker", {"specialised_referral_date": "2026-03-02",
                                             "specialised_service": "centro_antiviolenza"})
    assert instance.status != "completed"  # both must act
    driver.complete("safety_coordinator", {"safety_review_date": "2026-03-02", "authorities_informed": True,
                                           "project_measures": "Accoglienza temporanea per la madre e i figli."})
    assert instance.status == "completed"
    assert mediation_journal(driver, case["household_id"]) == ["open_mediation_case"]


# --- landlord liaison ----------------------------------------------------------------------------------


def test_the_landlord_is_heard_only_through_the_lease_holder(driver: ProcessDriver, case: dict[str, Any]) -> None:
    instance = open_case(driver, case, reported_by="proprietario", conflict_type="rapporti_proprietario",
                         parties=["nucleo", "proprietario"])
    with pytest.raises(FormValidationError) as error:  # the mediator never meets the landlord
        driver.complete("individual_meeting", {**INDIVIDUAL, "party_role": "proprietario"})
    assert list(error.value.fields) == ["party_role"]
    driver.complete("individual_meeting", INDIVIDUAL)

    assert ready(driver, instance) == [("landlord_liaison", "referente_abitativo", "locatario")]
    liaison = {"liaison_date": "2026-03-06", "landlord_joins_mediation": True,
               "liaison_notes": "Chiede il rispetto degli orari di riposo."}
    with pytest.raises(NotAllowedError):
        driver.complete("landlord_liaison", liaison, role="mediatore")
    driver.complete("landlord_liaison", liaison)
    assert ready(driver, instance) == [("joint_meeting", *MEDIATOR)]
    driver.complete("joint_meeting", {**JOINT, "attendees_roles": ["nucleo", "proprietario", "referente_abitativo"]})
    assert task_data(driver, instance, "draft_agreement")["landlord_joins_mediation"] is True
    row = the_case(driver, case)
    assert [s.attendees_roles for s in driver.rows(MediationSession, case_id=row.id, kind="congiunta")] == [
        ["nucleo", "proprietario", "referente_abitativo"]]


# --- timers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("days_before", "due"), [
    (0, datetime(2026, 3, 5, 17, 0, tzinfo=UTC)),  # Monday -> end of Thursday
    (4, datetime(2026, 3, 11, 17, 0, tzinfo=UTC)),  # Friday -> end of Wednesday, over the weekend
])
def test_first_contact_sla_is_three_working_days(driver: ProcessDriver, case: dict[str, Any], days_before: int,
                                                 due: datetime) -> None:
    driver.advance(days=days_before)
    instance = start(driver, case)
    assert timers(driver, instance) == {"first_contact_sla": due}
    driver.advance_to(due)
    assert ready(driver, instance) == [("open_case", *MEDIATOR)]
    assert driver.advance(seconds=1) == 1

    # Not interrupting: the mediator keeps the case, the coordinator is told.
    assert ready(driver, instance) == [("first_contact_overdue", "coordinatore", "capofila"),
                                       ("open_case", *MEDIATOR)]
    with pytest.raises(FormValidationError) as error:
        driver.complete("first_contact_overdue", {"reminder_date": due.date().isoformat(), "reminder_action": "x"})
    assert list(error.value.fields) == ["reminder_action"]
    driver.complete("first_contact_overdue", {"reminder_date": due.date().isoformat(),
                                              "reminder_action": "sollecito_mediatore"})
    driver.complete("open_case", {**OPEN, "opened_date": due.date().isoformat()})
    assert ready(driver, instance) == [("safety_triage", *MEDIATOR)]
    assert driver.advance(days=30) == 0


def test_first_contact_in_time_drops_the_sla(driver: ProcessDriver, case: dict[str, Any]) -> None:
    instance = open_case(driver, case)
    assert "first_contact_sla" not in timers(driver, instance)
    assert driver.advance(days=10) == 0
    assert ready(driver, instance) == [("individual_meeting", *MEDIATOR)]


def test_no_resolution_within_sixty_days_escalates_to_the_coordinator(driver: ProcessDriver,
                                                                       case: dict[str, Any]) -> None:
    instance = open_case(driver, case, opened_date="2026-03-01")  # opened the day before the request was logged
    assert timers(driver, instance) == {"sixty_days": datetime(2026, 4, 30, 8, 0, tzinfo=UTC)}
    driver.complete("individual_meeting", INDIVIDUAL)
    assert driver.advance(days=58) == 0  # 29 April
    assert driver.advance(days=1) == 1
    assert ready(driver, instance) == [("escalate_overdue", "coordinatore", "capofila"),
                                       ("joint_meeting", *MEDIATOR)]
    driver.complete("escalate_overdue", {"overdue_review_date": "2026-04-30", "overdue_action": "prosegue",
                                         "overdue_notes": "Il vicino era all'estero."})
    assert ready(driver, instance) == [("joint_meeting", *MEDIATOR)]
    driver.complete("joint_meeting", {**JOINT, "joint_session_date": "2026-05-04", "agreement_reached": False})
    driver.complete("decide_outcome", {"outcome": "risolto", "closed_date": "2026-05-04"})
    assert instance.status == "completed"
    assert the_case(driver, case).outcome == "risolto"


def test_closing_the_case_cancels_the_sixty_day_escalation(driver: ProcessDriver, case: dict[str, Any]) -> None:
    instance = open_case(driver, case)
    driver.complete("individual_meeting", INDIVIDUAL)
    driver.complete("joint_meeting", {**JOINT, "agreement_reached": False})
    driver.complete("decide_outcome", {"outcome": "risolto", "closed_date": "2026-03-10"})
    assert instance.status == "completed"
    assert driver.rows(Timer, instance_id=instance.id) == []
    assert driver.advance(days=90) == 0
    assert [r.task_spec_id for r in driver.rows(HumanTask, instance_id=instance.id, task_spec_id="escalate_overdue")
            ] == []


def test_an_escalation_still_open_is_cancelled_when_the_case_closes(driver: ProcessDriver,
                                                                    case: dict[str, Any]) -> None:
    instance = open_case(driver, case)
    driver.advance(days=61)
    escalation = driver.task("escalate_overdue")
    driver.complete("individual_meeting", INDIVIDUAL)
    driver.complete("joint_meeting", {**JOINT, "agreement_reached": False})
    driver.complete("decide_outcome", {"outcome": "risolto", "closed_date": "2026-05-04"})
    assert instance.status == "completed"
    assert driver.session.get(HumanTask, escalation.id).status == "cancelled"


# --- outcomes ------------------------------------------------------------------------------------------


def test_agreement_not_kept_escalates_to_the_coordinator(driver: ProcessDriver, case: dict[str, Any]) -> None:
    instance = reach_outcome(driver, case, {"checked_date": "2026-04-09", "followup_result": "non_rispettato"})
    assert (driver.rows(MediationAgreement)[0].followup_result, the_case(driver, case).status) == (
        "non_rispettato", "aperto")
    driver.complete("decide_outcome", UNRESOLVED)
    assert ready(driver, instance) == [("escalate_unresolved", "coordinatore", "capofila")]
    assert the_case(driver, case).status == "aperto"  # it closes once the coordinator has decided
    driver.complete("escalate_unresolved", {"escalation_date": "2026-04-10", "escalation_decision": "richiamo_formale"})
    assert instance.status == "completed"
    row = the_case(driver, case)
    assert (row.status, row.outcome, row.closed_on) == ("chiuso", "non_risolto_escalation", date(2026, 4, 9))
    assert driver.rows(Message, source_instance_id=instance.id) == []


def test_relocation_asks_housing_placement_for_another_flat(driver: ProcessDriver, case: dict[str, Any]) -> None:
    instance = reach_outcome(driver, case, {"checked_date": "2026-04-09", "followup_result": "parzialmente"})
    relocation = {"outcome": "trasferimento_alloggio", "closed_date": "2026-04-09"}
    with pytest.raises(FormValidationError) as error:
        driver.complete("decide_outcome", relocation)
    assert list(error.value.fields) == ["relocation_reason"]
    driver.complete("decide_outcome", {**relocation, "relocation_reason": "Convivenza con il vicinato impossibile"})

    assert instance.status == "completed"
    assert the_case(driver, case).outcome == "trasferimento_alloggio"
    [message] = driver.rows(Message, source_instance_id=instance.id)
    assert message.name == "relocation_requested"
    payload = dict(message.payload)
    assert payload.pop("task_organisations")["referente_abitativo"] == "locatario"
    assert payload == {"household_id": case["household_id"], "household_reference": case["household_reference"],
                       "business_key": case["household_reference"], "enrollment_id": case["enrollment_id"],
                       "project_start_date": "2026-01-20", "placement_id": case["placement_id"],
                       "relocation_reason": "Convivenza con il vicinato impossibile"}
    assert message.correlations == {}
    if deployed(driver, "housing_placement"):
        assert message.status == "delivered"
        assert driver.session.get(ProcessInstance, message.target_instance_id).process_id == "housing_placement"
    else:
        assert message.status == "undeliverable"


def test_unresolved_conflict_can_lead_to_an_exit_proposal(driver: ProcessDriver, case: dict[str, Any]) -> None:
    instance = open_case(driver, case)
    driver.complete("individual_meeting", INDIVIDUAL)
    driver.complete("joint_meeting", {**JOINT, "agreement_reached": False})
    driver.complete("decide_outcome", UNRESOLVED)
    exit_decision = {"escalation_date": "2026-04-10", "escalation_decision": "proposta_uscita"}
    with pytest.raises(FormValidationError) as error:
        driver.complete("escalate_unresolved", exit_decision)
    assert list(error.value.fields) == ["exit_reason"]
    driver.complete("escalate_unresolved", {**exit_decision, "exit_reason": "allontanamento_violazioni"})

    assert instance.status == "completed"
    assert the_case(driver, case).outcome == "non_risolto_escalation"
    [message] = driver.rows(Message, source_instance_id=instance.id)
    assert message.name == "exit_proposed"
    assert message.correlations == {"enrollment_id": case["enrollment_id"]}
    assert {k: message.payload[k] for k in ("household_id", "business_key", "enrollment_id", "exit_type",
                                            "exit_reason", "proposed_by")} == {
        "household_id": case["household_id"], "business_key": case["household_reference"],
        "enrollment_id": case["enrollment_id"], "exit_type": "non_programmata",
        "exit_reason": "allontanamento_violazioni", "proposed_by": "mediation"}
    # Monitoring receives it by enrollment; no monitoring instance runs for this household here.
    assert (message.status, message.target_instance_id) == ("undeliverable", None)


# --- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "field"), [
    ({"conflict_type": "Rumori"}, "conflict_type"),  # the label is not the stored code
    ({"parties": []}, "parties"),
    ({"parties": ["nucleo", "nucleo"]}, "parties"),
    ({"opened_date": "2026-02-30"}, "opened_date"),
    ({"severity": None}, "severity"),
    ({"safety_concern": False}, "safety_concern"),  # no fields beyond the form's
])
def test_open_case_rejects_bad_data(driver: ProcessDriver, case: dict[str, Any], change: dict[str, Any],
                                    field: str) -> None:
    instance = start(driver, case)
    data = {k: v for k, v in {**OPEN, **change}.items() if v is not None}
    with pytest.raises(FormValidationError) as error:
        driver.complete("open_case", data)
    assert list(error.value.fields) == [field]
    assert ready(driver, instance) == [("open_case", *MEDIATOR)]


def test_joint_meeting_and_agreement_reject_bad_data(driver: ProcessDriver, case: dict[str, Any]) -> None:
    open_case(driver, case)
    driver.complete("individual_meeting", INDIVIDUAL)
    with pytest.raises(FormValidationError) as error:
        driver.complete("joint_meeting", {**JOINT, "attendees_roles": ["nucleo"]})
    assert list(error.value.fields) == ["attendees_roles"]
    driver.complete("joint_meeting", JOINT)
    bad_action = {"who": "nucleo", "what": "Niente musica dopo le 22"}
    with pytest.raises(FormValidationError) as error:
        driver.complete("draft_agreement", {**AGREEMENT, "actions": [bad_action]})
    assert list(error.value.fields) == ["actions.0.by_date"]
    with pytest.raises(FormValidationError) as error:
        driver.complete("draft_agreement", {**AGREEMENT, "actions": []})
    assert list(error.value.fields) == ["actions"]


# --- refusals become incidents -------------------------------------------------------------------------


def test_a_session_before_the_opening_becomes_an_incident(driver: ProcessDriver, case: dict[str, Any]) -> None:
    instance = open_case(driver, case)
    driver.complete("individual_meeting", {**INDIVIDUAL, "individual_session_date": "2026-02-20"})
    assert instance.status == "error"
    [incident] = driver.rows(Incident, instance_id=instance.id)
    assert (incident.task_spec_id, incident.status) == ("record_individual_session", "open")
    assert "session_date" in incident.message
    assert driver.rows(MediationSession) == []
    assert ready(driver, instance) == []


def test_resolved_with_agreement_needs_the_agreement_kept(driver: ProcessDriver, case: dict[str, Any]) -> None:
    instance = reach_outcome(driver, case, {"checked_date": "2026-04-09", "followup_result": "non_rispettato"})
    driver.complete("decide_outcome", RESOLVED)
    assert instance.status == "error"
    [incident] = driver.rows(Incident, instance_id=instance.id)
    assert incident.task_spec_id == "close_case"
    assert "outcome" in incident.message
    assert the_case(driver, case).status == "aperto"
