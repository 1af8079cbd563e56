"""`syndicate status` and `syndicate publish` (``--plan`` too) through the real console script.

Each test runs the installed ``syndicate`` in a subprocess against a local `BoardServer` on a free
port, with the publish state in a SQLite file under ``tmp_path``: what people see (the table, the
one-line summary, the JSON), the exit codes, a ``--plan`` that changes nothing, and secrets that
never show in any output or in the state file.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from syndicate.testing import BoardServer
from tests.cli import run as run_cli
from tests.helpers import BOARD_HOOK_SECRET as HOOK_SECRET
from tests.helpers import BOARD_TOKEN as TOKEN

ROOT = Path(__file__).resolve().parent.parent
# Distinctive values, to look for in every output.
SECRETS = (TOKEN, HOOK_SECRET)
PUSH_TARGETS = ("linkedin", "google", "hook")
SUMMARY = re.compile(
    r"^(\d+) posting × target: (\d+) published, (\d+) pending, (\d+) failed, (\d+) closed; "
    r"(\d+) operation\(s\) queued; \d+ file\(s\) held$",
    re.MULTILINE,
)


@pytest.fixture
def project(tmp_path: Path, board: BoardServer) -> Path:
    """The example postings and a config whose push targets are the board."""
    shutil.copytree(ROOT / "postings", tmp_path / "postings")
    config = {
        "organization": {
            "name": "SixSq",
            "url": "https://sixsq.com",
            "email": "jobs@sixsq.com",
            "location": {"city": "Geneva", "country": "CH"},
        },
        "site": {"base_url": "https://jobs.example.com"},
        "timezone": "Europe/Zurich",
        "state": "sqlite:///state/state.db",
        "targets": {
            "linkedin": {
                "type": "linkedin_api",
                "endpoint": board.url + "/rest",
                "token_env": "LINKEDIN_TOKEN",
                "organization": "urn:li:organization:123",
                "poll_interval": "10ms",
            },
            "google": {
                "type": "google_indexing",
                "endpoint": board.url,
                "token_env": "GOOGLE_INDEXING_TOKEN",
            },
            "hook": {"type": "webhook", "url": board.hook_url, "secret_env": "HOOK_SECRET"},
        },
        "retry": {"max_attempts": 2, "backoff": "10ms", "max_backoff": "50ms"},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return tmp_path


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    secrets = {"LINKEDIN_TOKEN": TOKEN, "GOOGLE_INDEXING_TOKEN": TOKEN, "HOOK_SECRET": HOOK_SECRET}
    return run_cli(*args, cwd=cwd, env=secrets, timeout=60)


def table_rows(output: str) -> list[list[str]]:
    """The cells of each body row of the tables in ``output`` (header rows use ┃, not │)."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in output.splitlines()
        if line.startswith("│")
    ]


def summary_of(output: str) -> tuple[int, ...]:
    match = SUMMARY.search(output)
    assert match, output
    return tuple(int(n) for n in match.groups())


def status_json(project: Path) -> dict[str, Any]:
    result = run("status", "--format", "json", cwd=project)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def database_dump(path: Path) -> list[str]:
    """The state store's content, as SQL statements (independent of pages and the WAL)."""
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def tree(folder: Path) -> dict[str, int]:
    """Every file below ``folder`` with its modification time."""
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def example_ids() -> set[str]:
    return {path.stem for path in (ROOT / "postings").glob("*.md")}


def test_status_after_a_publish_shows_every_posting_and_target_published(
    project: Path, board: BoardServer
) -> None:
    published = run("publish", cwd=project)
    assert published.returncode == 0, published.stderr

    result = run("status", cwd=project)

    assert result.returncode == 0, result.stderr
    assert summary_of(result.stdout) == (15, 15, 0, 0, 0, 0)
    header = next(line for line in result.stdout.splitlines() if "last attempt" in line)
    columns = [cell.strip() for cell in header.strip().strip("┃").split("┃")]
    # Nothing is queued and nothing failed: those columns are left out of the table.
    assert columns == ["posting", "target", "state", "version", "last attempt"]
    rows = {(row[0], row[1]): row[2:] for row in table_rows(result.stdout)}
    assert set(rows) == {(p, t) for p in example_ids() for t in PUSH_TARGETS}
    for state, version, last_attempt in rows.values():
        assert (state, version) == ("published", "1")
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", last_attempt)  # in UTC

    report = status_json(project)
    rows = report["deliveries"]
    assert {(r["posting"], r["target"]) for r in rows} == {
        (p, t) for p in example_ids() for t in PUSH_TARGETS
    }
    for row in rows:
        assert row["state"] == "published" and row["version"] == 1
        assert row["error"] is None and row["queued_until"] is None
        assert row["last_attempt"] and "T" in row["last_attempt"]
    linkedin = {r["posting"]: r["remote_id"] for r in rows if r["target"] == "linkedin"}
    assert linkedin == {key: job.urn for key, job in board.state().jobs.items()}
    assert report["summary"] == {
        "deliveries": 15,
        "published": 15,
        "pending": 0,
        "failed": 0,
        "closed": 0,
        "queued": 0,
        "held": 0,
        "scheduled": 0,
    }


