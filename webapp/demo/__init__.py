"""Demo data for `make run`: one user per role (password 'demo') and the demo programme.

The cases in progress, real process instances, are in ``webapp.demo.cases``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casefile import accounts
from casefile.demo import ORGANISATIONS, seed_organisations, seed_programme
from casefile.roles import ROLES
from engine import Actor
from engine.models import ProcessVersion
from webapp.accounts.auth import hash_password

# Which demo organisation each role's demo user works for (domain.md §2).
DEMO_ROLE_ORGS = {
    "assistente_sociale": "comune", "coordinatore": "capofila", "case_manager": "capofila",
    "referente_abitativo": "locatario", "amministrazione": "locatario", "mediatore": "partner",
    "operatore_lavoro": "partner", "equipe": "capofila", "supervisore": "comune",
    "analista": "capofila", "admin": "capofila",
}


def demo_actor(role: str) -> Actor:
    """The demo user of a role (named after it), in its demo organisation."""
    return Actor(role, frozenset({role}), DEMO_ROLE_ORGS[role])


def deployed(session: Session, process_id: str) -> bool:
    """Whether some version of the process is deployed."""
    return bool(session.scalar(select(func.count()).select_from(ProcessVersion)
                               .where(ProcessVersion.process_id == process_id)))


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
