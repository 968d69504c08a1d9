"""Accompaniment indicators (domain.md §5): mediation cases, visits on schedule, plans signed in time."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile.indicators.base import Indicator, Period, add_working_days, enrollments, median_days, share
from casefile.models import MediationCase, MonitoringVisit, PersonalisedPlan, Placement

RESOLVED_OUTCOMES = ("risolto", "risolto_con_accordo")
LANDLORD_REPORTERS = ("proprietario", "amministratore_condominio")
# The plan is signed within 20 working days of the presa in carico (domain.md §3.1).
PLAN_DEADLINE_WORKING_DAYS = 20


def mediation(session: Session, period: Period) -> Indicator:
    """Mediation cases opened per 10 placements active in the period; resolution time, rate and relocations.

    Cases with a safety concern go to specialised services, not to mediation: they are counted apart.
    """
    by_id = {e.id: e for e in enrollments(session, period)}
    cases = [c for c in session.scalars(select(MediationCase).order_by(MediationCase.id))
             if c.enrollment_id in by_id]
    placements = [p for p in session.scalars(select(Placement).order_by(Placement.id))
                  if p.enrollment_id in by_id and p.start_date <= period.end
                  and (p.end_date is None or p.end_date >= period.start)]
    mediated = [c for c in cases if not c.safety_concern]
    opened = [c for c in mediated if period.contains(c.opened_on)]
    closed = [c for c in mediated if period.contains(c.closed_on)]
    resolved = [c for c in closed if c.outcome in RESOLVED_OUTCOMES]
    per_ten = round(len(opened) * 10 / len(placements), 2) if placements else None
    return Indicator("mediation", "Casi di mediazione",
                     "Casi di mediazione aperti nel periodo ogni 10 inserimenti attivi nel periodo; per i casi "
                     "chiusi nel periodo: mediana dei giorni alla risoluzione, quota risolti, escalation e "
                     "trasferimenti di alloggio.", "rate", per_ten, details={
                         "cases_opened": len(opened), "placements": len(placements),
                         "from_landlord": sum(1 for c in opened if c.reported_by in LANDLORD_REPORTERS),
                         "from_neighbour": sum(1 for c in opened if c.reported_by == "vicino"),
                         "cases_closed": len(closed), "resolved": len(resolved),
                         "resolution_rate": share(len(resolved), len(closed)),
                         "median_days_to_resolution": median_days((c.closed_on - c.opened_on).days  # type: ignore[operator]
                                                                  for c in resolved),
                         "escalations": sum(1 for c in closed if c.outcome == "non_risolto_escalation"),
                         "relocations": sum(1 for c in closed if c.outcome == "trasferimento_alloggio"),
                         "safety_referrals": sum(1 for c in cases if c.safety_concern
                                                 and period.contains(c.opened_on))})


def visits_on_schedule(session: Session, period: Period) -> Indicator:
    """Of the visits falling due in the period (each visit's next_visit_due), the share done by that day.

    A due date after the household's exit is not counted; one with no later visit at all was missed.
    """
    by_id = {e.id: e for e in enrollments(session, period)}
    visits: dict[int, list[MonitoringVisit]] = defaultdict(list)
    for visit in session.scalars(select(MonitoringVisit).order_by(MonitoringVisit.visit_date, MonitoringVisit.id)):
        if visit.enrollment_id in by_id:
            visits[visit.enrollment_id].append(visit)
    due = on_time = 0
    for enrollment_id, rows in visits.items():
        exit_date = by_id[enrollment_id].exit_date
        for index, visit in enumerate(rows):
            deadline = visit.next_visit_due
            if deadline is None or not period.contains(deadline) or (exit_date is not None and deadline > exit_date):
                continue
            due += 1
            following = rows[index + 1] if index + 1 < len(rows) else None
            on_time += following is not None and following.visit_date <= deadline
    return Indicator("visits_on_schedule", "Visite nei tempi previsti",
                     "Delle visite in scadenza nel periodo (data della visita successiva prevista), quota "
                     "effettuate entro quella data.", "share", share(on_time, due), on_time, due)


def plans_signed_in_time(session: Session, period: Period) -> Indicator:
    """Of the enrollments whose plan was due in the period (20 working days after the presa in carico),
    the share with a plan signed by then."""
    rows = [e for e in enrollments(session, period)
            if period.contains(add_working_days(e.project_start_date, PLAN_DEADLINE_WORKING_DAYS))]
    first_signed: dict[int, date] = {}
    if rows:
        for enrollment_id, signed_on in session.execute(
                select(PersonalisedPlan.enrollment_id, PersonalisedPlan.signed_on)
                .where(PersonalisedPlan.enrollment_id.in_([e.id for e in rows]),
                       PersonalisedPlan.signed_on.is_not(None))
                .order_by(PersonalisedPlan.signed_on)):
            first_signed.setdefault(enrollment_id, signed_on)
    in_time = sum(1 for e in rows if e.id in first_signed
                  and first_signed[e.id] <= add_working_days(e.project_start_date, PLAN_DEADLINE_WORKING_DAYS))
    return Indicator("plans_signed_in_time", "Progetti firmati entro 20 giorni lavorativi",
                     "Dei progetti con scadenza della firma nel periodo (20 giorni lavorativi, lunedì–venerdì, "
                     "dopo la presa in carico), quota con il progetto personalizzato firmato entro la scadenza.",
                     "share", share(in_time, len(rows)), in_time, len(rows))
