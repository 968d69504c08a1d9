"""The monitoring process (domain.md §3.3): visits, plan reviews, conflicts, incidents, landlord notices, exit.

Money (rent, household contribution) and the lease-expiry reminders are in ``test_monitoring_money.py``.
Every test starts from a household really housed through the case-file operations, then sends the
``move_in_recorded`` message that housing_placement throws, and moves the injected clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile.models import CaseEvent, CaseIncident, Household, MonitoringVisit, PlanGoal, PlanReview, SupportActivity
from casefile.operations import Caller, execute
from engine import FormValidationError
from engine.models import HumanTask, Incident, Message, MessageSubscription, ProcessInstance, ProcessVersion, Timer

from .conftest import ProcessDriver, task_summary

SYSTEM = Caller.system("test")
MOVE_IN = "2026-03-02"  # the day the driver's clock starts


def run(session: Session, operation: str, /, **payload: Any) -> dict[str, Any]:
    return execute(session, operation, payload, SYSTEM)


def housed_household(session: Session, *, first_expiry: str = "2027-02-14", contribution: str = "150.00",
                     signed_plan: bool = True) -> dict[str, Any]:
    """A household referred, enrolled with its team and plan, and moved in on 2 March 2026 under a
    transitional lease of the lease-holding partner (rent 650 + 40, due on the 5th; contribution due on
    the 5th). Returns the ``move_in_recorded`` payload that housing_placement sends."""
    household = run(session, "register_household", display_name="Famiglia Haddad", organisation="capofila",
                    since="2026-01-05", members=[{"first_name": "Karim", "last_name": "Haddad",
                                                  "relationship_to_hoh": 1, "birth_date": "1979-03-30"}])
    household_id = household["household_id"]
    referral = run(session, "register_referral", household_id=household_id, referral_date="2026-01-05", source="sad",
                   referring_org="SAD", urgency="sfratto_esecutivo",
                   housing_need_type="emergenza_abitativa")["referral_id"]
    run(session, "acknowledge_referral", referral_id=referral, ack_date="2026-01-07")
    run(session, "record_referral_result", referral_id=referral, result="accettato", result_date="2026-01-19")
    enrollment = run(session, "open_enrollment", household_id=household_id, referral_id=referral,
                     project_start_date="2026-01-20",
                     team=[{"username": "case_manager", "role": "case_manager"},
                           {"username": "assistente_sociale", "role": "assistente_sociale"}])["enrollment_id"]
    plan = run(session, "draft_plan", enrollment_id=enrollment, drafted_on="2026-01-25", goals=[
        {"domain": "abitare", "description": "Mantenere l'alloggio e gestire le utenze"},
        {"domain": "lavoro", "description": "Avviare un tirocinio di inclusione"}])["plan_id"]
    if signed_plan:
        run(session, "sign_plan", plan_id=plan, signed_on="2026-02-01", co_signed_by="assistente_sociale")
    landlord = run(session, "register_landlord", name="Immobiliare Po", kind="societa",
                   managed_by="locatario")["landlord_id"]
    unit = run(session, "register_housing_unit", address="Via Po 10", rooms=2, source="locare",
               landlord_id=landlord)["unit_id"]
    lease = run(session, "sign_lease", unit_id=unit, landlord_id=landlord, tenant="locatario",
                lease_type="transitorio", signed_on="2026-02-10", start_date="2026-02-15",
                first_expiry=first_expiry, monthly_rent="650.00", service_charges="40.00", rent_due_day=5,
                deposit="650.00")["lease_id"]
    placement = run(session, "place_household", enrollment_id=enrollment, lease_id=lease,
                    start_date="2026-02-25")["placement_id"]
    run(session, "sign_occupancy_agreement", placement_id=placement, kind="sublocazione", signed_on="2026-02-25",
        start_date="2026-02-25", monthly_contribution=contribution, contribution_due_day=5, house_rules_ack=True)
    run(session, "hand_over_keys", placement_id=placement, handed_over_on="2026-02-28", keys_count=2)
    run(session, "record_move_in", placement_id=placement, move_in_date=MOVE_IN)
    reference = session.get(Household, household_id).reference
    return {"household_id": household_id, "household_reference": reference, "business_key": reference,
            "enrollment_id": enrollment, "project_start_date": "2026-01-20", "task_organisations": {},
            "placement_id": placement, "lease_id": lease, "move_in_date": MOVE_IN, "lease_first_expiry": first_expiry,
            "rent_due_day": 5, "monthly_rent": "650.00", "monthly_contribution": contribution}


def start(driver: ProcessDriver, session: Session, **options: Any) -> tuple[ProcessInstance, dict[str, Any]]:
    """House a household and send the message housing_placement throws at move-in."""
    payload = housed_household(session, **options)
    message = driver.send("move_in_recorded", payload)
    assert message.status == "delivered", message.reason
    return driver.instance("monitoring"), payload


def on(driver: ProcessDriver, day: str, hour: int = 9) -> None:
    """Move the clock to ``day`` at ``hour`` UTC (timers fire at 8:00 Turin time) and fire what is due."""
    driver.advance_to(datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC))


def tasks(driver: ProcessDriver, instance: ProcessInstance, *specs: str) -> list[tuple[str, str | None, str | None]]:
    """Who holds the instance's ready tasks (of the given BPMN ids, or all)."""
    return task_summary(row for row in driver.ready(instance) if not specs or row.task_spec_id in specs)


