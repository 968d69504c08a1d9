"""Mediation operations: cases, safety triage, sessions, agreement, follow-up, closing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from casefile.errors import InvalidInputError, RuleViolationError
from casefile.models import CaseEvent, MediationAgreement, MediationCase, MediationSession
from tests.casefile.test_accompaniment import count, make_enrollment, make_placement


@pytest.fixture
def enrollment(session, household):
    return make_enrollment(session, household["household_id"])


@pytest.fixture
def placement(session, enrollment, orgs):
    return make_placement(session, enrollment, orgs["locatario"].id)


def case_payload(enrollment_id: int, **change) -> dict:
    return {"enrollment_id": enrollment_id, "opened_on": "2026-05-04", "reported_by": "vicino",
            "channel": "telefono", "conflict_type": "rumori", "severity": "medio", "safety_concern": False, **change}


@pytest.fixture
def case_id(run, enrollment, placement) -> int:
    return run("open_mediation_case", case_payload(enrollment.id, placement_id=placement.id))["case_id"]


def individual(case_id: int, day: str = "2026-05-06") -> dict:
    return {"case_id": case_id, "kind": "individuale", "session_date": day, "party_role": "nucleo",
            "summary": "ascolto"}


def joint(case_id: int, day: str = "2026-05-12") -> dict:
    return {"case_id": case_id, "kind": "congiunta", "session_date": day, "attendees_roles": ["nucleo", "vicino"],
            "summary": "incontro"}


def agreement(case_id: int, **change) -> dict:
    return {"case_id": case_id, "signed_on": "2026-05-12", "signed_by_roles": ["nucleo", "vicino"],
            "actions": [{"who": "nucleo", "what": "silenzio dopo le 22", "by_date": "2026-05-20"}], **change}


@pytest.fixture
def agreed_case(run, case_id) -> int:
    run("record_mediation_session", individual(case_id))
    run("record_mediation_session", joint(case_id))
    run("record_mediation_agreement", agreement(case_id))
    return case_id


# --- opening ---------------------------------------------------------------------------------------

def test_open_mediation_case(session, run, enrollment, placement) -> None:
    result = run("open_mediation_case", case_payload(enrollment.id, placement_id=placement.id))
    assert result["mediation"] is True
    case = session.get(MediationCase, result["case_id"])
    assert (case.status, case.placement_id, case.conflict_type, case.outcome) == (
        "aperto", placement.id, "rumori", None)


def test_a_safety_concern_is_never_mediated(session, run, enrollment) -> None:
    result = run("open_mediation_case", case_payload(enrollment.id, safety_concern=True,
                                                     conflict_type="conflitti_interni"))
    assert result["mediation"] is False
    case = session.get(MediationCase, result["case_id"])
    assert (case.status, case.outcome, case.closed_on, case.safety_concern) == (
        "chiuso", "inviato_servizi_specialistici", date(2026, 5, 4), True)
    with pytest.raises(RuleViolationError) as info:
        run("record_mediation_session", individual(case.id))
    assert "case_id" in info.value.fields


def test_one_open_case_per_placement_and_conflict_type(session, run, enrollment, placement, orgs) -> None:
    first = run("open_mediation_case", case_payload(enrollment.id, placement_id=placement.id))["case_id"]
    with pytest.raises(RuleViolationError) as info:
        run("open_mediation_case", case_payload(enrollment.id, placement_id=placement.id))
    assert "conflict_type" in info.value.fields
    assert count(session, MediationCase) == 1
    # Another conflict type, another placement, or no placement at all: separate cases.
    run("open_mediation_case", case_payload(enrollment.id, placement_id=placement.id, conflict_type="spazi_comuni"))
    second_flat = make_placement(session, enrollment, orgs["locatario"].id, start=date(2026, 4, 1))
    run("open_mediation_case", case_payload(enrollment.id, placement_id=second_flat.id))
    run("open_mediation_case", case_payload(enrollment.id))
    with pytest.raises(RuleViolationError) as info:
        run("open_mediation_case", case_payload(enrollment.id))
    assert "conflict_type" in info.value.fields
    # Once the first case is closed, the same conflict may be opened again.
    run("close_mediation_case", {"case_id": first, "outcome": "risolto", "closed_on": "2026-05-20"})
    run("open_mediation_case", case_payload(enrollment.id, placement_id=placement.id, opened_on="2026-06-01"))
    assert count(session, MediationCase) == 5


def test_open_mediation_case_refuses_foreign_placements_and_closed_enrollments(session, run, enrollment, household,
                                                                            orgs) -> None:
    other = make_enrollment(session, household["household_id"], status="chiuso")
    foreign = make_placement(session, other, orgs["locatario"].id)
    with pytest.raises(RuleViolationError) as info:
        run("open_mediation_case", case_payload(enrollment.id, placement_id=foreign.id))
    assert "placement_id" in info.value.fields
    with pytest.raises(RuleViolationError) as info:
        run("open_mediation_case", case_payload(other.id))
    assert "enrollment_id" in info.value.fields
    assert count(session, MediationCase) == 0


@pytest.mark.parametrize(("change", "field"), [
    ({"reported_by": "passante"}, "reported_by"),
    ({"conflict_type": "politica"}, "conflict_type"),
    ({"severity": "enorme"}, "severity"),
    ({"safety_concern": None}, "safety_concern"),
])
def test_open_mediation_case_rejects_bad_input(session, run, enrollment, change, field) -> None:
    with pytest.raises(InvalidInputError) as info:
        run("open_mediation_case", case_payload(enrollment.id, **change))
    assert field in info.value.fields
    assert count(session, MediationCase) == 0


# --- sessions --------------------------------------------------------------------------------------

def test_sessions_individual_first_then_joint(session, run, case_id) -> None:
    with pytest.raises(RuleViolationError) as info:
        run("record_mediation_session", joint(case_id))
    assert "kind" in info.value.fields
    assert count(session, MediationSession) == 0
    # An individual session dated after the joint meeting does not count as "first".
    run("record_mediation_session", individual(case_id, "2026-05-15"))
    with pytest.raises(RuleViolationError):
        run("record_mediation_session", joint(case_id, "2026-05-12"))
    run("record_mediation_session", individual(case_id))
    result = run("record_mediation_session", joint(case_id))
    row = session.get(MediationSession, result["session_id"])
    assert (row.kind, row.attendees_roles) == ("congiunta", ["nucleo", "vicino"])
    event = session.scalars(select(CaseEvent).where(CaseEvent.record_id == row.id,
                                                    CaseEvent.record_type == "mediation_session")).one()
    assert "incontro" not in event.summary


@pytest.mark.parametrize(("payload", "field"), [
    ({"kind": "individuale", "party_role": None}, "party_role"),
    ({"kind": "congiunta", "attendees_roles": ["nucleo"]}, "attendees_roles"),
    ({"kind": "congiunta", "attendees_roles": ["nucleo", "nucleo"]}, "attendees_roles"),
    ({"kind": "gruppo"}, "kind"),
])
def test_record_mediation_session_rejects_bad_input(session, run, case_id, payload, field) -> None:
    with pytest.raises(InvalidInputError) as info:
        run("record_mediation_session", {**individual(case_id), **payload})
    assert field in info.value.fields
    assert count(session, MediationSession) == 0


def test_a_session_cannot_precede_the_case(session, run, case_id) -> None:
    with pytest.raises(RuleViolationError) as info:
        run("record_mediation_session", individual(case_id, "2026-05-03"))
    assert "session_date" in info.value.fields
    assert count(session, MediationSession) == 0


# --- agreement and follow-up -----------------------------------------------------------------------

def test_record_mediation_agreement_needs_a_joint_meeting(session, run, case_id) -> None:
    run("record_mediation_session", individual(case_id))
    with pytest.raises(RuleViolationError) as info:
        run("record_mediation_agreement", agreement(case_id))
    assert "case_id" in info.value.fields
    run("record_mediation_session", joint(case_id))
    result = run("record_mediation_agreement", agreement(case_id))
    assert result["followup_due"] == "2026-06-11"
    row = session.get(MediationAgreement, result["agreement_id"])
    assert row.actions == [{"who": "nucleo", "what": "silenzio dopo le 22", "by_date": "2026-05-20"}]
    assert session.get(MediationCase, case_id).agreement.id == row.id
    with pytest.raises(RuleViolationError) as info:
        run("record_mediation_agreement", agreement(case_id))
    assert "case_id" in info.value.fields
    assert count(session, MediationAgreement) == 1


def test_a_given_followup_date_is_kept(session, run, case_id) -> None:
    run("record_mediation_session", individual(case_id))
    run("record_mediation_session", joint(case_id))
    result = run("record_mediation_agreement", agreement(case_id, followup_due="2026-06-01"))
    assert session.get(MediationAgreement, result["agreement_id"]).followup_due == date(2026, 6, 1)


@pytest.mark.parametrize(("change", "field"), [
    ({"actions": []}, "actions"),
    ({"actions": [{"who": "nucleo", "what": "x"}]}, "actions.0.by_date"),
    ({"signed_by_roles": ["nucleo"]}, "signed_by_roles"),
    ({"followup_due": "2026-05-12"}, "followup_due"),
])
def test_record_mediation_agreement_rejects_bad_input(session, run, case_id, change, field) -> None:
    run("record_mediation_session", individual(case_id))
    run("record_mediation_session", joint(case_id))
    with pytest.raises(InvalidInputError) as info:
        run("record_mediation_agreement", agreement(case_id, **change))
    assert field in info.value.fields
    assert count(session, MediationAgreement) == 0


def test_record_mediation_followup_once_on_an_agreement(session, run, case_id) -> None:
    with pytest.raises(RuleViolationError) as info:
        run("record_mediation_followup", {"case_id": case_id, "followup_result": "rispettato"})
    assert "case_id" in info.value.fields
    run("record_mediation_session", individual(case_id))
    run("record_mediation_session", joint(case_id))
    run("record_mediation_agreement", agreement(case_id))
    with pytest.raises(RuleViolationError) as info:
        run("record_mediation_followup", {"case_id": case_id, "followup_result": "rispettato",
                                          "checked_on": "2026-05-01"})
    assert "checked_on" in info.value.fields
    result = run("record_mediation_followup", {"case_id": case_id, "followup_result": "parzialmente",
                                               "checked_on": "2026-06-11"})
    assert result["followup_result"] == "parzialmente"
    with pytest.raises(RuleViolationError) as info:
        run("record_mediation_followup", {"case_id": case_id, "followup_result": "rispettato"})
    assert "case_id" in info.value.fields
    assert session.get(MediationAgreement, result["agreement_id"]).followup_result == "parzialmente"


# --- closing ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("followup", "allowed"), [
    (None, False), ("non_rispettato", False), ("parzialmente", True), ("rispettato", True)])
def test_resolved_with_agreement_needs_a_kept_agreement(session, run, agreed_case, followup, allowed) -> None:
    if followup:
        run("record_mediation_followup", {"case_id": agreed_case, "followup_result": followup,
                                          "checked_on": "2026-06-11"})
    payload = {"case_id": agreed_case, "outcome": "risolto_con_accordo", "closed_on": "2026-06-12"}
    if allowed:
        assert run("close_mediation_case", payload)["outcome"] == "risolto_con_accordo"
        case = session.get(MediationCase, agreed_case)
        assert (case.status, case.closed_on) == ("chiuso", date(2026, 6, 12))
    else:
        with pytest.raises(RuleViolationError) as info:
            run("close_mediation_case", payload)
        assert "outcome" in info.value.fields
        assert session.get(MediationCase, agreed_case).status == "aperto"


def test_resolved_with_agreement_needs_an_agreement_at_all(session, run, case_id) -> None:
    with pytest.raises(RuleViolationError) as info:
        run("close_mediation_case", {"case_id": case_id, "outcome": "risolto_con_accordo", "closed_on": "2026-06-01"})
    assert "outcome" in info.value.fields


def test_close_mediation_case_dates_and_state(session, run, case_id) -> None:
    with pytest.raises(RuleViolationError) as info:
        run("close_mediation_case", {"case_id": case_id, "outcome": "chiusura_rinuncia", "closed_on": "2026-05-01"})
    assert "closed_on" in info.value.fields
    assert session.get(MediationCase, case_id).status == "aperto"
    run("close_mediation_case", {"case_id": case_id, "outcome": "chiusura_rinuncia", "closed_on": "2026-05-30"})
    for name, payload in [("close_mediation_case", {"case_id": case_id, "outcome": "risolto",
                                                    "closed_on": "2026-06-01"}),
                          ("record_mediation_session", individual(case_id))]:
        with pytest.raises(RuleViolationError) as info:
            run(name, payload)
        assert "case_id" in info.value.fields
    assert session.get(MediationCase, case_id).outcome == "chiusura_rinuncia"


def test_a_closed_enrollment_stops_its_mediation(session, run, enrollment, case_id) -> None:
    enrollment.status = "chiuso"
    session.flush()
    with pytest.raises(RuleViolationError) as info:
        run("record_mediation_session", individual(case_id))
    assert "case_id" in info.value.fields
    assert count(session, MediationSession) == 0
