"""Operations on organisations and user accounts (password hashing is the caller's job).

Every function takes the SQLAlchemy session (or the rows) it works on and only flushes; the caller
commits. Refusals raise :class:`AccountError` with the field at fault and a stable ``code`` that the
web app turns into an Italian message and the command line prints as is.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from casefile.codes import PROGRAMME_ROLES
from casefile.models import ApiToken, Organisation, User, UserRole
from casefile.roles import ROLES

# domain.md §4: Organisation.type.
ORGANISATION_KINDS = ("Comune", "ETS", "CPI", "ASL")
MIN_PASSWORD_LENGTH = 10
MAX_TOKEN_DAYS = 3650
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{1,149}")
ORGANISATION_KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{1,99}")


class AccountError(ValueError):
    """A request about accounts that cannot be honoured; ``field`` names the culprit, ``code`` the rule."""

    def __init__(self, message: str, field: str, code: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.code = code or f"invalid_{field}"


# --- organisations ------------------------------------------------------------------------------


def ensure_organisation(session: Session, key: str, name: str | None = None, kind: str = "ETS") -> Organisation:
    """The organisation with ``key``, created when missing."""
    org = find_organisation(session, key)
    if org is None:
        org = Organisation(key=key, name=name or key, kind=kind)
        session.add(org)
        session.flush()
    return org


def find_organisation(session: Session, key: str) -> Organisation | None:
    """An organisation by key."""
    return session.scalars(select(Organisation).where(Organisation.key == key)).first()


def list_organisations(session: Session) -> Sequence[Organisation]:
    """Every organisation, by name."""
    return session.scalars(select(Organisation).order_by(Organisation.name, Organisation.key)).all()


def create_organisation(session: Session, key: str, *, name: str, kind: str,
                        programme_roles: Sequence[str]) -> Organisation:
    """A new organisation; the key is permanent (users and records refer to it)."""
    key = (key or "").strip()
    if not ORGANISATION_KEY_PATTERN.fullmatch(key):
        raise AccountError("the key takes 2 to 100 lowercase letters, digits, '-' or '_'", "key", "org_key_invalid")
    if find_organisation(session, key) is not None:
        raise AccountError(f"organisation '{key}' already exists", "key", "org_key_taken")
    org = Organisation(key=key, name="", kind=kind)
    update_organisation(org, name=name, kind=kind, programme_roles=programme_roles)
    session.add(org)
    session.flush()
    return org


def update_organisation(org: Organisation, *, name: str, kind: str, programme_roles: Sequence[str]) -> dict[
        str, dict[str, object]]:
    """Change name, kind and programme roles; returns what changed ({field: {"old", "new"}})."""
    name = (name or "").strip()
    if not name or len(name) > 300:
        raise AccountError("a name of 1 to 300 characters is required", "name", "org_name_required")
    if kind not in ORGANISATION_KINDS:
        raise AccountError(f"unknown kind '{kind}'; known: {', '.join(ORGANISATION_KINDS)}", "kind",
                           "org_kind_unknown")
    unknown = sorted(set(programme_roles) - set(PROGRAMME_ROLES))
    if unknown:
        raise AccountError(f"unknown programme role(s): {', '.join(unknown)}; known: {', '.join(PROGRAMME_ROLES)}",
                           "programme_roles", "programme_role_unknown")
    wanted = [role for role in PROGRAMME_ROLES if role in set(programme_roles)]
    changes = _changes(org, {"name": name, "kind": kind, "programme_roles": wanted})
    org.name, org.kind, org.programme_roles = name, kind, wanted
    return changes


# --- users --------------------------------------------------------------------------------------


def find_user(session: Session, username: str) -> User | None:
    """A user by username."""
    return session.scalars(select(User).where(User.username == username)).first()


def create_user(session: Session, username: str, *, organisation: Organisation, roles: Sequence[str],
                password_hash: str | None, full_name: str | None = None) -> User:
    """Create an account; malformed or taken usernames and unknown roles are refused."""
    username = (username or "").strip()
    problems = new_user_problems(session, username, roles, full_name)
    if problems:
        raise problems[0]
    user = User(username=username, organisation=organisation, password_hash=password_hash,
                full_name=_full_name(full_name), role_grants=[UserRole(role=r) for r in sorted(set(roles))])
    session.add(user)
    session.flush()
    return user


def new_user_problems(session: Session, username: str, roles: Sequence[str],
                      full_name: str | None) -> list[AccountError]:
    """Everything wrong with a would-be account, one error per field (so a form can show them all)."""
    problems = []
    username = (username or "").strip()
    if not username:
        problems.append(AccountError("username is required", "username", "username_required"))
    elif not USERNAME_PATTERN.fullmatch(username):
        problems.append(AccountError("a username takes 2 to 150 letters, digits, '.', '_', '-' or '@'", "username",
                                     "username_invalid"))
    elif find_user(session, username) is not None:
        problems.append(AccountError(f"user '{username}' already exists", "username", "username_taken"))
    for check in (lambda: _check_roles(roles), lambda: _full_name(full_name)):
        try:
            check()
        except AccountError as exc:
            problems.append(exc)
    return problems


def update_user(session: Session, user: User, *, full_name: str | None, roles: Sequence[str],
                acting_username: str | None) -> dict[str, dict[str, object]]:
    """Change full name and roles; returns what changed. An admin cannot drop their own admin role."""
    _check_roles(roles)
    wanted = set(roles)
    if "admin" in user.roles and "admin" not in wanted:
        if user.username == acting_username:
            raise AccountError("you cannot remove your own admin role", "role", "own_admin_role")
        _keep_an_admin(session, user)
    changes = _changes(user, {"full_name": _full_name(full_name)})
    if wanted != set(user.roles):
        changes["roles"] = {"old": sorted(user.roles), "new": sorted(wanted)}
    user.full_name = _full_name(full_name)
    user.role_grants = [grant for grant in user.role_grants if grant.role in wanted] + [
        UserRole(role=role) for role in sorted(wanted - user.roles)]
    session.flush()
    return changes


def set_active(session: Session, user: User, active: bool, *, acting_username: str | None) -> None:
    """Deactivate (the user can no longer log in or use tokens) or reactivate an account."""
    if not active and user.username == acting_username:
        raise AccountError("you cannot deactivate your own account", "active", "own_account")
    if not active and "admin" in user.roles:
        _keep_an_admin(session, user)
    user.active = active
    session.flush()


def search_users(*, text: str | None = None, organisation_key: str | None = None, role: str | None = None,
                 status: str | None = None, now: datetime | None = None) -> Select[tuple[User]]:
    """Users matching the filters (status: active, inactive or locked), by username."""
    query = select(User).join(User.organisation).order_by(User.username)
    if text:
        pattern = f"%{text.strip().lower()}%"
        query = query.where(or_(func.lower(User.username).like(pattern), func.lower(User.full_name).like(pattern)))
    if organisation_key:
        query = query.where(Organisation.key == organisation_key)
    if role:
        query = query.where(User.role_grants.any(UserRole.role == role))
    if status == "active":
        query = query.where(User.active.is_(True))
    elif status == "inactive":
        query = query.where(User.active.is_(False))
    elif status == "locked" and now is not None:
        query = query.where(User.locked_until > now)
    return query


def _check_roles(roles: Sequence[str]) -> None:
    if not roles:
        raise AccountError("at least one role is required", "role", "role_required")
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise AccountError(f"unknown role(s): {', '.join(unknown)}; known: {', '.join(ROLES)}", "role",
                           "role_unknown")


def _keep_an_admin(session: Session, leaving: User) -> None:
    # Without one active admin nobody could manage accounts from the UI any more.
    others = session.scalar(select(func.count()).select_from(User).where(
        User.id != leaving.id, User.active.is_(True), User.role_grants.any(UserRole.role == "admin")))
    if not others:
        raise AccountError("the last active admin must stay an active admin", "role", "last_admin")


def _full_name(value: str | None) -> str | None:
    value = (value or "").strip()
    if len(value) > 300:
        raise AccountError("the full name takes at most 300 characters", "full_name", "full_name_too_long")
    return value or None


def _changes(row: object, wanted: dict[str, object]) -> dict[str, dict[str, object]]:
    return {field: {"old": getattr(row, field), "new": value}
            for field, value in wanted.items() if getattr(row, field) != value}


# --- passwords and logins -----------------------------------------------------------------------


def check_new_password(username: str, password: str, repeated: str | None = None) -> None:
    """Refuse a password that is too short, equals the username, or was not typed the same twice."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters", "new_password",
                           "password_too_short")
    if password.strip().lower() == username.strip().lower():
        raise AccountError("the password cannot be the username", "new_password", "password_is_username")
    if repeated is not None and repeated != password:
        raise AccountError("the two passwords differ", "new_password_repeat", "password_mismatch")


