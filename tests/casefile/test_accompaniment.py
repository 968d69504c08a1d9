"""Accompaniment operations: visits and their cadence, home support, work inclusion, incidents."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from casefile.dates import add_months
from casefile.errors import AccessDeniedError, InvalidInputError, NotFoundError, RuleViolationError
from casefile.models import (
    CaseEvent,
    CaseIncident,
    DataAccessEvent,
    Enrollment,
    HouseholdMembership,
    HousingUnit,
    Landlord,
    LeaseContract,
    MonitoringVisit,
    Placement,
    SupportActivity,
    WorkInclusionActivity,
)
from casefile.operations.accompaniment import next_visit_due

MOVE_IN = date(2026, 1, 31)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def make_enrollment(session, household_id: int, *, status: str = "inserito", move_in: date | None = MOVE_IN,
                    start: date = date(2026, 1, 15)) -> Enrollment:
    """An enrollment inserted directly (the case operations are another engineer's)."""
    enrollment = Enrollment(household_id=household_id, project_start_date=start, move_in_date=move_in,
                            status=status)
    session.add(enrollment)
    session.flush()
    return enrollment


def make_placement(session, enrollment: Enrollment, org_id: int, *, start: date = date(2026, 1, 20),
                   end: date | None = None) -> Placement:
    """A placement with its unit, landlord and lease, inserted directly."""
    landlord = Landlord(name="Proprietario", kind="persona", managed_by_org_id=org_id)
    unit = HousingUnit(address="Via Roma 1, Torino", rooms=3, source="mercato_privato")
    session.add_all([landlord, unit])
    session.flush()
    lease = LeaseContract(unit_id=unit.id, landlord_id=landlord.id, tenant_org_id=org_id, lease_type="4+4",
                          signed_on=start, start_date=start, first_expiry=date(2030, 1, 19),
                          monthly_rent_cents=60000, rent_due_day=5)
    session.add(lease)
    session.flush()
    placement = Placement(enrollment_id=enrollment.id, unit_id=unit.id, lease_id=lease.id, start_date=start,
                          move_in_date=enrollment.move_in_date, end_date=end)
    session.add(placement)
    session.flush()
    return placement


@pytest.fixture
def enrollment(session, household) -> Enrollment:
    return make_enrollment(session, household["household_id"])


@pytest.fixture
def placement(session, enrollment, orgs) -> Placement:
    return make_placement(session, enrollment, orgs["locatario"].id)


@pytest.fixture
def other_household(run, orgs) -> dict:
    return run("register_household", {"display_name": "Famiglia Bianchi", "organisation": "capofila",
                                      "since": "2026-01-10", "members": [
                                          {"first_name": "Ada", "last_name": "Bianchi", "relationship_to_hoh": 1}]})


# --- cadence ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "months", "expected"), [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
    (date(2026, 5, 15), 12, date(2027, 5, 15)),
    (date(2026, 8, 31), 6, date(2027, 2, 28)),
])
def test_add_months_clamps_the_day(start, months, expected) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(("move_in", "visit", "risk", "expected"), [
    # First 3 months after move-in (until 30 April): weekly whatever the risk.
    (MOVE_IN, date(2026, 2, 10), "basso", date(2026, 2, 17)),
    (MOVE_IN, date(2026, 4, 29), "medio", date(2026, 5, 6)),
    # From three months on: by risk.
    (MOVE_IN, date(2026, 4, 30), "alto", date(2026, 5, 7)),
    (MOVE_IN, date(2026, 4, 30), "medio", date(2026, 5, 14)),
    (MOVE_IN, date(2026, 4, 30), "basso", date(2026, 5, 30)),
    # Not moved in yet (or a visit before move-in): by risk.
    (None, date(2026, 2, 10), "basso", date(2026, 3, 12)),
    (MOVE_IN, date(2026, 1, 20), "medio", date(2026, 2, 3)),
])
def test_next_visit_due_follows_the_cadence(move_in, visit, risk, expected) -> None:
    assert next_visit_due(move_in, visit, risk) == expected


