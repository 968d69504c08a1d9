"""Household operations: registering, composition over time, protected data."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from casefile.errors import AccessDeniedError, InvalidInputError, NotFoundError, RuleViolationError
from casefile.models import (
    CaseEvent,
    CaseTeamMember,
    Consent,
    DataAccessEvent,
    Enrollment,
    Household,
    HouseholdMembership,
    Person,
    PersonSensitive,
    PrivacyNotice,
)
from tests.casefile.conftest import CHILD, MARIO


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_register_household_writes_members_and_journal(session, household) -> None:
    row = session.get(Household, household["household_id"])
    assert row.reference == "NUC-2026-0001"
    members = session.scalars(select(HouseholdMembership).where(
        HouseholdMembership.household_id == row.id).order_by(HouseholdMembership.id)).all()
    assert [(m.person.first_name, m.relationship_to_hoh, m.is_hoh) for m in members] == [
        ("Mario", 1, True), ("Luca", 2, False)]
    event = session.scalars(select(CaseEvent).where(CaseEvent.household_id == row.id)).one()
    assert (event.operation, event.instance_id) == ("register_household", 1)


@pytest.mark.parametrize(("change", "field"), [
    ({"members": []}, "members"),
    ({"members": [CHILD]}, "members"),
    ({"members": [{**MARIO, "codice_fiscale": "RSSMRA80A01L219X"}]}, "members.0.codice_fiscale"),
    ({"members": [{**MARIO, "birth_date": "31/12/1980"}]}, "members.0.birth_date"),
    ({"since": None}, "since"),
    ({"colour": "blue"}, "colour"),
])
def test_register_household_rejects_bad_input_by_field(session, run, orgs, change, field) -> None:
    payload = {"display_name": "X", "organisation": "capofila", "since": "2026-01-10", "members": [MARIO]}
    with pytest.raises(InvalidInputError) as info:
        run("register_household", {**payload, **change})
    assert field in info.value.fields
    assert _count(session, Household) == 0


def test_a_rule_broken_late_leaves_nothing_behind(session, run, household) -> None:
    # The second member's codice fiscale is already on file: the first member must not stay either.
    persons = _count(session, Person)
    newcomer = {**MARIO, "first_name": "Anna", "codice_fiscale": None}
    with pytest.raises(RuleViolationError) as info:
        run("register_household", {"display_name": "Y", "organisation": "capofila", "since": "2026-02-01",
                                   "members": [newcomer, {**MARIO, "relationship_to_hoh": 3}]})
    assert "members.1.codice_fiscale" in info.value.fields
    assert _count(session, Person) == persons
    assert _count(session, Household) == 1


def test_staff_caller_needs_the_right_to_write(session, run, orgs, callers) -> None:
    payload = {"display_name": "Z", "organisation": "capofila", "since": "2026-01-10", "members": [MARIO]}
    with pytest.raises(AccessDeniedError):
        run("register_household", payload, callers["amministrazione"])
    result = run("register_household", payload, callers["coordinatore"])
    assert session.get(Household, result["household_id"]).display_name == "Z"


# --- composition over time ---------------------------------------------------------------------------

def _memberships(session, household_id: int) -> list[tuple[str, int, bool, date, date | None]]:
    rows = session.scalars(select(HouseholdMembership).where(HouseholdMembership.household_id == household_id)
                           .order_by(HouseholdMembership.id)).all()
    return [(m.person.first_name, m.relationship_to_hoh, m.is_hoh, m.valid_from, m.valid_to) for m in rows]


def _membership_id(session, household_id: int, first_name: str) -> int:
    return session.scalars(select(HouseholdMembership.id).join(Person).where(
        HouseholdMembership.household_id == household_id, Person.first_name == first_name,
        HouseholdMembership.valid_to.is_(None))).one()


ANNA = {"first_name": "Anna", "last_name": "Bianchi", "relationship_to_hoh": 1}


@pytest.fixture
def single(run, orgs) -> dict:
    """A one-person household (Anna, head)."""
    return run("register_household", {"display_name": "Bianchi", "organisation": "capofila", "since": "2026-01-05",
                                      "members": [ANNA]})


def test_add_household_member(session, run, household) -> None:
    result = run("add_household_member", {"household_id": household["household_id"], "since": "2026-03-01",
                                          "member": {**CHILD, "first_name": "Sara", "relationship_to_hoh": 3}})
    membership = session.get(HouseholdMembership, result["membership_id"])
    assert (membership.person_id, membership.relationship_to_hoh, membership.is_hoh, membership.valid_from) == (
        result["person_id"], 3, False, date(2026, 3, 1))
    event = session.scalars(select(CaseEvent).where(CaseEvent.operation == "add_household_member")).one()
    assert (event.household_id, event.occurred_on, event.record_id) == (
        household["household_id"], date(2026, 3, 1), membership.id)


@pytest.mark.parametrize(("change", "error", "field"), [
    ({"member": {**ANNA, "relationship_to_hoh": 1}}, RuleViolationError, "member.relationship_to_hoh"),
    ({"member": {**ANNA, "relationship_to_hoh": 5, "codice_fiscale": MARIO["codice_fiscale"]}}, RuleViolationError,
     "member.codice_fiscale"),
    ({"member": {**ANNA, "relationship_to_hoh": 9}}, InvalidInputError, "member.relationship_to_hoh"),
    ({"household_id": 999}, NotFoundError, "household_id"),
])
def test_add_household_member_refusals(session, run, household, change, error, field) -> None:
    persons, memberships = _count(session, Person), _count(session, HouseholdMembership)
    with pytest.raises(error) as info:
        run("add_household_member", {"household_id": household["household_id"], "since": "2026-03-01",
                                     "member": {**ANNA, "relationship_to_hoh": 5}, **change})
    assert field in info.value.fields
    assert (_count(session, Person), _count(session, HouseholdMembership)) == (persons, memberships)


def test_a_new_head_may_join_once_the_last_head_left(session, run, single) -> None:
    hh = single["household_id"]
    run("end_household_membership", {"membership_id": _membership_id(session, hh, "Anna"), "valid_to": "2026-02-01"})
    run("add_household_member", {"household_id": hh, "since": "2026-02-02", "member": {**ANNA, "first_name": "Eva"}})
    assert _memberships(session, hh) == [("Anna", 1, True, date(2026, 1, 5), date(2026, 2, 1)),
                                         ("Eva", 1, True, date(2026, 2, 2), None)]


def test_end_membership_of_a_member(session, run, household) -> None:
    hh = household["household_id"]
    result = run("end_household_membership", {"membership_id": _membership_id(session, hh, "Luca"),
                                              "valid_to": "2026-06-30"})
    assert result["new_head_membership_id"] is None
    assert _memberships(session, hh) == [("Mario", 1, True, date(2026, 1, 10), None),
                                         ("Luca", 2, False, date(2026, 1, 10), date(2026, 6, 30))]


def test_leaving_head_hands_over_keeping_history(session, run, household) -> None:
    hh = household["household_id"]
    luca = household["person_ids"][1]
    result = run("end_household_membership", {"membership_id": _membership_id(session, hh, "Mario"),
                                              "valid_to": "2026-06-30", "new_head_person_id": luca})
    assert _memberships(session, hh) == [("Mario", 1, True, date(2026, 1, 10), date(2026, 6, 30)),
                                         ("Luca", 2, False, date(2026, 1, 10), date(2026, 6, 30)),
                                         ("Luca", 1, True, date(2026, 7, 1), None)]
    assert session.get(HouseholdMembership, result["new_head_membership_id"]).person_id == luca


def test_last_member_may_leave(session, run, single) -> None:
    hh = single["household_id"]
    run("end_household_membership", {"membership_id": _membership_id(session, hh, "Anna"), "valid_to": "2026-01-05"})
    assert _memberships(session, hh)[0][4] == date(2026, 1, 5)


@pytest.mark.parametrize(("leaver", "change", "field"), [
    ("Luca", {"valid_to": "2026-01-09"}, "valid_to"),
    ("Mario", {}, "new_head_person_id"),
    ("Mario", {"new_head_person_id": "mario"}, "new_head_person_id"),
    ("Mario", {"new_head_person_id": "other"}, "new_head_person_id"),
    ("Luca", {"new_head_person_id": "mario"}, "new_head_person_id"),
])
def test_end_membership_refusals(session, run, household, single, leaver, change, field) -> None:
    hh = household["household_id"]
    ids = {"mario": household["person_ids"][0], "other": single["person_ids"][0]}
    if "new_head_person_id" in change:
        change = {**change, "new_head_person_id": ids[change["new_head_person_id"]]}
    before = _memberships(session, hh)
    with pytest.raises(RuleViolationError) as info:
        run("end_household_membership", {"membership_id": _membership_id(session, hh, leaver),
                                         "valid_to": "2026-06-30", **change})
    assert field in info.value.fields
    session.expire_all()
    assert _memberships(session, hh) == before
    assert _count(session, HouseholdMembership) == 3


def test_a_membership_ends_once(session, run, household) -> None:
    membership_id = _membership_id(session, household["household_id"], "Luca")
    run("end_household_membership", {"membership_id": membership_id, "valid_to": "2026-06-30"})
    with pytest.raises(RuleViolationError) as info:
        run("end_household_membership", {"membership_id": membership_id, "valid_to": "2026-07-30"})
    assert "membership_id" in info.value.fields
    assert session.get(HouseholdMembership, membership_id).valid_to == date(2026, 6, 30)


# --- a person's data ---------------------------------------------------------------------------------

def test_update_person_changes_only_the_fields_given(session, run, household) -> None:
    mario = household["person_ids"][0]
    result = run("update_person", {"person_id": mario, "first_name": "Marco", "citizenship": "IT",
                                   "codice_fiscale": MARIO["codice_fiscale"]})
    person = session.get(Person, mario)
    assert (person.first_name, person.citizenship, person.birth_date) == ("Marco", "IT", date(1980, 1, 1))
    assert result["changed"] == ["citizenship", "codice_fiscale", "first_name"]
    event = session.scalars(select(CaseEvent).where(CaseEvent.operation == "update_person")).one()
    assert event.household_id == household["household_id"]
    assert "Marco" not in event.summary


@pytest.mark.parametrize(("change", "error", "field"), [
    ({"codice_fiscale": MARIO["codice_fiscale"]}, RuleViolationError, "codice_fiscale"),
    ({}, InvalidInputError, "_schema"),
    ({"first_name": None}, InvalidInputError, "first_name"),
    ({"sex": "X"}, InvalidInputError, "sex"),
    ({"person_id": 999, "citizenship": "IT"}, NotFoundError, "person_id"),
])
def test_update_person_refusals(session, run, household, change, error, field) -> None:
    luca = household["person_ids"][1]
    with pytest.raises(error) as info:
        run("update_person", {"person_id": luca, **change})
    assert field in info.value.fields
    assert session.get(Person, luca).codice_fiscale is None


def test_update_person_needs_a_current_household(session, run, single) -> None:
    hh = single["household_id"]
    run("end_household_membership", {"membership_id": _membership_id(session, hh, "Anna"), "valid_to": "2026-02-01"})
    with pytest.raises(RuleViolationError) as info:
        run("update_person", {"person_id": single["person_ids"][0], "last_name": "Verdi"})
    assert "person_id" in info.value.fields
    assert session.get(Person, single["person_ids"][0]).last_name == "Bianchi"


def _put_on_team(session, household_id: int, user) -> None:
    enrollment = Enrollment(household_id=household_id, project_start_date=date(2026, 1, 10),
                            status="in_attesa_alloggio")
    session.add(enrollment)
    session.flush()
    session.add(CaseTeamMember(enrollment_id=enrollment.id, user_id=user.id, role="case_manager",
                               since=date(2026, 1, 10)))
    session.flush()


def test_record_sensitive_data_keeps_one_row_and_no_values_in_the_journal(session, run, household) -> None:
    mario = household["person_ids"][0]
    first = run("record_sensitive_data", {"person_id": mario, "disability": True, "chronic_condition": "diabete"})
    second = run("record_sensitive_data", {"person_id": mario, "dv_survivor": False, "chronic_condition": None})
    assert first["created"]
    assert not second["created"]
    row = session.scalars(select(PersonSensitive)).one()
    assert (row.disability, row.chronic_condition, row.dv_survivor) == (True, None, False)
    summaries = session.scalars(select(CaseEvent.summary).where(
        CaseEvent.operation == "record_sensitive_data")).all()
    assert summaries == ["health data updated", "health data updated"]


def test_sensitive_data_is_for_the_case_team_only(session, run, household, users, callers) -> None:
    payload = {"person_id": household["person_ids"][0], "pregnancy": True}
    with pytest.raises(AccessDeniedError):
        run("record_sensitive_data", payload, callers["case_manager"])
    assert _count(session, PersonSensitive) == 0
    _put_on_team(session, household["household_id"], users["case_manager"])
    run("record_sensitive_data", payload, callers["case_manager"])
    log = session.scalars(select(DataAccessEvent)).one()
    assert (log.actor, log.action, log.record_type) == ("case_manager", "write", "person_sensitive")


@pytest.mark.parametrize(("change", "error", "field"), [
    ({"notes": None, "disability": "maybe"}, InvalidInputError, "disability"),
    ({}, InvalidInputError, "_schema"),
    ({"person_id": "other"}, RuleViolationError, "person_id"),
])
def test_record_sensitive_data_refusals(session, run, household, single, change, error, field) -> None:
    if change.get("person_id") == "other":
        hh = single["household_id"]
        run("end_household_membership", {"membership_id": _membership_id(session, hh, "Anna"),
                                         "valid_to": "2026-02-01"})
        change = {"person_id": single["person_ids"][0], "pregnancy": True}
    with pytest.raises(error) as info:
        run("record_sensitive_data", {"person_id": household["person_ids"][0], **change})
    assert field in info.value.fields
    assert _count(session, PersonSensitive) == 0


# --- privacy notice and consents ---------------------------------------------------------------------

def test_record_privacy_notice(session, run, household) -> None:
    result = run("record_privacy_notice", {
        "person_id": household["person_ids"][0], "household_id": household["household_id"],
        "given_at": "2026-01-10T23:30:00+00:00", "language": "it", "interpreter_used": True})
    notice = session.get(PrivacyNotice, result["privacy_notice_id"])
    assert notice.given_at == datetime(2026, 1, 10, 23, 30, tzinfo=UTC)
    assert (notice.interpreter_used, notice.given_by) == (True, "system")
    event = session.scalars(select(CaseEvent).where(CaseEvent.operation == "record_privacy_notice")).one()
    assert event.occurred_on == date(2026, 1, 11)  # already the 11th in Turin


@pytest.mark.parametrize(("change", "error", "field"), [
    ({"given_at": "2026-01-10T10:00:00"}, InvalidInputError, "given_at"),
    ({"language": ""}, InvalidInputError, "language"),
    ({"household_id": "other"}, RuleViolationError, "person_id"),
    ({"household_id": 999}, NotFoundError, "household_id"),
])
def test_record_privacy_notice_refusals(session, run, household, single, change, error, field) -> None:
    if change.get("household_id") == "other":
        change = {"household_id": single["household_id"]}
    with pytest.raises(error) as info:
        run("record_privacy_notice", {"person_id": household["person_ids"][0],
                                      "household_id": household["household_id"],
                                      "given_at": "2026-01-10T10:00:00+01:00", "language": "it", **change})
    assert field in info.value.fields
    assert _count(session, PrivacyNotice) == 0


def test_consent_given_and_withdrawn(session, run, household) -> None:
    mario = household["person_ids"][0]
    consent_id = run("record_consent", {"person_id": mario, "purpose": "foto",
                                        "given_at": "2026-01-10T10:00:00+01:00"})["consent_id"]
    run("withdraw_consent", {"consent_id": consent_id, "withdrawn_at": "2026-02-01T09:00:00+01:00"})
    assert session.get(Consent, consent_id).withdrawn_at == datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    # Once withdrawn, the same purpose may be consented to again.
    run("record_consent", {"person_id": mario, "purpose": "foto", "given_at": "2026-03-01T10:00:00+01:00"})
    assert _count(session, Consent) == 2


def test_consent_refusals(session, run, household) -> None:
    mario = household["person_ids"][0]
    payload = {"person_id": mario, "purpose": "foto", "given_at": "2026-01-10T10:00:00+01:00"}
    consent_id = run("record_consent", payload)["consent_id"]
    with pytest.raises(RuleViolationError) as info:
        run("record_consent", payload)
    assert "purpose" in info.value.fields
    with pytest.raises(InvalidInputError) as info:
        run("record_consent", {**payload, "purpose": "marketing"})
    assert "purpose" in info.value.fields
    with pytest.raises(RuleViolationError) as info:
        run("withdraw_consent", {"consent_id": consent_id, "withdrawn_at": "2026-01-10T08:59:00+00:00"})
    assert "withdrawn_at" in info.value.fields
    assert session.get(Consent, consent_id).withdrawn_at is None
    run("withdraw_consent", {"consent_id": consent_id, "withdrawn_at": "2026-01-10T09:00:00+00:00"})
    with pytest.raises(RuleViolationError) as info:
        run("withdraw_consent", {"consent_id": consent_id, "withdrawn_at": "2026-02-10T09:00:00+00:00"})
    assert "consent_id" in info.value.fields
    assert session.get(Consent, consent_id).withdrawn_at == datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
    assert _count(session, Consent) == 1


def test_consent_can_be_withdrawn_after_leaving_the_household(session, run, single) -> None:
    anna, hh = single["person_ids"][0], single["household_id"]
    consent_id = run("record_consent", {"person_id": anna, "purpose": "testimonianza",
                                        "given_at": "2026-01-10T10:00:00+01:00"})["consent_id"]
    run("end_household_membership", {"membership_id": _membership_id(session, hh, "Anna"), "valid_to": "2026-02-01"})
    run("withdraw_consent", {"consent_id": consent_id, "withdrawn_at": "2026-03-01T10:00:00+01:00"})
    event = session.scalars(select(CaseEvent).where(CaseEvent.operation == "withdraw_consent")).one()
    assert (event.household_id, event.occurred_on) == (hh, date(2026, 3, 1))


def test_new_head_must_already_be_a_member_on_the_heads_last_day(session, run, household) -> None:
    hh = household["household_id"]
    late = run("add_household_member", {"household_id": hh, "since": "2026-07-15",
                                        "member": {**ANNA, "relationship_to_hoh": 3}})["person_id"]
    with pytest.raises(RuleViolationError) as info:
        run("end_household_membership", {"membership_id": _membership_id(session, hh, "Mario"),
                                         "valid_to": "2026-06-30", "new_head_person_id": late})
    assert "new_head_person_id" in info.value.fields
    session.expire_all()
    assert [m[4] for m in _memberships(session, hh)] == [None, None, None]
