"""The programme's indicators on a seeded data set with hand-computed answers (see indicators_seed)."""

from __future__ import annotations

from datetime import date

import pytest

from casefile.indicators import (
    Period,
    compute_indicators,
    contribution_arrears,
    exits_to_autonomy,
    exits_to_homelessness,
    households_housed,
    mediation,
    plans_signed_in_time,
    rent_paid_late,
    retention,
    time_to_enrollment,
    time_to_housing,
    visits_on_schedule,
)
from casefile.indicators.base import add_working_days, median_days
from tests.casefile.indicators_seed import PERIOD_END, PERIOD_START, seed

H1_2026 = Period(PERIOD_START, PERIOD_END)


@pytest.fixture
def seeded(session, users):
    return seed(session)


def test_households_housed(session, seeded) -> None:
    housed = households_housed(session, H1_2026)
    # Stock at 06-30: H1 and H4 (H2, H3, H5 have left, H6 never moved in); flow: H3 and H4 moved in.
    assert (housed.value, housed.details) == (2, {"stock": 2, "flow": 2})
    assert (housed.unit, housed.numerator) == ("households", None)


def test_time_to_enrollment(session, seeded) -> None:
    # Started in the period: H3 40 days, H4 20, H6 10.
    waited = time_to_enrollment(session, H1_2026)
    assert (waited.value, waited.details) == (20, {"households": 3})


def test_time_to_housing(session, seeded) -> None:
    # Moved in during the period: H3 30 days after its start (70 after referral), H4 59 (79).
    housing = time_to_housing(session, H1_2026)
    assert (housing.value, housing.details) == (44.5, {"households": 2, "median_from_referral": 74.5})


def test_retention_six_and_twelve_months(session, seeded) -> None:
    # 6 months (moved in by 2025-12-30): H1 housed, H2 went back to the street, H5 still housed on 2026-01-01.
    six = retention(session, H1_2026, 6)
    assert (six.key, six.value, six.numerator, six.denominator) == ("retention_6m", 0.6667, 2, 3)
    # 12 months (moved in by 2025-06-30): H1 housed, H2 left before its anniversary.
    twelve = retention(session, H1_2026, 12)
    assert (twelve.key, twelve.value, twelve.numerator, twelve.denominator) == ("retention_12m", 0.5, 1, 2)


def test_retention_counts_an_exit_to_a_permanent_destination(session, seeded) -> None:
    # At period end 2026-12-31, the 6-month cohort adds H3 (subentro on 2026-05-31, before its anniversary
    # 2026-08-09: retained) and H4 (housed): H1, H3, H4, H5 (left to an institution on 03-31, after its
    # 2026-01-01 anniversary) are retained, H2 is not.
    later = retention(session, Period(date(2026, 7, 1), date(2026, 12, 31)), 6)
    assert (later.numerator, later.denominator) == (4, 5)


def test_exits(session, seeded) -> None:
    # Exits in the period: H3 (subentro), H5 (204 institutional), H6 (30 no exit interview).
    autonomy = exits_to_autonomy(session, H1_2026)
    assert (autonomy.value, autonomy.numerator, autonomy.denominator) == (0.3333, 1, 3)
    assert autonomy.details == {"subentro": 1}
    street = exits_to_homelessness(session, H1_2026)
    assert (street.value, street.numerator, street.denominator) == (0.3333, 1, 3)
    assert street.details == {"homeless": 0, "institutional": 1, "unknown_destination": 1, "unknown_share": 0.3333}


def test_rent_paid_late(session, seeded) -> None:
    # Due in the period: Jan (on time), Feb (24 days late), Mar (15 days), Apr (unpaid, 86 days at 06-30).
    rent = rent_paid_late(session, H1_2026)
    assert (rent.value, rent.numerator, rent.denominator) == (0.25, 1, 4)
    assert rent.details == {"late_over_20_days": 2}


def test_rent_paid_late_ignores_payments_after_the_period(session, seeded) -> None:
    # Up to 03-10, the 03-20 payment has not happened: Mar is not settled, and only 5 days overdue.
    rent = rent_paid_late(session, Period(date(2026, 1, 1), date(2026, 3, 10)))
    assert (rent.numerator, rent.denominator, rent.details["late_over_20_days"]) == (1, 3, 1)


