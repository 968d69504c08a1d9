"""The household file read model against the access policy: listed ⇔ readable, section by section.

The demo programme (six households, all managed by the lead partner) is widened with households that
test every kind of reach: managed by another partner, placed in the lease holder's flat, a case team
with a member from another organisation. Every demo role and a set of mixed viewers are then checked
against :func:`casefile.access.decide`, one household at a time.
"""

from __future__ import annotations

import random
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile import access, accounts
from casefile.access import Viewer
from casefile.demo import seed_programme
from casefile.errors import AccessDeniedError, InvalidInputError, NotFoundError
from casefile.file import SECTION_RECORD_TYPES, household_file, visible_households
from casefile.models import (
    CaseTeamMember,
    DataAccessEvent,
    Enrollment,
    Household,
    LeaseContract,
    Organisation,
    Placement,
    User,
)
from casefile.reach import HOUSEHOLD_RECORD_TYPES
from casefile.roles import ROLES
from tests.casefile.conftest import ROLE_ORGS

TODAY = date(2026, 11, 30)


def _household(session: Session, orgs: dict[str, Organisation], name: str, org: str) -> Household:
    household = Household(reference=f"NUC-T-{name}", display_name=name, organisation_id=orgs[org].id)
    session.add(household)
    session.flush()
    return household


def _enrol(session: Session, household: Household, team: list[User], status: str = "inserito") -> Enrollment:
    enrollment = Enrollment(household_id=household.id, project_start_date=date(2026, 1, 1), status=status)
    session.add(enrollment)
    session.flush()
    for user in team:
        session.add(CaseTeamMember(enrollment_id=enrollment.id, user_id=user.id, role=sorted(user.roles)[0],
                                   since=date(2026, 1, 1)))
    session.flush()
    return enrollment


@pytest.fixture
def programme(session: Session, orgs: dict[str, Organisation], users: dict[str, User]) -> dict[str, User]:
    """The demo programme plus households reached in every way; returns the extra users."""
    seed_programme(session, TODAY)
    extra = {
        "cm_altro": accounts.create_user(session, "cm_altro", organisation=orgs["altro"], roles=["case_manager"],
                                         password_hash=None),
        "mix_partner": accounts.create_user(session, "mix_partner", organisation=orgs["partner"],
                                            roles=["amministrazione", "mediatore"], password_hash=None),
        "eq_locatario": accounts.create_user(session, "eq_locatario", organisation=orgs["locatario"],
                                             roles=["equipe"], password_hash=None),
    }
    # Managed by another partner, with a case manager of a third organisation on its team.
    _enrol(session, _household(session, orgs, "Altro-team", "partner"), [extra["cm_altro"]])
    # Managed by "altro", living in the lease holder's flat.
    placed = _enrol(session, _household(session, orgs, "Altro-placed", "altro"), [])
    lease = session.scalars(select(LeaseContract).where(LeaseContract.tenant_org_id == orgs["locatario"].id)).first()
    assert lease is not None
    session.add(Placement(enrollment_id=placed.id, unit_id=lease.unit_id, lease_id=lease.id,
                          start_date=date(2026, 2, 1)))
    # Managed by "altro", a past placement in the flat (ended) and the City's social worker off the team.
    ended = _enrol(session, _household(session, orgs, "Altro-ended", "altro"), [users["assistente_sociale"]])
    session.add(Placement(enrollment_id=ended.id, unit_id=lease.unit_id, lease_id=lease.id,
                          start_date=date(2025, 2, 1), end_date=date(2025, 12, 1)))
    session.flush()
    member = session.scalars(select(CaseTeamMember).where(CaseTeamMember.enrollment_id == ended.id)).one()
    member.until = date(2026, 6, 1)
    # Referred only, managed by the partner.
    _household(session, orgs, "Partner-referred", "partner")
    session.flush()
    return extra


def _viewer(user: User) -> Viewer:
    return Viewer(user.username, user.roles, user.organisation.key)