def task_data(driver: ProcessDriver, instance: ProcessInstance, spec: str) -> dict[str, Any]:
    """The data of the instance's ready or waiting task ``spec`` (e.g. what a user task offers its form)."""
    workflow = driver.fresh_engine().load(instance)
    [task] = [t for t in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING) if t.task_spec.bpmn_id == spec]
    return dict(task.data)


def timer_day(driver: ProcessDriver, instance: ProcessInstance, spec: str) -> str:
    [timer] = driver.rows(Timer, instance_id=instance.id, task_spec_id=spec)
    return timer.due_at.date().isoformat()


def context(payload: dict[str, Any]) -> dict[str, Any]:
    """The case context every message between the processes carries (it holds the correlation keys)."""
    keys = ("household_id", "household_reference", "business_key", "enrollment_id", "project_start_date",
            "task_organisations")
    return {key: payload[key] for key in keys}


def tell(driver: ProcessDriver, name: str, payload: dict[str, Any], role: str = "coordinatore",
         **fields: Any) -> Message:
    """A message from outside about the case: its context and fields, correlated on the enrollment."""
    return driver.send(name, {**context(payload), **fields}, {"enrollment_id": payload["enrollment_id"]}, role=role)


def journal(session: Session, household_id: int) -> list[str]:
    """The operations journaled on the household, oldest first."""
    return list(session.scalars(select(CaseEvent.operation).where(CaseEvent.household_id == household_id)
                                .order_by(CaseEvent.id)))


def visit(day: str, **changes: Any) -> dict[str, Any]:
    return {"visit_date": day, "mode": "domiciliare", "housing_condition": "buono", "risk_level": "medio", **changes}


def thrown(driver: ProcessDriver, name: str) -> list[Message]:
    return [m for m in driver.rows(Message, name=name) if m.source_instance_id is not None]


def deployed(driver: ProcessDriver, process_id: str) -> bool:
    return bool(driver.rows(ProcessVersion, process_id=process_id))


def assert_started_if_deployed(driver: ProcessDriver, message: Message, process_id: str) -> None:
    """Until the receiving process exists the message waits as undeliverable; then it starts it."""
    if deployed(driver, process_id):
        assert message.status == "delivered", message.reason
        target = driver.session.get(ProcessInstance, message.target_instance_id)
        assert (target.process_id, target.business_key) == (process_id, message.payload["business_key"])
        assert target.status in ("running", "waiting"), driver.rows(Incident, instance_id=target.id)
    else:
        assert message.status == "undeliverable"


def assert_ended(driver: ProcessDriver, instance: ProcessInstance) -> None:
    """Completed by a terminate end: no task, timer or subscription is left behind."""
    driver.session.refresh(instance)
    assert instance.status == "completed"
    assert driver.ready(instance) == []
    assert driver.rows(Timer, instance_id=instance.id) == []
    assert driver.rows(MessageSubscription, instance_id=instance.id) == []


# --- start ---------------------------------------------------------------------------------------