def test_contribution_arrears(session, seeded) -> None:
    # H1 owes May and June (2 x 150); H4 owes April to June (3 x 100); 450 + 300 billed.
    arrears = contribution_arrears(session, H1_2026)
    assert (arrears.value, arrears.unit) == (60000, "cents")
    assert arrears.details == {"billed_cents": 75000, "share_of_billed": 0.8, "households_over_1_month": 2,
                               "households_over_2_months": 1, "repayment_plans": 1}


def test_mediation(session, seeded) -> None:
    # 3 cases opened in the period over 4 placements active in it (H1, H3, H4, H5): 7.5 per 10.
    cases = mediation(session, H1_2026)
    assert cases.value == 7.5
    assert cases.details == {
        "cases_opened": 3, "placements": 4, "from_landlord": 2, "from_neighbour": 1, "cases_closed": 3,
        "resolved": 2, "resolution_rate": 0.6667, "median_days_to_resolution": 25, "escalations": 0,
        "relocations": 1, "safety_referrals": 1}


def test_visits_on_schedule(session, seeded) -> None:
    visits = visits_on_schedule(session, H1_2026)
    assert (visits.value, visits.numerator, visits.denominator) == (0.6, 3, 5)


def test_plans_signed_in_time(session, seeded) -> None:
    plans = plans_signed_in_time(session, H1_2026)
    assert (plans.value, plans.numerator, plans.denominator) == (0.3333, 1, 3)


def test_organisation_scope(session, seeded, orgs) -> None:
    lead = Period(PERIOD_START, PERIOD_END, organisation_id=orgs["capofila"].id)
    # H5 (managed by the partner) drops out.
    assert (retention(session, lead, 6).numerator, retention(session, lead, 6).denominator) == (1, 2)
    assert (exits_to_autonomy(session, lead).numerator, exits_to_autonomy(session, lead).denominator) == (1, 2)
    assert mediation(session, lead).value == 10.0
    assert mediation(session, lead).details["safety_referrals"] == 0
    # Rent is scoped by the lease's tenant: the lead partner holds no lease.
    assert rent_paid_late(session, lead).denominator == 0
    holder = Period(PERIOD_START, PERIOD_END, organisation_id=orgs["locatario"].id)
    assert rent_paid_late(session, holder).denominator == 4
    assert households_housed(session, holder).value == 0


def test_period_without_exits(session, seeded) -> None:
    quiet = Period(date(2026, 4, 1), date(2026, 5, 30))
    for indicator in (exits_to_autonomy(session, quiet), exits_to_homelessness(session, quiet)):
        assert (indicator.value, indicator.numerator, indicator.denominator) == (None, 0, 0)


def test_empty_data_set(session) -> None:
    results = {item.key: item for item in compute_indicators(session, H1_2026)}
    assert len(results) == 12
    assert results["households_housed"].details == {"stock": 0, "flow": 0}
    assert results["contribution_arrears"].value == 0
    assert results["contribution_arrears"].details["share_of_billed"] is None
    assert results["mediation"].value is None
    for key in ("time_to_enrollment", "time_to_housing", "retention_6m", "retention_12m", "exits_to_autonomy",
                "exits_to_homelessness", "rent_paid_late", "visits_on_schedule", "plans_signed_in_time"):
        assert results[key].value is None, key


def test_compute_indicators_is_json_ready(session, seeded) -> None:
    rows = [item.as_dict() for item in compute_indicators(session, H1_2026)]
    assert [row["key"] for row in rows][:3] == ["households_housed", "time_to_enrollment", "time_to_housing"]
    assert all(row["label"] and row["definition"] for row in rows)


def test_period_must_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Period(date(2026, 2, 1), date(2026, 1, 31))


@pytest.mark.parametrize(("start", "deadline"), [
    (date(2026, 1, 10), date(2026, 2, 6)),   # a Saturday start
    (date(2026, 3, 11), date(2026, 4, 8)),
    (date(2026, 1, 5), date(2026, 2, 2)),    # a Monday start: 4 weeks later
])
def test_add_working_days(start, deadline) -> None:
    assert add_working_days(start, 20) == deadline


def test_median_days() -> None:
    assert (median_days([]), median_days([3]), median_days([1, 4]), median_days([10, 1, 5])) == (None, 3, 2.5, 5)
