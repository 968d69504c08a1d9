"""Money operations: rent charges and payments, household contributions, repayment plans."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from casefile.errors import AccessDeniedError, InvalidInputError, NotFoundError, RuleViolationError
from casefile.models import (
    CaseEvent,
    ContributionCharge,
    ContributionPayment,
    DataAccessEvent,
    RentCharge,
    RentPayment,
    RepaymentPlan,
)
from tests.casefile.test_housing import AGREEMENT, count, housed, new_enrollment, new_lease, refused


@pytest.fixture
def home(session, run, household) -> dict[str, int]:
    """A household moved in under a lease (rent 600 + 50 due on the 5th) paying 150 on the 10th from Feb 2026."""
    return housed(session, run, household["household_id"])


# --- rent ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("period", ["2026-03", "2026-03-17", date(2026, 3, 31)])
def test_issue_rent_charge_amount_due_date_and_journal(session, run, household, home, period) -> None:
    result = run("issue_rent_charge", {"lease_id": home["lease_id"], "period": period})
    assert result == {"charge_id": result["charge_id"], "period": "2026-03-01", "due_date": "2026-03-05",
                      "amount_cents": 65000}
    charge = session.get(RentCharge, result["charge_id"])
    assert (charge.period, charge.due_date, charge.amount_cents) == (date(2026, 3, 1), date(2026, 3, 5), 65000)
    event = session.scalars(select(CaseEvent).where(CaseEvent.operation == "issue_rent_charge")).one()
    assert (event.household_id, event.enrollment_id, event.record_id) == (
        household["household_id"], home["enrollment_id"], charge.id)


def test_rent_of_a_vacant_unit_is_on_no_timeline(session, run, orgs) -> None:
    lease_id = new_lease(run)
    run("issue_rent_charge", {"lease_id": lease_id, "period": "2026-02"})
    run("record_rent_payment", {"lease_id": lease_id, "paid_on": "2026-02-05", "amount": "650"})
    assert count(session, RentCharge) == 1
    assert count(session, CaseEvent) == 0


@pytest.mark.parametrize(("period", "accepted"), [("2026-01", False), ("2026-02", True), ("2030-01", True),
                                                  ("2030-02", False)])
def test_rent_period_within_the_lease(session, run, orgs, period, accepted) -> None:
    lease_id = new_lease(run)  # 2026-02-01 .. 2030-01-31
    payload = {"lease_id": lease_id, "period": period}
    if accepted:
        assert run("issue_rent_charge", payload)["period"] == f"{period}-01"
    else:
        refused(session, run, "issue_rent_charge", payload, "period", RuleViolationError, RentCharge)


def test_rent_period_within_an_ended_lease(session, run, home) -> None:
    run("end_lease", {"lease_id": home["lease_id"], "status": "in_disdetta", "ended_on": "2026-06-15"})
    assert run("issue_rent_charge", {"lease_id": home["lease_id"], "period": "2026-06"})["amount_cents"] == 65000
    refused(session, run, "issue_rent_charge", {"lease_id": home["lease_id"], "period": "2026-07"}, "period",
            RuleViolationError, RentCharge)


@pytest.mark.parametrize(("period", "field", "error"), [
    ("2026-13", "period", InvalidInputError),
    ("March 2026", "period", InvalidInputError),
    ("2026-02-30", "period", InvalidInputError),
    (202603, "period", InvalidInputError),
])
def test_rent_period_must_be_a_month(session, run, home, period, field, error) -> None:
    refused(session, run, "issue_rent_charge", {"lease_id": home["lease_id"], "period": period}, field, error,
            RentCharge)


def test_rent_charged_once_per_period(session, run, home) -> None:
    run("issue_rent_charge", {"lease_id": home["lease_id"], "period": "2026-02"})
    refused(session, run, "issue_rent_charge", {"lease_id": home["lease_id"], "period": "2026-02-20"}, "period",
            RuleViolationError, RentCharge)
    refused(session, run, "issue_rent_charge", {"lease_id": 999_999, "period": "2026-02"}, "lease_id",
            NotFoundError, RentCharge)


def test_a_comodato_lease_charges_only_service_charges(session, run, orgs) -> None:
    comodato = {"lease_type": "comodato", "monthly_rent": "0", "deposit": "0"}
    free = new_lease(run, **comodato, service_charges="0")
    refused(session, run, "issue_rent_charge", {"lease_id": free, "period": "2026-02"}, "lease_id",
            RuleViolationError, RentCharge)
    with_charges = new_lease(run, **comodato, service_charges="30")
    assert run("issue_rent_charge", {"lease_id": with_charges, "period": "2026-02"})["amount_cents"] == 3000


def test_record_rent_payment_returns_the_arrears_left(session, run, home) -> None:
    lease_id = home["lease_id"]
    for period in ("2026-02", "2026-03"):
        run("issue_rent_charge", {"lease_id": lease_id, "period": period})
    result = run("record_rent_payment", {"lease_id": lease_id, "paid_on": "2026-03-10", "amount": "700",
                                         "reference": "CRO 123"})
    # 1300 due by 10 March, 700 paid: 600 of March remain.
    assert result["arrears_cents"] == 60000
    payment = session.get(RentPayment, result["payment_id"])
    assert (payment.amount_cents, payment.paid_on, payment.reference) == (70000, date(2026, 3, 10), "CRO 123")


@pytest.mark.parametrize(("amount", "field"), [("0", "amount"), ("-5", "amount"), ("12.345", "amount"),
                                               (None, "amount")])
def test_record_rent_payment_needs_a_positive_amount(session, run, home, amount, field) -> None:
    refused(session, run, "record_rent_payment", {"lease_id": home["lease_id"], "paid_on": "2026-03-10",
                                                  "amount": amount}, field, InvalidInputError, RentPayment)


# --- contributions ------------------------------------------------------------------------------------

def test_issue_contribution_charge(session, run, household, home) -> None:
    result = run("issue_contribution_charge", {"agreement_id": home["agreement_id"], "period": "2026-02"})
    charge = session.get(ContributionCharge, result["charge_id"])
    assert (charge.period, charge.due_date, charge.amount_cents) == (date(2026, 2, 1), date(2026, 2, 10), 15000)
    event = session.scalars(select(CaseEvent).where(CaseEvent.operation == "issue_contribution_charge")).one()
    assert (event.household_id, event.record_id) == (household["household_id"], charge.id)
    refused(session, run, "issue_contribution_charge", {"agreement_id": home["agreement_id"], "period": "2026-02"},
            "period", RuleViolationError, ContributionCharge)


def test_no_contribution_charge_under_a_free_agreement(session, run, household) -> None:
    agreement_id = housed(session, run, household["household_id"], contribution="0")["agreement_id"]
    refused(session, run, "issue_contribution_charge", {"agreement_id": agreement_id, "period": "2026-02"},
            "agreement_id", RuleViolationError, ContributionCharge)


def test_contribution_period_within_the_agreement_and_the_stay(session, run, home) -> None:
    charge = {"agreement_id": home["agreement_id"]}
    refused(session, run, "issue_contribution_charge", {**charge, "period": "2026-01"}, "period",
            RuleViolationError, ContributionCharge)
    # Open-ended agreement: any later month, while the household lives there.
    assert run("issue_contribution_charge", {**charge, "period": "2027-12"})["due_date"] == "2027-12-10"
    run("end_placement", {"placement_id": home["placement_id"], "end_date": "2026-05-20", "end_reason": "uscita"})
    assert run("issue_contribution_charge", {**charge, "period": "2026-05"})["amount_cents"] == 15000
    refused(session, run, "issue_contribution_charge", {**charge, "period": "2026-06"}, "period",
            RuleViolationError, ContributionCharge)


def test_contribution_period_ends_with_the_agreement(session, run, household) -> None:
    enrollment = new_enrollment(session, household["household_id"])
    placement_id = run("place_household", {"enrollment_id": enrollment.id, "lease_id": new_lease(run),
                                           "start_date": "2026-02-01"})["placement_id"]
    agreement_id = run("sign_occupancy_agreement", {**AGREEMENT, "placement_id": placement_id,
                                                    "end_date": "2026-07-31"})["agreement_id"]
    assert run("issue_contribution_charge", {"agreement_id": agreement_id, "period": "2026-07"})
    refused(session, run, "issue_contribution_charge", {"agreement_id": agreement_id, "period": "2026-08"},
            "period", RuleViolationError, ContributionCharge)


@pytest.mark.parametrize(("change", "field"), [({"amount": "0"}, "amount"), ({"method": "assegno"}, "method"),
                                               ({"paid_on": "ieri"}, "paid_on")])
def test_record_contribution_payment_refusals(session, run, home, change, field) -> None:
    payload = {"agreement_id": home["agreement_id"], "paid_on": "2026-02-10", "amount": "150", "method": "bonifico"}
    refused(session, run, "record_contribution_payment", {**payload, **change}, field, InvalidInputError,
            ContributionPayment)


def test_record_contribution_payment(session, run, household, home) -> None:
    run("issue_contribution_charge", {"agreement_id": home["agreement_id"], "period": "2026-02"})
    result = run("record_contribution_payment", {"agreement_id": home["agreement_id"], "paid_on": "2026-02-20",
                                                 "amount": "100", "method": "bonifico"})
    assert result["arrears_cents"] == 5000
    payment = session.get(ContributionPayment, result["payment_id"])
    assert (payment.amount_cents, payment.method) == (10000, "bonifico")
    event = session.scalars(select(CaseEvent).where(CaseEvent.operation == "record_contribution_payment")).one()
    assert event.household_id == household["household_id"]


# --- repayment plans ----------------------------------------------------------------------------------

@pytest.fixture
def behind(run, home) -> dict[str, int]:
    """Three months charged (Feb-Apr, 150 each, due on the 10th), 100 paid on 12 Feb."""
    for period in ("2026-02", "2026-03", "2026-04"):
        run("issue_contribution_charge", {"agreement_id": home["agreement_id"], "period": period})
    run("record_contribution_payment", {"agreement_id": home["agreement_id"], "paid_on": "2026-02-12",
                                        "amount": "100", "method": "contanti"})
    return home


PLAN = {"agreed_on": "2026-04-20", "cause": "incolpevole_perdita_lavoro", "instalment": "50",
        "first_due": "2026-05-10", "notes": "rate mensili"}


def test_agree_repayment_plan_totals_the_arrears(session, run, behind) -> None:
    result = run("agree_repayment_plan", {**PLAN, "agreement_id": behind["agreement_id"]})
    assert result == {"plan_id": result["plan_id"], "total_cents": 35000, "instalments": 7,
                      "oldest_due": "2026-02-10"}
    plan = session.get(RepaymentPlan, result["plan_id"])
    assert (plan.total_cents, plan.instalment_cents, plan.cause, plan.first_due) == (
        35000, 5000, "incolpevole_perdita_lavoro", date(2026, 5, 10))


def test_repayment_plan_total_is_as_of_the_agreement_day(session, run, behind) -> None:
    # On 5 April the April charge is not due yet: 450 - 150 - 100 paid.
    result = run("agree_repayment_plan", {**PLAN, "agreement_id": behind["agreement_id"], "agreed_on": "2026-04-05",
                                          "instalment": "40"})
    assert (result["total_cents"], result["instalments"]) == (20000, 5)


@pytest.mark.parametrize(("change", "field", "error"), [
    ({"agreed_on": "2026-02-10"}, "agreement_id", RuleViolationError),   # nothing overdue yet
    ({"instalment": "350.01"}, "instalment", RuleViolationError),
    ({"instalment": "0"}, "instalment", InvalidInputError),
    ({"first_due": "2026-04-19"}, "first_due", InvalidInputError),
    ({"cause": "sfortuna"}, "cause", InvalidInputError),
    ({"agreement_id": 999_999}, "agreement_id", NotFoundError),
])
def test_agree_repayment_plan_refusals(session, run, behind, change, field, error) -> None:
    payload = {**PLAN, "agreement_id": behind["agreement_id"], **change}
    refused(session, run, "agree_repayment_plan", payload, field, error, RepaymentPlan)


def test_no_plan_once_the_arrears_are_paid(session, run, behind) -> None:
    run("record_contribution_payment", {"agreement_id": behind["agreement_id"], "paid_on": "2026-04-15",
                                        "amount": "350", "method": "bonifico"})
    refused(session, run, "agree_repayment_plan", {**PLAN, "agreement_id": behind["agreement_id"]}, "agreement_id",
            RuleViolationError, RepaymentPlan)


# --- who may write money --------------------------------------------------------------------------------

def test_money_writers(session, run, callers, behind) -> None:
    payment = {"agreement_id": behind["agreement_id"], "paid_on": "2026-04-15", "amount": "10", "method": "contanti"}
    # The case manager reads money but does not book it.
    with pytest.raises(AccessDeniedError):
        run("record_contribution_payment", payment, callers["case_manager"])
    # The lease holder's administration reaches the household through the lease of its flat.
    assert run("record_contribution_payment", payment, callers["amministrazione"])["arrears_cents"] == 34000
    plan = {**PLAN, "agreement_id": behind["agreement_id"]}
    # A repayment plan is restricted: the coordinator may book payments, not agree plans.
    with pytest.raises(AccessDeniedError):
        run("agree_repayment_plan", plan, callers["coordinatore"])
    assert count(session, RepaymentPlan) == 0
    plan_id = run("agree_repayment_plan", plan, callers["amministrazione"])["plan_id"]
    logged = session.scalars(select(DataAccessEvent).where(DataAccessEvent.record_type == "repayment_plan")).one()
    assert (logged.actor, logged.action, logged.record_id, logged.purpose) == (
        "amministrazione", "write", plan_id, "agree_repayment_plan")
