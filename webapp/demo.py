"""Demo accounts for `make run`: one user per role, password 'demo'."""

from __future__ import annotations

from sqlalchemy.orm import Session

from casefile import accounts
from casefile.roles import ROLES
from webapp.auth import hash_password

DEMO_ORGANISATIONS = {
    "comune": ("Città di Torino – Servizi sociali", "Comune"),
    "capofila": ("Ente capofila PIS 2", "ETS"),
    "locatario": ("Ente titolare dei contratti", "ETS"),
    "partner": ("Ente partner – mediazione e lavoro", "ETS"),
}

# Which demo organisation each role's demo user works for (domain.md §2).
DEMO_ROLE_ORGS = {
    "assistente_sociale": "comune", "coordinatore": "capofila", "case_manager": "capofila",
    "referente_abitativo": "locatario", "amministrazione": "locatario", "mediatore": "partner",
    "operatore_lavoro": "partner", "equipe": "capofila", "supervisore": "comune",
    "analista": "capofila", "admin": "capofila",
}


def seed_demo(session: Session) -> int:
    """Create missing demo organisations and users; returns how many users were new."""
    orgs = {key: accounts.ensure_organisation(session, key, name, kind)
            for key, (name, kind) in DEMO_ORGANISATIONS.items()}
    password = hash_password("demo")
    created = 0
    for role in ROLES:
        if accounts.find_user(session, role) is None:
            accounts.create_user(session, role, organisation=orgs[DEMO_ROLE_ORGS[role]], roles=[role],
                                 password_hash=password, full_name=f"Demo {ROLES[role]}")
            created += 1
    return created
