"""Retention: pseudonymise the case files of households closed long ago (domain.md §6, "Retention").

After the follow-up window a closed case keeps its statistical value (counts, dates, codes, amounts feed the
indicators) but no longer needs to say who the people were. :func:`pseudonymise_closed_households` replaces
names and identifiers with stable pseudonyms, deletes health data, blanks free text that can name or describe
people, and logs one access event per household. Every row is kept, so aggregate indicators do not change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from casefile.access import SPECIAL
from casefile.models import (
    Assessment,
    CaseEvent,
    CaseIncident,
    Consent,
    DataAccessEvent,
    Enrollment,
    ExitRecord,
    FollowUp,
    Household,
    HouseholdMembership,
    MediationAgreement,
    MediationCase,
    MediationSession,
    MonitoringVisit,
    OccupancyAgreement,
    Person,
    PersonalisedPlan,
    PersonSensitive,
    Placement,
    PlanAction,
    PlanGoal,
    PlanReview,
    PrivacyNotice,
    Referral,
    RepaymentPlan,
    SupportActivity,
)

CLOSED = "chiuso"
PSEUDONYM_FIRST_NAME = "Persona"
# Person fields that identify someone and serve no indicator (citizenship and sex do: they stay).
PERSON_FIELDS_CLEARED = ("codice_fiscale", "permit_type", "permit_expiry", "language")
# Free text that can name or describe people, by table, reached from the household's enrollments.
ENROLLMENT_TEXTS: tuple[tuple[type[Any], tuple[str, ...]], ...] = (
    (MonitoringVisit, ("wellbeing_notes", "issues")),
    (SupportActivity, ("notes",)),
    (CaseIncident, ("description",)),
    (Assessment, ("strengths", "risks")),
    (ExitRecord, ("handover_notes",)),
    (PersonalisedPlan, ("summary",)),
)


@dataclass
class RetentionReport:
    """What a retention run did (or, in a dry run, would do)."""

    cutoff: datetime
    dry_run: bool
    household_ids: list[int] = field(default_factory=list)
    persons: int = 0
    # People who also belong to a household still kept: their identity is still needed there.
    persons_kept: int = 0
    sensitive_deleted: int = 0
    texts_blanked: int = 0
    events_rewritten: int = 0

    @property
    def households(self) -> int:
        """How many households were (or would be) pseudonymised."""
        return len(self.household_ids)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able summary."""
        return {"households": self.households, "household_ids": list(self.household_ids),
                "persons": self.persons, "persons_kept": self.persons_kept,
                "sensitive_deleted": self.sensitive_deleted, "texts_blanked": self.texts_blanked,
                "events_rewritten": self.events_rewritten, "cutoff": self.cutoff.isoformat(),
                "dry_run": self.dry_run}


def eligible_households(session: Session, cutoff: datetime) -> list[int]:
    """Households not yet pseudonymised whose enrollments (at least one) all closed before ``cutoff``."""
    any_enrollment = exists().where(Enrollment.household_id == Household.id)
    # A closure without a date cannot be proven old enough: such a household waits.
    still_needed = exists().where(Enrollment.household_id == Household.id, or_(
        Enrollment.status != CLOSED, Enrollment.closed_at.is_(None), Enrollment.closed_at >= cutoff))
    query = (select(Household.id)
             .where(Household.pseudonymised_at.is_(None), any_enrollment, ~still_needed)
             .order_by(Household.id))
    return list(session.scalars(query))


def pseudonym(reference: str, person_id: int) -> str:
    """A short stable last name: from the household reference and the person id, never from the name."""
    return hashlib.sha256(f"{reference}:{person_id}".encode()).hexdigest()[:8]


def _blank(rows: Iterable[Any], names: Iterable[str], dry_run: bool, value: Any = None) -> int:
    """Set each non-empty field in ``names`` to ``value``; how many fields held text."""
    changed = 0
    for row in rows:
        for name in names:
            if getattr(row, name) not in (None, "", value):
                changed += 1
                if not dry_run:
                    setattr(row, name, value)
    return changed


def _persons_to_pseudonymise(session: Session, household_id: int, retiring: set[int]) -> tuple[list[Person], int]:
    """The household's members, except those also in a household that is kept; and how many were kept."""
    members = session.scalars(
        select(Person).join(HouseholdMembership, HouseholdMembership.person_id == Person.id)
        .where(HouseholdMembership.household_id == household_id).distinct().order_by(Person.id)).all()
    chosen, kept = [], 0
    for person in members:
        elsewhere = session.scalars(
            select(HouseholdMembership.household_id).join(Household, Household.id == HouseholdMembership.household_id)
            .where(HouseholdMembership.person_id == person.id, Household.pseudonymised_at.is_(None))).all()
        if set(elsewhere) <= retiring:
            chosen.append(person)
        else:
            kept += 1
    return chosen, kept


def _pseudonymise_person(session: Session, person: Person, reference: str, dry_run: bool) -> int:
    """Replace a person's identity with a pseudonym; delete their health data. Returns sensitive rows deleted."""
    sensitive = session.scalars(select(PersonSensitive).where(PersonSensitive.person_id == person.id)).all()
    if dry_run:
        return len(sensitive)
    person.first_name = PSEUDONYM_FIRST_NAME
    person.last_name = pseudonym(reference, person.id)
    for name in PERSON_FIELDS_CLEARED:
        setattr(person, name, None)
    if person.birth_date is not None:
        # The year alone keeps age bands right.
        person.birth_date = date(person.birth_date.year, 1, 1)
    for row in sensitive:
        session.delete(row)
    return len(sensitive)


