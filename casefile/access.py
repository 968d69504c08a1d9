"""Who may read or write which record: role × area × data class, narrowed by organisation and case team.

:func:`decide` is the one pure function that answers; :func:`authorize` loads a household's scope,
asks :func:`decide`, refuses with :class:`AccessDeniedError` and writes the access log for restricted and
special-category data (domain.md §6).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile.errors import AccessDeniedError, InvalidInputError, NotFoundError
from casefile.models import (
    CaseTeamMember,
    DataAccessEvent,
    Enrollment,
    Household,
    LeaseContract,
    Organisation,
    Placement,
    User,
    utcnow,
)

ORDINARY, RESTRICTED, SPECIAL = "ordinario", "riservato", "categoria_particolare"
DATA_CLASSES = (ORDINARY, RESTRICTED, SPECIAL)
_RANK = {None: -1, ORDINARY: 0, RESTRICTED: 1, SPECIAL: 2}
ACTIONS = ("read", "write")

# Record type -> (area, data class). Areas group what a role needs: a housing officer needs the
# housing area and the household's composition, never its case notes or health.
RECORD_TYPES: dict[str, tuple[str, str]] = {
    "household": ("composition", ORDINARY),
    "person": ("composition", ORDINARY),
    "membership": ("composition", ORDINARY),
    "person_sensitive": ("health", SPECIAL),
    "privacy_notice": ("case", ORDINARY),
    "consent": ("case", ORDINARY),
    "referral": ("case", ORDINARY),
    "enrollment": ("case", ORDINARY),
    "case_team": ("case", ORDINARY),
    "assessment": ("case", RESTRICTED),
    "plan": ("case", RESTRICTED),
    "plan_review": ("case", RESTRICTED),
    "visit": ("case", RESTRICTED),
    "support_activity": ("case", ORDINARY),
    "incident": ("case", RESTRICTED),
    # Handover and follow-up notes describe the person: restricted, and their reads are logged.
    "exit": ("case", RESTRICTED),
    "follow_up": ("case", RESTRICTED),
    "timeline": ("case", ORDINARY),
    "landlord": ("housing", RESTRICTED),
    "housing_unit": ("housing", ORDINARY),
    "lease": ("housing", ORDINARY),
    "placement": ("housing", ORDINARY),
    "occupancy_agreement": ("housing", ORDINARY),
    "rent": ("money", ORDINARY),
    "contribution": ("money", ORDINARY),
    "repayment_plan": ("money", RESTRICTED),
    "work_activity": ("work", ORDINARY),
    "mediation_case": ("mediation", ORDINARY),
    "mediation_session": ("mediation", RESTRICTED),
    "mediation_agreement": ("mediation", ORDINARY),
    "indicators": ("aggregates", ORDINARY),
}
AREAS = ("composition", "case", "housing", "money", "work", "mediation", "health", "aggregates")

ORD, RES, SPC = ORDINARY, RESTRICTED, SPECIAL
# role -> area -> (highest class it may read, highest class it may write); absent = nothing.
GRANTS: dict[str, dict[str, tuple[str | None, str | None]]] = {
    "assistente_sociale": {"composition": (RES, RES), "case": (RES, RES), "housing": (ORD, None), "money": (ORD, None),
                           "work": (ORD, None), "mediation": (RES, None), "health": (SPC, SPC)},
    "coordinatore": {"composition": (RES, RES), "case": (RES, RES), "housing": (RES, RES), "money": (RES, ORD),
                     "work": (ORD, None), "mediation": (RES, RES), "aggregates": (ORD, None)},
    "case_manager": {"composition": (RES, RES), "case": (RES, RES), "housing": (ORD, ORD), "money": (ORD, None),
                     "work": (ORD, ORD), "mediation": (RES, ORD), "health": (SPC, SPC)},
    "referente_abitativo": {"composition": (ORD, None), "housing": (RES, RES), "mediation": (ORD, None)},
    "amministrazione": {"money": (RES, RES)},
    "mediatore": {"composition": (ORD, None), "mediation": (RES, RES)},
    "operatore_lavoro": {"composition": (ORD, None), "work": (RES, RES)},
    "equipe": {"composition": (RES, None), "case": (RES, RES), "housing": (ORD, None), "money": (ORD, None),
               "work": (ORD, None), "mediation": (ORD, None), "health": (SPC, None)},
    "supervisore": {"aggregates": (ORD, None)},
    "analista": {},
    "admin": {},
}

# Which households a role reaches: every one (the lead partner's coordinator), those of its
# organisation (managing it, or holding the lease of its flat), or only those whose team it is on.
PROGRAMME, ORGANISATION, TEAM, NONE = "programme", "organisation", "team", "none"
SCOPES: dict[str, str] = {
    "coordinatore": PROGRAMME, "equipe": ORGANISATION, "case_manager": ORGANISATION,
    "referente_abitativo": ORGANISATION, "amministrazione": ORGANISATION, "mediatore": ORGANISATION,
    "operatore_lavoro": ORGANISATION, "assistente_sociale": TEAM,
    "supervisore": NONE, "analista": NONE, "admin": NONE,
}


@dataclass(frozen=True)
class Viewer:
    """The person asking: username, roles and organisation key."""

    username: str
    roles: frozenset[str]
    organisation: str | None


@dataclass(frozen=True)
class CaseScope:
    """What decides reach over one household: who manages it, who holds its leases, who is on its team."""

    household_id: int
    managing_org: str
    lease_holder_orgs: frozenset[str] = frozenset()
    team: frozenset[str] = frozenset()
    # Organisations that lead the programme (programme role "capofila"): their coordinators reach every household.
    lead_partners: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    """An answer of the policy, with the data class involved and, when refused, why."""

    allowed: bool
    data_class: str
    reason: str = ""
    roles: tuple[str, ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return self.allowed


def record_class(record_type: str) -> tuple[str, str]:
    """The (area, data class) of a record type; unknown types are a programming error."""
    try:
        return RECORD_TYPES[record_type]
    except KeyError:
        raise ValueError(f"unknown record type '{record_type}'") from None


# Holding the lease of a household's flat opens only what the lease holder needs for the tenancy
# (the flat, the money, who lives there), never case notes: housing and support stay apart.
LEASE_HOLDER_AREAS = frozenset({"housing", "money", "composition"})


def _reaches(role: str, viewer: Viewer, scope: CaseScope, area: str) -> bool:
    reach = SCOPES.get(role, NONE)
    if reach == PROGRAMME:
        if viewer.organisation in scope.lead_partners:
            return True
        reach = ORGANISATION  # the same role in another partner reaches only that partner's case load
    on_team = viewer.username in scope.team
    if reach == TEAM:
        return on_team
    if reach == ORGANISATION:
        if on_team or viewer.organisation == scope.managing_org:
            return True
        return area in LEASE_HOLDER_AREAS and viewer.organisation in scope.lease_holder_orgs
    return False


def decide(viewer: Viewer, action: str, record_type: str, scope: CaseScope | None = None) -> Decision:
    """Whether ``viewer`` may ``action`` ("read"/"write") a record of ``record_type``.

    Without ``scope`` only the role is checked (records bound to no household, or a pre-check);
    with it, the household must also be within the role's reach, and special-category data needs
    case-team membership (need to know).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action '{action}'")
    area, klass = record_class(record_type)
    granting = []
    for role in sorted(viewer.roles):
        read_max, write_max = GRANTS.get(role, {}).get(area, (None, None))
        limit = read_max if action == "read" else write_max
        if _RANK[limit] >= _RANK[klass]:
            granting.append(role)
    if not granting:
        return Decision(False, klass, f"no role of yours may {action} {area} data of class {klass}")
    if scope is None:
        return Decision(True, klass, roles=tuple(granting))
    reaching = [role for role in granting if _reaches(role, viewer, scope, area)]
    if not reaching:
        return Decision(False, klass, "this household is outside your organisation and case load")
    if klass == SPECIAL and viewer.username not in scope.team:
        return Decision(False, klass, "special-category data is for the household's case team only")
    return Decision(True, klass, roles=tuple(reaching))


