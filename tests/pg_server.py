"""Throw-away PostgreSQL 15 server for tests.

Importable helper with no pytest dependency::

    from pg_server import start_postgres

    server = start_postgres()          # initdb + pg_ctl start + CREATE DATABASE
    engine = create_engine(server.url)  # postgresql+psycopg://postgres@127.0.0.1:PORT/pis2_test
    ...
    server.stop()                      # pg_ctl stop -m immediate + rm -rf of the temp dir

The cluster lives in a fresh temporary directory (data, socket and log), listens on a
free loopback port, trusts every local connection and runs with durability switched
off (``-F``, ``fsync=off``...): it is for tests only.

PostgreSQL refuses to run as root. When the current process is root (as in CI), the
server binaries are run as the ``postgres`` system user through ``runuser``; if that
user does not exist, a ``pis2pg`` system user is created for the purpose.

``python tests/pg_server.py`` starts one by hand, prints its URL and stops it on
Enter, end of input followed by a signal, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PG_MAJOR = "15"
DEFAULT_BINDIR = Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin")
NOT_FOUND_MESSAGE = f"PostgreSQL {PG_MAJOR} server binaries not found: apt-get install postgresql-{PG_MAJOR}"
DEFAULT_DBNAME = "pis2_test"
SUPERUSER = "postgres"
FALLBACK_OS_USER = "pis2pg"
_START_ATTEMPTS = 3
_CMD_TIMEOUT = 120


class PostgresServer:
    """A running throw-away cluster. Use :func:`start_postgres` to make one."""

    def __init__(self, *, base_dir: Path, bindir: Path, os_user: str | None, port: int, dbname: str):
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.socket_dir = base_dir / "sock"
        self.log_file = base_dir / "postgres.log"
        self.bindir = bindir
        self.os_user = os_user
        self.host = "127.0.0.1"
        self.port = port
        self.dbname = dbname
        self.user = SUPERUSER
        self._stopped = False

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the test database (psycopg 3 driver)."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{self.dbname}"

    @property
    def conninfo(self) -> str:
        """libpq connection string of the test database, for psycopg.connect()."""
        return f"host={self.host} port={self.port} user={self.user} dbname={self.dbname}"

    def stop(self) -> None:
        """Stop the server at once (no checkpoint) and delete its directory. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        try:
            if (self.data_dir / "postmaster.pid").exists():
                _run(
                    [str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "immediate", "-w"],
                    os_user=self.os_user,
                    cwd=self.base_dir,
                    check=False,
                )
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        return f"<PostgresServer {self.url} {state} dir={self.base_dir}>"


def find_bindir() -> Path:
    """Directory holding PostgreSQL 15's ``initdb`` and ``pg_ctl``.

    Looked for, in order: ``$PIS2_PG_BINDIR``, ``initdb`` on PATH (symlinks resolved),
    then /usr/lib/postgresql/15/bin. A candidate of another major version is passed over.
    """
    candidates: list[Path] = []
    if os.environ.get("PIS2_PG_BINDIR"):
        candidates.append(Path(os.environ["PIS2_PG_BINDIR"]))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    candidates.append(DEFAULT_BINDIR)
    for bindir in candidates:
        initdb, pg_ctl = bindir / "initdb", bindir / "pg_ctl"
        if not (os.access(initdb, os.X_OK) and os.access(pg_ctl, os.X_OK)):
            continue
        try:
            out = subprocess.run(
                [str(initdb), "--version"], capture_output=True, text=True, timeout=30, check=False
            ).stdout
        except OSError:
            continue
        # "initdb (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        match = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
        if match and match.group(1) == PG_MAJOR:
            return bindir
    raise RuntimeError(NOT_FOUND_MESSAGE)


def start_postgres(dbname: str = DEFAULT_DBNAME) -> PostgresServer:
    """initdb a fresh cluster in a temp dir, start it on a free loopback port, create ``dbname``.

    Raises RuntimeError when the binaries are missing or the server does not come up
    (the message then carries the tail of the server log).
    """
    bindir = find_bindir()
    os_user = _server_os_user()
    base_dir = Path(tempfile.mkdtemp(prefix="pis2-pg-", dir=_temp_parent(os_user)))
    server: PostgresServer | None = None
    try:
        if os_user is not None:
            pw = pwd.getpwnam(os_user)
            os.chown(base_dir, pw.pw_uid, pw.pw_gid)
        _initdb(bindir, base_dir / "data", os_user, cwd=base_dir)
        _run(["mkdir", "-m", "0700", str(base_dir / "sock")], os_user=os_user, cwd=base_dir)
        last_error = ""
        for _attempt in range(_START_ATTEMPTS):
            server = PostgresServer(
                base_dir=base_dir, bindir=bindir, os_user=os_user, port=_free_port(), dbname=dbname
            )
            ok, last_error = _pg_ctl_start(server)
            if ok:
                break
            server = None  # most likely a port race with another process: try another port
        if server is None:
            raise RuntimeError(f"PostgreSQL did not start:\n{last_error}")
        atexit.register(server.stop)
        _create_database(server)
        return server
    except BaseException:
        if server is not None:
            server.stop()
        else:
            shutil.rmtree(base_dir, ignore_errors=True)
        raise