def _all_viewers(users: dict[str, User], extra: dict[str, User]) -> list[Viewer]:
    viewers = [_viewer(user) for user in [*users.values(), *extra.values()]]
    # Every role in every organisation, under names on no team, and a few role mixes.
    rng = random.Random(6)
    orgs = sorted({*ROLE_ORGS.values(), "altro"})
    viewers += [Viewer(f"nobody_{role}_{org}", frozenset({role}), org) for role in ROLES for org in orgs]
    for number in range(40):
        roles = frozenset(rng.sample(sorted(ROLES), rng.randint(1, 3)))
        username = rng.choice(["case_manager", "assistente_sociale", "cm_altro", f"x{number}"])
        viewers.append(Viewer(username, roles, rng.choice(orgs)))
    return viewers


def _readable(session: Session, viewer: Viewer, household_id: int) -> bool:
    scope = access.case_scope(session, household_id)
    return any(access.decide(viewer, "read", record_type, scope) for record_type in HOUSEHOLD_RECORD_TYPES)


def test_listed_exactly_when_the_policy_lets_the_viewer_read_something(session, users, programme) -> None:
    household_ids = list(session.scalars(select(Household.id).order_by(Household.id)))
    assert len(household_ids) == 10
    for viewer in _all_viewers(users, programme):
        page = visible_households(session, viewer, limit=200, offset=0)
        listed = {item.id: item for item in page.items}
        assert page.total == len(listed)
        for household_id in household_ids:
            scope = access.case_scope(session, household_id)
            assert (household_id in listed) == _readable(session, viewer, household_id), (viewer, household_id)
            if household_id in listed:
                item = listed[household_id]
                assert (item.display_name is not None) == bool(access.decide(viewer, "read", "household", scope))
                assert (item.status is not None) == bool(access.decide(viewer, "read", "enrollment", scope))


def test_file_sections_are_those_the_policy_allows(session, users, programme) -> None:
    household_ids = list(session.scalars(select(Household.id).order_by(Household.id)))
    for viewer in _all_viewers(users, programme)[:40]:
        for household_id in household_ids:
            if not _readable(session, viewer, household_id):
                with pytest.raises(AccessDeniedError):
                    household_file(session, household_id, viewer, "test", as_of=TODAY)
                continue
            scope = access.case_scope(session, household_id)
            result = household_file(session, household_id, viewer, "test", as_of=TODAY)
            expected = [name for name, record_type in SECTION_RECORD_TYPES.items()
                        if access.decide(viewer, "read", record_type, scope)]
            assert result.sections == expected, (viewer, household_id)
            for name in ("members", "enrollment", "plan", "visits", "mediation_cases", "rent", "contribution"):
                if name not in expected:
                    assert getattr(result, name) is None, (viewer, household_id, name)


def test_expected_reach_of_the_demo_roles(session, users, programme) -> None:
    def names(username: str) -> set[str]:
        user = {**users, **programme}[username]
        return {item.reference.removeprefix("NUC-T-") if item.reference.startswith("NUC-T-") else "demo"
                for item in visible_households(session, _viewer(user), limit=200, offset=0).items}

    assert names("coordinatore") == {"demo", "Altro-team", "Altro-placed", "Altro-ended", "Partner-referred"}
    assert "Altro-placed" in names("referente_abitativo")  # the lease holder's flat
    assert "Altro-ended" not in names("referente_abitativo")  # no longer living there
    # Its own organisation's households, and the partner's one whose team it is on.
    assert names("cm_altro") == {"Altro-team", "Altro-placed", "Altro-ended"}
    assert names("mediatore") == {"Altro-team", "Partner-referred"}  # its organisation's households
    assert "Altro-ended" not in names("assistente_sociale")  # left the team
    for role in ("supervisore", "analista", "admin"):
        assert names(role) == set()


