"""The access policy, exhaustively: every role × area × data class × action, then scope, then the access log.

The expected tables below are written out by hand from the policy's intent (domain.md §6: a housing officer
sees the unit, lease and composition but no health data or case notes; administration sees money only;
supervisors see aggregates only). They are deliberately NOT derived from ``access.GRANTS``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from casefile import access
from casefile.access import CaseScope, Viewer
from casefile.errors import AccessDeniedError, InvalidInputError, NotFoundError
from casefile.models import (
    CaseTeamMember,
    DataAccessEvent,
    Enrollment,
    Household,
    HousingUnit,
    Landlord,
    LeaseContract,
    Organisation,
    Placement,
    User,
)
from casefile.roles import ROLES
from tests.casefile.conftest import MARIO

ORD, RES, SPC = "ordinario", "riservato", "categoria_particolare"

# Every record type, its area and data class. A new record type fails this test until it is placed here.
EXPECTED_RECORD_TYPES = {
    "household": ("composition", ORD), "person": ("composition", ORD), "membership": ("composition", ORD),
    "person_sensitive": ("health", SPC),
    "privacy_notice": ("case", ORD), "consent": ("case", ORD), "referral": ("case", ORD),
    "enrollment": ("case", ORD), "case_team": ("case", ORD), "assessment": ("case", RES), "plan": ("case", RES),
    "plan_review": ("case", RES), "visit": ("case", RES), "support_activity": ("case", ORD),
    "incident": ("case", RES), "exit": ("case", RES), "follow_up": ("case", RES), "timeline": ("case", ORD),
    "landlord": ("housing", RES), "housing_unit": ("housing", ORD), "lease": ("housing", ORD),
    "placement": ("housing", ORD), "occupancy_agreement": ("housing", ORD),
    "rent": ("money", ORD), "contribution": ("money", ORD), "repayment_plan": ("money", RES),
    "work_activity": ("work", ORD),
    "mediation_case": ("mediation", ORD), "mediation_session": ("mediation", RES),
    "mediation_agreement": ("mediation", ORD),
    "indicators": ("aggregates", ORD),
}

# One representative record type per (area, class) pair that exists.
COLUMNS = ("household", "person_sensitive", "enrollment", "assessment", "lease", "landlord", "rent",
           "repayment_plan", "work_activity", "mediation_case", "mediation_session", "indicators")
# composition/ORD  health/SPC  case/ORD  case/RES  housing/ORD  housing/RES  money/ORD  money/RES  work/ORD
# mediation/ORD  mediation/RES  aggregates/ORD.  "rw" read and write, "r" read only, "-" nothing.
MATRIX = {
    #                     hh    sens  enr   asmt  lease lndlr rent  repay work  medc  meds  ind
    "assistente_sociale": ("rw", "rw", "rw", "rw", "r", "-", "r", "-", "r", "r", "r", "-"),
    "coordinatore": ("rw", "-", "rw", "rw", "rw", "rw", "rw", "r", "r", "rw", "rw", "r"),
    "case_manager": ("rw", "rw", "rw", "rw", "rw", "-", "r", "-", "rw", "rw", "r", "-"),
    "referente_abitativo": ("r", "-", "-", "-", "rw", "rw", "-", "-", "-", "r", "-", "-"),
    "amministrazione": ("-", "-", "-", "-", "-", "-", "rw", "rw", "-", "-", "-", "-"),
    "mediatore": ("r", "-", "-", "-", "-", "-", "-", "-", "-", "rw", "rw", "-"),
    "operatore_lavoro": ("r", "-", "-", "-", "-", "-", "-", "-", "rw", "-", "-", "-"),
    "equipe": ("r", "r", "rw", "rw", "r", "-", "r", "-", "r", "r", "-", "-"),
    "supervisore": ("-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "r"),
    "analista": ("-",) * 12,
    "admin": ("-",) * 12,
}
CELLS = [(role, record_type, action, action[0] in MATRIX[role][column])
         for role in MATRIX for column, record_type in enumerate(COLUMNS) for action in ("read", "write")]


def test_record_types_are_all_classified() -> None:
    assert access.RECORD_TYPES == EXPECTED_RECORD_TYPES
    for record_type, (area, klass) in access.RECORD_TYPES.items():
        assert area in access.AREAS, record_type
        assert klass in access.DATA_CLASSES, record_type


def test_matrix_covers_every_role_and_area_class_pair() -> None:
    assert set(MATRIX) == set(ROLES)
    assert {access.RECORD_TYPES[t] for t in COLUMNS} == set(access.RECORD_TYPES.values())
    assert {access.RECORD_TYPES[t][0] for t in COLUMNS} == set(access.AREAS)


@pytest.mark.parametrize(("role", "record_type", "action", "allowed"), CELLS)
def test_role_level_matrix(role: str, record_type: str, action: str, allowed: bool) -> None:
    decision = access.decide(Viewer("someone", frozenset({role}), "capofila"), action, record_type)
    assert decision.allowed is allowed
    assert decision.data_class == access.RECORD_TYPES[record_type][1]
    assert decision.roles == ((role,) if allowed else ())
    if not allowed:
        assert decision.reason


def test_no_role_means_nothing() -> None:
    nobody = Viewer("nobody", frozenset(), "capofila")
    assert not any(access.decide(nobody, action, t) for t in access.RECORD_TYPES for action in access.ACTIONS)


@pytest.mark.parametrize(("action", "record_type"), [("delete", "household"), ("read", "nonsense")])
def test_unknown_action_or_record_type_is_a_programming_error(action: str, record_type: str) -> None:
    with pytest.raises(ValueError, match="unknown"):
        access.decide(Viewer("x", frozenset({"coordinatore"}), "capofila"), action, record_type)


# --- scope: organisation, lease holder, case team ------------------------------------------------------------


def _viewer(role: str, org: str, username: str | None = None) -> Viewer:
    return Viewer(username or role, frozenset({role}), org)


OWN = CaseScope(1, "capofila")
OTHERS = CaseScope(2, "altro")


@pytest.mark.parametrize(("role", "org", "record_type"), [
    ("case_manager", "capofila", "assessment"),
    ("equipe", "capofila", "enrollment"),
    ("mediatore", "capofila", "mediation_session"),
    ("operatore_lavoro", "capofila", "work_activity"),
    ("amministrazione", "capofila", "repayment_plan"),
    ("referente_abitativo", "capofila", "landlord"),
])
def test_organisation_roles_reach_only_their_organisations_households(role: str, org: str,
                                                                      record_type: str) -> None:
    viewer = _viewer(role, org)
    assert access.decide(viewer, "read", record_type, OWN)
    refused = access.decide(viewer, "read", record_type, OTHERS)
    assert not refused
    assert "outside your organisation" in refused.reason


def test_lease_holders_housing_officer_reaches_households_in_its_flats() -> None:
    officer = _viewer("referente_abitativo", "locatario")
    placed = CaseScope(3, "capofila", lease_holder_orgs=frozenset({"locatario"}))
    not_placed = CaseScope(4, "capofila")
    for record_type in ("household", "lease", "landlord", "placement"):
        assert access.decide(officer, "read", record_type, placed), record_type
        assert not access.decide(officer, "read", record_type, not_placed), record_type
    # Reach never widens the role: still no case notes or health data in its flats.
    assert not access.decide(officer, "read", "visit", placed)
    assert not access.decide(officer, "read", "person_sensitive", placed)


def test_lease_holder_reach_does_not_open_case_notes_to_its_case_managers() -> None:
    # A case manager of the lease-holding partner, not on the team of a household managed by another
    # partner but placed in one of its flats, should not read that household's assessments (domain.md §6:
    # partner users see households assigned to their organisation or whose case team they are on).
    manager = _viewer("case_manager", "locatario")
    placed = CaseScope(3, "capofila", lease_holder_orgs=frozenset({"locatario"}))
    assert not access.decide(manager, "read", "assessment", placed)


def test_social_worker_reaches_only_households_whose_team_it_is_on() -> None:
    worker = _viewer("assistente_sociale", "comune", "as1")
    # Even a household managed by the worker's own organisation is out of reach without the team.
    assert not access.decide(worker, "read", "enrollment", CaseScope(5, "comune"))
    assert not access.decide(worker, "read", "enrollment", CaseScope(5, "capofila", team=frozenset({"as2"})))
    on_team = CaseScope(5, "capofila", team=frozenset({"as1"}))
    for record_type in ("enrollment", "assessment", "person_sensitive"):
        assert access.decide(worker, "read", record_type, on_team), record_type


def test_coordinator_reaches_every_household_but_not_health_data() -> None:
    coordinator = _viewer("coordinatore", "capofila")
    far = CaseScope(6, "altro", lease_holder_orgs=frozenset({"partner"}), lead_partners=frozenset({"capofila"}))
    for record_type in ("enrollment", "assessment", "landlord", "mediation_session"):
        assert access.decide(coordinator, "write", record_type, far), record_type
    assert not access.decide(coordinator, "read", "person_sensitive", far)


def test_a_coordinator_outside_the_lead_partner_reaches_only_its_own_case_load() -> None:
    coordinator = _viewer("coordinatore", "altro")
    theirs = CaseScope(6, "altro", lead_partners=frozenset({"capofila"}))
    lead_partners = CaseScope(7, "capofila", lead_partners=frozenset({"capofila"}))
    assert access.decide(coordinator, "read", "enrollment", theirs)
    refused = access.decide(coordinator, "read", "enrollment", lead_partners)
    assert not refused
    assert refused.reason == "this household is outside your organisation and case load"


@pytest.mark.parametrize("role", ["case_manager", "equipe"])
def test_special_category_data_needs_the_case_team(role: str) -> None:
    viewer = _viewer(role, "capofila", "worker")
    refused = access.decide(viewer, "read", "person_sensitive", CaseScope(7, "capofila"))
    assert not refused
    assert refused.data_class == SPC
    assert "case team" in refused.reason
    assert access.decide(viewer, "read", "person_sensitive", CaseScope(7, "capofila", team=frozenset({"worker"})))
    # Team membership lets a worker of another organisation in, too.
    outsider = _viewer(role, "partner", "worker")
    assert access.decide(outsider, "read", "person_sensitive", CaseScope(7, "capofila", team=frozenset({"worker"})))


@pytest.mark.parametrize("role", ["supervisore", "analista", "admin"])
def test_roles_without_case_reach_see_no_household(role: str) -> None:
    viewer = _viewer(role, "capofila")
    assert not any(access.decide(viewer, "read", t, OWN) for t in access.RECORD_TYPES)


def test_multi_role_user_gets_the_union_per_role() -> None:
    both = Viewer("mix", frozenset({"amministrazione", "mediatore"}), "partner")
    for record_type in ("repayment_plan", "mediation_session"):
        decision = access.decide(both, "write", record_type)
        assert decision
    assert access.decide(both, "read", "repayment_plan").roles == ("amministrazione",)
    assert access.decide(both, "read", "household").roles == ("mediatore",)
    assert not access.decide(both, "read", "assessment")
    housing_and_social = Viewer("hs", frozenset({"referente_abitativo", "assistente_sociale"}), "locatario")
    placed = CaseScope(8, "capofila", lease_holder_orgs=frozenset({"locatario"}))
    # Each role keeps its own reach: the officer's flats do not lend the social worker a case it is not on.
    assert access.decide(housing_and_social, "read", "lease", placed).roles == ("referente_abitativo",)
    assert not access.decide(housing_and_social, "read", "assessment", placed)
    with_team = CaseScope(8, "capofila", lease_holder_orgs=frozenset({"locatario"}), team=frozenset({"hs"}))
    assert access.decide(housing_and_social, "read", "household", with_team).roles == (
        "assistente_sociale", "referente_abitativo")


# --- authorize(): scope from the database, refusals, the access log ------------------------------------------


@pytest.fixture
def placed_household(session: Session, household: dict[str, Any], users: dict[str, User],
                     orgs: dict[str, Organisation]) -> int:
    """The capofila's household, enrolled with the social worker on its team, placed in a flat of 'locatario'."""
    household_id = household["household_id"]
    enrollment = Enrollment(household_id=household_id, project_start_date=date(2026, 1, 15), status="inserito")
    session.add(enrollment)
    session.flush()
    session.add_all([
        CaseTeamMember(enrollment_id=enrollment.id, user_id=users["assistente_sociale"].id,
                       role="assistente_sociale", since=date(2026, 1, 15)),
        # Someone who left the team no longer counts.
        CaseTeamMember(enrollment_id=enrollment.id, user_id=users["case_manager"].id, role="case_manager",
                       since=date(2026, 1, 15), until=date(2026, 2, 1)),
    ])
    landlord = Landlord(name="Proprietario", kind="persona", managed_by_org_id=orgs["locatario"].id)
    session.add(landlord)
    session.flush()
    unit = HousingUnit(address="Via Roma 1", rooms=2, source="mercato_privato", landlord_id=landlord.id)
    session.add(unit)
    session.flush()
    lease = LeaseContract(unit_id=unit.id, landlord_id=landlord.id, tenant_org_id=orgs["locatario"].id,
                          lease_type="4+4", signed_on=date(2026, 2, 1), start_date=date(2026, 2, 1),
                          first_expiry=date(2030, 1, 31), monthly_rent_cents=50000, rent_due_day=5)
    session.add(lease)
    session.flush()
    session.add(Placement(enrollment_id=enrollment.id, unit_id=unit.id, lease_id=lease.id,
                          start_date=date(2026, 2, 10)))
    session.flush()
    return household_id


