"""Which partner's staff get each role's tasks: programme defaults, then the case team and the lease."""

from __future__ import annotations

from sqlalchemy.orm import Session

from casefile import accounts
from casefile.models import LeaseContract
from casefile.partnership import task_organisations
from tests.casefile.test_housing import housed

DEFAULTS = {
    "assistente_sociale": "comune", "coordinatore": "capofila", "equipe": "capofila", "case_manager": "capofila",
    "referente_abitativo": "locatario", "amministrazione": "locatario", "mediatore": "partner",
    "operatore_lavoro": "partner",
}


def test_defaults_follow_the_programme_roles(session: Session, orgs) -> None:
    assert task_organisations(session) == DEFAULTS


def test_a_role_nobody_plays_is_left_to_the_instance(session: Session, orgs) -> None:
    orgs["partner"].programme_roles = ["partner"]
    session.flush()
    chosen = task_organisations(session)
    assert "mediatore" not in chosen
    assert "operatore_lavoro" not in chosen


def test_the_case_team_names_the_partner_of_each_member(session: Session, run, orgs, users, household) -> None:
    ids = housed(session, run, household["household_id"])
    other_cm = accounts.create_user(session, "cm_altro", organisation=orgs["altro"], roles=["case_manager"],
                                    password_hash=None)
    run("assign_case_team_member", {"enrollment_id": ids["enrollment_id"], "username": other_cm.username,
                                    "role": "case_manager", "since": "2026-02-01"})
    chosen = task_organisations(session, household["household_id"])
    assert chosen == {**DEFAULTS, "case_manager": "altro"}


def test_the_lease_of_the_current_flat_names_the_lease_holder(session: Session, run, orgs, household) -> None:
    ids = housed(session, run, household["household_id"])
    orgs["altro"].programme_roles = ["partner", "lease_holder"]
    session.get(LeaseContract, ids["lease_id"]).tenant_org_id = orgs["altro"].id
    session.flush()
    chosen = task_organisations(session, household["household_id"])
    assert (chosen["referente_abitativo"], chosen["amministrazione"]) == ("altro", "altro")
    assert task_organisations(session)["referente_abitativo"] == "locatario"  # the first lease holder


def test_a_household_without_enrollment_gets_the_defaults(session: Session, orgs, household) -> None:
    assert task_organisations(session, household["household_id"]) == DEFAULTS
