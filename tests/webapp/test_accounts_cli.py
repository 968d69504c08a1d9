"""`pis2 users …` and `pis2 orgs …`: accounts, roles, lockouts, passwords and tokens from the shell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask

from casefile import accounts
from engine.clock import FrozenClock
from tests.webapp.accounts_support import STRONG, account_events, make_user, try_login, user_state
from webapp.cli.accounts import orgs_group, users_group
from webapp.extensions import db

ROOT = Path(__file__).resolve().parent.parent.parent


def run(app: Flask, group: Any, *args: str, stdin: str | None = None) -> Result:
    return app.test_cli_runner().invoke(group, list(args), input=stdin)


def ok(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def refused(result: Result) -> dict[str, Any]:
    assert result.exit_code == 1, result.output
    return json.loads(result.output)["error"]  # type: ignore[no-any-return]


def test_users_list_with_filters(app: Flask) -> None:
    make_user(app, "ex", ["mediatore"], org="altro", active=False)
    everyone = ok(run(app, users_group, "list", "--json"))
    assert [row["username"] for row in everyone] == ["anna", "bruno", "carla", "ex"]
    assert everyone[0] == {"username": "anna", "full_name": None, "organisation": "capofila",
                           "roles": ["coordinatore"], "active": True, "locked": False, "locked_until": None,
                           "failed_logins": 0}
    assert [r["username"] for r in ok(run(app, users_group, "list", "--org", "altro", "--json"))] == ["carla", "ex"]
    assert [r["username"] for r in ok(run(app, users_group, "list", "--status", "inactive", "--json"))] == ["ex"]
    assert [r["username"] for r in ok(run(app, users_group, "list", "--role", "case_manager", "--json"))] == [
        "bruno"]
    text = run(app, users_group, "list").output
    assert "ex\taltro\tmediatore\tinactive" in text


def test_set_roles_and_its_refusals(app: Flask) -> None:
    shown = ok(run(app, users_group, "set-roles", "bruno", "--role", "case_manager", "--role", "equipe", "--json"))
    assert shown["roles"] == ["case_manager", "equipe"]
    assert account_events(app)[-1][:2] == ("account.user_updated", "cli")
    assert refused(run(app, users_group, "set-roles", "bruno", "--role", "sindaco", "--json"))["code"] == (
        "role_unknown")
    assert refused(run(app, users_group, "set-roles", "nessuno", "--role", "equipe", "--json"))["code"] == (
        "user_not_found")
    make_user(app, "root", ["admin"])
    last = refused(run(app, users_group, "set-roles", "root", "--role", "coordinatore", "--json"))
    assert last["code"] == "last_admin"
    assert refused(run(app, users_group, "deactivate", "root", "--json"))["code"] == "last_admin"
    assert user_state(app, "root")["roles"] == {"admin"}
    text = run(app, users_group, "set-roles", "bruno", "--role", "sindaco")
    assert text.exit_code == 1
    assert "unknown role(s): sindaco" in text.output


def test_deactivate_activate_and_unlock(app: Flask) -> None:
    assert ok(run(app, users_group, "deactivate", "bruno", "--json"))["active"] is False
    assert try_login(app.test_client(), "bruno", "demo").status_code == 401
    assert ok(run(app, users_group, "activate", "bruno", "--json"))["active"] is True
    for _attempt in range(4):  # with the one above: five failures in a row
        try_login(app.test_client(), "bruno", "sbagliata")
    assert ok(run(app, users_group, "list", "--status", "locked", "--json"))[0]["username"] == "bruno"
    assert ok(run(app, users_group, "unlock", "bruno", "--json"))["locked"] is False
    assert try_login(app.test_client(), "bruno", "demo").status_code == 302
    kinds = [kind for kind, _actor, _details in account_events(app)]
    assert kinds == ["account.user_deactivated", "account.user_activated", "account.locked", "account.unlocked"]


def test_set_password_reads_stdin_and_applies_the_rules(app: Flask) -> None:
    assert refused(run(app, users_group, "set-password", "bruno", "--password-stdin", "--json",
                       stdin="corta\n"))["code"] == "password_too_short"
    assert run(app, users_group, "set-password", "bruno").exit_code == 2  # --password-stdin is required
    done = run(app, users_group, "set-password", "bruno", "--password-stdin", stdin=STRONG + "\n")
    assert done.exit_code == 0, done.output
    assert STRONG not in done.output
    assert try_login(app.test_client(), "bruno", STRONG).status_code == 302
    assert account_events(app)[-1] == ("account.password_reset", "cli", {"username": "bruno"})


def test_users_create_applies_the_password_rules(app: Flask) -> None:
    short = run(app, users_group, "create", "dario", "--org", "capofila", "--role", "mediatore",
                "--password-stdin", "--json", stdin="breve\n")
    assert refused(short)["code"] == "password_too_short"
    assert run(app, users_group, "create", "dario", "--org", "capofila", "--role", "mediatore", "--password-stdin",
               stdin=STRONG + "\n").exit_code == 0
    assert try_login(app.test_client(), "dario", STRONG).status_code == 302
    assert user_state(app, "dario")["password_changed_at"] is not None
    assert refused(run(app, users_group, "create", "dario", "--org", "capofila", "--role", "mediatore",
                       "--json"))["code"] == "username_taken"


def test_token_create_list_revoke(app: Flask, app_clock: FrozenClock) -> None:
    made = ok(run(app, users_group, "token", "create", "anna", "--name", "integrazione", "--expires-days", "7",
                  "--json"))
    token = made["token"]
    with app.app_context():
        assert accounts.user_for_token(db.session, token, app_clock()).username == "anna"
    plain = run(app, users_group, "token", "create", "anna", "--name", "altro")
    assert plain.output.strip().startswith("pis2_")
    listed = ok(run(app, users_group, "token", "list", "anna", "--json"))
    assert [(t["name"], t["state"]) for t in listed] == [("altro", "active"), ("integrazione", "active")]
    assert token not in json.dumps(listed)
    assert ok(run(app, users_group, "token", "revoke", "anna", str(made["id"]), "--json"))["revoked_at"]
    with app.app_context():
        assert accounts.user_for_token(db.session, token, app_clock()) is None
    assert refused(run(app, users_group, "token", "revoke", "bruno", str(made["id"]), "--json"))["code"] == (
        "token_unknown")
    assert refused(run(app, users_group, "token", "create", "anna", "--name", " ", "--json"))["code"] == (
        "token_name")
    assert run(app, users_group, "token", "create", "anna", "--name", "x", "--expires-days", "0").exit_code == 2
    app_clock.advance(days=8)
    states = {t["name"]: t["state"] for t in ok(run(app, users_group, "token", "list", "anna", "--json"))}
    assert states == {"altro": "active", "integrazione": "revoked"}


def test_orgs_create_and_list(app: Flask) -> None:
    created = ok(run(app, orgs_group, "create", "cpi_torino", "--name", "Centro per l'impiego", "--kind", "CPI",
                     "--programme-role", "work_inclusion", "--programme-role", "partner", "--json"))
    assert created == {"key": "cpi_torino", "name": "Centro per l'impiego", "kind": "CPI",
                       "programme_roles": ["partner", "work_inclusion"]}
    keys = [o["key"] for o in ok(run(app, orgs_group, "list", "--json"))]
    assert set(keys) == {"capofila", "altro", "cpi_torino"}
    assert refused(run(app, orgs_group, "create", "cpi_torino", "--name", "Doppio", "--json"))["code"] == (
        "org_key_taken")
    assert refused(run(app, orgs_group, "create", "Non Valida", "--name", "x", "--json"))["code"] == (
        "org_key_invalid")
    assert run(app, orgs_group, "create", "x1", "--name", "x", "--kind", "SpA").exit_code == 2
    assert run(app, orgs_group, "create", "x1", "--name", "x", "--programme-role", "re").exit_code == 2
    assert account_events(app)[-1][0] == "account.org_created"


@pytest.mark.skipif(not (Path(sys.executable).parent / "pis2").exists(), reason="pis2 is not installed")
def test_the_pis2_entry_point_has_the_users_and_orgs_groups(make_database, tmp_path: Path) -> None:
    env = {**os.environ, "PIS2_DATABASE_URL": make_database(), "PIS2_INSTANCE_DIR": str(tmp_path),
           "PIS2_SECRET_KEY": "cli-test"}

    def pis2(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(Path(sys.executable).parent / "pis2"), *args], capture_output=True, text=True,
                              timeout=60, env=env, cwd=ROOT, check=False)

    assert pis2("orgs", "create", "comune", "--name", "Comune", "--kind", "Comune").returncode == 0
    assert pis2("users", "create", "ada", "--org", "comune", "--role", "assistente_sociale").returncode == 0
    listed = pis2("users", "list", "--json")
    assert [u["username"] for u in json.loads(listed.stdout)] == ["ada"]
    assert "Traceback" not in listed.stderr
