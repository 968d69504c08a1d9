"""Derived arrears: FIFO application of payments to charges, overdue amounts, late payments."""

from __future__ import annotations

from datetime import date

import pytest

from casefile.arrears import (
    NO_ARREARS,
    Arrears,
    compute_arrears,
    contribution_arrears,
    late_rent_payments,
    rent_arrears,
    settlement_dates,
)
from tests.casefile.test_housing import housed, new_lease


def d(text: str) -> date:
    return date.fromisoformat(text)


MAR, APR, MAY = d("2026-03-05"), d("2026-04-05"), d("2026-05-05")


@pytest.mark.parametrize(("charges", "payments", "as_of", "expected"), [
    pytest.param([], [], d("2026-03-10"), (0, None, 0, 0), id="nothing charged"),
    pytest.param([(MAR, 600)], [], MAR, (0, None, 0, 0), id="not overdue on the due date"),
    pytest.param([(MAR, 600)], [], d("2026-03-06"), (600, MAR, 1, 1), id="overdue the day after"),
    pytest.param([(MAR, 600), (APR, 600), (MAY, 600)], [], d("2026-05-20"), (1800, MAR, 76, 3),
                 id="three months unpaid"),
    pytest.param([(MAR, 600), (APR, 600)], [(MAR, 400)], d("2026-04-10"), (800, MAR, 36, 2),
                 id="partial payment"),
    pytest.param([(MAR, 600), (APR, 600)], [(d("2026-04-06"), 1200)], d("2026-04-10"), (0, None, 0, 0),
                 id="one payment covers two months"),
    pytest.param([(MAR, 600), (APR, 600)], [(d("2026-04-06"), 900)], d("2026-04-10"), (300, APR, 5, 1),
                 id="one payment covers a month and a half"),
    pytest.param([(MAR, 600)], [(d("2026-03-20"), 600)], d("2026-03-15"), (600, MAR, 10, 1),
                 id="payment after as_of ignored"),
    pytest.param([(MAR, 600)], [(d("2026-03-15"), 600)], d("2026-03-15"), (0, None, 0, 0),
                 id="payment on as_of counts"),
    pytest.param([(MAR, 600)], [(MAR, 1000)], d("2026-03-10"), (0, None, 0, 0), id="overpayment is no arrears"),
    pytest.param([(MAR, 600), (APR, 600)], [(MAR, 1000)], d("2026-04-10"), (200, APR, 5, 1),
                 id="credit carried to the next month"),
    pytest.param([(MAR, 600), (APR, 600)], [(d("2026-03-01"), 1200)], d("2026-04-10"), (0, None, 0, 0),
                 id="payment in advance"),
    pytest.param([(APR, 600), (MAR, 600)], [(d("2026-04-06"), 600)], d("2026-04-10"), (600, APR, 5, 1),
                 id="oldest first whatever the input order"),
    pytest.param([(d("2026-01-31"), 600), (d("2026-02-28"), 600)], [], d("2026-03-01"),
                 (1200, d("2026-01-31"), 29, 2), id="due at month end"),
    pytest.param([(d("2028-02-28"), 600)], [], d("2028-03-01"), (600, d("2028-02-28"), 2, 1), id="leap year"),
    pytest.param([(d("2028-02-29"), 600)], [], d("2028-03-01"), (600, d("2028-02-29"), 1, 1), id="leap day"),
    pytest.param([(d("2027-02-28"), 600)], [], d("2027-03-01"), (600, d("2027-02-28"), 1, 1), id="common year"),
    pytest.param([(d("2027-12-05"), 600)], [], d("2028-12-05"), (600, d("2027-12-05"), 366, 1),
                 id="a year across a leap day"),
    pytest.param([(MAR, 600), (APR, 600)], [], APR, (600, MAR, 31, 1), id="a charge due today is not overdue"),
    pytest.param([(MAR, 0)], [], APR, (0, None, 0, 0), id="zero charge"),
])
def test_compute_arrears(charges, payments, as_of, expected) -> None:
    assert compute_arrears(charges, payments, as_of) == Arrears(*expected)


def test_no_arrears_is_falsy() -> None:
    assert not NO_ARREARS
    assert Arrears(1, MAR, 1, 1)


def test_settlement_dates_fifo() -> None:
    charges = [(APR, 600), (MAR, 600), (MAY, 600), (d("2026-06-05"), 600)]
    payments = [(d("2026-05-20"), 800), (d("2026-03-30"), 600), (d("2026-04-10"), 300)]
    # March by the payment of 30/3; April by 300 on 10/4 and 300 on 20/5; May only 500 of 600 so far.
    assert settlement_dates(charges, payments) == [d("2026-05-20"), d("2026-03-30"), None, None]
    assert settlement_dates(charges, [*payments, (d("2026-06-01"), 900)]) == [
        d("2026-05-20"), d("2026-03-30"), d("2026-06-01"), d("2026-06-01")]


def test_rent_arrears_and_late_payments_from_the_rows(session, run, orgs) -> None:
    lease_id = new_lease(run)  # rent 600 + 50, due on the 5th, from Feb 2026
    for period in ("2026-02", "2026-03", "2026-04", "2026-05"):
        run("issue_rent_charge", {"lease_id": lease_id, "period": period})
    for paid_on in ("2026-02-05", "2026-03-26", "2026-04-25"):
        run("record_rent_payment", {"lease_id": lease_id, "paid_on": paid_on, "amount": "650"})
    assert rent_arrears(session, lease_id, d("2026-03-20")) == Arrears(65000, MAR, 15, 1)
    assert rent_arrears(session, lease_id, d("2026-05-05")) == NO_ARREARS
    assert rent_arrears(session, lease_id, d("2026-05-31")) == Arrears(65000, MAY, 26, 1)
    # March was paid 21 days after it was due; April 20 days after, which is not "more than 20".
    late = late_rent_payments(session, lease_id)
    assert [(p.period, p.due_date, p.paid_on, p.days_late) for p in late] == [
        (d("2026-03-01"), MAR, d("2026-03-26"), 21)]
    assert [p.period.month for p in late_rent_payments(session, lease_id, threshold_days=10)] == [3, 4]
    # Arrears of another lease are its own.
    assert rent_arrears(session, new_lease(run), d("2026-05-31")) == NO_ARREARS


def test_contribution_arrears_from_the_rows(session, run, household) -> None:
    agreement_id = housed(session, run, household["household_id"])["agreement_id"]  # 150, due on the 10th
    for period in ("2026-02", "2026-03"):
        run("issue_contribution_charge", {"agreement_id": agreement_id, "period": period})
    run("record_contribution_payment", {"agreement_id": agreement_id, "paid_on": "2026-02-12", "amount": "100",
                                        "method": "contanti"})
    assert contribution_arrears(session, agreement_id, d("2026-02-11")) == Arrears(15000, d("2026-02-10"), 1, 1)
    assert contribution_arrears(session, agreement_id, d("2026-03-11")) == Arrears(20000, d("2026-02-10"), 29, 2)
