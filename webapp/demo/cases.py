"""Demo cases for `make run`: real process instances, so that every demo role finds work in its list.

The demo programme (``casefile.demo``) writes its households straight through the case-file
operations, without processes. Here the processes take them up where the records leave them, with
the messages the models exchange, built from those records:

- intake referrals at successive steps (``webapp.demo.intake``);
- ``enrollment_opened`` for an enrolled household waiting for a flat whose plan is signed (the
  intake sends it once the plan is co-signed): housing placement starts with the needs profile;
- ``move_in_recorded`` for a housed household, as housing placement sends it at move-in: monitoring
  starts with its visits, rent and contribution. Only where the case file has not charged the
  months the monitoring charges itself (rent from the move-in month, contribution from the next):
  it would charge them again, the case file would refuse, and the instance would stop on an incident;
- ``landlord_notice``, a formal warning from the landlord of a monitored flat where a mediation case
  is open: the housing officer assesses it;
- ``mediation_requested`` for a household with an open mediation case, about another conflict: the
  seeded case was opened without a process, and ``open_mediation_case`` refuses a second open case
  of the same kind in the same flat, so a request about the same conflict would end in an incident;
- last, the timers of these instances that are already due fire, as the worker would at once.

Each step starts only what is not there yet, so seeding twice adds nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casefile.models import (
    ContributionCharge,
    Enrollment,
    Household,
    LeaseContract,
    MediationCase,
    OccupancyAgreement,
    PersonalisedPlan,
    Placement,
    RentCharge,
)
from casefile.operations.fields import cents_to_euro
from casefile.partnership import task_organisations
from engine import Engine, clock
from engine.models import ProcessInstance, Timer
from engine.runtime import ACTIVE
from engine.timers import fire_timer
from webapp.demo import demo_actor, deployed
from webapp.demo.intake import seed_intakes

# The conflicts a second mediation request may be about, first choice first.
OTHER_CONFLICTS = [("spazi_comuni", "Passeggino e biciclette lasciati sul pianerottolo"),
                   ("igiene_pulizia", "Sacchi della spazzatura lasciati nell'androne"),
                   ("altro", "Nuova segnalazione dell'amministratore di condominio")]
# Due timers fired at most per seeding (a monitoring catching up fires a few each).
MAX_TIMERS = 200


def seed_demo_cases(session: Session, engine: Engine) -> int:
    """Start the demo's process instances that are not there yet; returns how many were started."""
    before = _instance_count(session)
    started = [instance.id for instance in seed_intakes(session, engine)]
    today = engine.clock_now().date()
    started += _open_housing_searches(session, engine)
    monitored = _start_monitoring(session, engine)
    started += [instance_id for instance_id, _ in monitored]
    _send_landlord_warnings(session, engine, [enrollment for _, enrollment in monitored], today)
    started += _request_mediations(session, engine)
    _fire_due_timers(session, engine, started)
    return _instance_count(session) - before


def _instance_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ProcessInstance)) or 0


def _has_instance(session: Session, process_id: str, business_key: str) -> bool:
    return session.scalar(select(ProcessInstance.id).where(ProcessInstance.process_id == process_id,
                                                           ProcessInstance.business_key == business_key)
                          .limit(1)) is not None


def case_context(session: Session, enrollment: Enrollment) -> dict[str, Any]:
    """The case context every message between the processes carries (README, "The processes")."""
    household = session.get(Household, enrollment.household_id)
    assert household is not None  # a foreign key
    return {"household_id": household.id, "household_reference": household.reference,
            "business_key": household.reference, "enrollment_id": enrollment.id,
            "project_start_date": enrollment.project_start_date.isoformat(),
            "task_organisations": task_organisations(session, household.id)}


def _send(session: Session, engine: Engine, name: str, payload: dict[str, Any], *, role: str = "coordinatore",
          correlations: dict[str, Any] | None = None) -> int | None:
    """Send a message as a demo user; returns the instance it reached or started."""
    actor = demo_actor(role)
    message = engine.messages.send(session, name, payload, correlations, actor=actor,
                                   organisation=actor.organisation)
    return message.target_instance_id if message.status == "delivered" else None


# --- housing placement -----------------------------------------------------------------------------


def _open_housing_searches(session: Session, engine: Engine) -> list[int]:
    """``enrollment_opened`` for each enrolled household waiting for a flat, its plan signed."""
    if not deployed(session, "housing_placement"):
        return []
    signed = select(PersonalisedPlan.enrollment_id).where(PersonalisedPlan.status == "firmato")
    waiting = session.scalars(select(Enrollment).where(Enrollment.status == "in_attesa_alloggio",
                                                       Enrollment.id.in_(signed)).order_by(Enrollment.id))
    started = []
    for enrollment in waiting:
        context = case_context(session, enrollment)
        if not _has_instance(session, "housing_placement", context["business_key"]):
            started.append(_send(session, engine, "enrollment_opened", context))
    return [instance for instance in started if instance is not None]


# --- monitoring ------------------------------------------------------------------------------------