def test_move_in_starts_every_branch_of_the_monitoring(driver: ProcessDriver, session: Session) -> None:
    instance, payload = start(driver, session)
    assert (instance.status, instance.business_key) == ("running", payload["household_reference"])
    # The rent of March (due on the 5th) is charged ten days ahead: already due at move-in.
    assert tasks(driver, instance) == [("pay_rent", "amministrazione", "locatario")]
    timers = {t.task_spec_id: t.due_at.date().isoformat() for t in driver.rows(Timer, instance_id=instance.id)}
    assert timers == {"next_visit_due_reached": "2026-03-09", "review_due": "2026-06-02",
                      "contribution_charge_day": "2026-04-01", "lease_expiry_in_8_months": "2026-06-14",
                      "rent_late": "2026-03-10"}
    listening = {s.message_name: s.correlations for s in driver.rows(MessageSubscription, instance_id=instance.id)}
    enrollment = {"enrollment_id": payload["enrollment_id"]}
    assert listening == {"conflict_reported": enrollment, "critical_incident": enrollment,
                         "landlord_notice": enrollment, "exit_proposed": enrollment,
                         "placement_closed": {"placement_id": payload["placement_id"]}}
    data = task_data(driver, instance, "pay_rent")
    assert data["task_organisations"]["referente_abitativo"] == "locatario"
    assert data["task_organisations"]["assistente_sociale"] == "comune"
    assert data["placement"]["agreement_id"] is not None


# --- visits --------------------------------------------------------------------------------------


def test_visits_are_weekly_for_three_months_then_follow_the_risk_level(driver: ProcessDriver,
                                                                        session: Session) -> None:
    instance, payload = start(driver, session)
    due = "2026-03-09"
    while due < "2026-06-02":  # the first three months: weekly, whatever the risk
        on(driver, due)
        assert tasks(driver, instance, "home_visit") == [("home_visit", "case_manager", "capofila")]
        assert task_data(driver, instance, "home_visit")["visit_date"] == due  # pre-filled with the planned day
        driver.complete("home_visit", visit(due, risk_level="basso"))
        due = driver.rows(MonitoringVisit, visit_date=date.fromisoformat(due))[0].next_visit_due.isoformat()
    for risk, days in (("basso", 30), ("medio", 14), ("alto", 7)):
        on(driver, due)
        driver.complete("home_visit", visit(due, risk_level=risk, problem_damage=True))
        following = (date.fromisoformat(due) + timedelta(days=days)).isoformat()
        assert timer_day(driver, instance, "next_visit_due_reached") == following
        due = following
    visits = sorted(driver.rows(MonitoringVisit), key=lambda v: v.visit_date)
    assert len(visits) == 16
    assert all(v.next_visit_due - v.visit_date == timedelta(days=7) for v in visits[:13])
    assert [(v.risk_level, (v.next_visit_due - v.visit_date).days) for v in visits[13:]] == [
        ("basso", 30), ("medio", 14), ("alto", 7)]
    assert visits[-1].checklist == {"igiene": False, "danni": True, "utenze": False, "sovraffollamento": False,
                                    "ospiti_non_autorizzati": False}
    assert {v.placement_id for v in visits} == {payload["placement_id"]}
    assert journal(session, payload["household_id"]).count("record_visit") == 16


def test_a_visit_overdue_by_more_than_seven_days_escalates_to_the_coordinator(driver: ProcessDriver,
                                                                              session: Session) -> None:
    instance, _ = start(driver, session)
    on(driver, "2026-03-09")
    visit_task = driver.task("home_visit", instance)
    assert visit_task.due_at == visit_task.created_at + timedelta(days=7)
    on(driver, "2026-03-16", hour=6)
    assert tasks(driver, instance, "escalate_overdue_visit") == []
    on(driver, "2026-03-16", hour=10)
    assert tasks(driver, instance, "home_visit", "escalate_overdue_visit") == [
        ("escalate_overdue_visit", "coordinatore", "capofila"), ("home_visit", "case_manager", "capofila")]
    driver.complete("escalate_overdue_visit", {"escalation_date": "2026-03-16", "planned_visit_date": "2026-03-18",
                                               "escalation_notes": "Case manager in malattia, visita il 18."})
    driver.complete("home_visit", visit("2026-03-18"))
    assert tasks(driver, instance, "home_visit", "escalate_overdue_visit") == []
    assert timer_day(driver, instance, "next_visit_due_reached") == "2026-03-25"


