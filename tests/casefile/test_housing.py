"""Housing operations: landlords, units, leases, placements, occupancy agreements, keys and move-in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casefile.dates import add_months
from casefile.errors import AccessDeniedError, DomainError, InvalidInputError, NotFoundError, RuleViolationError
from casefile.models import (
    CaseEvent,
    Enrollment,
    HousingUnit,
    Landlord,
    LeaseContract,
    OccupancyAgreement,
    Placement,
)
from tests.casefile.conftest import MARIO

Run = Callable[..., dict[str, Any]]

LEASE = {"tenant": "locatario", "lease_type": "4+4", "signed_on": "2026-01-20", "start_date": "2026-02-01",
         "first_expiry": "2030-01-31", "monthly_rent": "600.00", "service_charges": "50.00", "rent_due_day": 5,
         "deposit": "1800.00"}
AGREEMENT = {"kind": "sublocazione", "signed_on": "2026-02-01", "start_date": "2026-02-01",
             "monthly_contribution": "150.00", "contribution_due_day": 10, "house_rules_ack": True}


# --- builders, shared with test_money ---------------------------------------------------------------

def count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model))


def new_landlord(run: Run, **changes: Any) -> int:
    return run("register_landlord", {"name": "Bianchi srl", "kind": "societa", "tax_code": "01234567890",
                                     "managed_by": "locatario", **changes})["landlord_id"]


def new_unit(run: Run, **changes: Any) -> int:
    return run("register_housing_unit", {"address": "Via Roma 1", "rooms": 2, "source": "mercato_privato",
                                         **changes})["unit_id"]


def new_lease(run: Run, **changes: Any) -> int:
    """A 4+4 lease (Feb 2026 - Jan 2030, rent 600 + 50, due on the 5th) of a new unit of a new landlord."""
    landlord_id = changes.pop("landlord_id", None) or new_landlord(run)
    unit_id = changes.pop("unit_id", None) or new_unit(run, landlord_id=landlord_id)
    return run("sign_lease", {**LEASE, "unit_id": unit_id, "landlord_id": landlord_id, **changes})["lease_id"]


def new_enrollment(session: Session, household_id: int, status: str = "in_attesa_alloggio",
                   start: date = date(2026, 1, 20), exit_date: date | None = None) -> Enrollment:
    """An enrollment inserted directly (its operations belong to the case area)."""
    enrollment = Enrollment(household_id=household_id, project_start_date=start, status=status, exit_date=exit_date)
    session.add(enrollment)
    session.flush()
    return enrollment


def new_household(run: Run, organisation: str = "capofila", cf: str | None = None) -> int:
    return run("register_household", {"display_name": "Altro nucleo", "organisation": organisation,
                                       "since": "2026-01-10",
                                       "members": [{**MARIO, "codice_fiscale": cf}]})["household_id"]


def housed(session: Session, run: Run, household_id: int, *, contribution: str = "150.00",
           move_in: bool = True) -> dict[str, int]:
    """A household placed under a new lease on 1 Feb 2026, with agreement and keys, moved in on 2 Feb."""
    enrollment = new_enrollment(session, household_id)
    lease_id = new_lease(run)
    placement_id = run("place_household", {"enrollment_id": enrollment.id, "lease_id": lease_id,
                                           "start_date": "2026-02-01"})["placement_id"]
    agreement_id = run("sign_occupancy_agreement", {**AGREEMENT, "placement_id": placement_id,
                                                    "monthly_contribution": contribution})["agreement_id"]
    run("hand_over_keys", {"placement_id": placement_id, "handed_over_on": "2026-02-01", "keys_count": 2})
    if move_in:
        run("record_move_in", {"placement_id": placement_id, "move_in_date": "2026-02-02"})
    return {"enrollment_id": enrollment.id, "lease_id": lease_id, "placement_id": placement_id,
            "agreement_id": agreement_id}


def refused(session: Session, run: Run, name: str, payload: dict[str, Any], field: str,
            error: type[DomainError] = DomainError, *models: Any) -> DomainError:
    """Run an operation that must be refused naming ``field``, and check it wrote nothing."""
    watched = (CaseEvent, *models)
    before = [count(session, model) for model in watched]
    with pytest.raises(error) as info:
        run(name, payload)
    assert field in info.value.fields, info.value.fields
    assert [count(session, model) for model in watched] == before
    return info.value


# --- landlords and units ----------------------------------------------------------------------------

def test_register_landlord_and_unit(session, run, orgs) -> None:
    landlord_id = new_landlord(run, contact="tel. 011 000000")
    unit_id = new_unit(run, landlord_id=landlord_id, ape_class="A4", sqm=55, floor=-1, lift=True)
    landlord, unit = session.get(Landlord, landlord_id), session.get(HousingUnit, unit_id)
    assert (landlord.managed_by_org_id, landlord.kind, landlord.contact) == (
        orgs["locatario"].id, "societa", "tel. 011 000000")
    assert (unit.landlord_id, unit.ape_class, unit.sqm, unit.floor, unit.lift, unit.furnished) == (
        landlord_id, "A4", 55, -1, True, False)
    # Neither concerns a household: nothing on any timeline.
    assert count(session, CaseEvent) == 0


@pytest.mark.parametrize(("change", "field", "error"), [
    ({"managed_by": "partner"}, "managed_by", RuleViolationError),
    ({"managed_by": "nessuno"}, "managed_by", RuleViolationError),
    ({"kind": "banca"}, "kind", InvalidInputError),
    ({"name": ""}, "name", InvalidInputError),
])
def test_register_landlord_refusals(session, run, orgs, change, field, error) -> None:
    payload = {"name": "X", "kind": "persona", "managed_by": "locatario", **change}
    refused(session, run, "register_landlord", payload, field, error, Landlord)


@pytest.mark.parametrize(("change", "field", "error"), [
    ({"rooms": 0}, "rooms", InvalidInputError),
    ({"ape_class": "A5"}, "ape_class", InvalidInputError),
    ({"source": "regalo"}, "source", InvalidInputError),
    ({"landlord_id": 999_999}, "landlord_id", NotFoundError),
])
def test_register_housing_unit_refusals(session, run, orgs, change, field, error) -> None:
    payload = {"address": "Via Po 1", "rooms": 2, "source": "locare", **change}
    refused(session, run, "register_housing_unit", payload, field, error, HousingUnit)


# --- leases -----------------------------------------------------------------------------------------

def test_sign_lease_stores_cents_and_is_active(session, run, orgs) -> None:
    lease = session.get(LeaseContract, new_lease(run, sublet_clause=True))
    assert (lease.monthly_rent_cents, lease.service_charges_cents, lease.deposit_cents) == (60000, 5000, 180000)
    assert (lease.status, lease.tenant_org_id, lease.rent_due_day, lease.sublet_clause) == (
        "attivo", orgs["locatario"].id, 5, True)
    assert count(session, CaseEvent) == 0


@pytest.mark.parametrize(("lease_type", "start", "expiry", "rent", "accepted"), [
    ("4+4", "2026-02-01", "2030-01-31", "600", True),     # to the day before the anniversary
    ("4+4", "2026-02-01", "2030-02-01", "600", True),     # to the anniversary
    ("4+4", "2026-02-01", "2030-01-30", "600", False),
    ("4+4", "2026-02-01", "2030-02-02", "600", False),
    ("4+4", "2028-02-29", "2032-02-28", "600", True),     # leap day to leap year
    ("4+4", "2028-02-29", "2032-02-27", "600", False),
    ("3+2", "2026-02-01", "2029-01-31", "600", True),
    ("3+2", "2026-02-01", "2031-01-31", "600", True),     # "at least" 3 years
    ("3+2", "2026-02-01", "2029-01-30", "600", False),
    ("transitorio", "2026-01-31", "2026-02-27", "600", True),  # one month, clamped to February
    ("transitorio", "2026-02-01", "2026-02-27", "600", False),
    ("transitorio", "2026-02-01", "2027-08-01", "600", True),  # 18 months
    ("transitorio", "2026-02-01", "2027-08-02", "600", False),
    ("art42", "2026-02-01", "2032-01-31", "600", True),
    ("art42", "2026-02-01", "2031-01-31", "600", False),
    ("comodato", "2026-02-01", "2026-02-02", "0", True),
    ("comodato", "2026-02-01", "2026-02-01", "0", False),  # not after the start
])
def test_sign_lease_term_by_type(session, run, orgs, lease_type, start, expiry, rent, accepted) -> None:
    landlord_id = new_landlord(run)
    unit_id = new_unit(run, landlord_id=landlord_id)
    payload = {**LEASE, "unit_id": unit_id, "landlord_id": landlord_id, "lease_type": lease_type,
               "start_date": start, "first_expiry": expiry, "monthly_rent": rent, "deposit": "0"}
    if accepted:
        lease = session.get(LeaseContract, run("sign_lease", payload)["lease_id"])
        assert lease.first_expiry == date.fromisoformat(expiry)
    else:
        refused(session, run, "sign_lease", payload, "first_expiry", InvalidInputError, LeaseContract)


@pytest.mark.parametrize(("change", "field"), [
    ({"lease_type": "comodato", "first_expiry": "2027-01-31", "monthly_rent": "100", "deposit": "0"},
     "monthly_rent"),
    ({"monthly_rent": "0", "deposit": "0"}, "monthly_rent"),
    ({"deposit": "1800.01"}, "deposit"),
    ({"rent_due_day": 29}, "rent_due_day"),
    ({"rent_due_day": 0}, "rent_due_day"),
    ({"lease_type": "5+5"}, "lease_type"),
    ({"monthly_rent": "600.001"}, "monthly_rent"),
])
def test_sign_lease_rejects_bad_amounts(session, run, orgs, change, field) -> None:
    landlord_id = new_landlord(run)
    payload = {**LEASE, "unit_id": new_unit(run, landlord_id=landlord_id), "landlord_id": landlord_id, **change}
    refused(session, run, "sign_lease", payload, field, InvalidInputError, LeaseContract)


def test_sign_lease_business_rules(session, run, orgs) -> None:
    landlord_id, other_landlord = new_landlord(run), new_landlord(run, name="Verdi")
    unit_id = new_unit(run, landlord_id=landlord_id)
    payload = {**LEASE, "unit_id": unit_id, "landlord_id": landlord_id}
    refused(session, run, "sign_lease", {**payload, "tenant": "partner"}, "tenant", RuleViolationError, LeaseContract)
    refused(session, run, "sign_lease", {**payload, "landlord_id": other_landlord}, "landlord_id",
            RuleViolationError, LeaseContract)
    refused(session, run, "sign_lease", {**payload, "unit_id": 999_999}, "unit_id", NotFoundError, LeaseContract)
    first = run("sign_lease", payload)["lease_id"]
    refused(session, run, "sign_lease", payload, "unit_id", RuleViolationError, LeaseContract)
    # Notice given: the lease still binds the unit.
    run("end_lease", {"lease_id": first, "status": "in_disdetta", "ended_on": "2026-12-31"})
    refused(session, run, "sign_lease", payload, "unit_id", RuleViolationError, LeaseContract)
    run("end_lease", {"lease_id": first, "status": "risolto", "ended_on": "2026-12-31"})
    second = run("sign_lease", {**payload, "signed_on": "2027-01-01", "start_date": "2027-01-01",
                                "first_expiry": "2030-12-31"})["lease_id"]
    assert session.get(LeaseContract, second).status == "attivo"
    # A unit naming no landlord takes the lease of any landlord.
    free_unit = new_unit(run)
    assert run("sign_lease", {**payload, "unit_id": free_unit, "landlord_id": other_landlord})["lease_id"]


@pytest.mark.parametrize(("registered", "late"), [("2026-01-20", False), ("2026-02-19", False),
                                                  ("2026-02-20", True)])
def test_register_lease_flags_late_registration(session, run, orgs, registered, late) -> None:
    lease_id = new_lease(run)  # signed 2026-01-20
    result = run("register_lease", {"lease_id": lease_id, "registration_date": registered,
                                    "registration_code": "RLI-1"})
    assert result["late"] is late
    lease = session.get(LeaseContract, lease_id)
    assert (lease.registration_date.isoformat(), lease.registration_code) == (registered, "RLI-1")


def test_register_lease_once_and_not_before_signature(session, run, orgs) -> None:
    lease_id = new_lease(run)
    payload = {"lease_id": lease_id, "registration_date": "2026-01-19", "registration_code": "RLI-1"}
    refused(session, run, "register_lease", payload, "registration_date", RuleViolationError)
    assert session.get(LeaseContract, lease_id).registration_date is None
    run("register_lease", {**payload, "registration_date": "2026-01-25"})
    refused(session, run, "register_lease", {**payload, "registration_date": "2026-01-26", "registration_code": "X"},
            "lease_id", RuleViolationError)
    assert session.get(LeaseContract, lease_id).registration_code == "RLI-1"


def test_end_lease_with_a_household_in_it(session, run, household) -> None:
    ids = housed(session, run, household["household_id"])
    lease_id = ids["lease_id"]
    for status in ("risolto", "scaduto", "volturato"):
        refused(session, run, "end_lease", {"lease_id": lease_id, "status": status, "ended_on": "2027-01-31"},
                "status", RuleViolationError)
    # Notice may be given while the household lives there; it is on the household's timeline.
    run("end_lease", {"lease_id": lease_id, "status": "in_disdetta", "ended_on": "2027-01-31"})
    event = session.scalars(select(CaseEvent).where(CaseEvent.operation == "end_lease")).one()
    assert (event.household_id, event.enrollment_id) == (household["household_id"], ids["enrollment_id"])
    refused(session, run, "end_lease", {"lease_id": lease_id, "status": "in_disdetta", "ended_on": "2027-01-31"},
            "status", RuleViolationError)
    run("end_placement", {"placement_id": ids["placement_id"], "end_date": "2027-01-31", "end_reason": "trasloco"})
    run("end_lease", {"lease_id": lease_id, "status": "volturato", "ended_on": "2027-01-31"})
    lease = session.get(LeaseContract, lease_id)
    assert (lease.status, lease.ended_on) == ("volturato", date(2027, 1, 31))
    refused(session, run, "end_lease", {"lease_id": lease_id, "status": "risolto", "ended_on": "2027-02-01"},
            "lease_id", RuleViolationError)


def test_end_lease_not_before_start(session, run, orgs) -> None:
    lease_id = new_lease(run)
    refused(session, run, "end_lease", {"lease_id": lease_id, "status": "risolto", "ended_on": "2026-01-31"},
            "ended_on", RuleViolationError)
    refused(session, run, "end_lease", {"lease_id": lease_id, "status": "attivo", "ended_on": "2026-03-31"},
            "status", InvalidInputError)
    assert session.get(LeaseContract, lease_id).status == "attivo"


# --- placements -------------------------------------------------------------------------------------

def test_place_household_creates_placement_and_journal(session, run, household) -> None:
    enrollment = new_enrollment(session, household["household_id"])
    lease_id = new_lease(run)
    result = run("place_household", {"enrollment_id": enrollment.id, "lease_id": lease_id,
                                     "start_date": "2026-02-01"})
    placement = session.get(Placement, result["placement_id"])
    lease = session.get(LeaseContract, lease_id)
    assert (placement.enrollment_id, placement.unit_id, placement.lease_id, placement.start_date) == (
        enrollment.id, lease.unit_id, lease_id, date(2026, 2, 1))
    assert placement.move_in_date is None
    assert placement.end_date is None
    event = session.scalars(select(CaseEvent).where(CaseEvent.operation == "place_household")).one()
    assert (event.household_id, event.record_id, event.occurred_on) == (
        household["household_id"], placement.id, date(2026, 2, 1))


@pytest.mark.parametrize(("start", "accepted"), [("2026-01-31", False), ("2026-02-01", True),
                                                 ("2030-01-31", True), ("2030-02-01", False)])
def test_place_household_within_the_lease(session, run, household, start, accepted) -> None:
    enrollment = new_enrollment(session, household["household_id"])
    payload = {"enrollment_id": enrollment.id, "lease_id": new_lease(run), "start_date": start}
    if accepted:
        assert session.get(Placement, run("place_household", payload)["placement_id"]).start_date.isoformat() == start
    else:
        refused(session, run, "place_household", payload, "start_date", RuleViolationError, Placement)


@pytest.mark.parametrize("status", ["in_valutazione", "in_uscita", "chiuso"])
def test_place_household_needs_a_waiting_or_placed_enrollment(session, run, household, status) -> None:
    enrollment = new_enrollment(session, household["household_id"], status=status)
    payload = {"enrollment_id": enrollment.id, "lease_id": new_lease(run), "start_date": "2026-02-01"}
    refused(session, run, "place_household", payload, "enrollment_id", RuleViolationError, Placement)


def test_place_household_refusals_and_a_move(session, run, household) -> None:
    ids = housed(session, run, household["household_id"])
    other = new_enrollment(session, new_household(run))
    # The unit is taken.
    refused(session, run, "place_household", {"enrollment_id": other.id, "lease_id": ids["lease_id"],
                                              "start_date": "2026-03-01"}, "lease_id", RuleViolationError, Placement)
    # A lease under notice takes nobody new.
    notice_lease = new_lease(run)
    run("end_lease", {"lease_id": notice_lease, "status": "in_disdetta", "ended_on": "2026-12-31"})
    refused(session, run, "place_household", {"enrollment_id": other.id, "lease_id": notice_lease,
                                              "start_date": "2026-03-01"}, "lease_id", RuleViolationError, Placement)
    # The household is placed already: a move ends the old placement first.
    new_lease_id = new_lease(run)
    move = {"enrollment_id": ids["enrollment_id"], "lease_id": new_lease_id, "start_date": "2026-06-01"}
    refused(session, run, "place_household", move, "enrollment_id", RuleViolationError, Placement)
    refused(session, run, "place_household", {**move, "enrollment_id": 999_999}, "enrollment_id", NotFoundError)
    run("end_placement", {"placement_id": ids["placement_id"], "end_date": "2026-05-31", "end_reason": "trasloco"})
    moved = run("place_household", move)
    assert session.get(Placement, moved["placement_id"]).lease_id == new_lease_id
    # The freed unit can take another household.
    assert run("place_household", {"enrollment_id": other.id, "lease_id": ids["lease_id"],
                                   "start_date": "2026-06-01"})["placement_id"]


def test_staff_place_household_needs_reach_and_leaves_nothing_when_refused(session, run, callers, orgs) -> None:
    # The household belongs to "altro": the lead partner's case manager does not reach it; the refusal
    # comes from the journal, after the placement row was added, and must take it away.
    enrollment = new_enrollment(session, new_household(run, organisation="altro"))
    lease_id = new_lease(run)
    payload = {"enrollment_id": enrollment.id, "lease_id": lease_id, "start_date": "2026-02-01"}
    with pytest.raises(AccessDeniedError):
        run("place_household", payload, callers["case_manager"])
    assert count(session, Placement) == 0
    # The lease holder's housing officer reaches it through the lease it holds.
    placement_id = run("place_household", payload, callers["referente_abitativo"])["placement_id"]
    assert session.get(Placement, placement_id).enrollment_id == enrollment.id
    with pytest.raises(AccessDeniedError):
        run("place_household", payload, callers["amministrazione"])


def test_staff_register_landlord_needs_restricted_housing_rights(session, run, callers, orgs) -> None:
    payload = {"name": "X", "kind": "persona", "managed_by": "locatario"}
    with pytest.raises(AccessDeniedError):
        run("register_landlord", payload, callers["case_manager"])
    assert session.get(Landlord, run("register_landlord", payload, callers["referente_abitativo"])["landlord_id"])


# --- occupancy agreement, keys, move-in ---------------------------------------------------------------

@pytest.fixture
def placed(session, run, household) -> dict[str, int]:
    """A placement from 1 Feb 2026, with neither agreement nor keys."""
    enrollment = new_enrollment(session, household["household_id"])
    lease_id = new_lease(run)
    placement_id = run("place_household", {"enrollment_id": enrollment.id, "lease_id": lease_id,
                                           "start_date": "2026-02-01"})["placement_id"]
    return {"enrollment_id": enrollment.id, "lease_id": lease_id, "placement_id": placement_id}


def test_sign_occupancy_agreement(session, run, placed) -> None:
    result = run("sign_occupancy_agreement", {**AGREEMENT, "placement_id": placed["placement_id"],
                                              "end_date": "2027-01-31"})
    agreement = session.get(OccupancyAgreement, result["agreement_id"])
    assert (agreement.placement_id, agreement.monthly_contribution_cents, agreement.contribution_due_day,
            agreement.end_date, agreement.house_rules_ack) == (
        placed["placement_id"], 15000, 10, date(2027, 1, 31), True)
    refused(session, run, "sign_occupancy_agreement", {**AGREEMENT, "placement_id": placed["placement_id"]},
            "placement_id", RuleViolationError, OccupancyAgreement)


@pytest.mark.parametrize(("change", "field", "error"), [
    ({"start_date": "2026-01-31"}, "start_date", RuleViolationError),
    ({"end_date": "2026-02-01"}, "end_date", InvalidInputError),
    ({"kind": "comodato"}, "monthly_contribution", InvalidInputError),
    ({"house_rules_ack": False}, "house_rules_ack", InvalidInputError),
    ({"contribution_due_day": 29}, "contribution_due_day", InvalidInputError),
    ({"kind": "affitto"}, "kind", InvalidInputError),
    ({"placement_id": 999_999}, "placement_id", NotFoundError),
])
def test_sign_occupancy_agreement_refusals(session, run, placed, change, field, error) -> None:
    payload = {**AGREEMENT, "placement_id": placed["placement_id"], **change}
    refused(session, run, "sign_occupancy_agreement", payload, field, error, OccupancyAgreement)


def test_comodato_agreement_is_free(session, run, placed) -> None:
    result = run("sign_occupancy_agreement", {**AGREEMENT, "placement_id": placed["placement_id"],
                                              "kind": "comodato", "monthly_contribution": "0"})
    assert session.get(OccupancyAgreement, result["agreement_id"]).monthly_contribution_cents == 0


def test_hand_over_keys(session, run, placed) -> None:
    payload = {"placement_id": placed["placement_id"], "handed_over_on": "2026-01-31", "keys_count": 2}
    refused(session, run, "hand_over_keys", payload, "handed_over_on", RuleViolationError)
    refused(session, run, "hand_over_keys", {**payload, "keys_count": 0}, "keys_count", InvalidInputError)
    run("hand_over_keys", {**payload, "handed_over_on": "2026-02-03"})
    placement = session.get(Placement, placed["placement_id"])
    assert (placement.keys_handed_over_on, placement.keys_count) == (date(2026, 2, 3), 2)
    refused(session, run, "hand_over_keys", {**payload, "handed_over_on": "2026-02-04"}, "placement_id",
            RuleViolationError)


@pytest.mark.parametrize("first", ["sign_occupancy_agreement", "hand_over_keys"])
def test_move_in_needs_agreement_and_keys(session, run, placed, first) -> None:
    steps = {"sign_occupancy_agreement": {**AGREEMENT, "placement_id": placed["placement_id"]},
             "hand_over_keys": {"placement_id": placed["placement_id"], "handed_over_on": "2026-02-05",
                                "keys_count": 1}}
    move_in = {"placement_id": placed["placement_id"], "move_in_date": "2026-02-10"}
    refused(session, run, "record_move_in", move_in, "placement_id", RuleViolationError)
    run(first, steps.pop(first))
    refused(session, run, "record_move_in", move_in, "placement_id", RuleViolationError)
    assert session.get(Placement, placed["placement_id"]).move_in_date is None
    [(second, payload)] = steps.items()
    run(second, payload)
    result = run("record_move_in", move_in)
    assert result == {"placement_id": placed["placement_id"], "first_move_in": True,
                      "enrollment_move_in_date": "2026-02-10"}
    enrollment = session.get(Enrollment, placed["enrollment_id"])
    assert (enrollment.move_in_date, enrollment.status) == (date(2026, 2, 10), "inserito")
    assert session.get(Placement, placed["placement_id"]).move_in_date == date(2026, 2, 10)
    refused(session, run, "record_move_in", {**move_in, "move_in_date": "2026-02-11"}, "placement_id",
            RuleViolationError)


@pytest.mark.parametrize(("keys_on", "agreement_start", "project_start", "exit_date", "move_in", "accepted"), [
    ("2026-02-05", "2026-02-01", "2026-01-20", None, "2026-02-05", True),
    ("2026-02-05", "2026-02-01", "2026-01-20", None, "2026-02-04", False),   # before the keys
    ("2026-02-01", "2026-02-08", "2026-01-20", None, "2026-02-07", False),   # before the agreement
    ("2026-02-01", "2026-02-01", "2026-02-15", None, "2026-02-14", False),   # before the project start
    ("2026-02-01", "2026-02-01", "2026-02-15", None, "2026-02-15", True),
    ("2026-02-01", "2026-02-01", "2026-01-20", "2026-03-01", "2026-03-01", True),
    ("2026-02-01", "2026-02-01", "2026-01-20", "2026-03-01", "2026-03-02", False),  # after the exit
])
def test_move_in_date_bounds(session, run, household, keys_on, agreement_start, project_start, exit_date,
                             move_in, accepted) -> None:
    enrollment = new_enrollment(session, household["household_id"], start=date.fromisoformat(project_start),
                                exit_date=date.fromisoformat(exit_date) if exit_date else None)
    placement_id = run("place_household", {"enrollment_id": enrollment.id, "lease_id": new_lease(run),
                                           "start_date": "2026-02-01"})["placement_id"]
    run("sign_occupancy_agreement", {**AGREEMENT, "placement_id": placement_id, "start_date": agreement_start})
    run("hand_over_keys", {"placement_id": placement_id, "handed_over_on": keys_on, "keys_count": 1})
    payload = {"placement_id": placement_id, "move_in_date": move_in}
    if accepted:
        run("record_move_in", payload)
        assert session.get(Enrollment, enrollment.id).move_in_date == date.fromisoformat(move_in)
    else:
        refused(session, run, "record_move_in", payload, "move_in_date", RuleViolationError)
        assert (enrollment.move_in_date, enrollment.status) == (None, "in_attesa_alloggio")


def test_a_move_keeps_the_first_move_in_date(session, run, household) -> None:
    ids = housed(session, run, household["household_id"])  # moved in 2026-02-02
    run("end_placement", {"placement_id": ids["placement_id"], "end_date": "2026-06-30", "end_reason": "trasloco"})
    second = run("place_household", {"enrollment_id": ids["enrollment_id"], "lease_id": new_lease(run),
                                      "start_date": "2026-07-01"})["placement_id"]
    run("sign_occupancy_agreement", {**AGREEMENT, "placement_id": second, "start_date": "2026-07-01"})
    run("hand_over_keys", {"placement_id": second, "handed_over_on": "2026-07-01", "keys_count": 1})
    result = run("record_move_in", {"placement_id": second, "move_in_date": "2026-07-02"})
    assert result["first_move_in"] is False
    assert session.get(Enrollment, ids["enrollment_id"]).move_in_date == date(2026, 2, 2)
    assert session.get(Placement, second).move_in_date == date(2026, 7, 2)


def test_end_placement(session, run, household) -> None:
    ids = housed(session, run, household["household_id"])  # started 2026-02-01, moved in 2026-02-02
    payload = {"placement_id": ids["placement_id"], "end_date": "2026-02-01", "end_reason": "uscita"}
    refused(session, run, "end_placement", payload, "end_date", RuleViolationError)
    refused(session, run, "end_placement", {**payload, "end_reason": ""}, "end_reason", InvalidInputError)
    run("end_placement", {**payload, "end_date": "2026-09-30"})
    placement = session.get(Placement, ids["placement_id"])
    assert (placement.end_date, placement.end_reason) == (date(2026, 9, 30), "uscita")
    refused(session, run, "end_placement", {**payload, "end_date": "2026-10-30"}, "placement_id",
            RuleViolationError)
    # An ended placement takes no agreement, keys or move-in.
    refused(session, run, "hand_over_keys", {"placement_id": ids["placement_id"], "handed_over_on": "2026-10-01",
                                             "keys_count": 1}, "placement_id", RuleViolationError)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),
    (date(2028, 2, 29), 12, date(2029, 2, 28)),
    (date(2026, 11, 15), 3, date(2027, 2, 15)),
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
])
def test_add_months_clamps_to_month_end(day, months, expected) -> None:
    assert add_months(day, months) == expected
