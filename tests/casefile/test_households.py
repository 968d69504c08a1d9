"""Household operations: registering, composition over time, protected data."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from casefile.errors import AccessDeniedError, InvalidInputError, RuleViolationError
from casefile.models import CaseEvent, Household, HouseholdMembership, Person
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