def case_scope(session: Session, household_id: int) -> CaseScope:
    """Load the scope of a household: managing organisation, lease holders of its flats, case team."""
    managing = session.execute(
        select(Organisation.key).join(Household, Household.organisation_id == Organisation.id)
        .where(Household.id == household_id)).scalar_one_or_none()
    if managing is None:
        raise NotFoundError(f"no household {household_id}", field="household_id")
    lease_holders = session.scalars(
        select(Organisation.key)
        .join(LeaseContract, LeaseContract.tenant_org_id == Organisation.id)
        .join(Placement, Placement.lease_id == LeaseContract.id)
        .join(Enrollment, Enrollment.id == Placement.enrollment_id)
        .where(Enrollment.household_id == household_id, Placement.end_date.is_(None))).all()
    team = session.scalars(
        select(User.username).join(CaseTeamMember, CaseTeamMember.user_id == User.id)
        .join(Enrollment, Enrollment.id == CaseTeamMember.enrollment_id)
        .where(Enrollment.household_id == household_id, CaseTeamMember.until.is_(None))).all()
    lead_partners = [org.key for org in session.scalars(select(Organisation)) if org.plays("capofila")]
    return CaseScope(household_id, managing, frozenset(lease_holders), frozenset(team), frozenset(lead_partners))


def authorize(session: Session, viewer: Viewer, action: str, record_type: str, *, purpose: str,
              household_id: int | None = None, record_id: int | None = None,
              fields: Iterable[str] = ()) -> Decision:
    """Decide, refuse with AccessDeniedError, and log access to restricted and special-category data."""
    if not purpose or not purpose.strip():
        raise InvalidInputError("say why you need this data", field="purpose")
    scope = case_scope(session, household_id) if household_id is not None else None
    decision = decide(viewer, action, record_type, scope)
    if not decision:
        raise AccessDeniedError(decision.reason, record_type=record_type, action=action)
    if decision.data_class != ORDINARY:
        log_access(session, viewer, action, record_type, data_class=decision.data_class, purpose=purpose,
                   household_id=household_id, record_id=record_id, fields=fields)
    return decision


def log_access(session: Session, viewer: Viewer, action: str, record_type: str, *, data_class: str,
               purpose: str, household_id: int | None = None, record_id: int | None = None,
               fields: Iterable[str] = ()) -> None:
    """Append one row to the access log (the database refuses to change or delete it)."""
    if not purpose or not purpose.strip():
        raise InvalidInputError("access to protected data needs a stated purpose", field="purpose")
    session.add(DataAccessEvent(
        at=utcnow(), actor=viewer.username, organisation=viewer.organisation, roles=sorted(viewer.roles),
        action=action, record_type=record_type, record_id=record_id, household_id=household_id,
        data_class=data_class, purpose=purpose, fields=sorted(fields)))