def _blank_texts(session: Session, household_id: int, person_ids: list[int], dry_run: bool) -> int:
    """Blank the household's free text (notes, summaries, descriptions); every row stays."""
    enrollment_ids = select(Enrollment.id).where(Enrollment.household_id == household_id)
    blanked = 0
    for model, names in ENROLLMENT_TEXTS:
        blanked += _blank(session.scalars(select(model).where(model.enrollment_id.in_(enrollment_ids))), names,
                          dry_run)
    mediation_ids = select(MediationCase.id).where(MediationCase.enrollment_id.in_(enrollment_ids))
    blanked += _blank(session.scalars(select(MediationSession).where(MediationSession.case_id.in_(mediation_ids))),
                      ("summary",), dry_run)
    # Agreed actions keep their due dates; who does what may name people.
    for agreement in session.scalars(select(MediationAgreement).where(MediationAgreement.case_id.in_(mediation_ids))):
        actions = agreement.actions or []
        if any(action.get("who") or action.get("what") for action in actions if isinstance(action, dict)):
            blanked += 1
            if not dry_run:
                agreement.actions = [{**action, "who": None, "what": None} if isinstance(action, dict) else None
                                     for action in actions]
    exit_ids = select(ExitRecord.id).where(ExitRecord.enrollment_id.in_(enrollment_ids))
    blanked += _blank(session.scalars(select(FollowUp).where(FollowUp.exit_id.in_(exit_ids))), ("notes",), dry_run)
    plan_ids = select(PersonalisedPlan.id).where(PersonalisedPlan.enrollment_id.in_(enrollment_ids))
    blanked += _blank(session.scalars(select(PlanReview).where(PlanReview.plan_id.in_(plan_ids))), ("notes",),
                      dry_run)
    goals = session.scalars(select(PlanGoal).where(PlanGoal.plan_id.in_(plan_ids))).all()
    # Goal and action descriptions are required columns: an empty text keeps the row, domain and status.
    blanked += _blank(goals, ("indicator",), dry_run)
    blanked += _blank(goals, ("description",), dry_run, value="")
    blanked += _blank(session.scalars(select(PlanAction).where(PlanAction.goal_id.in_([g.id for g in goals]))),
                      ("description",), dry_run, value="")
    agreement_ids = (select(OccupancyAgreement.id).join(Placement, Placement.id == OccupancyAgreement.placement_id)
                     .where(Placement.enrollment_id.in_(enrollment_ids)))
    blanked += _blank(session.scalars(select(RepaymentPlan).where(RepaymentPlan.agreement_id.in_(agreement_ids))),
                      ("notes",), dry_run)
    blanked += _blank(session.scalars(select(Referral).where(Referral.household_id == household_id)),
                      ("referring_worker", "result_reason"), dry_run)
    blanked += _blank(session.scalars(select(PrivacyNotice).where(or_(
        PrivacyNotice.household_id == household_id, PrivacyNotice.person_id.in_(person_ids)))), ("document_ref",),
        dry_run)
    blanked += _blank(session.scalars(select(Consent).where(Consent.person_id.in_(person_ids))), ("document_ref",),
                      dry_run)
    return blanked


def _rewrite_journal(session: Session, household_id: int, dry_run: bool) -> int:
    """Replace the timeline's summaries (they can contain names) with the operation's name."""
    events = session.scalars(select(CaseEvent).where(
        CaseEvent.household_id == household_id, CaseEvent.summary != CaseEvent.operation)).all()
    if not dry_run:
        for event in events:
            event.summary = event.operation
    return len(events)


def pseudonymise_closed_households(session: Session, *, now: datetime, older_than_days: int, actor: str,
                                   dry_run: bool = False) -> RetentionReport:
    """Pseudonymise every household whose enrollments all closed more than ``older_than_days`` before ``now``.

    Only flushes: the caller commits (or, for a dry run, has nothing to commit).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if older_than_days < 0:
        raise ValueError("older_than_days must not be negative")
    cutoff = now - timedelta(days=older_than_days)
    report = RetentionReport(cutoff=cutoff, dry_run=dry_run)
    household_ids = eligible_households(session, cutoff)
    retiring = set(household_ids)
    done: set[int] = set()
    purpose = f"retention: closed more than {older_than_days} days"
    for household_id in household_ids:
        household = session.get_one(Household, household_id)
        persons, kept = _persons_to_pseudonymise(session, household_id, retiring)
        person_ids = [p.id for p in persons]
        report.persons_kept += kept
        # Someone in two retiring households gets one pseudonym, from the first.
        for person in (p for p in persons if p.id not in done):
            done.add(person.id)
            report.persons += 1
            report.sensitive_deleted += _pseudonymise_person(session, person, household.reference, dry_run)
        report.texts_blanked += _blank_texts(session, household_id, person_ids, dry_run)
        report.events_rewritten += _rewrite_journal(session, household_id, dry_run)
        report.household_ids.append(household_id)
        if dry_run:
            continue
        household.display_name = household.reference
        household.pseudonymised_at = now
        session.add(DataAccessEvent(
            at=now, actor=actor, organisation=None, roles=[], action="pseudonymise", record_type="household",
            record_id=household_id, household_id=household_id, data_class=SPECIAL, purpose=purpose,
            fields=["person", "person_sensitive", "free_text", "timeline"]))
        session.flush()
    return report


__all__ = ["RetentionReport", "eligible_households", "pseudonym", "pseudonymise_closed_households"]
