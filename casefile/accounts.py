"""Operations on organisations and user accounts (password hashing is the caller's job)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile.models import ApiToken, Organisation, User, UserRole
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


TOKEN_PREFIX = "pis2_"  # noqa: S105 (a public marker, not a secret)


def token_digest(token: str) -> str:
    """What is stored of a token: its SHA-256 (tokens are long random strings, so no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(session: Session, user: User, name: str, *, expires_at: datetime | None = None) -> tuple[
        ApiToken, str]:
    """A new personal access token: the row, and the token itself, which is shown once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise AccountError("a token needs a name of 1 to 100 characters", "name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user=user, user_id=user.id, name=name, token_hash=token_digest(token),
                   prefix=token[:len(TOKEN_PREFIX) + 4], expires_at=expires_at)
    session.add(row)
    session.flush()
    return row, token


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    """The active user a valid (not revoked, not expired) token belongs to; records its use."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    if row.expires_at is not None and _aware(row.expires_at) <= now:
        return None
    row.last_used_at = now
    return row.user


def revoke_api_token(session: Session, user: User, token_id: int, now: datetime) -> ApiToken:
    """Revoke one of the user's own tokens."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise AccountError(f"no token {token_id} of {user.username}", "token_id")
    if row.revoked_at is None:
        row.revoked_at = now
    session.flush()
    return row


def _aware(moment: datetime) -> datetime:
    # SQLite gives naive datetimes back even for timezone-aware columns; they were stored as UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
