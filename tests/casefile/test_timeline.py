"""The household timeline: records from several processes and process steps, in order, as the viewer may see."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from casefile.errors import AccessDeniedError
from casefile.models import CaseEvent, CaseTeamMember, DataAccessEvent, Enrollment
from casefile.operations import Caller
from casefile.timeline import TimelineEntry, household_instance_ids, household_timeline
from tests.casefile.conftest import caller_for


def _event(household_id: int, day: date, operation: str, record_type: str, instance: int | None,
           process: str | None, recorded: datetime) -> CaseEvent:
    return CaseEvent(household_id=household_id, occurred_on=day, recorded_at=recorded, operation=operation,
                     record_type=record_type, summary=operation, actor="x", process_id=process,
                     instance_id=instance)


@pytest.fixture
def story(session, household) -> int:
    """Records written by three processes, inserted out of order."""
    hid = household["household_id"]
    session.add_all([
        _event(hid, date(2026, 5, 4), "record_visit", "visit", 30, "monitoring", datetime(2026, 5, 4, 18, tzinfo=UTC)),
        _event(hid, date(2026, 2, 1), "open_enrollment", "enrollment", 10, "intake",
               datetime(2026, 2, 3, 9, tzinfo=UTC)),
        _event(hid, date(2026, 3, 15), "record_move_in", "placement", 20, "housing_placement",
               datetime(2026, 3, 15, 8, tzinfo=UTC)),
        _event(hid, date(2026, 3, 15), "sign_occupancy_agreement", "occupancy_agreement", 20, "housing_placement",
               datetime(2026, 3, 14, 8, tzinfo=UTC)),
        _event(hid, date(2026, 4, 5), "record_rent_payment", "rent", None, None, datetime(2026, 4, 5, tzinfo=UTC)),
    ])
    session.flush()
    return hid


def test_records_from_several_processes_come_in_business_order(session, story) -> None:
    entries = household_timeline(session, story)
    assert [(e.kind, e.process_id) for e in entries] == [
        ("register_household", "intake"),  # the fixture's operation ran as instance 1 of "intake", on 10 January
        ("open_enrollment", "intake"),
        ("sign_occupancy_agreement", "housing_placement"),  # same day as the move-in, recorded earlier
        ("record_move_in", "housing_placement"),
        ("record_rent_payment", None),
        ("record_visit", "monitoring"),
    ]
    assert household_instance_ids(session, story) == {1, 10, 20, 30}


def test_process_steps_are_merged_between_records(session, story) -> None:
    step = TimelineEntry(occurred_on=date(2026, 3, 1), recorded_at=datetime(2026, 3, 1, 10, tzinfo=UTC),
                         source="process", kind="task_completed", summary="Inserimento abitativo: Sopralluogo",
                         record_type="timeline", process_id="housing_placement", instance_id=20)
    kinds = [e.kind for e in household_timeline(session, story, process_events=[step])]
    assert kinds.index("task_completed") == kinds.index("open_enrollment") + 1


def test_each_viewer_sees_only_what_the_policy_lets_them_read(session, story, users, callers) -> None:
    def kinds(role: str) -> list[str]:
        return [e.kind for e in household_timeline(session, story, viewer=callers[role].viewer())]

    # Money only for the finance officer of the lease holder: it reaches the household only through a lease,
    # so without one it is refused outright.
    with pytest.raises(AccessDeniedError):
        kinds("amministrazione")
    assert kinds("coordinatore") == [e.kind for e in household_timeline(session, story)]
    # The household is managed by the lead partner, where the demo case manager works: no money, no health.
    assert kinds("case_manager") == ["register_household", "open_enrollment", "sign_occupancy_agreement",
                                     "record_move_in", "record_rent_payment", "record_visit"]
    # A partner's mediator reaches the household only once on its team, and then sees composition only.
    with pytest.raises(AccessDeniedError):
        kinds("mediatore")
    enrollment = Enrollment(household_id=story, project_start_date=date(2026, 2, 1), status="inserito")
    session.add(enrollment)
    session.flush()
    session.add(CaseTeamMember(enrollment_id=enrollment.id, user_id=users["mediatore"].id, role="mediatore",
                               since=date(2026, 2, 1)))
    session.flush()
    assert kinds("mediatore") == ["register_household"]


def test_reading_protected_entries_is_logged_with_its_purpose(session, story, users) -> None:
    viewer = caller_for(users["coordinatore"]).viewer()
    household_timeline(session, story, viewer=viewer, purpose="preparing the team meeting")
    logged = session.scalars(select(DataAccessEvent).where(DataAccessEvent.household_id == story)).all()
    assert [(row.record_type, row.data_class, row.purpose, row.actor) for row in logged] == [
        ("visit", "riservato", "preparing the team meeting", "coordinatore")]


def test_operation_journal_names_the_instance_that_wrote(session, run, orgs) -> None:
    result = run("register_household", {
        "display_name": "Famiglia Ionescu", "organisation": "capofila", "since": "2026-03-01",
        "members": [{"first_name": "Ana", "last_name": "Ionescu", "relationship_to_hoh": 1}]},
        Caller("anna", process_id="intake", instance_id=77))
    (entry,) = household_timeline(session, result["household_id"])
    assert (entry.instance_id, entry.process_id, entry.actor, entry.occurred_on) == (
        77, "intake", "anna", date(2026, 3, 1))
