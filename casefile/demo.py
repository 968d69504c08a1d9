"""A believable small programme for `make run`: partners, flats, leases and households at every stage.

Everything is written through the named operations, so the demo obeys the same rules as real data
and each household gets a timeline. Dates are relative to ``today`` so the demo always looks current.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casefile import accounts
from casefile.models import FollowUp, Household
from casefile.operations import Caller, execute

ORGANISATIONS = {
    "comune": ("Città di Torino – Servizi sociali", "Comune", ["referrer", "funder"]),
    "capofila": ("Ente capofila PIS 2", "ETS", ["capofila", "partner"]),
    "locatario": ("Ente titolare dei contratti", "ETS", ["partner", "lease_holder"]),
    "partner": ("Ente partner – mediazione e lavoro", "ETS", ["partner", "mediation", "work_inclusion"]),
}

SEED = Caller.system("demo")


def seed_organisations(session: Session) -> None:
    """The four demo partners with their programme roles."""
    for key, (name, kind, roles) in ORGANISATIONS.items():
        org = accounts.ensure_organisation(session, key, name, kind)
        org.programme_roles = roles
    session.flush()


@dataclass
class Seeder:
    """Runs operations for the demo and remembers what it made."""

    session: Session
    today: date

    def run(self, operation: str, /, **payload: Any) -> dict[str, Any]:
        return execute(self.session, operation, _iso(payload), SEED)

    def ago(self, days: int) -> date:
        return self.today - timedelta(days=days)

    def month(self, months_back: int) -> str:
        """"YYYY-MM" of the month ``months_back`` before today's."""
        index = self.today.year * 12 + self.today.month - 1 - months_back
        return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _iso(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value


def seed_programme(session: Session, today: date) -> int:
    """Seed households at every stage once; returns how many were made (0 when some already exist)."""
    seed_organisations(session)
    if session.scalar(select(func.count()).select_from(Household)):
        return 0
    s = Seeder(session, today)
    stock = _housing_stock(s)
    stages: list[Callable[[Seeder, dict[str, int]], None]] = [
        _referral_waiting, _not_eligible, _waiting_for_housing, _housed_with_arrears, _housed_with_mediation,
        _exited_with_follow_up]
    for stage in stages:
        stage(s, stock)
    return len(stages)


def _housing_stock(s: Seeder) -> dict[str, int]:
    landlord = s.run("register_landlord", name="Immobiliare Po S.r.l.", kind="societa", tax_code=None,
                     contact="Ufficio locazioni, tel. 011 000 0000", managed_by="locatario")["landlord_id"]
    private = s.run("register_landlord", name="Sig.ra Franca Gallo", kind="persona", tax_code=None,
                    contact="Contatto tramite referente abitativo", managed_by="locatario")["landlord_id"]
    units = {}
    for key, address, rooms, source, owner in [
        ("aurora", "Via Cigna 12, Torino", 3, "co_progettazione", landlord),
        ("barriera", "Corso Vercelli 140, Torino", 2, "locare", landlord),
        ("vanchiglia", "Via Buniva 5, Torino", 2, "mercato_privato", private),
        ("mirafiori", "Via Onorato Vigliani 30, Torino", 4, "co_progettazione", landlord),
    ]:
        units[key] = s.run("register_housing_unit", address=address, circoscrizione="7", rooms=rooms, source=source,
                           landlord_id=owner, lift=True, furnished=True, availability_date=s.ago(400))["unit_id"]
    leases = {}
    for key, lease_type, years, rent in [("aurora", "4+4", 4, "620.00"), ("barriera", "3+2", 3, "480.00"),
                                         ("vanchiglia", "4+4", 4, "550.00")]:
        unit_landlord = private if key == "vanchiglia" else landlord
        start = s.ago(380)
        lease = s.run("sign_lease", unit_id=units[key], landlord_id=unit_landlord, tenant="locatario",
                      lease_type=lease_type, signed_on=start, start_date=start,
                      first_expiry=start.replace(year=start.year + years), notice_period_months=6, monthly_rent=rent,
                      service_charges="40.00", rent_due_day=5, deposit=rent, sublet_clause=True, cedolare_secca=False)
        leases[key] = lease["lease_id"]
        s.run("register_lease", lease_id=leases[key], registration_date=start + timedelta(days=20),
              registration_code=f"RLI-{leases[key]:05d}")
    return {**{f"unit_{k}": v for k, v in units.items()}, **{f"lease_{k}": v for k, v in leases.items()}}


def _household(s: Seeder, name: str, since: date, members: list[dict[str, Any]]) -> int:
    return int(s.run("register_household", display_name=name, organisation="capofila", since=since,
                     members=members)["household_id"])


def _referral(s: Seeder, household_id: int, day: date, source: str, result: str | None = None) -> int:
    referral = s.run("register_referral", household_id=household_id, referral_date=day, source=source,
                     referring_org="Polo di Inclusione Sociale Nord", referring_worker="Dott.ssa Bianchi",
                     urgency="sfratto_esecutivo", housing_need_type="emergenza_abitativa")["referral_id"]
    s.run("acknowledge_referral", referral_id=referral, ack_date=day + timedelta(days=2))
    if result:
        s.run("record_referral_result", referral_id=referral, result=result, result_date=day + timedelta(days=20),
              reason=None if result == "accettato" else "Requisiti ISEE non soddisfatti")
    return int(referral)


def _enrol(s: Seeder, household_id: int, referral_id: int, start: date) -> int:
    enrollment = s.run("open_enrollment", household_id=household_id, referral_id=referral_id,
                       project_start_date=start, team=[{"username": "case_manager", "role": "case_manager"},
                                                       {"username": "assistente_sociale",
                                                        "role": "assistente_sociale"}])["enrollment_id"]
    s.run("record_assessment", enrollment_id=enrollment, kind="preliminare", assessment_date=start,
          assessor="case_manager", scores={"abitare": 1, "reddito": 2, "lavoro": 2, "relazioni": 3},
          strengths="Forte motivazione, rete familiare presente", risks="Reddito discontinuo")
    plan = s.run("draft_plan", enrollment_id=enrollment, drafted_on=start + timedelta(days=5),
                 summary="Stabilità abitativa e lavoro", household_contribution="150.00",
                 goals=[{"domain": "abitare", "description": "Mantenere l'alloggio e gestire le utenze",
                         "indicator": "Contributo versato ogni mese", "target_date": start + timedelta(days=365),
                         "actions": [{"kind": "sostegno", "description": "Educativa domiciliare settimanale",
                                      "responsible_role": "case_manager", "frequency": "settimanale"}]},
                        {"domain": "lavoro", "description": "Tirocinio di inclusione",
                         "indicator": "Tirocinio avviato", "target_date": start + timedelta(days=180),
                         "actions": [{"kind": "impegno", "description": "Iscrizione al Centro per l'Impiego",
                                      "responsible_role": None, "frequency": None}]}])["plan_id"]
    s.run("sign_plan", plan_id=plan, signed_on=start + timedelta(days=12), co_signed_by="assistente_sociale")
    return int(enrollment)


def _house(s: Seeder, enrollment_id: int, lease_id: int, move_in: date, contribution: str) -> dict[str, int]:
    placement = s.run("place_household", enrollment_id=enrollment_id, lease_id=lease_id,
                      start_date=move_in - timedelta(days=3))["placement_id"]
    agreement = s.run("sign_occupancy_agreement", placement_id=placement, kind="ospitalita",
                      signed_on=move_in - timedelta(days=3), start_date=move_in - timedelta(days=3),
                      monthly_contribution=contribution, contribution_due_day=10, house_rules_ack=True)["agreement_id"]
    s.run("hand_over_keys", placement_id=placement, handed_over_on=move_in - timedelta(days=1), keys_count=2)
    s.run("record_move_in", placement_id=placement, move_in_date=move_in)
    return {"placement": int(placement), "agreement": int(agreement)}


def _referral_waiting(s: Seeder, stock: dict[str, int]) -> None:
    household = _household(s, "Famiglia Conti", s.ago(6), [
        {"first_name": "Giulia", "last_name": "Conti", "relationship_to_hoh": 1, "birth_date": date(1988, 4, 2)},
        {"first_name": "Marco", "last_name": "Conti", "relationship_to_hoh": 2, "birth_date": date(2016, 9, 1)}])
    _referral(s, household, s.ago(6), "servizio_sociale_territoriale")


def _not_eligible(s: Seeder, stock: dict[str, int]) -> None:
    household = _household(s, "Sig. Bianchi", s.ago(70), [
        {"first_name": "Paolo", "last_name": "Bianchi", "relationship_to_hoh": 1, "birth_date": date(1961, 2, 14)}])
    _referral(s, household, s.ago(70), "autosegnalazione", result="non_idoneo")


def _waiting_for_housing(s: Seeder, stock: dict[str, int]) -> None:
    household = _household(s, "Sig.ra Amadi", s.ago(45), [
        {"first_name": "Grace", "last_name": "Amadi", "relationship_to_hoh": 1, "birth_date": date(1992, 7, 21),
         "citizenship": "Nigeria", "permit_type": "Permesso per protezione speciale",
         "permit_expiry": s.ago(-300)}])
    referral = _referral(s, household, s.ago(45), "sad", result="accettato")
    _enrol(s, household, referral, s.ago(20))


def _housed_with_arrears(s: Seeder, stock: dict[str, int]) -> None:
    household = _household(s, "Famiglia Rossi", s.ago(240), [
        {"first_name": "Mario", "last_name": "Rossi", "codice_fiscale": "RSSMRA80A01L219M",
         "relationship_to_hoh": 1, "birth_date": date(1980, 1, 1)},
        {"first_name": "Lucia", "last_name": "Rossi", "relationship_to_hoh": 3, "birth_date": date(1983, 6, 12)},
        {"first_name": "Luca", "last_name": "Rossi", "relationship_to_hoh": 2, "birth_date": date(2015, 5, 10)}])
    referral = _referral(s, household, s.ago(240), "servizio_sociale_territoriale", result="accettato")
    enrollment = _enrol(s, household, referral, s.ago(210))
    housed = _house(s, enrollment, stock["lease_aurora"], s.ago(150), "150.00")
    for back in range(5, 0, -1):
        period = s.month(back)
        s.run("issue_rent_charge", lease_id=stock["lease_aurora"], period=period)
        s.run("record_rent_payment", lease_id=stock["lease_aurora"], paid_on=date.fromisoformat(period + "-04"),
              amount="660.00", reference=f"Bonifico {period}")
        s.run("issue_contribution_charge", agreement_id=housed["agreement"], period=period)
        if back > 2:  # the last two months went unpaid, and one was paid in part
            s.run("record_contribution_payment", agreement_id=housed["agreement"],
                  paid_on=date.fromisoformat(period + "-09"), amount="150.00", method="bonifico")
    s.run("record_contribution_payment", agreement_id=housed["agreement"], paid_on=s.ago(3), amount="60.00",
          method="contanti")
    for weeks in (20, 18, 16, 14, 12, 8, 4):
        s.run("record_visit", enrollment_id=enrollment, placement_id=housed["placement"], visit_date=s.ago(weeks * 7),
              mode="domiciliare", housing_condition="buono", risk_level="medio", checklist={"utenze": True},
              issues=None, wellbeing_notes="Il nucleo si sta ambientando")
    s.run("record_support_activity", enrollment_id=enrollment, activity_date=s.ago(30), kind="gestione_budget",
          duration_min=90, notes="Piano delle spese mensili")
    members = s.session.scalars(select(Household).where(Household.id == household)).one().memberships
    s.run("record_work_activity", enrollment_id=enrollment, person_id=members[0].person_id,
          kind="tirocinio_inclusione", provider="Cooperativa Il Ponte", start_date=s.ago(60), end_date=None,
          hours_per_week=20, outcome="in_corso")


def _housed_with_mediation(s: Seeder, stock: dict[str, int]) -> None:
    household = _household(s, "Sig. Haddad e figli", s.ago(120), [
        {"first_name": "Karim", "last_name": "Haddad", "relationship_to_hoh": 1, "birth_date": date(1979, 3, 30),
         "citizenship": "Marocco"},
        {"first_name": "Sara", "last_name": "Haddad", "relationship_to_hoh": 2, "birth_date": date(2012, 11, 3)}])
    referral = _referral(s, household, s.ago(120), "sad", result="accettato")
    enrollment = _enrol(s, household, referral, s.ago(100))
    housed = _house(s, enrollment, stock["lease_barriera"], s.ago(60), "120.00")
    s.run("record_visit", enrollment_id=enrollment, placement_id=housed["placement"], visit_date=s.ago(9),
          mode="domiciliare", housing_condition="discreto", risk_level="alto", checklist={"rumori": False},
          issues="Lamentele dei vicini per rumori serali", wellbeing_notes=None)
    case = s.run("open_mediation_case", enrollment_id=enrollment, placement_id=housed["placement"],
                 opened_on=s.ago(8), reported_by="amministratore_condominio", channel="telefono",
                 conflict_type="rumori", severity="medio", safety_concern=False)["case_id"]
    s.run("record_mediation_session", case_id=case, kind="individuale", session_date=s.ago(5), party_role="nucleo",
          attendees_roles=["nucleo", "mediatore"], summary="Disponibilità a concordare orari")


def _exited_with_follow_up(s: Seeder, stock: dict[str, int]) -> None:
    household = _household(s, "Famiglia Ionescu", s.ago(700), [
        {"first_name": "Ana", "last_name": "Ionescu", "relationship_to_hoh": 1, "birth_date": date(1985, 8, 19),
         "citizenship": "Romania"},
        {"first_name": "Mihai", "last_name": "Ionescu", "relationship_to_hoh": 3, "birth_date": date(1984, 1, 5)}])
    referral = _referral(s, household, s.ago(700), "locare", result="accettato")
    enrollment = _enrol(s, household, referral, s.ago(680))
    _house(s, enrollment, stock["lease_vanchiglia"], s.ago(370), "200.00")
    exit_day = s.ago(120)
    exit_record = s.run("record_exit", enrollment_id=enrollment, exit_type="programmata", decision_date=s.ago(150),
                        exit_date=exit_day, reason="obiettivi_raggiunti", project_completion="completato",
                        destination="subentro", subsidy_type=None, housing_at_exit="mantiene_alloggio_progetto",
                        employment_status_at_exit="occupato_ft", lease_disposition="subentro",
                        co_signed_by="assistente_sociale")["exit_id"]
    s.run("record_handover", exit_id=exit_record, handover_date=exit_day + timedelta(days=10),
          handover_notes="Passaggio al Polo Nord per il monitoraggio leggero")
    first = s.session.scalars(select(FollowUp).where(FollowUp.exit_id == exit_record)
                              .order_by(FollowUp.due_date)).first()
    if first is not None and first.due_date <= s.today:
        s.run("record_follow_up", follow_up_id=first.id, done_date=first.due_date, reached=True,
              living_situation="subentro", still_housed=True, returned_to_services=False, notes="Tutto bene")
