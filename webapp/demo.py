"""Demo data for `make run`: one user per role (password 'demo'), the demo programme, intake cases."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casefile import accounts
from casefile.demo import ORGANISATIONS, seed_organisations, seed_programme
from casefile.roles import ROLES
from engine import Actor, Engine
from engine.models import HumanTask, ProcessInstance, ProcessVersion
from webapp.auth import hash_password

# Which demo organisation each role's demo user works for (domain.md §2).
DEMO_ROLE_ORGS = {
    "assistente_sociale": "comune", "coordinatore": "capofila", "case_manager": "capofila",
    "referente_abitativo": "locatario", "amministrazione": "locatario", "mediatore": "partner",
    "operatore_lavoro": "partner", "equipe": "capofila", "supervisore": "comune",
    "analista": "capofila", "admin": "capofila",
}


def seed_demo(session: Session, today: date | None = None) -> tuple[int, int]:
    """Create missing demo organisations, users and programme records; returns (new users, new households)."""
    seed_organisations(session)
    orgs = {key: accounts.ensure_organisation(session, key) for key in ORGANISATIONS}
    password = hash_password("demo")
    created = 0
    for role in ROLES:
        if accounts.find_user(session, role) is None:
            accounts.create_user(session, role, organisation=orgs[DEMO_ROLE_ORGS[role]], roles=[role],
                                 password_hash=password, full_name=f"Demo {ROLES[role]}")
            created += 1
    households = seed_programme(session, today or datetime.now(UTC).date())
    return created, households


DEMO_REFERRALS = [
    {"household_name": "Famiglia Rossi", "referring_org": "Polo di Inclusione Sociale Nord",
     "referring_worker": "Dott.ssa Bianchi", "referral_source": "servizio_sociale_territoriale"},
    {"household_name": "Sig. Haddad e figli", "referring_org": "Servizio Adulti in Difficoltà",
     "referring_worker": "Dott. Ferrero", "referral_source": "sad"},
    {"household_name": "Famiglia Ionescu", "referring_org": "Lo.C.A.Re.",
     "referring_worker": "Sig.ra Gallo", "referral_source": "locare"},
]


def seed_demo_cases(session: Session, engine: Engine) -> int:
    """A few intake cases at different steps, so each demo role has something to do (once only)."""
    deployed = session.scalar(select(func.count()).select_from(ProcessVersion)
                              .where(ProcessVersion.process_id == "intake"))
    started = session.scalar(select(func.count()).select_from(ProcessInstance))
    if not deployed or started:
        return 0
    coordinator = Actor("coordinatore", frozenset({"coordinatore"}), "capofila")
    today = engine.clock_now().date().isoformat()
    for steps, referral in enumerate(DEMO_REFERRALS):
        instance = engine.start(session, "intake", {}, coordinator)
        answers = [
            {**referral, "referral_date": today, "urgency": "altro", "housing_need_type": "emergenza_abitativa"},
            {"ack_date": today},
        ]
        for data in answers[:steps]:
            task = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                           HumanTask.status == "ready")).one()
            engine.complete_task(session, task.id, data, coordinator)
    return len(DEMO_REFERRALS)
