"""Operations on organisations and user accounts (password hashing is the caller's job)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile.models import Organisation, User, UserRole
from casefile.roles import ROLES


class AccountError(ValueError):
    """A request about accounts that cannot be honoured; ``field`` names the culprit."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def ensure_organisation(session: Session, key: str, name: str | None = None, kind: str = "ETS") -> Organisation:
    """The organisation with ``key``, created when missing."""
    org = session.scalars(select(Organisation).where(Organisation.key == key)).first()
    if org is None:
        org = Organisation(key=key, name=name or key, kind=kind)
        session.add(org)
        session.flush()
    return org


def find_user(session: Session, username: str) -> User | None:
    """A user by username."""
    return session.scalars(select(User).where(User.username == username)).first()


def create_user(session: Session, username: str, *, organisation: Organisation, roles: list[str],
                password_hash: str | None, full_name: str | None = None) -> User:
    """Create an account; unknown roles and taken usernames are refused."""
    if not username or not username.strip():
        raise AccountError("username is required", "username")
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise AccountError(f"unknown role(s): {', '.join(unknown)}; known: {', '.join(ROLES)}", "role")
    if find_user(session, username) is not None:
        raise AccountError(f"user '{username}' already exists", "username")
    user = User(username=username, organisation=organisation, password_hash=password_hash,
                full_name=full_name, role_grants=[UserRole(role=r) for r in sorted(set(roles))])
    session.add(user)
    session.flush()
    return user