def test_household_file_of_a_housed_household_with_arrears(session, users, programme) -> None:
    rossi = session.scalars(select(Household).where(Household.display_name == "Famiglia Rossi")).one()
    case_manager = _viewer(users["case_manager"])
    result = household_file(session, rossi.id, case_manager, "preparing the visit", as_of=TODAY)
    assert result.display_name == "Famiglia Rossi"
    assert result.members is not None
    assert result.members[0].first_name == "Mario"
    assert result.enrollment is not None
    assert result.enrollment.status == "inserito"
    assert {m.username for m in result.enrollment.team or []} == {"case_manager", "assistente_sociale"}
    assert result.placement is not None
    assert result.placement.unit is not None
    assert result.contribution is not None
    assert result.contribution.arrears_cents > 0
    assert result.contribution.months_unpaid >= 1
    assert result.plan is not None
    assert len(result.plan.goals) == 2
    assert result.visits
    assert result.visits[0].visit_date > result.visits[-1].visit_date
    logged = set(session.scalars(select(DataAccessEvent.record_type).where(
        DataAccessEvent.actor == "case_manager", DataAccessEvent.purpose == "preparing the visit")))
    assert {"plan", "visit"} <= logged


def test_administration_sees_money_but_not_the_case(session, users, programme) -> None:
    rossi = session.scalars(select(Household).where(Household.display_name == "Famiglia Rossi")).one()
    finance = _viewer(users["amministrazione"])
    result = household_file(session, rossi.id, finance, "contribution reminder", as_of=TODAY)
    assert result.sections == ["rent", "contribution"]
    assert result.display_name is None
    assert result.members is None
    assert result.plan is None
    assert result.contribution is not None
    assert result.contribution.arrears_cents > 0


def test_search_status_and_pagination(session, users, programme) -> None:
    coordinator = _viewer(users["coordinatore"])
    assert [i.display_name for i in visible_households(session, coordinator, search="rossi", limit=10,
                                                        offset=0).items] == ["Famiglia Rossi"]
    # A name the viewer may not read is not searchable either.
    finance = _viewer(users["amministrazione"])
    assert visible_households(session, finance, search="rossi", limit=10, offset=0).total == 0
    housed = visible_households(session, coordinator, status="inserito", limit=10, offset=0)
    assert housed.total >= 2
    assert all(i.status == "inserito" for i in housed.items)
    assert visible_households(session, coordinator, status="segnalazione", limit=10, offset=0).total >= 2
    first, second = (visible_households(session, coordinator, limit=3, offset=o) for o in (0, 3))
    assert first.total == second.total == 10
    assert not {i.id for i in first.items} & {i.id for i in second.items}
    assert visible_households(session, coordinator, search="100%_\\", limit=10, offset=0).total == 0


def test_bad_arguments_and_unknown_households(session, users, programme) -> None:
    coordinator = _viewer(users["coordinatore"])
    with pytest.raises(InvalidInputError):
        visible_households(session, coordinator, limit=0, offset=0)
    with pytest.raises(InvalidInputError):
        household_file(session, 1, coordinator, " ")
    with pytest.raises(NotFoundError):
        household_file(session, 10_000, coordinator, "test")


def test_a_role_reading_only_special_category_data_needs_the_team(session, users, programme, monkeypatch) -> None:
    # No demo role grants health data alone; the SQL twin must still ask for the team as decide() does.
    monkeypatch.setitem(access.GRANTS, "nurse", {"health": ("categoria_particolare", None)})
    monkeypatch.setitem(access.SCOPES, "nurse", access.PROGRAMME)
    on_team = Viewer("case_manager", frozenset({"nurse"}), "altro")
    off_team = Viewer("someone", frozenset({"nurse"}), "capofila")
    listed = {i.id for i in visible_households(session, on_team, limit=200, offset=0).items}
    assert listed
    assert all(_readable(session, on_team, household_id) for household_id in listed)
    assert len(listed) == sum(_readable(session, on_team, h) for h in session.scalars(select(Household.id)))
    assert visible_households(session, off_team, limit=200, offset=0).total == 0
