"""`syndicate state copy`: a SQLite state published for real, moved into a real PostgreSQL."""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from syndicate.state import NewOperation, OperationKind, StateStore
from syndicate.state.schema import meta_table, metadata
from syndicate.testing.board import BoardServer
from syndicate.testing.postgres import PostgresServer
from tests.cli import run

ROOT = Path(__file__).resolve().parent.parent
TOKEN, HOOK_SECRET = "copy-token", "copy-hook-secret"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose SQLite state holds a real publish of the examples, plus an approved
    mass close, a target refusing credentials and a queued retry."""
    folder = tmp_path_factory.mktemp("copy")
    with BoardServer(token=TOKEN, hook_secret=HOOK_SECRET) as board:
        config = (ROOT / "config.yaml").read_text()
        config = config.replace("https://api.linkedin.com/rest", board.url + "/rest")
        config = config.replace("https://indexing.googleapis.com", board.url)
        config = config.replace("https://example.com/jobs-hook", board.hook_url)
        config = re.sub(r"retry: .*", "retry: {max_attempts: 2, backoff: 10ms}", config)
        (folder / "config.yaml").write_text(config)
        shutil.copytree(ROOT / "postings", folder / "postings")
        env = {"LINKEDIN_TOKEN": TOKEN, "GOOGLE_INDEXING_TOKEN": TOKEN, "HOOK_SECRET": HOOK_SECRET}
        result = run("-q", "publish", cwd=folder, env=env)
        assert result.returncode == 0, result.stderr
    with StateStore(sqlite_url(folder)) as store:
        store.guards.approve("linkedin", "d" * 64, 3, now=T0)
        store.guards.auth_failed("hook", "401 refused", now=T0)
        [queued] = store.enqueue([NewOperation("late", "hook", OperationKind.CREATE, "h")], now=T0)
        store.fail(queued, "503", retry_at=T0, now=T0)
    return folder


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / '.syndicate' / 'state.db'}"


def contents(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in primary-key order, as Python values."""
    with StateStore(url) as store, store.database.read() as conn:
        return {
            table.name: [
                dict(row._mapping)
                for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in metadata.sorted_tables
            if table is not meta_table
        }


def test_a_published_sqlite_state_is_copied_whole_into_postgresql(
    published: Path, postgres: PostgresServer
) -> None:
    target = postgres.create_database()
    result = run("state", "copy", sqlite_url(published), target, cwd=published)
    assert result.returncode == 0, result.stderr
    before, after = contents(sqlite_url(published)), contents(target)
    assert after == before
    for table in ("deliveries", "operations", "runs", "quota", "listings", "versions",
                  "references", "approvals", "target_health"):  # fmt: skip
        assert before[table], f"the published state has no {table}: the test proves nothing"
    total = sum(len(rows) for rows in before.values())
    assert f"copied {total} rows into {target}" in result.stdout
    # The copy is a working store: new ids continue after the copied ones.
    with StateStore(target) as store:
        [new_id] = store.enqueue([NewOperation("next", "hook", OperationKind.CREATE, "h2")])
        assert new_id > max(row["id"] for row in before["operations"])
        assert store.begin_run() > max(row["id"] for row in before["runs"])


def test_a_target_that_holds_a_state_is_refused_unless_forced(
    published: Path, postgres: PostgresServer
) -> None:
    target = postgres.create_database()
    with StateStore(target) as store:
        store.enqueue([NewOperation("other", "hook", OperationKind.CREATE, "x")], now=T0)
    refused = run("state", "copy", sqlite_url(published), target, cwd=published)
    assert refused.returncode == 1
    assert re.search(r"is not empty \(.*operations: 1.*\).*--force", refused.stderr)
    assert [row["posting_id"] for row in contents(target)["operations"]] == ["other"]
    forced = run("state", "copy", "--force", sqlite_url(published), target, cwd=published)
    assert forced.returncode == 0, forced.stderr
    assert contents(target) == contents(sqlite_url(published))


def test_a_copy_never_shows_the_password(published: Path, postgres: PostgresServer) -> None:
    target = postgres.create_database().replace("syndicate@", "syndicate:wrong-s3cret@")
    env = {key: value for key, value in os.environ.items() if key != "PGPASSWORD"}
    result = run("state", "copy", sqlite_url(published), target, cwd=published, env=env)
    assert result.returncode == 1
    assert "password authentication failed" in result.stderr
    assert "wrong-s3cret" not in result.stdout + result.stderr
