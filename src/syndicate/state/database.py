"""`Database`: the engine of a state store, its transactions and how its errors read."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

from syndicate.errors import StateError
from syndicate.secret import mask
from syndicate.state.sqlite import WRITE, sqlite_on_begin, sqlite_on_connect


class Database:
    """One SQLAlchemy engine with the transactions every part of the state uses.

    `read` is a transaction for reading; `write` one that writes (on SQLite it takes the write
    lock up front, and the writers of this process take turns before SQLite, whose busy
    handler sleeps in steps of up to 100 ms).  Database errors become `StateError`s, masked of
    secrets; ``retryable`` when the database is out of reach (an operational error).

    On PostgreSQL the writers take turns too, across every process sharing the database, with
    a transaction-scoped advisory lock (`WRITE_LOCK_KEY`): the state's writes read before they
    write (insert this row unless it is there), which SQLite's single writer makes safe and
    PostgreSQL's READ COMMITTED would not.  Only the writes made to run side by side say
    ``concurrent=True``: leasing push operations (``FOR UPDATE SKIP LOCKED``), renewing leases
    and taking turns at a board's rate limit.  Every PostgreSQL session names itself
    (``application_name``: host and pid), so a lock's holder can be told.
    """

    def __init__(self, url: str | URL) -> None:
        try:
            self.url_object = make_url(url)
        except sa.exc.ArgumentError as error:
            raise StateError(
                f"state store URL {str(url)!r} is not a SQLAlchemy URL: {error}"
            ) from None
        self.lock_path: Path | None = None
        self._write_turn = threading.Lock()
        self.engine = self._create_engine()

    @property
    def url(self) -> str:
        """The URL, password hidden."""
        return self.url_object.render_as_string(hide_password=True)

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.url_object.get_backend_name()

    def _create_engine(self) -> Engine:
        if self.backend != "sqlite":
            postgres = self.backend == "postgresql"
            connect_args = {"application_name": session_name()} if postgres else {}
            try:
                return sa.create_engine(
                    self.url_object, pool_pre_ping=True, connect_args=connect_args
                )
            except (ImportError, sa.exc.SQLAlchemyError) as error:
                raise StateError(f"cannot open state store {self.url}: {error}") from None
        database = self.url_object.database or ""
        if database in ("", ":memory:") or "mode=memory" in database:
            engine = sa.create_engine(
                self.url_object, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        else:
            path = Path(database.removeprefix("file:").split("?", 1)[0]).absolute()
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StateError(f"cannot create the state store's folder: {error}") from None
            self.lock_path = path.with_name(path.name + ".lock")
            if not database.startswith("file:"):
                self.url_object = self.url_object.set(database=str(path))
            engine = sa.create_engine(self.url_object)
        sa.event.listen(engine, "connect", sqlite_on_connect)
        sa.event.listen(engine, "begin", sqlite_on_begin)
        return engine

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A transaction that only reads."""
        with self.errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self, *, concurrent: bool = False) -> Iterator[Connection]:
        """A transaction that writes, committed when the block ends without an error; in turn
        with every other writer unless ``concurrent`` (PostgreSQL only: SQLite has one writer)."""
        turn = self._write_turn if self.backend == "sqlite" or not concurrent else _no_turn()
        with turn, self.errors(), self.engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                if self.backend == "postgresql" and not concurrent:
                    conn.execute(
                        sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY}
                    )
                yield conn

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Database errors raised in the block, as `StateError`s."""
        try:
            yield
        except sa.exc.SQLAlchemyError as error:
            original = getattr(error, "orig", None) or error
            raise StateError(
                f"state store {self.url}: {mask(str(original))}",
                retryable=isinstance(error, sa.exc.OperationalError),
            ) from error


WRITE_LOCK_KEY = 0x73796E6400000001  # PostgreSQL advisory key of the writers' turn


def session_name() -> str:
    """How this process names its PostgreSQL sessions: ``syndicate <host> pid <pid>``."""
    return f"syndicate {socket.gethostname()[:30]} pid {os.getpid()}"


@contextmanager
def _no_turn() -> Iterator[None]:
    yield


def state_exists(url: str) -> bool:
    """Whether a state store is there to read at ``url`` without creating one: a SQLite file
    that exists, or any server database (which is asked when opened)."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        return False
    if parsed.get_backend_name() != "sqlite":
        return True
    database = parsed.database or ""
    if database in ("", ":memory:") or "mode=memory" in database:
        return False
    return Path(database.removeprefix("file:").split("?", 1)[0]).is_file()
