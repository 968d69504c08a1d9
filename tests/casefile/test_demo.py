"""The demo programme that `make run` seeds: households at every stage, written through the operations."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from casefile.arrears import contribution_arrears
from casefile.demo import seed_programme
from casefile.models import (
    CaseEvent,
    Enrollment,
    ExitRecord,
    Household,
    LeaseContract,
    MediationCase,
    OccupancyAgreement,
    Referral,
)

TODAY = date(2026, 11, 30)


def test_demo_programme_has_households_at_every_stage_and_seeds_once(session, users) -> None:
    assert seed_programme(session, TODAY) == 6
    assert seed_programme(session, TODAY) == 0
    assert session.scalar(select(func.count()).select_from(Household)) == 6

    results = sorted(r or "in attesa" for r in session.scalars(select(Referral.result)))
    assert results == ["accettato", "accettato", "accettato", "accettato", "in attesa", "non_idoneo"]
    statuses = sorted(session.scalars(select(Enrollment.status)))
    assert statuses == ["chiuso", "in_attesa_alloggio", "inserito", "inserito"]
    exit_record = session.scalars(select(ExitRecord)).one()
    assert (exit_record.destination, exit_record.lease_disposition) == ("subentro", "subentro")
    assert session.scalar(select(func.count()).select_from(MediationCase)) == 1
    assert all(lease.tenant_org_id == users["referente_abitativo"].organisation_id
               for lease in session.scalars(select(LeaseContract)))

    arrears = [contribution_arrears(session, a.id, TODAY) for a in session.scalars(
        select(OccupancyAgreement).order_by(OccupancyAgreement.id))]
    assert [a.amount_cents for a in arrears] == [24000, 0, 0]
    # Every household has a story to tell.
    assert session.scalar(select(func.count(func.distinct(CaseEvent.household_id)))) == 6
