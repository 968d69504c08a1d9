"""The household file: the households a viewer reaches, and what of one household they may read.

Framework-free, shared by the HTML household page and the JSON API. Every answer comes from the one
access policy (:mod:`casefile.access`): the list through its SQL twin (:mod:`casefile.reach`), the file
section by section through :func:`casefile.access.decide`, with reads of protected data logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import Session

from casefile import access
from casefile.errors import AccessDeniedError, InvalidInputError, NotFoundError
from casefile.file_sections import (
    EnrollmentSection,
    ExitSection,
    MediationSection,
    MemberSection,
    MoneyStatus,
    PlacementSection,
    PlanSection,
    VisitSection,
    load_contribution,
    load_enrollment,
    load_exit,
    load_mediation,
    load_members,
    load_placement,
    load_plan,
    load_rent,
    load_visits,
)
from casefile.models import Enrollment, Household, Organisation
from casefile.reach import HOUSEHOLD_RECORD_TYPES, readable_condition

# A household with no enrollment yet has only been referred.
REFERRED = "segnalazione"
MAX_PAGE = 200


@dataclass(frozen=True)
class HouseholdSummary:
    """One row of a household list; what the viewer may not read is None."""

    id: int
    reference: str
    organisation: str
    display_name: str | None
    status: str | None


@dataclass(frozen=True)
class HouseholdPage:
    """A page of households and how many match in all."""

    items: list[HouseholdSummary]
    total: int


def _status_column():  # type: ignore[no-untyped-def]
    latest = (select(Enrollment.status).where(Enrollment.household_id == Household.id)
              .order_by(Enrollment.id.desc()).limit(1).scalar_subquery())
    return func.coalesce(latest, literal(REFERRED))


def visible_households(session: Session, viewer: access.Viewer, *, search: str | None = None,
                       status: str | None = None, limit: int, offset: int) -> HouseholdPage:
    """The households the viewer's roles reach, as :func:`access.decide` would answer one by one.

    ``search`` matches the reference, and the name where the viewer may read it; ``status`` is the
    latest enrollment's status (or ``segnalazione``), matched where the viewer may read enrollments.
    """
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInputError(f"limit must be 1-{MAX_PAGE} and offset not negative", field="limit")
    name_readable = readable_condition(viewer, ("household",))
    status_readable = readable_condition(viewer, ("enrollment",))
    status_column = _status_column()
    conditions = [readable_condition(viewer)]
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(Household.reference.ilike(pattern, escape="\\"),
                              name_readable & Household.display_name.ilike(pattern, escape="\\")))
    if status:
        conditions.append(status_readable & (status_column == status))
    total = session.scalar(select(func.count()).select_from(Household).where(*conditions)) or 0
    rows = session.execute(
        select(Household.id, Household.reference, Organisation.key,
               case((name_readable, Household.display_name), else_=None),
               case((status_readable, status_column), else_=None))
        .join(Organisation, Organisation.id == Household.organisation_id)
        .where(*conditions).order_by(Household.id).limit(limit).offset(offset))
    return HouseholdPage([HouseholdSummary(*row) for row in rows], total)


@dataclass
class HouseholdFile:
    """What the viewer may read of one household; a section they may not read is None.

    ``sections`` names the sections the viewer may read (a readable section may still be empty, e.g.
    no placement yet). Active process instances and tasks are the web layer's to add.
    """

    id: int
    reference: str
    organisation: str
    display_name: str | None = None
    members: list[MemberSection] | None = None
    enrollment: EnrollmentSection | None = None
    placement: PlacementSection | None = None
    rent: MoneyStatus | None = None
    contribution: MoneyStatus | None = None
    plan: PlanSection | None = None
    visits: list[VisitSection] | None = None
    mediation_cases: list[MediationSection] | None = None
    exit: ExitSection | None = None
    sections: list[str] = field(default_factory=list)


# Section -> the record type deciding whether it is shown.
SECTION_RECORD_TYPES = {
    "household": "household", "members": "membership", "enrollment": "enrollment", "placement": "placement",
    "rent": "rent", "contribution": "contribution", "plan": "plan", "visits": "visit",
    "mediation_cases": "mediation_case", "exit": "exit",
}


class _Reader:
    """Decides and logs the reads of one household file, and loads its sections."""

    def __init__(self, session: Session, viewer: access.Viewer, scope: access.CaseScope, purpose: str,
                 household: Household, today: date) -> None:
        self.session, self.viewer, self.scope, self.purpose = session, viewer, scope, purpose
        self.household, self.today = household, today
        self.enrollment = session.scalar(select(Enrollment).where(Enrollment.household_id == household.id)
                                         .order_by(Enrollment.id.desc()).limit(1))

    def may(self, record_type: str) -> bool:
        decision = access.decide(self.viewer, "read", record_type, self.scope)
        if decision and decision.data_class != access.ORDINARY:
            access.log_access(self.session, self.viewer, "read", record_type, data_class=decision.data_class,
                              purpose=self.purpose, household_id=self.scope.household_id)
        return bool(decision)

    @cached_property
    def placement(self) -> PlacementSection | None:
        # Also behind rent and contribution, which a viewer may read without the placement itself.
        return load_placement(self.session, self.enrollment, with_unit=self.may("housing_unit"),
                              with_lease=self.may("lease"))


# Section -> its loader; each runs only when the viewer may read the section.
LOADERS: dict[str, Callable[[_Reader], Any]] = {
    "household": lambda r: r.household.display_name,
    "members": lambda r: load_members(r.session, r.household.id, with_names=r.may("person")),
    "enrollment": lambda r: load_enrollment(r.session, r.enrollment, with_team=r.may("case_team")),
    "placement": lambda r: r.placement,
    "rent": lambda r: load_rent(r.session, r.placement, r.today),
    "contribution": lambda r: load_contribution(r.session, r.placement, r.today),
    "plan": lambda r: load_plan(r.session, r.enrollment),
    "visits": lambda r: load_visits(r.session, r.household.id),
    "mediation_cases": lambda r: load_mediation(r.session, r.household.id, with_sessions=r.may("mediation_session"),
                                                with_agreement=r.may("mediation_agreement")),
    "exit": lambda r: load_exit(r.session, r.enrollment, with_follow_ups=r.may("follow_up")),
}


def household_file(session: Session, household_id: int, viewer: access.Viewer, purpose: str, *,
                   as_of: date | None = None) -> HouseholdFile:
    """The file of one household as ``viewer`` may read it; reads of protected data are logged with ``purpose``.

    Raises NotFoundError for an unknown household and AccessDeniedError when the viewer may read
    nothing of it (callers that must not reveal existence answer both alike).
    """
    if not purpose or not purpose.strip():
        raise InvalidInputError("say why you need this data", field="purpose")
    household = session.get(Household, household_id)
    if household is None:
        raise NotFoundError(f"no household {household_id}", field="household_id")
    scope = access.case_scope(session, household_id)
    if not any(access.decide(viewer, "read", record_type, scope) for record_type in HOUSEHOLD_RECORD_TYPES):
        raise AccessDeniedError("this household is outside what you may read", record_type="household",
                                action="read")
    reader = _Reader(session, viewer, scope, purpose, household, as_of or datetime.now(UTC).date())
    result = HouseholdFile(id=household.id, reference=household.reference, organisation=scope.managing_org)
    result.sections = [name for name, record_type in SECTION_RECORD_TYPES.items() if reader.may(record_type)]
    for name in result.sections:
        setattr(result, "display_name" if name == "household" else name, LOADERS[name](reader))
    return result