def set_password(user: User, password_hash: str, now: datetime) -> None:
    """Store a new password hash; a fresh password also lifts a lockout."""
    user.password_hash = password_hash
    user.password_changed_at = now
    user.failed_logins = 0
    user.locked_until = None


@dataclass(frozen=True)
class LoginPolicy:
    """After ``max_failures`` wrong passwords in a row the account is locked for ``lock_for``."""

    max_failures: int = 5
    lock_for: timedelta = timedelta(minutes=15)


def is_locked(user: User, now: datetime) -> bool:
    """Whether repeated failures keep the account locked at ``now``."""
    return user.locked_until is not None and _aware(user.locked_until) > now


def record_login_failure(user: User, now: datetime, policy: LoginPolicy) -> bool:
    """Count a wrong password; returns True when this failure locks the account."""
    if user.locked_until is not None and _aware(user.locked_until) <= now:
        user.failed_logins, user.locked_until = 0, None  # the previous lock has run out: count afresh
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= policy.max_failures:
        user.locked_until = now + policy.lock_for
        return True
    return False


def record_login_success(user: User) -> None:
    """A correct password resets the failure count."""
    user.failed_logins = 0
    user.locked_until = None


def unlock(user: User) -> bool:
    """Lift a lockout by hand; returns whether there was anything to lift."""
    had_lock = user.locked_until is not None or bool(user.failed_logins)
    user.failed_logins = 0
    user.locked_until = None
    return had_lock