def test_a_visit_records_home_support_and_a_flagged_conflict_raises_mediation(driver: ProcessDriver,
                                                                               session: Session) -> None:
    instance, payload = start(driver, session)
    on(driver, "2026-03-09")
    driver.complete("home_visit", visit(
        "2026-03-09", support_kind="gestione_budget", support_duration_min=45, support_notes="Bilancio del mese",
        conflict_flagged=True, conflict_type="rumori", conflict_severity="medio",
        conflict_description="I vicini lamentano musica a tarda sera", wellbeing_notes="Sereno"))
    [support] = driver.rows(SupportActivity)
    assert (support.activity_date, support.kind, support.duration_min) == (date(2026, 3, 9), "gestione_budget", 45)
    [incident] = driver.rows(CaseIncident)
    assert (incident.kind, incident.severity, incident.reported_by) == ("altro", "medio", "operatore")
    assert "rumori" in incident.description
    [message] = thrown(driver, "mediation_requested")
    assert message.payload["incident_id"] == incident.id
    assert {k: message.payload[k] for k in ("placement_id", "enrollment_id", "reported_by", "conflict_type",
                                            "severity")} == {
        "placement_id": payload["placement_id"], "enrollment_id": payload["enrollment_id"],
        "reported_by": "operatore", "conflict_type": "rumori", "severity": "medio"}
    assert_started_if_deployed(driver, message, "mediation")
    # The next visit comes with a clean form: nothing of this one is offered again.
    on(driver, "2026-03-16")
    data = task_data(driver, instance, "home_visit")
    assert (data["conflict_flagged"], data["support_kind"], data["wellbeing_notes"]) == (False, None, None)


@pytest.mark.parametrize(("changes", "fields"), [
    ({"housing_condition": None}, {"housing_condition"}),
    ({"risk_level": "altissimo"}, {"risk_level"}),
    ({"conflict_flagged": True}, {"conflict_type", "conflict_severity", "conflict_description"}),
    ({"support_kind": "utenze"}, {"support_duration_min"}),
    ({"visit_date": "9 marzo"}, {"visit_date"}),
])
def test_the_visit_form_refuses_bad_data_naming_the_field(driver: ProcessDriver, session: Session,
                                                          changes: dict[str, Any], fields: set[str]) -> None:
    instance, _ = start(driver, session)
    on(driver, "2026-03-09")
    data = {k: v for k, v in visit("2026-03-09", **changes).items() if v is not None}
    with pytest.raises(FormValidationError) as refused:
        driver.complete("home_visit", data)
    assert set(refused.value.fields) == fields
    assert driver.rows(MonitoringVisit) == []
    assert tasks(driver, instance, "home_visit") == [("home_visit", "case_manager", "capofila")]


# --- plan review ---------------------------------------------------------------------------------


def test_the_plan_is_reviewed_every_three_months_by_the_equipe(driver: ProcessDriver, session: Session) -> None:
    instance, payload = start(driver, session)
    on(driver, "2026-06-02")
    assert tasks(driver, instance, "quarterly_review") == [("quarterly_review", "equipe", "capofila")]
    assert driver.task("quarterly_review", instance).due_at.date() == date(2026, 6, 16)
    driver.complete("quarterly_review", {"review_date": "2026-06-04", "social_worker_present": True,
                                         "review_outcome": "prosegue", "review_notes": "Tirocinio in partenza"})
    [review] = driver.rows(PlanReview)
    assert (review.review_date, review.next_review_due, review.reviewed_by, review.notes, review.goal_statuses) == (
        date(2026, 6, 4), date(2026, 9, 4), "Équipe con l'assistente sociale", "Tirocinio in partenza", {})
    assert "review_plan" in journal(session, payload["household_id"])
    [timer] = driver.rows(Timer, instance_id=instance.id, task_spec_id="review_due")
    assert timer.due_at.date() == date(2026, 9, 4)
    assert thrown(driver, "exit_requested") == []