def _viewer_of(user: User) -> Viewer:
    return Viewer(user.username, user.roles, user.organisation.key)


def _events(session: Session) -> list[DataAccessEvent]:
    return list(session.scalars(select(DataAccessEvent).order_by(DataAccessEvent.id)))


def test_case_scope_is_loaded_from_the_database(session: Session, placed_household: int) -> None:
    assert access.case_scope(session, placed_household) == CaseScope(
        placed_household, "capofila", frozenset({"locatario"}), frozenset({"assistente_sociale"}),
        lead_partners=frozenset({"capofila"}))
    with pytest.raises(NotFoundError):
        access.case_scope(session, placed_household + 999)


def test_authorize_follows_the_database_scope(session: Session, placed_household: int,
                                              users: dict[str, User]) -> None:
    officer = _viewer_of(users["referente_abitativo"])
    assert access.authorize(session, officer, "read", "lease", purpose="rent review",
                            household_id=placed_household)
    worker = _viewer_of(users["assistente_sociale"])
    assert access.authorize(session, worker, "read", "assessment", purpose="plan review",
                            household_id=placed_household)
    # The case manager left the team: its organisation still manages the case, but health data is team-only.
    manager = _viewer_of(users["case_manager"])
    assert access.authorize(session, manager, "read", "assessment", purpose="x", household_id=placed_household)
    with pytest.raises(AccessDeniedError) as info:
        access.authorize(session, manager, "read", "person_sensitive", purpose="curiosity",
                         household_id=placed_household)
    assert info.value.code == "forbidden"
    assert info.value.details == {"record_type": "person_sensitive", "action": "read"}


