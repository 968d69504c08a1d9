"""Exit operations: the exit record and its effects, the handover, post-exit follow-ups."""

from __future__ import annotations

from datetime import UTC, date

import pytest
from sqlalchemy import select

from casefile import accounts
from casefile.errors import InvalidInputError, NotFoundError, RuleViolationError
from casefile.models import CaseEvent, Enrollment, ExitRecord, FollowUp, Placement
from tests.casefile.test_accompaniment import count, make_enrollment, make_placement


@pytest.fixture
def enrollment(session, household):
    return make_enrollment(session, household["household_id"])


@pytest.fixture
def placement(session, enrollment, orgs):
    return make_placement(session, enrollment, orgs["locatario"].id)


def exit_payload(enrollment_id: int, **change) -> dict:
    return {"enrollment_id": enrollment_id, "exit_type": "programmata", "decision_date": "2026-08-01",
            "exit_date": "2026-08-31", "reason": "obiettivi_raggiunti", "project_completion": "completato",
            "destination": "subentro", "housing_at_exit": "mantiene_alloggio_progetto",
            "employment_status_at_exit": "occupato_pt", "lease_disposition": "subentro",
            "co_signed_by": "assistente_sociale", **change}


def unplanned(enrollment_id: int, **change) -> dict:
    defaults = {"exit_type": "non_programmata", "reason": "abbandono_volontario",
                "project_completion": "uscita_anticipata_volontaria", "destination": "116",
                "housing_at_exit": "senza_dimora", "lease_disposition": "nessuna", "co_signed_by": None}
    return exit_payload(enrollment_id, **{**defaults, **change})


@pytest.fixture
def exit_id(run, users, enrollment, placement) -> int:
    return run("record_exit", exit_payload(enrollment.id))["exit_id"]


# --- record_exit -----------------------------------------------------------------------------------

def test_record_exit_ends_placements_and_schedules_follow_ups(session, run, users, enrollment, placement,
                                                             orgs) -> None:
    ended = make_placement(session, enrollment, orgs["locatario"].id, start=date(2026, 1, 16),
                           end=date(2026, 1, 19))
    result = run("record_exit", exit_payload(enrollment.id))
    # Calendar months, the day clamped: 31 August + 6 months is 28 February.
    assert result["follow_up_due_dates"] == ["2026-11-30", "2027-02-28", "2027-08-31"]
    record = session.get(ExitRecord, result["exit_id"])
    assert (record.destination, record.lease_disposition, record.co_signed_by) == (
        "subentro", "subentro", "assistente_sociale")
    assert [f.due_date for f in record.follow_ups] == [date(2026, 11, 30), date(2027, 2, 28), date(2027, 8, 31)]
    assert sorted(result["follow_up_ids"]) == sorted(f.id for f in record.follow_ups)
    assert (placement.end_date, placement.end_reason) == (date(2026, 8, 31), "uscita")
    # A placement that had already ended keeps its own end.
    assert (ended.end_date, ended.end_reason) == (date(2026, 1, 19), None)
    assert (enrollment.status, enrollment.exit_date) == ("in_uscita", date(2026, 8, 31))
    event = session.scalars(select(CaseEvent).where(CaseEvent.operation == "record_exit")).one()
    assert (event.record_id, event.occurred_on) == (record.id, date(2026, 8, 31))


def test_an_unplanned_exit_before_any_placement(session, run, household) -> None:
    waiting = make_enrollment(session, household["household_id"], status="in_attesa_alloggio", move_in=None)
    result = run("record_exit", unplanned(waiting.id, exit_date="2026-03-01", decision_date="2026-03-01"))
    record = session.get(ExitRecord, result["exit_id"])
    assert (record.exit_type, record.lease_disposition, record.co_signed_by) == ("non_programmata", "nessuna", None)
    assert len(record.follow_ups) == 3