def move_in_payload(session: Session, placement: Placement) -> dict[str, Any]:
    """What housing placement sends at move-in, from the placement, its lease and its agreement."""
    enrollment = session.get(Enrollment, placement.enrollment_id)
    lease = session.get(LeaseContract, placement.lease_id)
    assert enrollment is not None  # foreign keys
    assert lease is not None
    assert placement.move_in_date is not None
    agreement = session.scalar(select(OccupancyAgreement).where(OccupancyAgreement.placement_id == placement.id))
    return {**case_context(session, enrollment), "placement_id": placement.id, "lease_id": lease.id,
            "move_in_date": placement.move_in_date.isoformat(), "lease_first_expiry": lease.first_expiry.isoformat(),
            "rent_due_day": lease.rent_due_day, "monthly_rent": cents_to_euro(lease.monthly_rent_cents),
            "monthly_contribution": cents_to_euro(agreement.monthly_contribution_cents if agreement else 0)}


def already_charged(session: Session, placement: Placement) -> bool:
    """Whether the case file charged rent or contribution of the months the monitoring charges itself."""
    assert placement.move_in_date is not None
    rent = select(RentCharge.id).where(RentCharge.lease_id == placement.lease_id,
                                       RentCharge.period >= placement.move_in_date.replace(day=1))
    contribution = (select(ContributionCharge.id)
                    .join(OccupancyAgreement, OccupancyAgreement.id == ContributionCharge.agreement_id)
                    .where(OccupancyAgreement.placement_id == placement.id))
    return any(session.scalar(query.limit(1)) is not None for query in (rent, contribution))


def _start_monitoring(session: Session, engine: Engine) -> list[tuple[int, Enrollment]]:
    """``move_in_recorded`` for each household in its flat that the monitoring can take up.

    Returns the instances started, each with its enrollment.
    """
    if not deployed(session, "monitoring"):
        return []
    housed = session.execute(select(Placement, Enrollment).join(Enrollment, Enrollment.id == Placement.enrollment_id)
                             .where(Enrollment.status == "inserito", Placement.move_in_date.is_not(None),
                                    Placement.end_date.is_(None)).order_by(Placement.id)).all()
    started = []
    for placement, enrollment in housed:
        payload = move_in_payload(session, placement)
        if _has_instance(session, "monitoring", payload["business_key"]) or already_charged(session, placement):
            continue
        instance_id = _send(session, engine, "move_in_recorded", payload)
        if instance_id is not None:
            started.append((instance_id, enrollment))
    return started


def _open_mediation_cases(session: Session, enrollment_id: int) -> list[MediationCase]:
    return list(session.scalars(select(MediationCase).where(MediationCase.enrollment_id == enrollment_id,
                                                            MediationCase.status == "aperto")
                                .order_by(MediationCase.id)))


def _send_landlord_warnings(session: Session, engine: Engine, enrollments: list[Enrollment], today: date) -> None:
    """The landlord of a monitored flat where a mediation case is open sends a formal warning (diffida)."""
    for enrollment in enrollments:
        if not _open_mediation_cases(session, enrollment.id):
            continue
        payload = {**case_context(session, enrollment), "notice_type": "diffida",
                   "notice_date": (today - timedelta(days=2)).isoformat(),
                   "notes": "Diffida per i rumori serali segnalati dai vicini"}
        _send(session, engine, "landlord_notice", payload, role="referente_abitativo",
              correlations={"enrollment_id": enrollment.id})


# --- mediation -------------------------------------------------------------------------------------


def _request_mediations(session: Session, engine: Engine) -> list[int]:
    """``mediation_requested`` about a new conflict for each household with a mediation case open."""
    if not deployed(session, "mediation"):
        return []
    enrollments = session.scalars(select(Enrollment).where(Enrollment.status != "chiuso", Enrollment.id.in_(
        select(MediationCase.enrollment_id).where(MediationCase.status == "aperto"))).order_by(Enrollment.id))
    started = []
    for enrollment in enrollments:
        context = case_context(session, enrollment)
        if _has_instance(session, "mediation", context["business_key"]):
            continue
        cases = _open_mediation_cases(session, enrollment.id)
        open_types = {case.conflict_type for case in cases}
        conflict_type, description = next(c for c in OTHER_CONFLICTS if c[0] not in open_types)
        started.append(_send(session, engine, "mediation_requested", {
            **context, "placement_id": cases[0].placement_id, "incident_id": None,
            "reported_by": "amministratore_condominio", "conflict_type": conflict_type, "severity": "basso",
            "description": description}))
    return [instance for instance in started if instance is not None]


# --- timers ----------------------------------------------------------------------------------------


def _fire_due_timers(session: Session, engine: Engine, instance_ids: list[int]) -> None:
    """Fire the timers of these instances that are already due, as the worker would, most overdue first.

    A monitoring taken up after the move-in catches up this way: the first visit, the rent alert,
    the contribution reminder.
    """
    if not instance_ids:
        return
    now = engine.clock_now()
    due = (select(Timer).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
           .where(Timer.instance_id.in_(instance_ids), Timer.due_at < now, ProcessInstance.status.in_(ACTIVE))
           .order_by(Timer.due_at, Timer.id).limit(1))
    fired: set[int] = set()
    with clock.use_clock(engine.now):
        for _ in range(MAX_TIMERS):
            timer = session.scalars(due).first()
            if timer is None or timer.id in fired:  # nothing due, or a timer that does not go off
                return
            fired.add(timer.id)
            fire_timer(engine, session, timer)