# --- internals ---------------------------------------------------------------------------------


def _server_os_user() -> str | None:
    """None when not root; else the unprivileged user that will own and run the cluster."""
    if os.geteuid() != 0:
        return None
    for name in (SUPERUSER, FALLBACK_OS_USER):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    proc = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", FALLBACK_OS_USER],
        capture_output=True,
        text=True,
        timeout=_CMD_TIMEOUT,
        check=False,
    )
    try:  # exit 9 = created meanwhile by a concurrent caller: fine as long as it exists now
        pwd.getpwnam(FALLBACK_OS_USER)
    except KeyError:
        raise RuntimeError(
            f"could not create system user {FALLBACK_OS_USER}: {proc.stderr.strip()}"
        ) from None
    return FALLBACK_OS_USER


def _temp_parent(os_user: str | None) -> str | None:
    """Where to make the temp dir: the default one, unless another user must reach it and cannot."""
    default = tempfile.gettempdir()
    if os_user is None:
        return None
    path = Path(default).resolve()
    for part in (path, *path.parents):
        if not part.stat().st_mode & stat.S_IXOTH:
            return "/tmp"  # world-traversable on every Unix; the dir itself is mode 0700
    return None


def _env() -> dict[str, str]:
    """Our environment without libpq/PG variables that could redirect pg_ctl or initdb."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _run(
    cmd: list[str], *, os_user: str | None, cwd: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    if os_user is not None:
        cmd = ["runuser", "-u", os_user, "--", *cmd]
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=_CMD_TIMEOUT,
        check=False,
    )
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed with exit code {proc.returncode}:\n{proc.stdout}{proc.stderr}"
        )
    return proc


def _initdb(bindir: Path, data_dir: Path, os_user: str | None, cwd: Path) -> None:
    base = [
        str(bindir / "initdb"),
        "-D",
        str(data_dir),
        "-A",
        "trust",
        "-U",
        SUPERUSER,
        "-E",
        "UTF8",
        "--no-sync",
        "--no-instructions",
    ]
    # C.UTF-8 gives Unicode-aware upper()/lower() with byte-order sorting; plain C is the fallback
    # for a system without that locale.
    proc = _run([*base, "--locale=C.UTF-8"], os_user=os_user, cwd=cwd, check=False)
    if proc.returncode != 0:
        _run(["rm", "-rf", str(data_dir)], os_user=os_user, cwd=cwd, check=False)
        _run([*base, "--locale=C"], os_user=os_user, cwd=cwd)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_ctl_start(server: PostgresServer) -> tuple[bool, str]:
    options = (
        f"-k {server.socket_dir} -p {server.port} -h {server.host} -F"
        " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    proc = _run(
        [
            str(server.bindir / "pg_ctl"),
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(server.data_dir),
            "-l",  # must be given: without it the postmaster keeps our stdout pipe open
            str(server.log_file),
            "-o",
            options,
        ],
        os_user=server.os_user,
        cwd=server.base_dir,
        check=False,
    )
    if proc.returncode == 0:
        return True, ""
    log = ""
    with contextlib.suppress(OSError):
        log = server.log_file.read_text(errors="replace")[-4000:]
    # A half-started postmaster must not linger before the next attempt.
    if (server.data_dir / "postmaster.pid").exists():
        _run(
            [str(server.bindir / "pg_ctl"), "stop", "-D", str(server.data_dir), "-m", "immediate"],
            os_user=server.os_user,
            cwd=server.base_dir,
            check=False,
        )
    return False, f"{proc.stdout}{proc.stderr}\n--- server log ---\n{log}"


def _create_database(server: PostgresServer) -> None:
    import psycopg  # only needed once a server is up
    from psycopg import sql

    conninfo = f"host={server.host} port={server.port} user={server.user} dbname=postgres"
    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(server.dbname)))
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Start a throw-away PostgreSQL 15 server for pis2 tests.")
    parser.add_argument(
        "--dbname", default=DEFAULT_DBNAME, help=f"database to create (default {DEFAULT_DBNAME})"
    )
    args = parser.parse_args()

    def _on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    server = start_postgres(args.dbname)
    try:
        print(server.url, flush=True)
        print(
            f"data dir {server.data_dir}; press Enter (or Ctrl-C / SIGTERM) to stop",
            file=sys.stderr,
            flush=True,
        )
        try:
            line = sys.stdin.readline()
        except (OSError, ValueError):
            line = ""
        if not line:  # no stdin (end of input at once): wait for a signal instead
            while True:
                signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        print("stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