def test_publish_exits_3_and_status_shows_what_is_queued_and_until_when(
    project: Path, board: BoardServer
) -> None:
    board.add_faults({"path": "/batch", "kind": "status", "status": 503,
                      "times": 1000})  # fmt: skip

    published = run("publish", cwd=project)

    assert published.returncode == 3, published.stdout + published.stderr
    assert re.search(r"google: 0 done, 0 failed, 5 queued", published.stdout)
    assert "HTTP 503" in published.stderr
    report = status_json(project)
    google = [r for r in report["deliveries"] if r["target"] == "google"]
    assert len(google) == 5
    for row in google:
        assert row["state"] == "pending" and row["version"] == 0
        assert row["queued_until"] and "HTTP 503" in row["error"] and row["last_attempt"]
    assert report["summary"]["queued"] == 5 and report["summary"]["published"] == 10
    text = run("status", cwd=project)
    assert summary_of(text.stdout) == (15, 10, 5, 0, 0, 5)


def test_publish_plan_changes_nothing(project: Path, board: BoardServer) -> None:
    assert run("publish", cwd=project).returncode == 0
    posting = project / "postings" / "sixsq-sales-manager.md"
    posting.write_text(posting.read_text() + "\nFluent French is a plus.\n")
    (project / "postings" / "sixsq-sales-director.md").unlink()
    moved = project / "postings" / "sales" / "canonical.md"  # a file moved, its posting the same
    moved.parent.mkdir()
    (project / "postings" / "canonical-channel-sales-manager.md").rename(moved)
    database = project / "state" / "state.db"
    before, requests = database_dump(database), len(board.state().requests)
    feeds = tree(project / "feeds")

    planned = run("publish", "--plan", cwd=project)
    as_json = run("publish", "--plan", "--format", "json", cwd=project)

    assert planned.returncode == 0, planned.stderr
    assert sorted(table_rows(planned.stdout)) == sorted(
        [[t, "UPDATE", "sixsq-sales-manager", "edited"] for t in PUSH_TARGETS]
        + [[t, "CLOSE", "sixsq-sales-director", "file deleted"] for t in PUSH_TARGETS]
    )
    plan = json.loads(as_json.stdout)["plan"]
    assert sorted((p["target"], p["operation"], p["posting"]) for p in plan) == sorted(
        [(t, "UPDATE", "sixsq-sales-manager") for t in PUSH_TARGETS]
        + [(t, "CLOSE", "sixsq-sales-director") for t in PUSH_TARGETS]
    )
    assert database_dump(database) == before
    assert len(board.state().requests) == requests
    assert tree(project / "feeds") == feeds  # nothing built either

    applied = run("publish", cwd=project)
    assert applied.returncode == 0, applied.stderr
    assert board.state().jobs["sixsq-sales-director"].state == "CLOSED"
    assert run("publish", "--plan", cwd=project).stdout.count("nothing to push") == 1


def test_secrets_never_appear_in_output_logs_status_or_the_state_file(
    project: Path, board: BoardServer
) -> None:
    board.add_faults(
        # The board repeats the secrets in its error messages, as careless boards do.
        {"path": "/rest/simpleJobPostings", "kind": "status", "status": 500, "times": 1000,
         "message": f"token {TOKEN} is over its quota"},
        {"path": "/batch", "kind": "status", "status": 403, "times": 1000,
         "message": f"Bearer {TOKEN} may not publish"},
        {"path": "/hook", "kind": "status", "status": 502, "times": 1000,
         "message": f"upstream said: secret={HOOK_SECRET}"},
    )  # fmt: skip

    outputs = [
        run("-vv", "publish", cwd=project),
        run("-vv", "publish", "--format", "json", cwd=project),
        run("-vv", "status", cwd=project),
        run("-vv", "status", "--format", "json", cwd=project),
    ]

    published = outputs[0]
    assert published.returncode == 3  # google refused our credentials (403): queued
    assert "****" in published.stderr  # the board's messages were shown, masked
    assert "over its quota" in published.stderr and "may not publish" in published.stderr
    for result in outputs:
        for secret in SECRETS:
            assert secret not in result.stdout and secret not in result.stderr
    errors = {row["error"] for row in status_json(project)["deliveries"]}
    assert "HTTP 500: token **** is over its quota" in errors
    assert any(e and e.startswith("HTTP 403: Bearer **** may not publish") for e in errors)
    assert "HTTP 502: upstream said: secret=****" in errors
    state_files = [path for path in (project / "state").rglob("*") if path.is_file()]
    assert state_files
    for path in state_files:
        content = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in content, path
