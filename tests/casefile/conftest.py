"""Case-file fixtures: a small programme (organisations, one user per role) and operation runners."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from casefile import accounts
from casefile.models import Organisation, User
from casefile.operations import Caller, execute
from casefile.roles import ROLES

# Organisation of each role's test user, as in the demo programme (domain.md §2).
ROLE_ORGS = {
    "assistente_sociale": "comune", "coordinatore": "capofila", "case_manager": "capofila",
    "referente_abitativo": "locatario", "amministrazione": "locatario", "mediatore": "partner",
    "operatore_lavoro": "partner", "equipe": "capofila", "supervisore": "comune",
    "analista": "capofila", "admin": "capofila",
}
ORG_ROLES = {
    "comune": ("Città di Torino", "Comune", ["referrer", "funder"]),
    "capofila": ("Ente capofila", "ETS", ["capofila", "partner"]),
    "locatario": ("Ente titolare dei contratti", "ETS", ["partner", "lease_holder"]),
    "partner": ("Ente partner", "ETS", ["partner", "mediation", "work_inclusion"]),
    "altro": ("Altro ente", "ETS", ["partner"]),
}

# A process instance acting (BPMN service task): the model's lanes already decided who acts.
PROCESS = Caller("system", process_id="intake", instance_id=1)


@pytest.fixture
def orgs(session: Session) -> dict[str, Organisation]:
    made = {}
    for key, (name, kind, programme_roles) in ORG_ROLES.items():
        org = accounts.ensure_organisation(session, key, name, kind)
        org.programme_roles = programme_roles
        made[key] = org
    session.flush()
    return made


@pytest.fixture
def users(session: Session, orgs: dict[str, Organisation]) -> dict[str, User]:
    """One user per role, named after the role ("case_manager"…)."""
    return {role: accounts.create_user(session, role, organisation=orgs[ROLE_ORGS[role]], roles=[role],
                                       password_hash=None)
            for role in ROLES}


def caller_for(user: User) -> Caller:
    return Caller(user.username, user.roles, user.organisation.key)


@pytest.fixture
def callers(users: dict[str, User]) -> dict[str, Caller]:
    return {role: caller_for(user) for role, user in users.items()}


@pytest.fixture
def run(session: Session) -> Callable[..., dict[str, Any]]:
    """run(name, payload, caller=PROCESS): execute one operation."""

    def _run(name: str, payload: dict[str, Any], caller: Caller = PROCESS) -> dict[str, Any]:
        return execute(session, name, payload, caller)

    return _run


MARIO = {"first_name": "Mario", "last_name": "Rossi", "codice_fiscale": "RSSMRA80A01L219M",
         "birth_date": "1980-01-01", "relationship_to_hoh": 1}
CHILD = {"first_name": "Luca", "last_name": "Rossi", "birth_date": "2015-05-10", "relationship_to_hoh": 2}


@pytest.fixture
def household(run: Callable[..., dict[str, Any]], orgs: dict[str, Organisation]) -> dict[str, Any]:
    """A two-person household managed by the lead partner."""
    return run("register_household", {"display_name": "Famiglia Rossi", "organisation": "capofila",
                                      "since": date(2026, 1, 10).isoformat(), "members": [MARIO, CHILD]})