def test_a_review_with_the_goals_reached_proposes_a_planned_exit(driver: ProcessDriver, session: Session) -> None:
    instance, payload = start(driver, session)
    on(driver, "2026-06-02")
    driver.complete("quarterly_review", {"review_date": "2026-06-03", "review_outcome": "obiettivi_raggiunti"})
    assert {goal.status for goal in driver.rows(PlanGoal)} == {"raggiunto"}
    [message] = thrown(driver, "exit_requested")
    assert {k: message.payload[k] for k in ("exit_type", "exit_reason", "placement_id", "requested_by")} == {
        "exit_type": "programmata", "exit_reason": "obiettivi_raggiunti", "placement_id": payload["placement_id"],
        "requested_by": "monitoring"}
    assert_started_if_deployed(driver, message, "exit")
    assert_ended(driver, instance)


def test_a_review_without_a_signed_plan_becomes_an_incident_naming_the_plan(driver: ProcessDriver,
                                                                             session: Session) -> None:
    instance, _ = start(driver, session, signed_plan=False)
    on(driver, "2026-06-02")
    driver.complete("quarterly_review", {"review_date": "2026-06-03", "review_outcome": "prosegue"})
    session.refresh(instance)
    assert instance.status == "error"
    [incident] = driver.rows(Incident, instance_id=instance.id)
    assert incident.task_spec_id == "record_plan_review"
    assert "plan_id" in incident.message
    assert driver.rows(PlanReview) == []


# --- messages from outside -----------------------------------------------------------------------


def test_a_reported_conflict_is_recorded_and_starts_mediation_each_time(driver: ProcessDriver,
                                                                       session: Session) -> None:
    instance, payload = start(driver, session)
    conflict = {**context(payload), "reported_by": "vicino", "conflict_type": "spazi_comuni", "severity": "basso",
                "description": "Biciclette nell'androne", "reported_date": "2026-03-04"}
    for _ in range(2):
        received = driver.send("conflict_reported", conflict, {"enrollment_id": payload["enrollment_id"]})
        assert (received.status, received.target_instance_id) == ("delivered", instance.id)
    incidents = driver.rows(CaseIncident)
    assert [(i.occurred_on, i.kind, i.severity, i.reported_by) for i in incidents] == [
        (date(2026, 3, 4), "altro", "basso", "vicino")] * 2
    messages = thrown(driver, "mediation_requested")
    assert [m.payload["incident_id"] for m in messages] == [i.id for i in incidents]
    assert messages[0].payload["description"] == "Biciclette nell'androne"
    for message in messages:
        assert_started_if_deployed(driver, message, "mediation")
    stranger = {**conflict, "enrollment_id": payload["enrollment_id"] + 1}
    other = driver.send("conflict_reported", stranger, {"enrollment_id": payload["enrollment_id"] + 1})
    assert other.target_instance_id != instance.id


def test_a_critical_incident_goes_to_coordinator_and_social_worker_within_24_hours(driver: ProcessDriver,
                                                                                  session: Session) -> None:
    instance, payload = start(driver, session)
    tell(driver, "critical_incident", payload, incident_type="violenza", occurred_date="2026-03-03",
         description="Lite violenta con un ospite")
    [incident] = driver.rows(CaseIncident)
    assert (incident.kind, incident.severity, incident.occurred_on) == ("violenza", "critico", date(2026, 3, 3))
    reviews = ("review_incident_coordinator", "review_incident_social_worker")
    assert tasks(driver, instance, *reviews) == [("review_incident_coordinator", "coordinatore", "capofila"),
                                                 ("review_incident_social_worker", "assistente_sociale", "comune")]
    for spec in reviews:
        row = driver.task(spec, instance)
        assert row.due_at == row.created_at + timedelta(hours=24)
        driver.complete(spec, {"incident_review_date": "2026-03-02", "household_safe": True,
                               "incident_review_notes": "Ospite allontanato, colloquio fissato"})
    assert tasks(driver, instance, *reviews) == []
    assert driver.rows(MessageSubscription, instance_id=instance.id, message_name="critical_incident")


