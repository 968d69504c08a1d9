"""Personal access tokens: shown once, stored hashed, expiring and revocable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile import accounts
from casefile.models import ApiToken

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_a_token_is_stored_only_as_its_digest(session: Session, users) -> None:
    row, token = accounts.create_api_token(session, users["coordinatore"], "script mensile")
    assert token.startswith("pis2_")
    assert len(token) > 40
    stored = session.scalars(select(ApiToken)).one()
    assert token not in (stored.token_hash, stored.prefix)
    assert stored.token_hash == accounts.token_digest(token)
    assert token.startswith(stored.prefix)
    assert accounts.user_for_token(session, token, NOW) is users["coordinatore"]
    assert row.last_used_at == NOW


@pytest.mark.parametrize("bad", ["", "pis2_wrong", "Bearer x", "pis2_"])
def test_unknown_tokens_name_nobody(session: Session, users, bad: str) -> None:
    accounts.create_api_token(session, users["coordinatore"], "t")
    assert accounts.user_for_token(session, bad, NOW) is None


def test_revoked_expired_and_inactive_tokens_stop_working(session: Session, users) -> None:
    user = users["case_manager"]
    revoked, revoked_token = accounts.create_api_token(session, user, "a")
    _, expiring_token = accounts.create_api_token(session, user, "b", expires_at=NOW + timedelta(hours=1))
    accounts.revoke_api_token(session, user, revoked.id, NOW)
    assert accounts.user_for_token(session, revoked_token, NOW) is None
    assert accounts.user_for_token(session, expiring_token, NOW) is user
    assert accounts.user_for_token(session, expiring_token, NOW + timedelta(hours=1)) is None
    _, other = accounts.create_api_token(session, user, "c")
    user.active = False
    assert accounts.user_for_token(session, other, NOW) is None


def test_only_the_owner_revokes_and_names_are_required(session: Session, users) -> None:
    row, _ = accounts.create_api_token(session, users["case_manager"], "mio")
    with pytest.raises(accounts.AccountError) as error:
        accounts.revoke_api_token(session, users["coordinatore"], row.id, NOW)
    assert error.value.field == "token_id"
    with pytest.raises(accounts.AccountError) as error:
        accounts.create_api_token(session, users["case_manager"], "  ")
    assert error.value.field == "name"
