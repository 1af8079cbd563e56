"""A real, throwaway PostgreSQL server for tests and benchmarks.

`PostgresServer` runs Debian's PostgreSQL (``apt-get install postgresql``; the binaries under
``/usr/lib/postgresql/<version>/bin``, or wherever ``$SYNDICATE_PG_BIN`` says) in a temporary
folder, on a free local port, and stops it (and removes the folder) when the block ends::

    with PostgresServer() as pg:
        url = pg.create_database()     # postgresql+psycopg://syndicate@127.0.0.1:PORT/db_1
        ...                            # the password is in $PGPASSWORD (see `environment`)

``initdb`` and ``postgres`` refuse to run as root: when this process is root the server runs
as an unprivileged user (``nobody`` unless ``user`` says otherwise) through ``setpriv``.  The
server asks for a password over TCP (SCRAM); the password is random, passed to libpq through
``PGPASSWORD`` (set in this process by `start`, and given to subprocesses by `environment`),
never put in a URL.  ``stop`` and ``start`` can be called again, to take the database away from
running clients and give it back.  Durability settings are relaxed (``fsync=off``): a test
server is never power-cut, only stopped.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

USER = "syndicate"  # the database role the tests connect as
_START_TIMEOUT = 30.0


def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server binaries (``initdb``, ``postgres``), if installed."""
    configured = os.environ.get("SYNDICATE_PG_BIN")
    if configured:
        return Path(configured)
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One PostgreSQL server in a temporary folder (see the module docstring)."""

    def __init__(self, *, user: str = "nobody", port: int | None = None) -> None:
        binaries = postgres_bin()
        if binaries is None:
            raise RuntimeError(
                "PostgreSQL is not installed: apt-get install postgresql "
                "(or set SYNDICATE_PG_BIN to the folder of initdb and postgres)"
            )
        self.bin = binaries
        self.os_user = user if os.geteuid() == 0 else None
        self.port = port or free_port()
        self.password = secrets.token_urlsafe(18)
        self.folder = Path(tempfile.mkdtemp(prefix="syndicate-pg-"))
        self.data = self.folder / "data"
        self._process: subprocess.Popen[bytes] | None = None
        self._databases = 0

    # -- life ------------------------------------------------------------------------------------

    def __enter__(self) -> PostgresServer:
        try:
            self.init()
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def init(self) -> None:
        """Create the cluster: role `USER` with a random password, SCRAM over TCP."""
        if self.os_user is not None:
            shutil.chown(self.folder, user=self.os_user)
        self.folder.chmod(0o700)
        pwfile = self.folder / "pw"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        if self.os_user is not None:
            shutil.chown(pwfile, user=self.os_user)
        try:
            self._run(
                [
                    str(self.bin / "initdb"),
                    "-D", str(self.data),
                    "-U", USER,
                    "--pwfile", str(pwfile),
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-sync",
                ]
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self) -> None:
        """Start the server (again) on the same port and wait until it takes connections."""
        if self._process is not None:
            return
        command = [
            str(self.bin / "postgres"),
            "-D", str(self.data),
            "-p", str(self.port),
            "-k", str(self.folder),
            "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
            "-c", "max_connections=200",
            "-c", "log_min_messages=warning",
        ]  # fmt: skip
        log = (self.folder / "server.log").open("ab")
        self._process = subprocess.Popen(
            self._as_user(command), stdout=log, stderr=subprocess.STDOUT, cwd=self.folder
        )
        log.close()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._ready():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self._process = None
                raise RuntimeError(f"PostgreSQL did not start: {self.log_tail()}")
            time.sleep(0.1)
        os.environ["PGPASSWORD"] = self.password

    def stop(self, *, discard: bool = False) -> None:
        """Stop the server: a fast shutdown (clients are disconnected, nothing committed is
        lost), or with ``discard`` an immediate one (for a server about to be removed)."""
        process, self._process = self._process, None
        if process is None:
            return
        # PostgreSQL's fast shutdown (SIGINT) checkpoints; its immediate one (SIGQUIT) does not.
        process.send_signal(signal.SIGQUIT if discard else signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def close(self) -> None:
        """Stop the server and remove its folder."""
        self.stop(discard=True)
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- using it --------------------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database``, without the password (libpq reads $PGPASSWORD)."""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; its URL."""
        if name is None:
            self._databases += 1
            name = f"db_{os.getpid()}_{self._databases}"
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one SQL statement through ``psql`` over the local socket; its output."""
        psql = shutil.which("psql") or str(self.bin / "psql")
        result = self._run(
            [psql, "-h", str(self.folder), "-p", str(self.port), "-U", USER, "-d", database,
             "-v", "ON_ERROR_STOP=1", "-At", "-c", statement]
        )  # fmt: skip
        return result.stdout.decode()

    def environment(self) -> dict[str, str]:
        """Environment variables a client subprocess needs: ``PGPASSWORD``."""
        return {"PGPASSWORD": self.password}

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server's log, for error messages."""
        try:
            text = (self.folder / "server.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- helpers ---------------------------------------------------------------------------------

    def _ready(self) -> bool:
        result = subprocess.run(
            self._as_user(
                [str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
            ),
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def _as_user(self, command: Sequence[str]) -> list[str]:
        if self.os_user is None:
            return list(command)
        # setpriv execs the command itself (runuser would stay between, keeping signals from it).
        entry = pwd.getpwnam(self.os_user)
        return [
            "setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups",
            "--", *command,
        ]  # fmt: skip

    def _run(self, command: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
        result = subprocess.run(
            self._as_user(command), capture_output=True, check=False, cwd=self.folder
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{Path(command[0]).name} failed ({result.returncode}): "
                f"{result.stderr.decode(errors='replace').strip()}"
            )
        return result