@pytest.mark.parametrize(("change", "field"), [
    ({"destination": "435", "lease_disposition": "disdetta"}, "subsidy_type"),
    ({"destination": "410", "lease_disposition": "disdetta", "subsidy_type": "erp"}, "subsidy_type"),
    ({"destination": "subentro", "lease_disposition": "disdetta"}, "lease_disposition"),
    ({"co_signed_by": None}, "co_signed_by"),
    ({"exit_date": "2026-07-31"}, "exit_date"),
    ({"destination": "999"}, "destination"),
    ({"reason": "noia"}, "reason"),
    ({"lease_disposition": "vendita"}, "lease_disposition"),
])
def test_record_exit_rejects_bad_input(session, run, users, enrollment, placement, change, field) -> None:
    with pytest.raises(InvalidInputError) as info:
        run("record_exit", exit_payload(enrollment.id, **change))
    assert field in info.value.fields
    assert count(session, ExitRecord) == 0


def test_a_subsidised_destination_with_its_subsidy_is_accepted(session, run, users, enrollment, placement) -> None:
    result = run("record_exit", exit_payload(enrollment.id, destination="435", subsidy_type="erp",
                                             lease_disposition="disdetta"))
    assert session.get(ExitRecord, result["exit_id"]).subsidy_type == "erp"


def _refused(session, run, payload: dict, field: str, placement: Placement | None = None) -> None:
    with pytest.raises(RuleViolationError) as info:
        run("record_exit", payload)
    assert field in info.value.fields
    assert count(session, ExitRecord) == 0
    assert count(session, FollowUp) == 0
    if placement is not None:
        assert placement.end_date is None


@pytest.mark.parametrize(("change", "field"), [
    # Before the project start (15 January) and before the move-in (31 January).
    ({"decision_date": "2026-01-01", "exit_date": "2026-01-10"}, "exit_date"),
    ({"decision_date": "2026-01-01", "exit_date": "2026-01-30"}, "exit_date"),
    ({"co_signed_by": "case_manager"}, "co_signed_by"),
    ({"co_signed_by": "nessuno"}, "co_signed_by"),
    ({"destination": "410", "lease_disposition": "nessuna"}, "lease_disposition"),
])
def test_record_exit_rules(session, run, users, enrollment, placement, change, field) -> None:
    _refused(session, run, exit_payload(enrollment.id, **change), field, placement)
    assert enrollment.status == "inserito"


def test_the_co_signer_must_be_an_active_social_worker(session, run, users, enrollment, placement) -> None:
    users["assistente_sociale"].active = False
    session.flush()
    _refused(session, run, exit_payload(enrollment.id), "co_signed_by", placement)
    accounts.create_user(session, "as2", organisation=users["assistente_sociale"].organisation,
                         roles=["assistente_sociale"], password_hash=None)
    assert run("record_exit", exit_payload(enrollment.id, co_signed_by="as2"))["exit_id"]


def test_no_exit_before_the_project_start(session, run, household) -> None:
    waiting = make_enrollment(session, household["household_id"], status="in_attesa_alloggio", move_in=None)
    _refused(session, run, unplanned(waiting.id, decision_date="2026-01-10", exit_date="2026-01-14"), "exit_date")
    assert run("record_exit", unplanned(waiting.id, decision_date="2026-01-10", exit_date="2026-01-15"))["exit_id"]


def test_no_lease_to_take_over_without_a_placement(session, run, users, household) -> None:
    waiting = make_enrollment(session, household["household_id"], status="in_attesa_alloggio", move_in=None)
    _refused(session, run, unplanned(waiting.id, lease_disposition="subentro", destination="410"),
             "lease_disposition")


def test_an_open_placement_cannot_start_after_the_exit(session, run, users, enrollment, orgs) -> None:
    later = make_placement(session, enrollment, orgs["locatario"].id, start=date(2026, 9, 1))
    _refused(session, run, exit_payload(enrollment.id), "exit_date", later)


def test_one_exit_per_enrollment_and_none_for_closed_ones(session, run, users, enrollment, placement,
                                                         household) -> None:
    run("record_exit", exit_payload(enrollment.id))
    with pytest.raises(RuleViolationError) as info:
        run("record_exit", exit_payload(enrollment.id))
    assert "enrollment_id" in info.value.fields
    closed = make_enrollment(session, household["household_id"], status="chiuso", move_in=None)
    with pytest.raises(RuleViolationError) as info:
        run("record_exit", unplanned(closed.id))
    assert "enrollment_id" in info.value.fields
    assert count(session, ExitRecord) == 1
    assert count(session, FollowUp) == 3


