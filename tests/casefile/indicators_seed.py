"""The indicators' known-answer data set, built only through case-file operations.

Six households, reported on the first half of 2026 (PERIOD). The comments give the dates every expected
figure in test_indicators.py is computed from by hand:

  household  org       referral    start       move-in     exit (destination)
  H1         capofila  2025-01-10  2025-01-20  2025-02-15  -
  H2         capofila  2025-03-01  2025-03-05  2025-04-04  2025-09-01 (101 homeless)
  H3         capofila  2025-12-01  2026-01-10  2026-02-09  2026-05-31 (subentro)
  H4         capofila  2026-02-01  2026-02-21  2026-04-21  -
  H5         partner   2025-06-01  2025-06-11  2025-07-01  2026-03-31 (204 institutional)
  H6         capofila  2026-03-01  2026-03-11  -           2026-06-15 (30 no exit interview)
"""

from __future__ import annotations

from datetime import date
from itertools import count
from typing import Any

from sqlalchemy.orm import Session

from casefile.operations import Caller, execute

SYSTEM = Caller.system("test")
PERIOD_START, PERIOD_END = date(2026, 1, 1), date(2026, 6, 30)
_addresses = count(1)


class Seeder:
    """Runs operations as the application (Caller.system) and keeps the ids it made."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def op(self, operation: str, /, **payload: Any) -> dict[str, Any]:
        return execute(self.session, operation, payload, SYSTEM)

    def enrolled(self, name: str, organisation: str, referral: str, start: str) -> int:
        household = self.op("register_household", display_name=name, organisation=organisation, since="2024-01-01",
                            members=[{"first_name": "Capo", "last_name": name, "relationship_to_hoh": 1}])
        referral_id = self.op("register_referral", household_id=household["household_id"], referral_date=referral,
                              source="servizio_sociale_territoriale", referring_org="Comune di Torino",
                              urgency="altro", housing_need_type="emergenza_abitativa")["referral_id"]
        self.op("record_referral_result", referral_id=referral_id, result="accettato", result_date=referral)
        return self.op("open_enrollment", household_id=household["household_id"], referral_id=referral_id,
                       project_start_date=start)["enrollment_id"]

    def lease(self) -> int:
        landlord = self.op("register_landlord", name="Bianchi srl", kind="societa", managed_by="locatario")
        unit = self.op("register_housing_unit", address=f"Via Roma {next(_addresses)}", rooms=2,
                       source="mercato_privato", landlord_id=landlord["landlord_id"])
        return self.op("sign_lease", tenant="locatario", lease_type="4+4", signed_on="2024-12-20",
                       start_date="2025-01-01", first_expiry="2028-12-31", monthly_rent="600.00",
                       service_charges="50.00", rent_due_day=5, deposit="0", unit_id=unit["unit_id"],
                       landlord_id=landlord["landlord_id"])["lease_id"]

    def housed(self, enrollment_id: int, placed_on: str, move_in: str, contribution: str) -> dict[str, int]:
        lease_id = self.lease()
        placement_id = self.op("place_household", enrollment_id=enrollment_id, lease_id=lease_id,
                               start_date=placed_on)["placement_id"]
        agreement_id = self.op("sign_occupancy_agreement", placement_id=placement_id, kind="sublocazione",
                               signed_on=placed_on, start_date=placed_on, monthly_contribution=contribution,
                               contribution_due_day=10, house_rules_ack=True)["agreement_id"]
        self.op("hand_over_keys", placement_id=placement_id, handed_over_on=placed_on, keys_count=2)
        self.op("record_move_in", placement_id=placement_id, move_in_date=move_in)
        return {"lease_id": lease_id, "placement_id": placement_id, "agreement_id": agreement_id}

    def plan(self, enrollment_id: int, drafted_on: str, signed_on: str) -> None:
        plan_id = self.op("draft_plan", enrollment_id=enrollment_id, drafted_on=drafted_on,
                          goals=[{"domain": "abitare", "description": "Mantenere l'alloggio"}])["plan_id"]
        self.op("sign_plan", plan_id=plan_id, signed_on=signed_on, co_signed_by="assistente_sociale")

    def visits(self, enrollment_id: int, *visits: tuple[str, str]) -> None:
        for visit_date, next_due in visits:
            self.op("record_visit", enrollment_id=enrollment_id, visit_date=visit_date, mode="telefonica",
                    risk_level="basso", next_visit_due=next_due)

    def mediation(self, enrollment_id: int, opened_on: str, reported_by: str, conflict_type: str,
                  closed: tuple[str, str] | None = None, safety: bool = False) -> None:
        case_id = self.op("open_mediation_case", enrollment_id=enrollment_id, opened_on=opened_on,
                          reported_by=reported_by, conflict_type=conflict_type, severity="medio",
                          safety_concern=safety)["case_id"]
        if closed is not None:
            self.op("close_mediation_case", case_id=case_id, outcome=closed[0], closed_on=closed[1])

    def exit(self, enrollment_id: int, exit_date: str, destination: str, reason: str, disposition: str) -> None:
        planned = destination == "subentro"
        self.op("record_exit", enrollment_id=enrollment_id, exit_type="programmata" if planned else "non_programmata",
                decision_date=exit_date, exit_date=exit_date, reason=reason,
                project_completion="completato" if planned else "uscita_involontaria", destination=destination,
                lease_disposition=disposition, co_signed_by="assistente_sociale" if planned else None)


def seed(session: Session) -> dict[str, Any]:
    """Build the data set (needs the organisations and the users of tests/casefile/conftest.py)."""
    s = Seeder(session)
    h1 = s.enrolled("H1", "capofila", "2025-01-10", "2025-01-20")
    h2 = s.enrolled("H2", "capofila", "2025-03-01", "2025-03-05")
    h3 = s.enrolled("H3", "capofila", "2025-12-01", "2026-01-10")
    h4 = s.enrolled("H4", "capofila", "2026-02-01", "2026-02-21")
    h5 = s.enrolled("H5", "partner", "2025-06-01", "2025-06-11")
    h6 = s.enrolled("H6", "capofila", "2026-03-01", "2026-03-11")
    homes = {
        "h1": s.housed(h1, "2025-02-15", "2025-02-15", "150.00"),
        "h2": s.housed(h2, "2025-04-04", "2025-04-04", "150.00"),
        "h3": s.housed(h3, "2026-02-09", "2026-02-09", "150.00"),
        "h4": s.housed(h4, "2026-04-15", "2026-04-21", "100.00"),
        "h5": s.housed(h5, "2025-07-01", "2025-07-01", "150.00"),
    }
    # Plans: due (20 working days after the start) 2026-02-06 for H3, 2026-03-20 for H4, 2026-04-08 for H6.
    s.plan(h1, "2025-01-25", "2025-02-01")
    s.plan(h3, "2026-01-20", "2026-02-06")  # on the deadline: in time
    s.plan(h4, "2026-03-01", "2026-03-23")  # one working day late; H6 never signs
    # Visits: due dates in the period 01-05 (met), 02-04 (met), 03-05 (late), 04-09 (missed), 05-02 (met);
    # H3's 06-19 falls after its exit and 07-15 after the period.
    s.visits(h1, ("2025-12-20", "2026-01-05"), ("2026-01-05", "2026-02-04"), ("2026-02-03", "2026-03-05"),
             ("2026-03-10", "2026-04-09"))
    s.visits(h4, ("2026-04-25", "2026-05-02"), ("2026-05-02", "2026-07-15"))
    s.visits(h3, ("2026-05-20", "2026-06-19"))
    # Mediation: one case before the period, three opened in it, one safety referral (not mediation).
    s.mediation(h1, "2025-10-01", "vicino", "rumori", ("risolto", "2025-10-20"))
    s.mediation(h1, "2026-02-01", "vicino", "rumori", ("risolto", "2026-02-21"))  # 20 days
    s.mediation(h1, "2026-03-01", "amministratore_condominio", "spazi_comuni", ("risolto", "2026-03-31"))  # 30
    s.mediation(h4, "2026-05-01", "proprietario", "danni_alloggio", ("trasferimento_alloggio", "2026-06-10"))
    s.mediation(h5, "2026-03-01", "vicino", "conflitti_interni", safety=True)
    # Rent of H1's lease (650 due on the 5th): Dec paid on time, Jan on time, Feb settled 03-01 (24 days
    # late), Mar settled 03-20 (15 days), Apr unpaid at period end (86 days).
    lease = homes["h1"]["lease_id"]
    for period in ("2025-12", "2026-01", "2026-02", "2026-03", "2026-04"):
        s.op("issue_rent_charge", lease_id=lease, period=period)
    for paid_on in ("2025-12-05", "2026-01-05", "2026-03-01", "2026-03-20"):
        s.op("record_rent_payment", lease_id=lease, paid_on=paid_on, amount="650.00")
    # Contributions (due on the 10th): H1 150 x 3 months, one paid; H4 100 x 3 months, none paid.
    for key in ("h1", "h4"):
        for period in ("2026-04", "2026-05", "2026-06"):
            s.op("issue_contribution_charge", agreement_id=homes[key]["agreement_id"], period=period)
    s.op("record_contribution_payment", agreement_id=homes["h1"]["agreement_id"], paid_on="2026-04-10",
         amount="150.00", method="bonifico")
    s.op("agree_repayment_plan", agreement_id=homes["h4"]["agreement_id"], agreed_on="2026-06-20",
         cause="colpevole", instalment="50.00", first_due="2026-07-01")
    s.exit(h2, "2025-09-01", "101", "abbandono_volontario", "riassegnazione")
    s.exit(h3, "2026-05-31", "subentro", "obiettivi_raggiunti", "subentro")
    s.exit(h5, "2026-03-31", "204", "ricovero_struttura", "disdetta")
    s.exit(h6, "2026-06-15", "30", "irreperibile", "nessuna")
    session.flush()
    return {"enrollments": [h1, h2, h3, h4, h5, h6], "homes": homes}


def seed_programme(session: Session) -> dict[str, Any]:
    """The organisations and the co-signing social worker the data set needs, then the data set itself
    (for tests without the case-file fixtures, e.g. the CLI's)."""
    from casefile import accounts
    from tests.casefile.conftest import ORG_ROLES

    for key, (name, kind, programme_roles) in ORG_ROLES.items():
        accounts.ensure_organisation(session, key, name, kind).programme_roles = programme_roles
    session.flush()
    accounts.create_user(session, "assistente_sociale", organisation=accounts.find_organisation(session, "comune"),
                         roles=["assistente_sociale"], password_hash=None)
    return seed(session)