# --- personal access tokens ---------------------------------------------------------------------

TOKEN_PREFIX = "pis2_"  # noqa: S105 (a public marker, not a secret)


def token_digest(token: str) -> str:
    """What is stored of a token: its SHA-256 (tokens are long random strings, so no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_expiry(now: datetime, days: int | None) -> datetime | None:
    """When a token made ``now`` to last ``days`` expires (None: never)."""
    if days is None:
        return None
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise AccountError(f"a token lasts 1 to {MAX_TOKEN_DAYS} days", "expires_days", "token_days")
    return now + timedelta(days=days)


def create_api_token(session: Session, user: User, name: str, *, expires_at: datetime | None = None) -> tuple[
        ApiToken, str]:
    """A new personal access token: the row, and the token itself, which is shown once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise AccountError("a token needs a name of 1 to 100 characters", "name", "token_name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user=user, user_id=user.id, name=name, token_hash=token_digest(token),
                   prefix=token[:len(TOKEN_PREFIX) + 4], expires_at=expires_at)
    session.add(row)
    session.flush()
    return row, token


def tokens_of(session: Session, user: User) -> Sequence[ApiToken]:
    """A user's tokens, newest first, revoked and expired ones included."""
    return session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                           .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()


# When a token was last used, to the minute: enough to tell a token in use from a forgotten one, and
# writing it on every request would turn every API read into a write transaction.
TOKEN_USE_PRECISION = timedelta(minutes=1)


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    """The active user a valid (not revoked, not expired) token belongs to; records its use."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    # One query for the token, its user, organisation and roles: it runs before every API request.
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_digest(token))
                          .options(joinedload(ApiToken.user).joinedload(User.role_grants))).unique().one_or_none()
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    if row.expires_at is not None and _aware(row.expires_at) <= now:
        return None
    if row.last_used_at is None or now - _aware(row.last_used_at) >= TOKEN_USE_PRECISION:
        row.last_used_at = now
    return row.user


def revoke_api_token(session: Session, user: User, token_id: int, now: datetime) -> ApiToken:
    """Revoke one of the user's own tokens."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise AccountError(f"no token {token_id} of {user.username}", "token_id", "token_unknown")
    if row.revoked_at is None:
        row.revoked_at = now
    session.flush()
    return row


def token_state(row: ApiToken, now: datetime) -> str:
    """active, expired or revoked."""
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and _aware(row.expires_at) <= now:
        return "expired"
    return "active"


def _aware(moment: datetime) -> datetime:
    # SQLite gives naive datetimes back even for timezone-aware columns; they were stored as UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
