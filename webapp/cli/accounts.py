"""``pis2 users`` and ``pis2 orgs``: staff accounts, their tokens, and the programme's organisations.

Each change is appended to the audit trail (actor ``cli``), where the admin journal page lists it.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click
from flask.cli import AppGroup

from casefile import accounts
from casefile.codes import PROGRAMME_ROLES
from casefile.models import User
from webapp.accounts.journal import record_account_event
from webapp.cli.support import current_engine, emit, fail, json_option
from webapp.extensions import db

ACTOR = "cli"


def _refuse(as_json: bool, exc: accounts.AccountError) -> NoReturn:
    db.session.rollback()
    fail(as_json, exc.code, str(exc), {"field": exc.field})
    raise AssertionError  # fail() exits


def _user(as_json: bool, username: str) -> User:
    user = accounts.find_user(db.session, username)
    if user is None:
        fail(as_json, "user_not_found", f"no user '{username}'")
    return user  # type: ignore[return-value]


def _read_password(as_json: bool, username: str) -> str:
    # From standard input only: a password on the command line would end up in the shell history.
    password = sys.stdin.readline().rstrip("\n")
    try:
        accounts.check_new_password(username, password)
    except accounts.AccountError as exc:
        _refuse(as_json, exc)
    return password


def user_row(user: User) -> dict[str, Any]:
    """What `users list` prints of a user."""
    now = current_engine().clock_now()
    return {"username": user.username, "full_name": user.full_name, "organisation": user.organisation.key,
            "roles": sorted(user.roles), "active": user.active, "locked": accounts.is_locked(user, now),
            "locked_until": user.locked_until, "failed_logins": user.failed_logins or 0}


# --- users --------------------------------------------------------------------------------------


@click.group("users", cls=AppGroup)
def users_group() -> None:
    """Staff accounts."""


@users_group.command("create")
@click.argument("username")
@click.option("--org", required=True, help="Organisation key (created if new).")
@click.option("--role", "roles", required=True, multiple=True, help="Role key; repeat for several.")
@click.option("--name", "full_name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@json_option
def users_create(username: str, org: str, roles: tuple[str, ...], full_name: str | None,
                 password_stdin: bool, as_json: bool) -> None:
    """Create a staff account (without --password-stdin it cannot log in until a password is set)."""
    from webapp.accounts.auth import hash_password

    password = _read_password(as_json, username) if password_stdin else None
    try:
        organisation = accounts.ensure_organisation(db.session, org)
        user = accounts.create_user(db.session, username, organisation=organisation, roles=list(roles),
                                    password_hash=None, full_name=full_name)
    except accounts.AccountError as exc:
        _refuse(as_json, exc)
    if password:
        accounts.set_password(user, hash_password(password), current_engine().clock_now())
    record_account_event("user_created", ACTOR, username=user.username, organisation=org, roles=sorted(user.roles),
                         full_name=user.full_name)
    db.session.commit()
    emit(as_json, {"username": user.username, "organisation": org, "roles": sorted(user.roles)},
         f"created {user.username} ({org}: {', '.join(sorted(user.roles))})")


@users_group.command("list")
@click.option("--org", help="Only this organisation's users.")
@click.option("--role", help="Only users holding this role.")
@click.option("--status", type=click.Choice(["active", "inactive", "locked"]))
@json_option
def users_list(org: str | None, role: str | None, status: str | None, as_json: bool) -> None:
    """Staff accounts with organisation, roles and state."""
    query = accounts.search_users(organisation_key=org, role=role, status=status,
                                  now=current_engine().clock_now())
    rows = [user_row(user) for user in db.session.scalars(query)]
    emit(as_json, rows, "\n".join(
        f"{r['username']}\t{r['organisation']}\t{','.join(r['roles'])}\t"
        f"{'locked' if r['locked'] else 'active' if r['active'] else 'inactive'}" for r in rows) or "no user")


@users_group.command("set-roles")
@click.argument("username")
@click.option("--role", "roles", required=True, multiple=True, help="Role key; repeat for several.")
@json_option
def users_set_roles(username: str, roles: tuple[str, ...], as_json: bool) -> None:
    """Replace the roles of a user."""
    user = _user(as_json, username)
    try:
        changes = accounts.update_user(db.session, user, full_name=user.full_name, roles=list(roles),
                                       acting_username=None)
    except accounts.AccountError as exc:
        _refuse(as_json, exc)
    if changes:
        record_account_event("user_updated", ACTOR, username=username, changes=changes)
    db.session.commit()
    emit(as_json, user_row(user), f"{username}: {', '.join(sorted(user.roles))}")


def _set_active(username: str, active: bool, as_json: bool) -> None:
    user = _user(as_json, username)
    try:
        accounts.set_active(db.session, user, active, acting_username=None)
    except accounts.AccountError as exc:
        _refuse(as_json, exc)
    record_account_event("user_activated" if active else "user_deactivated", ACTOR, username=username)
    db.session.commit()
    emit(as_json, user_row(user), f"{username} {'activated' if active else 'deactivated'}")


@users_group.command("deactivate")
@click.argument("username")
@json_option
def users_deactivate(username: str, as_json: bool) -> None:
    """Stop a user from logging in or using API tokens."""
    _set_active(username, False, as_json)


@users_group.command("activate")
@click.argument("username")
@json_option
def users_activate(username: str, as_json: bool) -> None:
    """Let a deactivated user log in again."""
    _set_active(username, True, as_json)


@users_group.command("unlock")
@click.argument("username")
@json_option
def users_unlock(username: str, as_json: bool) -> None:
    """Lift the lockout that repeated wrong passwords caused."""
    user = _user(as_json, username)
    if accounts.unlock(user):
        record_account_event("unlocked", ACTOR, username=username)
    db.session.commit()
    emit(as_json, user_row(user), f"{username} unlocked")


@users_group.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the new password from standard input.")
@json_option
def users_set_password(username: str, password_stdin: bool, as_json: bool) -> None:
    """Set a user's password (at least 10 characters, not the username); also lifts a lockout."""
    from webapp.accounts.auth import hash_password

    user = _user(as_json, username)
    password = _read_password(as_json, username)
    accounts.set_password(user, hash_password(password), current_engine().clock_now())
    record_account_event("password_reset", ACTOR, username=username)
    db.session.commit()
    emit(as_json, {"username": username, "password_changed_at": user.password_changed_at},
         f"password of {username} set")