# --- handover --------------------------------------------------------------------------------------

def test_record_handover_closes_the_enrollment(session, run, enrollment, exit_id) -> None:
    with pytest.raises(RuleViolationError) as info:
        run("record_handover", {"exit_id": exit_id, "handover_date": "2026-08-30"})
    assert "handover_date" in info.value.fields
    assert enrollment.status == "in_uscita"
    result = run("record_handover", {"exit_id": exit_id, "handover_date": "2026-09-05",
                                     "handover_notes": "RISERVATO passaggio al Polo"})
    assert result["status"] == "chiuso"
    row = session.get(Enrollment, enrollment.id)
    assert row.status == "chiuso"
    assert row.closed_at is not None
    assert row.closed_at.tzinfo is not None
    assert row.closed_at.utcoffset() == UTC.utcoffset(None)
    record = session.get(ExitRecord, exit_id)
    assert (record.handover_date, record.handover_notes) == (date(2026, 9, 5), "RISERVATO passaggio al Polo")
    event = session.scalars(select(CaseEvent).where(CaseEvent.operation == "record_handover")).one()
    assert "RISERVATO" not in event.summary
    with pytest.raises(RuleViolationError) as info:
        run("record_handover", {"exit_id": exit_id, "handover_date": "2026-09-06"})
    assert "exit_id" in info.value.fields
    assert "handover was recorded" in info.value.message
    assert record.handover_date == date(2026, 9, 5)


def test_record_handover_needs_an_exit(session, run) -> None:
    with pytest.raises(NotFoundError) as info:
        run("record_handover", {"exit_id": 999_999, "handover_date": "2026-09-05"})
    assert "exit_id" in info.value.fields


# --- follow-ups ------------------------------------------------------------------------------------

def _first_follow_up(session, exit_id: int) -> FollowUp:
    return session.scalars(select(FollowUp).where(FollowUp.exit_id == exit_id).order_by(FollowUp.due_date)).first()


def test_record_follow_up_after_the_handover_once_only(session, run, exit_id) -> None:
    run("record_handover", {"exit_id": exit_id, "handover_date": "2026-09-05"})
    follow_up = _first_follow_up(session, exit_id)
    result = run("record_follow_up", {"follow_up_id": follow_up.id, "done_date": "2026-12-02", "reached": True,
                                      "living_situation": "410", "still_housed": True,
                                      "returned_to_services": False, "notes": "tutto bene"})
    assert result == {"follow_up_id": follow_up.id, "reached": True}
    assert (follow_up.done_date, follow_up.living_situation, follow_up.still_housed) == (
        date(2026, 12, 2), "410", True)
    with pytest.raises(RuleViolationError) as info:
        run("record_follow_up", {"follow_up_id": follow_up.id, "done_date": "2026-12-03", "reached": False})
    assert "follow_up_id" in info.value.fields
    assert follow_up.done_date == date(2026, 12, 2)


def test_an_unreached_household_needs_no_living_situation(session, run, exit_id) -> None:
    follow_up = _first_follow_up(session, exit_id)
    run("record_follow_up", {"follow_up_id": follow_up.id, "done_date": "2026-12-01", "reached": False})
    assert (follow_up.reached, follow_up.living_situation) == (False, None)


@pytest.mark.parametrize(("change", "error", "field"), [
    ({"living_situation": None}, InvalidInputError, "living_situation"),
    ({"living_situation": "casa"}, InvalidInputError, "living_situation"),
    ({"reached": None}, InvalidInputError, "reached"),
    ({"done_date": "2026-08-30"}, RuleViolationError, "done_date"),
    ({"follow_up_id": 999_999}, NotFoundError, "follow_up_id"),
])
def test_record_follow_up_rejects(session, run, exit_id, change, error, field) -> None:
    follow_up = _first_follow_up(session, exit_id)
    payload = {"follow_up_id": follow_up.id, "done_date": "2026-12-01", "reached": True, "living_situation": "410",
               **change}
    with pytest.raises(error) as info:
        run("record_follow_up", payload)
    assert field in info.value.fields
    assert follow_up.done_date is None