# --- visits ----------------------------------------------------------------------------------------

def visit_payload(enrollment_id: int, **change) -> dict:
    return {"enrollment_id": enrollment_id, "visit_date": "2026-06-01", "mode": "domiciliare",
            "housing_condition": "buono", "risk_level": "medio", "checklist": {"igiene": True, "danni": False},
            "issues": "caldaia rumorosa", "wellbeing_notes": "SECRET-NOTE umore basso", **change}


def test_record_visit_computes_next_due_and_keeps_notes_out_of_the_journal(session, run, enrollment,
                                                                          placement) -> None:
    result = run("record_visit", visit_payload(enrollment.id, placement_id=placement.id))
    assert result["next_visit_due"] == "2026-06-15"
    visit = session.get(MonitoringVisit, result["visit_id"])
    assert (visit.placement_id, visit.risk_level, visit.next_visit_due) == (placement.id, "medio", date(2026, 6, 15))
    assert visit.checklist == {"igiene": True, "danni": False}
    assert visit.wellbeing_notes == "SECRET-NOTE umore basso"
    assert visit.done_by == "system"
    event = session.scalars(select(CaseEvent).where(CaseEvent.operation == "record_visit")).one()
    assert (event.record_id, event.enrollment_id, event.occurred_on) == (visit.id, enrollment.id, date(2026, 6, 1))
    assert "SECRET-NOTE" not in event.summary


def test_record_visit_uses_weekly_cadence_after_move_in_and_a_given_due_date(session, run, enrollment) -> None:
    early = run("record_visit", visit_payload(enrollment.id, visit_date="2026-02-02", risk_level="basso"))
    assert early["next_visit_due"] == "2026-02-09"
    given = run("record_visit", visit_payload(enrollment.id, next_visit_due="2026-06-05"))
    assert session.get(MonitoringVisit, given["visit_id"]).next_visit_due == date(2026, 6, 5)


def test_a_phone_contact_needs_no_housing_condition(session, run, enrollment) -> None:
    result = run("record_visit", visit_payload(enrollment.id, mode="telefonica", housing_condition=None))
    assert session.get(MonitoringVisit, result["visit_id"]).housing_condition is None


@pytest.mark.parametrize(("change", "field"), [
    ({"next_visit_due": "2026-06-01"}, "next_visit_due"),
    ({"next_visit_due": "2026-05-20"}, "next_visit_due"),
    ({"mode": "visita"}, "mode"),
    ({"risk_level": "altissimo"}, "risk_level"),
    ({"housing_condition": None}, "housing_condition"),
    ({"housing_condition": "ottimo"}, "housing_condition"),
    ({"checklist": {"igiene": "forse"}}, "checklist.igiene.value"),
    ({"visit_date": None}, "visit_date"),
])
def test_record_visit_rejects_bad_input_by_field(session, run, enrollment, change, field) -> None:
    with pytest.raises(InvalidInputError) as info:
        run("record_visit", visit_payload(enrollment.id, **change))
    assert field in info.value.fields
    assert count(session, MonitoringVisit) == 0


def test_record_visit_refuses_a_placement_of_another_enrollment(session, run, enrollment, orgs,
                                                               other_household) -> None:
    other = make_enrollment(session, other_household["household_id"])
    foreign = make_placement(session, other, orgs["locatario"].id)
    with pytest.raises(RuleViolationError) as info:
        run("record_visit", visit_payload(enrollment.id, placement_id=foreign.id))
    assert "placement_id" in info.value.fields
    with pytest.raises(NotFoundError) as info:
        run("record_visit", visit_payload(enrollment.id, placement_id=999_999))
    assert "placement_id" in info.value.fields
    assert count(session, MonitoringVisit) == 0


