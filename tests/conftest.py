"""Shared fixtures: the example settings and postings, and golden-file comparison.

Regenerate every golden file after an intended output change with:

    .venv/bin/python -m pytest --update-goldens

then review the diff of tests/golden/ before committing it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from syndicate.adapters import RenderContext
from syndicate.config import Settings, load_settings
from syndicate.loading import load_postings
from syndicate.model import Posting
from syndicate.testing import BoardServer
from syndicate.testing.postgres import PostgresServer
from tests.helpers import BOARD_HOOK_SECRET, BOARD_TOKEN, jobs_api

ROOT = Path(__file__).resolve().parent.parent
# A developer's own Google key file would win over the tests' GOOGLE_INDEXING_TOKEN (here and in
# the CLI subprocesses, which inherit the environment): tests that want one set it themselves.
os.environ.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
GOLDEN = Path(__file__).resolve().parent / "golden"
# A fixed build time so that golden files do not change from run to run.
BUILD_TIME = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens", action="store_true", help="rewrite tests/golden/ from current output"
    )


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The repository's own config.yaml."""
    return load_settings(ROOT / "config.yaml")


@pytest.fixture(scope="session")
def examples(settings: Settings) -> list[Posting]:
    """The example postings in postings/, which must all load."""
    result = load_postings(settings.postings_dir, settings.timezone)
    assert not result.problems, [str(p) for p in result.problems]
    return result.postings


@pytest.fixture
def context(settings: Settings) -> RenderContext:
    return RenderContext(settings=settings, build_time=BUILD_TIME)


class Golden:
    """Compare output with tests/golden/<name>, or rewrite it under --update-goldens."""

    def __init__(self, update: bool) -> None:
        self.update = update

    def check(self, name: str, actual: str | bytes) -> None:
        path = GOLDEN / name
        data = actual.encode() if isinstance(actual, str) else actual
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            return
        assert path.exists(), f"missing golden file {path}; run pytest --update-goldens"
        expected = path.read_bytes()
        assert data == expected, (
            f"output differs from {path.relative_to(ROOT)}; if the change is intended, "
            "run pytest --update-goldens and review the diff"
        )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    return Golden(request.config.getoption("--update-goldens"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the session (Debian's, in a temporary folder, on a free
    port, as an unprivileged user), stopped at the end; `scripts/install-test-tools.sh`
    installs it.  Each test that wants a store makes its own database."""
    with PostgresServer() as running:
        yield running


STORES = ("sqlite", "postgresql")


@pytest.fixture(params=STORES)
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty state store: a SQLite file, then a PostgreSQL database (the
    password is in $PGPASSWORD, never in the URL)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'state.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


@pytest.fixture(scope="module")
def server() -> Iterator[BoardServer]:
    """A local board over real HTTP on a free port, one per test module, whose credentials are
    `tests.helpers.BOARD_TOKEN` and ``BOARD_HOOK_SECRET`` (a module may define its own)."""
    with BoardServer(token=BOARD_TOKEN, hook_secret=BOARD_HOOK_SECRET) as running:
        yield running


@pytest.fixture
def board(server: BoardServer) -> BoardServer:
    """The module's board, emptied for the test."""
    server.reset()
    return server


@pytest.fixture
def api(board: BoardServer) -> Iterator[httpx.Client]:
    """A client of the board's LinkedIn jobs API, with the token the board was started with."""
    with jobs_api(board, board.config.token) as client:
        yield client