@pytest.mark.parametrize("decision", ["gestita", "ricollocazione", "uscita"])
def test_a_landlord_notice_goes_to_the_housing_officer_then_the_coordinator_decides(
        driver: ProcessDriver, session: Session, decision: str) -> None:
    instance, payload = start(driver, session)
    tell(driver, "landlord_notice", payload, notice_type="disdetta", notice_date="2026-03-02", notes="Vendita")
    assert tasks(driver, instance, "assess_landlord_notice") == [
        ("assess_landlord_notice", "referente_abitativo", "locatario")]
    driver.complete("assess_landlord_notice", {"notice_type": "disdetta", "notice_effective_date": "2026-09-01",
                                               "notice_assessment_notes": "Il proprietario vende l'alloggio"})
    assert tasks(driver, instance, "decide_landlord_notice") == [
        ("decide_landlord_notice", "coordinatore", "capofila")]
    answer = {"gestita": {}, "ricollocazione": {"relocation_reason": "Disdetta per vendita"},
              "uscita": {"exit_type": "non_programmata", "exit_reason": "fine_progetto_contratto"}}[decision]
    driver.complete("decide_landlord_notice", {"notice_decision": decision, **answer})
    relocations, exits = thrown(driver, "relocation_requested"), thrown(driver, "exit_requested")
    if decision == "uscita":
        [message] = exits
        assert (message.payload["exit_type"], message.payload["exit_reason"]) == (
            "non_programmata", "fine_progetto_contratto")
        assert_ended(driver, instance)
        return
    session.refresh(instance)
    assert instance.status in ("running", "waiting")
    assert exits == []
    assert driver.rows(MessageSubscription, instance_id=instance.id, message_name="landlord_notice")
    if decision == "ricollocazione":
        [message] = relocations
        assert (message.payload["placement_id"], message.payload["relocation_reason"]) == (
            payload["placement_id"], "Disdetta per vendita")
        assert message.payload["household_id"] == payload["household_id"]
        assert_started_if_deployed(driver, message, "housing_placement")
    else:
        assert relocations == []


def test_the_decision_on_a_landlord_notice_needs_the_exit_details(driver: ProcessDriver, session: Session) -> None:
    _, payload = start(driver, session)
    tell(driver, "landlord_notice", payload, notice_type="sfratto", notice_date="2026-03-02", notes="")
    driver.complete("assess_landlord_notice", {"notice_type": "sfratto", "notice_assessment_notes": "Sfratto"})
    with pytest.raises(FormValidationError) as refused:
        driver.complete("decide_landlord_notice", {"notice_decision": "uscita"})
    assert set(refused.value.fields) == {"exit_type", "exit_reason"}
    with pytest.raises(FormValidationError) as refused:
        driver.complete("decide_landlord_notice", {"notice_decision": "sposta"})
    assert set(refused.value.fields) == {"notice_decision"}


def test_an_exit_proposal_requests_the_exit_and_ends_the_monitoring(driver: ProcessDriver, session: Session) -> None:
    instance, payload = start(driver, session)
    on(driver, "2026-03-09")
    assert len(driver.ready(instance)) == 2  # the visit and the rent are waiting
    tell(driver, "exit_proposed", payload, role="case_manager", exit_type="non_programmata",
         exit_reason="abbandono_volontario", proposed_by="case_manager")
    [message] = thrown(driver, "exit_requested")
    assert message.payload == {
        "household_id": payload["household_id"], "household_reference": payload["household_reference"],
        "business_key": payload["business_key"], "enrollment_id": payload["enrollment_id"],
        "project_start_date": "2026-01-20", "task_organisations": message.payload["task_organisations"],
        "placement_id": payload["placement_id"], "exit_type": "non_programmata",
        "exit_reason": "abbandono_volontario", "requested_by": "monitoring"}
    assert_started_if_deployed(driver, message, "exit")
    assert_ended(driver, instance)
    assert {row.status for row in driver.rows(HumanTask, instance_id=instance.id)} == {"cancelled"}


def test_closing_the_placement_after_a_move_ends_its_monitoring(driver: ProcessDriver, session: Session) -> None:
    instance, payload = start(driver, session)
    other = driver.send("placement_closed", {**context(payload), "placement_id": payload["placement_id"] + 1,
                                             "reason": "trasferimento"},
                        {"placement_id": payload["placement_id"] + 1})
    assert other.status == "undeliverable"
    session.refresh(instance)
    assert instance.status != "completed"
    closed = driver.send("placement_closed", {**context(payload), "placement_id": payload["placement_id"],
                                              "reason": "trasferimento"},
                         {"placement_id": payload["placement_id"]})
    assert (closed.status, closed.target_instance_id) == ("delivered", instance.id)
    assert_ended(driver, instance)
    assert thrown(driver, "exit_requested") == []