@pytest.mark.parametrize(("name", "payload"), [
    ("record_visit", visit_payload(0)),
    ("record_support_activity", {"enrollment_id": 0, "activity_date": "2026-06-01", "kind": "utenze",
                                 "duration_min": 60}),
    ("report_incident", {"enrollment_id": 0, "occurred_on": "2026-06-01", "kind": "altro", "severity": "basso",
                         "description": "x"}),
])
def test_closed_or_missing_enrollments_take_no_work(session, run, household, name, payload) -> None:
    closed = make_enrollment(session, household["household_id"], status="chiuso")
    events = count(session, CaseEvent)
    with pytest.raises(RuleViolationError) as info:
        run(name, {**payload, "enrollment_id": closed.id})
    assert "enrollment_id" in info.value.fields
    with pytest.raises(NotFoundError) as info:
        run(name, {**payload, "enrollment_id": 999_999})
    assert "enrollment_id" in info.value.fields
    assert count(session, CaseEvent) == events
    assert count(session, MonitoringVisit) + count(session, SupportActivity) + count(session, CaseIncident) == 0


def test_a_staff_visit_is_access_logged_and_needs_the_right_role(session, run, enrollment, callers) -> None:
    result = run("record_visit", visit_payload(enrollment.id), callers["case_manager"])
    assert session.get(MonitoringVisit, result["visit_id"]).done_by == "case_manager"
    logged = session.scalars(select(DataAccessEvent).where(DataAccessEvent.record_type == "visit")).one()
    assert (logged.actor, logged.action, logged.record_id) == ("case_manager", "write", result["visit_id"])
    with pytest.raises(AccessDeniedError):
        run("record_visit", visit_payload(enrollment.id), callers["operatore_lavoro"])
    assert count(session, MonitoringVisit) == 1


# --- home support ----------------------------------------------------------------------------------

def support_payload(enrollment_id: int, **change) -> dict:
    return {"enrollment_id": enrollment_id, "activity_date": "2026-03-03", "kind": "gestione_budget",
            "duration_min": 90, "notes": "bollette", **change}


def test_record_support_activity(session, run, enrollment) -> None:
    result = run("record_support_activity", support_payload(enrollment.id))
    row = session.get(SupportActivity, result["activity_id"])
    assert (row.kind, row.duration_min, row.activity_date) == ("gestione_budget", 90, date(2026, 3, 3))


@pytest.mark.parametrize(("change", "field"), [
    ({"duration_min": 0}, "duration_min"),
    ({"duration_min": 601}, "duration_min"),
    ({"kind": "giardinaggio"}, "kind"),
    ({"activity_date": "ieri"}, "activity_date"),
])
def test_record_support_activity_rejects_bad_input(session, run, enrollment, change, field) -> None:
    with pytest.raises(InvalidInputError) as info:
        run("record_support_activity", support_payload(enrollment.id, **change))
    assert field in info.value.fields
    assert count(session, SupportActivity) == 0


# --- work inclusion --------------------------------------------------------------------------------

def work_payload(enrollment_id: int, person_id: int, **change) -> dict:
    return {"enrollment_id": enrollment_id, "person_id": person_id, "kind": "tirocinio_inclusione",
            "provider": "CPI Torino", "start_date": "2026-03-01", "end_date": None, "hours_per_week": 20,
            "outcome": "in_corso", **change}


def test_record_work_activity_for_a_current_member(session, run, household, enrollment) -> None:
    mario = household["person_ids"][0]
    result = run("record_work_activity", work_payload(enrollment.id, mario))
    row = session.get(WorkInclusionActivity, result["activity_id"])
    assert (row.person_id, row.outcome, row.hours_per_week, row.end_date) == (mario, "in_corso", 20, None)


@pytest.mark.parametrize(("change", "field"), [
    ({"end_date": "2026-02-28"}, "end_date"),
    ({"outcome": "completato"}, "end_date"),
    ({"hours_per_week": 0}, "hours_per_week"),
    ({"hours_per_week": 61}, "hours_per_week"),
    ({"kind": "volontariato"}, "kind"),
    ({"outcome": "licenziato"}, "outcome"),
])
def test_record_work_activity_rejects_bad_input(session, run, household, enrollment, change, field) -> None:
    with pytest.raises(InvalidInputError) as info:
        run("record_work_activity", work_payload(enrollment.id, household["person_ids"][0], **change))
    assert field in info.value.fields
    assert count(session, WorkInclusionActivity) == 0