def test_authorize_refuses_households_out_of_reach(session: Session, run: Any, placed_household: int,
                                                   users: dict[str, User]) -> None:
    other = run("register_household", {"display_name": "Altra", "organisation": "altro", "since": "2026-01-10",
                                       "members": [{**MARIO, "codice_fiscale": None}]})["household_id"]
    before = len(_events(session))
    for role, record_type in (("referente_abitativo", "landlord"), ("assistente_sociale", "assessment"),
                              ("case_manager", "plan"), ("amministrazione", "repayment_plan")):
        with pytest.raises(AccessDeniedError):
            access.authorize(session, _viewer_of(users[role]), "read", record_type, purpose="p",
                             household_id=other)
    assert len(_events(session)) == before


def test_protected_access_is_logged_and_ordinary_is_not(session: Session, placed_household: int,
                                                        users: dict[str, User]) -> None:
    officer = _viewer_of(users["referente_abitativo"])
    access.authorize(session, officer, "read", "lease", purpose="rent review", household_id=placed_household)
    assert _events(session) == []
    access.authorize(session, officer, "write", "landlord", purpose="update contact", household_id=placed_household,
                     record_id=42, fields=["contact", "name"])
    worker = _viewer_of(users["assistente_sociale"])
    access.authorize(session, worker, "read", "person_sensitive", purpose="plan review",
                     household_id=placed_household, fields=["disability"])
    session.flush()
    rows = [(e.actor, e.organisation, e.roles, e.action, e.record_type, e.record_id, e.household_id, e.data_class,
             e.purpose, e.fields) for e in _events(session)]
    assert rows == [
        ("referente_abitativo", "locatario", ["referente_abitativo"], "write", "landlord", 42, placed_household,
         RES, "update contact", ["contact", "name"]),
        ("assistente_sociale", "comune", ["assistente_sociale"], "read", "person_sensitive", None,
         placed_household, SPC, "plan review", ["disability"]),
    ]
    assert all(e.at is not None for e in _events(session))