# --- tokens -------------------------------------------------------------------------------------


@users_group.group("token", cls=AppGroup)
def token_group() -> None:
    """Personal access tokens of the JSON API."""


@token_group.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for.")
@click.option("--expires-days", type=click.IntRange(1, accounts.MAX_TOKEN_DAYS), help="Default: never expires.")
@json_option
def token_create(username: str, name: str, expires_days: int | None, as_json: bool) -> None:
    """Create a token and print it: this is the only time it is shown."""
    user = _user(as_json, username)
    now = current_engine().clock_now()
    try:
        row, token = accounts.create_api_token(db.session, user, name,
                                               expires_at=accounts.token_expiry(now, expires_days))
    except accounts.AccountError as exc:
        _refuse(as_json, exc)
    record_account_event("token_created", ACTOR, username=username, token_id=row.id, name=row.name,
                         prefix=row.prefix, expires_at=row.expires_at)
    db.session.commit()
    emit(as_json, {"id": row.id, "name": row.name, "prefix": row.prefix, "expires_at": row.expires_at,
                   "token": token}, token)


@token_group.command("list")
@click.argument("username")
@json_option
def token_list(username: str, as_json: bool) -> None:
    """A user's tokens (never the tokens themselves)."""
    user = _user(as_json, username)
    now = current_engine().clock_now()
    rows = [{"id": t.id, "name": t.name, "prefix": t.prefix, "created_at": t.created_at,
             "last_used_at": t.last_used_at, "expires_at": t.expires_at, "state": accounts.token_state(t, now)}
            for t in accounts.tokens_of(db.session, user)]
    emit(as_json, rows, "\n".join(f"{r['id']}\t{r['prefix']}…\t{r['state']}\t{r['name']}" for r in rows)
         or "no token")


@token_group.command("revoke")
@click.argument("username")
@click.argument("token_id", type=int)
@json_option
def token_revoke(username: str, token_id: int, as_json: bool) -> None:
    """Revoke one of a user's tokens."""
    user = _user(as_json, username)
    try:
        row = accounts.revoke_api_token(db.session, user, token_id, current_engine().clock_now())
    except accounts.AccountError as exc:
        _refuse(as_json, exc)
    record_account_event("token_revoked", ACTOR, username=username, token_id=row.id, name=row.name)
    db.session.commit()
    emit(as_json, {"id": row.id, "revoked_at": row.revoked_at}, f"token {row.id} ({row.name}) revoked")


# --- organisations ------------------------------------------------------------------------------


@click.group("orgs", cls=AppGroup)
def orgs_group() -> None:
    """The programme's organisations."""


@orgs_group.command("list")
@json_option
def orgs_list(as_json: bool) -> None:
    """Organisations with kind and programme roles."""
    rows = [{"key": o.key, "name": o.name, "kind": o.kind, "programme_roles": list(o.programme_roles or [])}
            for o in accounts.list_organisations(db.session)]
    emit(as_json, rows, "\n".join(f"{r['key']}\t{r['kind']}\t{','.join(r['programme_roles'])}\t{r['name']}"
                                  for r in rows) or "no organisation")


@orgs_group.command("create")
@click.argument("key")
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(accounts.ORGANISATION_KINDS), default="ETS", show_default=True)
@click.option("--programme-role", "programme_roles", multiple=True, type=click.Choice(PROGRAMME_ROLES),
              help="Repeat for several.")
@json_option
def orgs_create(key: str, name: str, kind: str, programme_roles: tuple[str, ...], as_json: bool) -> None:
    """Create an organisation (its KEY cannot change later)."""
    try:
        org = accounts.create_organisation(db.session, key, name=name, kind=kind, programme_roles=programme_roles)
    except accounts.AccountError as exc:
        _refuse(as_json, exc)
    record_account_event("org_created", ACTOR, key=org.key, name=org.name, kind=org.kind,
                         programme_roles=org.programme_roles)
    db.session.commit()
    emit(as_json, {"key": org.key, "name": org.name, "kind": org.kind, "programme_roles": org.programme_roles},
         f"created organisation {org.key} ({org.kind})")