def test_record_work_activity_refuses_people_outside_the_household(session, run, household, enrollment,
                                                                 other_household) -> None:
    with pytest.raises(RuleViolationError) as info:
        run("record_work_activity", work_payload(enrollment.id, other_household["person_ids"][0]))
    assert "person_id" in info.value.fields
    # A member who left the household is no longer a current member.
    luca = household["person_ids"][1]
    membership = session.scalars(select(HouseholdMembership).where(HouseholdMembership.person_id == luca)).one()
    membership.valid_to = date(2026, 2, 1)
    session.flush()
    with pytest.raises(RuleViolationError) as info:
        run("record_work_activity", work_payload(enrollment.id, luca))
    assert "person_id" in info.value.fields
    with pytest.raises(NotFoundError) as info:
        run("record_work_activity", work_payload(enrollment.id, 999_999))
    assert "person_id" in info.value.fields
    assert count(session, WorkInclusionActivity) == 0


def test_update_work_outcome(session, run, household, enrollment) -> None:
    activity_id = run("record_work_activity", work_payload(enrollment.id, household["person_ids"][0]))["activity_id"]
    with pytest.raises(InvalidInputError) as info:
        run("update_work_outcome", {"activity_id": activity_id, "outcome": "assunto_ti"})
    assert "end_date" in info.value.fields
    with pytest.raises(RuleViolationError) as info:
        run("update_work_outcome", {"activity_id": activity_id, "outcome": "interrotto", "end_date": "2026-02-01"})
    assert "end_date" in info.value.fields
    row = session.get(WorkInclusionActivity, activity_id)
    assert (row.outcome, row.end_date) == ("in_corso", None)
    result = run("update_work_outcome", {"activity_id": activity_id, "outcome": "assunto_ti",
                                         "end_date": "2026-06-30"})
    assert result == {"activity_id": activity_id, "outcome": "assunto_ti"}
    assert (row.outcome, row.end_date) == ("assunto_ti", date(2026, 6, 30))


def test_update_work_outcome_refuses_a_closed_enrollment(session, run, household, enrollment) -> None:
    activity_id = run("record_work_activity", work_payload(enrollment.id, household["person_ids"][0]))["activity_id"]
    enrollment.status = "chiuso"
    session.flush()
    with pytest.raises(RuleViolationError) as info:
        run("update_work_outcome", {"activity_id": activity_id, "outcome": "completato", "end_date": "2026-06-30"})
    assert "activity_id" in info.value.fields
    assert session.get(WorkInclusionActivity, activity_id).outcome == "in_corso"


# --- incidents -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "severity", "escalate"), [
    ("violenza", "basso", True),
    ("arresto", "medio", True),
    ("ricovero", "basso", True),
    ("danni_gravi", "alto", True),
    ("altro", "critico", True),
    ("danni_gravi", "medio", False),
    ("altro", "basso", False),
])
def test_report_incident_escalates_serious_ones(session, run, enrollment, kind, severity, escalate) -> None:
    result = run("report_incident", {"enrollment_id": enrollment.id, "occurred_on": "2026-04-04", "kind": kind,
                                     "severity": severity, "description": "descrizione"})
    assert result["escalate"] is escalate
    row = session.get(CaseIncident, result["incident_id"])
    assert (row.kind, row.severity, row.reported_by) == (kind, severity, "system")


@pytest.mark.parametrize(("change", "field"), [
    ({"kind": "furto"}, "kind"),
    ({"severity": "grave"}, "severity"),
    ({"description": ""}, "description"),
])
def test_report_incident_rejects_bad_input(session, run, enrollment, change, field) -> None:
    payload = {"enrollment_id": enrollment.id, "occurred_on": "2026-04-04", "kind": "altro", "severity": "basso",
               "description": "descrizione", **change}
    with pytest.raises(InvalidInputError) as info:
        run("report_incident", payload)
    assert field in info.value.fields
    assert count(session, CaseIncident) == 0
