"""Housing outcomes (domain.md §5): households housed, waiting times, retention, where households went."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile.codes import DESTINATION_GROUPS
from casefile.dates import add_months
from casefile.indicators.base import Indicator, Period, enrollments, median_days, share
from casefile.models import Enrollment, ExitRecord, Referral

# HMIS 3.12 codes that say the destination is not known: no interview, don't know, refused, not collected.
UNKNOWN_DESTINATIONS = ("30", "8", "9", "99")


def households_housed(session: Session, period: Period) -> Indicator:
    """Stock (housed at period end) and flow (moved in during the period)."""
    rows = enrollments(session, period)
    stock = sum(1 for e in rows if e.move_in_date is not None and e.move_in_date <= period.end
                and (e.exit_date is None or e.exit_date > period.end))
    flow = sum(1 for e in rows if period.contains(e.move_in_date))
    return Indicator("households_housed", "Nuclei inseriti in alloggio",
                     "Nuclei con data di ingresso in alloggio e non usciti alla fine del periodo (stock); "
                     "nuclei entrati in alloggio nel periodo (flusso).",
                     "households", stock, details={"stock": stock, "flow": flow})


def _referral_dates(session: Session, rows: list[Enrollment]) -> dict[int, object]:
    ids = [e.referral_id for e in rows if e.referral_id is not None]
    if not ids:
        return {}
    return dict(session.execute(select(Referral.id, Referral.referral_date).where(Referral.id.in_(ids))).all())


def time_to_enrollment(session: Session, period: Period) -> Indicator:
    """Median days from the referral to the presa in carico, over enrollments started in the period."""
    rows = [e for e in enrollments(session, period) if period.contains(e.project_start_date)]
    referred = _referral_dates(session, rows)
    days = [(e.project_start_date - referred[e.referral_id]).days for e in rows  # type: ignore[operator]
            if e.referral_id in referred]
    return Indicator("time_to_enrollment", "Tempo invio → presa in carico",
                     "Mediana dei giorni tra la data dell'invio e l'avvio del progetto, per i progetti avviati "
                     "nel periodo.", "days", median_days(days), details={"households": len(days)})


def time_to_housing(session: Session, period: Period) -> Indicator:
    """Median days from project start to move-in (and from referral to move-in), move-ins in the period."""
    rows = [e for e in enrollments(session, period) if period.contains(e.move_in_date)]
    referred = _referral_dates(session, rows)
    from_start = [(e.move_in_date - e.project_start_date).days for e in rows]  # type: ignore[operator]
    from_referral = [(e.move_in_date - referred[e.referral_id]).days  # type: ignore[operator]
                     for e in rows if e.referral_id in referred]
    return Indicator("time_to_housing", "Tempo di accesso all'alloggio",
                     "Mediana dei giorni tra l'avvio del progetto e l'ingresso in alloggio, per gli ingressi "
                     "del periodo; anche dall'invio all'ingresso.", "days", median_days(from_start),
                     details={"households": len(from_start), "median_from_referral": median_days(from_referral)})


def _exits(session: Session, period: Period) -> dict[int, ExitRecord]:
    """Exit records of the scoped enrollments, by enrollment id."""
    ids = [e.id for e in enrollments(session, period)]
    if not ids:
        return {}
    records = session.scalars(select(ExitRecord).where(ExitRecord.enrollment_id.in_(ids)))
    return {record.enrollment_id: record for record in records}


def retention(session: Session, period: Period, months: int) -> Indicator:
    """Of households that moved in at least ``months`` before period end, the share still housed by the
    programme, or gone to a permanent destination, ``months`` after their move-in."""
    exits = _exits(session, period)
    cutoff = add_months(period.end, -months)
    cohort = [e for e in enrollments(session, period) if e.move_in_date is not None and e.move_in_date <= cutoff]
    retained = 0
    for enrollment in cohort:
        anniversary = add_months(enrollment.move_in_date, months)  # type: ignore[arg-type]
        record = exits.get(enrollment.id)
        still_housed = enrollment.exit_date is None or enrollment.exit_date > anniversary
        left_for_good = record is not None and DESTINATION_GROUPS.get(record.destination) == "permanent"
        retained += still_housed or left_for_good
    return Indicator(f"retention_{months}m", f"Mantenimento dell'alloggio a {months} mesi",
                     f"Dei nuclei entrati in alloggio almeno {months} mesi prima della fine del periodo, quota "
                     f"ancora in alloggio o usciti verso una sistemazione stabile a {months} mesi dall'ingresso.",
                     "share", share(retained, len(cohort)), retained, len(cohort))


def _exits_in_period(session: Session, period: Period) -> list[ExitRecord]:
    return [record for record in _exits(session, period).values() if period.contains(record.exit_date)]


def exits_to_autonomy(session: Session, period: Period) -> Indicator:
    """Share of the period's exits to a permanent destination (HMIS 410/435/411/421/422/423, subentro)."""
    records = _exits_in_period(session, period)
    permanent = [r for r in records if DESTINATION_GROUPS.get(r.destination) == "permanent"]
    return Indicator("exits_to_autonomy", "Uscite verso l'autonomia abitativa",
                     "Quota delle uscite del periodo con destinazione stabile (codici 410, 435, 411, 421, 422, "
                     "423 o subentro nel contratto).", "share", share(len(permanent), len(records)),
                     len(permanent), len(records),
                     details={"subentro": sum(1 for r in permanent if r.destination == "subentro")})


def exits_to_homelessness(session: Session, period: Period) -> Indicator:
    """Share of the period's exits to homelessness or an institution; and how many have no known destination."""
    records = _exits_in_period(session, period)
    groups = [DESTINATION_GROUPS.get(r.destination) for r in records]
    homeless, institutional = groups.count("homeless"), groups.count("institutional")
    unknown = sum(1 for r in records if r.destination in UNKNOWN_DESTINATIONS)
    return Indicator("exits_to_homelessness", "Uscite verso la strada o le istituzioni",
                     "Quota delle uscite del periodo verso la condizione di senza dimora o una struttura "
                     "istituzionale; a parte, le uscite senza destinazione nota (qualità dei dati).",
                     "share", share(homeless + institutional, len(records)), homeless + institutional,
                     len(records), details={"homeless": homeless, "institutional": institutional,
                                            "unknown_destination": unknown,
                                            "unknown_share": share(unknown, len(records))})