def test_role_level_authorize_logs_without_a_household(session: Session, users: dict[str, User]) -> None:
    admin = _viewer_of(users["amministrazione"])
    access.authorize(session, admin, "read", "repayment_plan", purpose="monthly report")
    session.flush()
    (event,) = _events(session)
    assert (event.household_id, event.data_class, event.purpose) == (None, RES, "monthly report")


@pytest.mark.parametrize("purpose", ["", "   "])
@pytest.mark.parametrize("record_type", ["person_sensitive", "household"])
def test_every_access_needs_a_purpose(session: Session, placed_household: int, users: dict[str, User],
                                      purpose: str, record_type: str) -> None:
    worker = _viewer_of(users["assistente_sociale"])
    with pytest.raises(InvalidInputError) as info:
        access.authorize(session, worker, "read", record_type, purpose=purpose, household_id=placed_household)
    assert "purpose" in info.value.fields
    session.flush()
    assert _events(session) == []


@pytest.mark.parametrize("statement", ["UPDATE data_access_event SET purpose = 'x'", "DELETE FROM data_access_event"])
def test_access_log_cannot_be_rewritten(session: Session, users: dict[str, User], statement: str) -> None:
    access.authorize(session, _viewer_of(users["amministrazione"]), "read", "repayment_plan", purpose="audit")
    session.flush()
    assert session.scalar(select(func.count()).select_from(DataAccessEvent)) == 1
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text(statement))


def test_households_fixture_is_managed_by_capofila(session: Session, placed_household: int) -> None:
    # Guards the scope tests above: they assume the fixture household belongs to the lead partner.
    household = session.get(Household, placed_household)
    assert session.get(Organisation, household.organisation_id).key == "capofila"
