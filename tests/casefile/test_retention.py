"""Retention: closed households are pseudonymised, every row and indicator kept."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casefile.models import (
    Assessment,
    CaseEvent,
    CaseIncident,
    Consent,
    ContributionCharge,
    ContributionPayment,
    DataAccessEvent,
    Enrollment,
    ExitRecord,
    FollowUp,
    Household,
    HouseholdMembership,
    HousingUnit,
    Landlord,
    LeaseContract,
    MediationAgreement,
    MediationCase,
    MediationSession,
    MonitoringVisit,
    OccupancyAgreement,
    Organisation,
    Person,
    PersonalisedPlan,
    PersonSensitive,
    Placement,
    PlanAction,
    PlanGoal,
    PlanReview,
    PrivacyNotice,
    Referral,
    RentCharge,
    RentPayment,
    RepaymentPlan,
    SupportActivity,
)
from casefile.retention import eligible_households, pseudonymise_closed_households

NOW = datetime(2028, 6, 1, 12, 0, tzinfo=UTC)
DAYS = 730
LONG_AGO = datetime(2026, 3, 1, tzinfo=UTC)  # more than 730 days before NOW
RECENTLY = datetime(2027, 1, 1, tzinfo=UTC)


def _add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def build_case(session: Session, org: Organisation, number: int, *, status: str = "chiuso",
               closed_at: datetime | None = LONG_AGO, destination: str = "410") -> int:
    """A household with a full case file (every table retention touches); returns its id."""
    household = _add(session, Household(reference=f"NUC-2026-{number:04d}", display_name=f"Famiglia Bianchi {number}",
                                         organisation_id=org.id))
    adult = _add(session, Person(first_name="Giulia", last_name=f"Bianchi{number}",
                                 codice_fiscale=f"BNCGLI80A41L21{number % 10}X", birth_date=date(1980, 5, 17),
                                 sex="F", citizenship="MA", residence_status="residente", permit_type="lavoro",
                                 permit_expiry=date(2027, 1, 1), language="arabo"))
    child = _add(session, Person(first_name="Omar", last_name=f"Bianchi{number}", birth_date=date(2015, 9, 3),
                                 sex="M", citizenship="IT"))
    for person, relationship in ((adult, 1), (child, 2)):
        session.add(HouseholdMembership(household_id=household.id, person_id=person.id,
                                        relationship_to_hoh=relationship, is_hoh=relationship == 1,
                                        valid_from=date(2025, 1, 1)))
    session.add(PersonSensitive(person_id=adult.id, disability=True, chronic_condition="diabete",
                                dv_survivor=True, notes="segue terapia al CSM"))
    session.add(PrivacyNotice(person_id=adult.id, household_id=household.id, given_at=LONG_AGO, language="arabo",
                              document_ref="scan/giulia-bianchi.pdf"))
    session.add(Consent(person_id=adult.id, purpose="foto", given_at=LONG_AGO, document_ref="consenso-giulia.pdf"))
    referral = _add(session, Referral(household_id=household.id, referral_date=date(2025, 1, 5),
                                      source="sad", referring_org="Comune", referring_worker="dott.ssa Verdi",
                                      urgency="altro", housing_need_type="emergenza_abitativa", result="accettato",
                                      result_reason="Giulia ha accettato"))
    enrollment = _add(session, Enrollment(household_id=household.id, referral_id=referral.id,
                                          project_start_date=date(2025, 2, 1), move_in_date=date(2025, 3, 1),
                                          exit_date=date(2026, 2, 20), status=status, closed_at=closed_at))
    session.add(Assessment(enrollment_id=enrollment.id, kind="preliminare", assessment_date=date(2025, 1, 20),
                           strengths="Giulia lavora", risks="ex marito violento"))
    plan = _add(session, PersonalisedPlan(enrollment_id=enrollment.id, version=1, status="firmato",
                                          drafted_on=date(2025, 1, 25), summary="Giulia e Omar, casa e lavoro"))
    goal = _add(session, PlanGoal(plan_id=plan.id, domain="lavoro", description="Giulia trova lavoro da Rossi",
                                  indicator="contratto firmato", status="raggiunto"))
    session.add(PlanAction(goal_id=goal.id, kind="impegno", description="Giulia va al CPI"))
    session.add(PlanReview(plan_id=plan.id, review_date=date(2025, 6, 1), notes="Omar a scuola"))
    landlord = _add(session, Landlord(name="Sig. Neri", kind="persona", managed_by_org_id=org.id))
    unit = _add(session, HousingUnit(address=f"Via Po {number}", rooms=3, source="locare", landlord_id=landlord.id))
    lease = _add(session, LeaseContract(unit_id=unit.id, landlord_id=landlord.id, tenant_org_id=org.id,
                                        lease_type="3+2", signed_on=date(2025, 2, 15), start_date=date(2025, 3, 1),
                                        first_expiry=date(2028, 2, 28), monthly_rent_cents=60000, rent_due_day=5))
    placement = _add(session, Placement(enrollment_id=enrollment.id, unit_id=unit.id, lease_id=lease.id,
                                        start_date=date(2025, 3, 1), move_in_date=date(2025, 3, 1),
                                        end_date=date(2026, 2, 20)))
    agreement = _add(session, OccupancyAgreement(placement_id=placement.id, kind="sublocazione",
                                                 signed_on=date(2025, 3, 1), start_date=date(2025, 3, 1),
                                                 monthly_contribution_cents=10000))
    session.add_all([
        RentCharge(lease_id=lease.id, period=date(2025, 3, 1), due_date=date(2025, 3, 5), amount_cents=60000),
        RentPayment(lease_id=lease.id, paid_on=date(2025, 3, 4), amount_cents=60000),
        ContributionCharge(agreement_id=agreement.id, period=date(2025, 3, 1), due_date=date(2025, 3, 5),
                           amount_cents=10000),
        ContributionPayment(agreement_id=agreement.id, paid_on=date(2025, 3, 10), amount_cents=7500),
        RepaymentPlan(agreement_id=agreement.id, agreed_on=date(2025, 5, 1), cause="incolpevole_perdita_lavoro",
                      total_cents=2500, instalment_cents=500, first_due=date(2025, 6, 1),
                      notes="Giulia ha perso il lavoro"),
        MonitoringVisit(enrollment_id=enrollment.id, placement_id=placement.id, visit_date=date(2025, 3, 8),
                        mode="domiciliare", risk_level="medio", housing_condition="buono",
                        wellbeing_notes="Giulia è stanca", issues="Omar non dorme"),
        SupportActivity(enrollment_id=enrollment.id, activity_date=date(2025, 3, 9), kind="utenze",
                        duration_min=60, notes="con Giulia in posta"),
        CaseIncident(enrollment_id=enrollment.id, occurred_on=date(2025, 4, 1), kind="ricovero", severity="alto",
                     description="Giulia ricoverata"),
    ])
    exit_record = _add(session, ExitRecord(
        enrollment_id=enrollment.id, exit_type="programmata", decision_date=date(2026, 2, 1),
        exit_date=date(2026, 2, 20), reason="obiettivi_raggiunti", project_completion="completato",
        destination=destination, lease_disposition="disdetta", handover_notes="Giulia seguita dal SerD"))
    session.add(FollowUp(exit_id=exit_record.id, due_date=date(2026, 5, 20), done_date=date(2026, 5, 21),
                         reached=True, still_housed=True, notes="Giulia sta bene in via Garibaldi"))
    mediation = _add(session, MediationCase(enrollment_id=enrollment.id, placement_id=placement.id,
                                            opened_on=date(2025, 4, 2), reported_by="vicino",
                                            conflict_type="rumori", severity="basso", status="chiuso",
                                            outcome="risolto_con_accordo", closed_on=date(2025, 5, 2)))
    session.add(MediationSession(case_id=mediation.id, kind="individuale", session_date=date(2025, 4, 5),
                                 party_role="vicino", summary="il vicino Sig. Gialli si lamenta di Omar"))
    session.add(MediationAgreement(case_id=mediation.id, signed_on=date(2025, 4, 20),
                                   actions=[{"who": "Giulia", "what": "silenzio dopo le 22", "by_date": "2025-05-01"}],
                                   signed_by_roles=["nucleo", "vicino"], followup_due=date(2025, 5, 20)))
    session.add(CaseEvent(household_id=household.id, enrollment_id=enrollment.id, occurred_on=date(2025, 3, 8),
                          operation="record_visit", record_type="visit", summary="Visita a Giulia Bianchi"))
    session.flush()
    return household.id


@pytest.fixture
def make_case(session: Session, orgs: dict[str, Organisation]) -> Callable[..., int]:
    numbers = iter(range(1, 100))

    def make(**kwargs: Any) -> int:
        return build_case(session, orgs["capofila"], next(numbers), **kwargs)

    return make


def _run(session: Session, **kwargs: Any) -> Any:
    return pseudonymise_closed_households(session, now=NOW, older_than_days=DAYS, actor="retention-test", **kwargs)


def _members(session: Session, household_id: int) -> list[Person]:
    return list(session.scalars(select(Person).join(HouseholdMembership).where(
        HouseholdMembership.household_id == household_id).order_by(Person.id)))


def _access_events(session: Session) -> list[DataAccessEvent]:
    return list(session.scalars(select(DataAccessEvent).order_by(DataAccessEvent.id)))


# --- eligibility ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("build", "eligible"), [
    ({}, True),
    ({"status": "inserito", "closed_at": None}, False),
    ({"status": "in_uscita", "closed_at": LONG_AGO}, False),
    ({"closed_at": RECENTLY}, False),
    ({"closed_at": None}, False),  # closed, but when is unknown: cannot be proven old enough
])
def test_eligibility_of_one_enrollment(session: Session, make_case: Callable[..., int], build: dict[str, Any],
                                       eligible: bool) -> None:
    household_id = make_case(**build)
    report = _run(session)
    assert report.household_ids == ([household_id] if eligible else [])
    assert (session.get(Household, household_id).pseudonymised_at is not None) is eligible
    assert (_members(session, household_id)[0].first_name == "Persona") is eligible


def test_cutoff_is_exactly_older_than_days(session: Session, make_case: Callable[..., int]) -> None:
    household_id = make_case(closed_at=datetime(2026, 6, 2, 12, 0, tzinfo=UTC))  # NOW - 730 days exactly
    assert eligible_households(session, datetime(2026, 6, 2, 12, 0, tzinfo=UTC)) == []
    assert eligible_households(session, datetime(2026, 6, 2, 12, 0, 1, tzinfo=UTC)) == [household_id]


def test_every_enrollment_must_be_closed_long_ago(session: Session, make_case: Callable[..., int]) -> None:
    household_id = make_case()
    session.add(Enrollment(household_id=household_id, project_start_date=date(2027, 1, 1), status="inserito"))
    session.flush()
    assert _run(session).household_ids == []


def test_household_without_enrollment_or_already_pseudonymised_is_skipped(
        session: Session, make_case: Callable[..., int], orgs: dict[str, Organisation]) -> None:
    done = make_case()
    session.get(Household, done).pseudonymised_at = datetime(2028, 1, 1, tzinfo=UTC)
    never_enrolled = _add(session, Household(reference="NUC-2026-0999", display_name="Famiglia Senza",
                                             organisation_id=orgs["capofila"].id)).id
    report = _run(session)
    assert report.household_ids == []
    assert session.get(Household, never_enrolled).display_name == "Famiglia Senza"
    assert session.get(Household, done).display_name.startswith("Famiglia Bianchi")


# --- what is removed -----------------------------------------------------------------------------------------


def test_identifying_data_is_gone(session: Session, make_case: Callable[..., int]) -> None:
    household_id = make_case()
    kept = make_case(status="inserito", closed_at=None)
    report = _run(session)
    assert report.household_ids == [household_id]
    assert (report.persons, report.sensitive_deleted, report.events_rewritten) == (2, 1, 1)
    household = session.get(Household, household_id)
    assert household.display_name == household.reference == "NUC-2026-0001"
    assert household.pseudonymised_at == NOW
    adult, child = _members(session, household_id)
    for person in (adult, child):
        expected = hashlib.sha256(f"NUC-2026-0001:{person.id}".encode()).hexdigest()[:8]
        assert (person.first_name, person.last_name) == ("Persona", expected)
        assert (person.codice_fiscale, person.permit_type, person.permit_expiry, person.language) == (None,) * 4
    assert adult.last_name != child.last_name
    # Age bands, sex and citizenship survive for the indicators.
    assert (adult.birth_date, adult.sex, adult.citizenship) == (date(1980, 1, 1), "F", "MA")
    assert (child.birth_date, child.sex, child.citizenship) == (date(2015, 1, 1), "M", "IT")
    assert session.scalars(select(PersonSensitive).where(PersonSensitive.person_id == adult.id)).all() == []

    texts = [
        *session.scalars(select(MonitoringVisit.wellbeing_notes)), *session.scalars(select(MonitoringVisit.issues)),
        *session.scalars(select(SupportActivity.notes)), *session.scalars(select(CaseIncident.description)),
        *session.scalars(select(MediationSession.summary)), *session.scalars(select(Assessment.strengths)),
        *session.scalars(select(Assessment.risks)), *session.scalars(select(ExitRecord.handover_notes)),
        *session.scalars(select(FollowUp.notes)), *session.scalars(select(PersonalisedPlan.summary)),
        *session.scalars(select(PlanReview.notes)), *session.scalars(select(PlanGoal.description)),
        *session.scalars(select(PlanGoal.indicator)), *session.scalars(select(PlanAction.description)),
        *session.scalars(select(RepaymentPlan.notes)), *session.scalars(select(Referral.referring_worker)),
        *session.scalars(select(Referral.result_reason)), *session.scalars(select(Consent.document_ref)),
        *session.scalars(select(PrivacyNotice.document_ref)),
    ]
    # Only the household still open keeps its text: one value per field, the pseudonymised one's are empty.
    assert len([t for t in texts if t]) == len(texts) // 2
    assert not any("Giulia" in (t or "") and "0001" in (t or "") for t in texts)
    enrollment_ids = select(Enrollment.id).where(Enrollment.household_id == household_id)
    visit = session.scalars(select(MonitoringVisit).where(MonitoringVisit.enrollment_id.in_(enrollment_ids))).one()
    assert (visit.wellbeing_notes, visit.issues, visit.risk_level) == (None, None, "medio")
    agreement = session.scalars(select(MediationAgreement).join(MediationCase).where(
        MediationCase.enrollment_id.in_(enrollment_ids))).one()
    assert agreement.actions == [{"who": None, "what": None, "by_date": "2025-05-01"}]
    event = session.scalars(select(CaseEvent).where(CaseEvent.household_id == household_id)).one()
    assert event.summary == event.operation == "record_visit"

    # The open household is untouched.
    assert session.get(Household, kept).display_name == "Famiglia Bianchi 2"
    assert _members(session, kept)[0].first_name == "Giulia"
    assert session.scalars(select(CaseEvent.summary).where(CaseEvent.household_id == kept)).one() == (
        "Visita a Giulia Bianchi")


def test_one_access_event_per_household(session: Session, make_case: Callable[..., int]) -> None:
    first, second = make_case(), make_case()
    _run(session)
    rows = [(e.action, e.record_type, e.record_id, e.household_id, e.data_class, e.purpose, e.actor, e.at)
            for e in _access_events(session)]
    assert rows == [("pseudonymise", "household", h, h, "categoria_particolare",
                     "retention: closed more than 730 days", "retention-test", NOW) for h in (first, second)]


def test_a_person_also_in_a_kept_household_keeps_their_identity(session: Session,
                                                                 make_case: Callable[..., int]) -> None:
    closed = make_case()
    still_open = make_case(status="inserito", closed_at=None)
    adult = _members(session, closed)[0]
    session.add(HouseholdMembership(household_id=still_open, person_id=adult.id, relationship_to_hoh=4,
                                    valid_from=date(2026, 3, 1)))
    session.flush()
    report = _run(session)
    assert (report.household_ids, report.persons, report.persons_kept) == ([closed], 1, 1)
    assert (adult.first_name, adult.codice_fiscale) == ("Giulia", "BNCGLI80A41L211X")
    assert adult.sensitive is not None
    assert session.get(Household, closed).display_name == "NUC-2026-0001"


# --- what is kept --------------------------------------------------------------------------------------------

AGGREGATES = {
    "households": select(func.count(Household.id)),
    "enrollments": select(Enrollment.status, func.count()).group_by(Enrollment.status).order_by(Enrollment.status),
    "exits": select(ExitRecord.destination, func.count()).group_by(ExitRecord.destination)
    .order_by(ExitRecord.destination),
    "visits": select(MonitoringVisit.risk_level, func.count()).group_by(MonitoringVisit.risk_level)
    .order_by(MonitoringVisit.risk_level),
    "rent": select(func.count(RentCharge.id), func.sum(RentCharge.amount_cents)),
    "rent_paid": select(func.count(RentPayment.id), func.sum(RentPayment.amount_cents)),
    "contributions": select(func.count(ContributionCharge.id), func.sum(ContributionCharge.amount_cents)),
    "contributions_paid": select(func.count(ContributionPayment.id), func.sum(ContributionPayment.amount_cents)),
    "persons": select(Person.sex, Person.citizenship, func.count()).group_by(Person.sex, Person.citizenship)
    .order_by(Person.sex, Person.citizenship),
    "memberships": select(HouseholdMembership.relationship_to_hoh, func.count())
    .group_by(HouseholdMembership.relationship_to_hoh).order_by(HouseholdMembership.relationship_to_hoh),
    "mediation": select(MediationCase.conflict_type, MediationCase.outcome, func.count())
    .group_by(MediationCase.conflict_type, MediationCase.outcome).order_by(MediationCase.conflict_type),
    "dates": select(func.min(Enrollment.project_start_date), func.max(Enrollment.exit_date),
                    func.min(Placement.move_in_date)).select_from(Enrollment).join(Placement),
}


def _aggregates(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    return {name: [tuple(row) for row in session.execute(query)] for name, query in AGGREGATES.items()}


def test_counts_and_aggregates_are_identical_after(session: Session, make_case: Callable[..., int]) -> None:
    make_case(destination="410")
    make_case(destination="116")
    make_case(status="inserito", closed_at=None, destination="410")
    before = _aggregates(session)
    assert _run(session).households == 2
    session.expire_all()
    assert _aggregates(session) == before
    years = sorted(p.birth_date.year for p in session.scalars(select(Person)))
    assert years == [1980, 1980, 1980, 2015, 2015, 2015]


# --- repeat runs and dry runs --------------------------------------------------------------------------------


def test_second_run_changes_nothing(session: Session, make_case: Callable[..., int]) -> None:
    household_id = make_case()
    assert _run(session).household_ids == [household_id]
    names = [(p.first_name, p.last_name) for p in _members(session, household_id)]
    again = _run(session)
    assert (again.household_ids, again.persons, again.texts_blanked, again.events_rewritten) == ([], 0, 0, 0)
    assert len(_access_events(session)) == 1
    assert [(p.first_name, p.last_name) for p in _members(session, household_id)] == names


def test_dry_run_reports_and_changes_nothing(session: Session, make_case: Callable[..., int]) -> None:
    household_id = make_case()
    make_case(closed_at=RECENTLY)
    dry = _run(session, dry_run=True)
    assert dry.dry_run
    assert (dry.household_ids, dry.persons, dry.sensitive_deleted, dry.events_rewritten) == (
        [household_id], 2, 1, 1)
    assert dry.texts_blanked > 0
    session.flush()
    session.expire_all()
    household = session.get(Household, household_id)
    assert (household.display_name, household.pseudonymised_at) == ("Famiglia Bianchi 1", None)
    assert [p.first_name for p in _members(session, household_id)] == ["Giulia", "Omar"]
    assert session.scalar(select(func.count(PersonSensitive.id))) == 2
    assert session.scalar(select(func.count()).where(MonitoringVisit.wellbeing_notes.is_not(None))) == 2
    assert _access_events(session) == []
    real = _run(session)
    assert real.as_dict() == {**dry.as_dict(), "dry_run": False}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"now": datetime(2028, 6, 1), "older_than_days": DAYS}, "timezone"),
    ({"now": NOW, "older_than_days": -1}, "negative"),
])
def test_bad_arguments_are_refused(session: Session, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pseudonymise_closed_households(session, actor="x", **kwargs)
