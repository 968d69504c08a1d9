"""The access policy's reach as SQL: which households a viewer may read anything of.

:func:`casefile.access.decide` answers for one household at a time; a list of households needs the same
answer as a WHERE clause. The clause is derived from the policy's own tables (``GRANTS``, ``SCOPES``,
``LEASE_HOLDER_AREAS``, ``RECORD_TYPES``) rather than written out again, so that the two cannot drift
apart; ``tests/casefile/test_file.py`` checks them against each other for every demo role.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, String, and_, cast, exists, false, or_, select

from casefile import access
from casefile.models import CaseTeamMember, Enrollment, Household, LeaseContract, Organisation, Placement, User

# Record types that belong to one household ("indicators" are programme-wide aggregates).
HOUSEHOLD_RECORD_TYPES = tuple(record_type for record_type, (area, _) in access.RECORD_TYPES.items()
                               if area != "aggregates")


def _on_team(username: str) -> ColumnElement[bool]:
    # As access.case_scope: a current member of the team of any of the household's enrollments.
    return exists(
        select(CaseTeamMember.id).join(Enrollment, Enrollment.id == CaseTeamMember.enrollment_id)
        .join(User, User.id == CaseTeamMember.user_id)
        .where(Enrollment.household_id == Household.id, CaseTeamMember.until.is_(None), User.username == username))


def _managed_by(organisation: str | None) -> ColumnElement[bool]:
    if organisation is None:
        return false()
    return Household.organisation_id.in_(select(Organisation.id).where(Organisation.key == organisation))


def _lease_held_by(organisation: str | None) -> ColumnElement[bool]:
    # As access.case_scope: the tenant of record of a lease under a current placement of the household.
    if organisation is None:
        return false()
    return exists(
        select(Placement.id).join(Enrollment, Enrollment.id == Placement.enrollment_id)
        .join(LeaseContract, LeaseContract.id == Placement.lease_id)
        .join(Organisation, Organisation.id == LeaseContract.tenant_org_id)
        .where(Enrollment.household_id == Household.id, Placement.end_date.is_(None),
               Organisation.key == organisation))


def _leads_the_programme(organisation: str | None) -> ColumnElement[bool]:
    # As access.case_scope's lead partners: the organisation plays "capofila" (a JSON list, matched as text).
    if organisation is None:
        return false()
    return exists(select(Organisation.id).where(
        Organisation.key == organisation, cast(Organisation.programme_roles, String).like('%"capofila"%')))


def _role_reach(role: str, area: str, viewer: access.Viewer) -> ColumnElement[bool]:
    """SQL twin of ``access._reaches`` for one role and area."""
    reach = access.SCOPES.get(role, access.NONE)
    if reach == access.PROGRAMME:
        # A lead partner's coordinator reaches every household; elsewhere the role reaches its partner's case load.
        return or_(_leads_the_programme(viewer.organisation), _role_reach_of(access.ORGANISATION, area, viewer))
    return _role_reach_of(reach, area, viewer)


def _role_reach_of(reach: str, area: str, viewer: access.Viewer) -> ColumnElement[bool]:
    if reach == access.TEAM:
        return _on_team(viewer.username)
    if reach == access.ORGANISATION:
        ways = [_managed_by(viewer.organisation), _on_team(viewer.username)]
        if area in access.LEASE_HOLDER_AREAS:
            ways.append(_lease_held_by(viewer.organisation))
        return or_(*ways)
    return false()


def _readable_by_role(role: str, area: str, record_types: tuple[str, ...],
                      viewer: access.Viewer) -> tuple[bool, bool]:
    """(some of ``record_types`` in ``area`` is readable by ``role``, all readable ones are special-category)."""
    alone = access.Viewer(viewer.username, frozenset({role}), viewer.organisation)
    classes = {access.RECORD_TYPES[t][1] for t in record_types
               if access.RECORD_TYPES[t][0] == area and access.decide(alone, "read", t)}
    return bool(classes), classes == {access.SPECIAL}


def readable_condition(viewer: access.Viewer, record_types: tuple[str, ...] = HOUSEHOLD_RECORD_TYPES,
                       ) -> ColumnElement[bool]:
    """WHERE clause over ``Household``: the viewer may read at least one of ``record_types`` of the row.

    For each role and area it grants: the role's reach, and for special-category data the case team too.
    """
    ways: list[ColumnElement[bool]] = []
    areas = sorted({access.RECORD_TYPES[t][0] for t in record_types})
    for role in sorted(viewer.roles):
        for area in areas:
            readable, special_only = _readable_by_role(role, area, record_types, viewer)
            if not readable:
                continue
            reach = _role_reach(role, area, viewer)
            ways.append(and_(reach, _on_team(viewer.username)) if special_only else reach)
    return or_(*ways) if ways else false()
