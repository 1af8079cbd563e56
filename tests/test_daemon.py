"""`syndicate daemon` as a real subprocess against the local board server, over real sockets.

Edits reach the served feeds and the board within one interval; a posting whose
``valid_through`` passes is closed without an edit; the feed server answers conditional GETs,
gzip, traversal attempts and private feeds as documented; SIGTERM stops it cleanly, and a
restarted daemon finishes the work without duplicates.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from lxml import etree

from syndicate.testing.board import BoardServer
from tests.cli import run as run_cli
from tests.helpers import wait_for

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "syndicate"
TOKEN, HOOK_SECRET, PARTNER_TOKEN = "daemon-token", "daemon-hook", "partner-secret"
INTERVAL = 2.0  # seconds between scheduled syncs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Project:
    """A config and postings in a folder, its daemon process, and an HTTP client for it."""

    def __init__(self, folder: Path, board: BoardServer, schedule: str | None = None) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        config = (ROOT / "config.yaml").read_text()
        for public, local in (
            ("https://api.linkedin.com/rest", board.url + "/rest"),
            ("https://indexing.googleapis.com", board.url),
            ("https://example.com/jobs-hook", board.hook_url),
        ):
            config = config.replace(public, local)
        config = config.replace("base_url: http://127.0.0.1:8080", f"base_url: {self.url}")
        schedule = schedule or f"{{sync_every: {INTERVAL:g}s}}"
        config = re.sub(r"(?m)^schedule: .*$", f"schedule: {schedule}", config)
        config = re.sub(r"(?m)^retry: .*$", "retry: {max_attempts: 2, backoff: 50ms}", config)
        config = re.sub(
            r"(?m)^server: .*$",
            f"server:\n  port: {self.port}\n  private:\n"
            "    linkedin.json: {token_env: PARTNER_TOKEN}",
            config,
        )
        config = config.replace(
            'organization: "urn:li:organization:123"',
            'organization: "urn:li:organization:123"\n    poll_interval: 20ms',
        )
        folder.mkdir(exist_ok=True)
        (folder / "config.yaml").write_text(config)
        shutil.copytree(ROOT / "postings", folder / "postings")
        self.client = httpx.Client(base_url=self.url, timeout=5)

    def start(self, log_format: str = "json") -> None:
        env = {
            **os.environ,
            "LINKEDIN_TOKEN": TOKEN,
            "GOOGLE_INDEXING_TOKEN": TOKEN,
            "HOOK_SECRET": HOOK_SECRET,
            "PARTNER_TOKEN": PARTNER_TOKEN,
        }
        self.log = (self.folder / "daemon.log").open("ab")
        self.process = subprocess.Popen(
            [str(SCRIPT), "daemon", "--log-format", log_format],
            cwd=self.folder,
            env={**env, "COLUMNS": "80"},
            stdout=self.log,
            stderr=self.log,
        )
        wait_for(self.synced_ok, 30, "the first sync")

    def synced_ok(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.logs()
        response = self.client.get("/healthz")
        return response.status_code == 200 and response.json()["last_sync_result"] == "ok"

    def stop(self, timeout: float = 10) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self.log.close()
        return code

    def logs(self) -> str:
        path = self.folder / "daemon.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def indeed_titles(self) -> dict[str, str]:
        response = self.client.get("/indeed.xml")
        assert response.status_code == 200
        root = etree.fromstring(response.content, etree.XMLParser(resolve_entities=False))
        return {job.findtext("requisitionid"): job.findtext("title") for job in root.iter("job")}

    def posting(self, posting_id: str) -> Path:
        return self.folder / "postings" / f"{posting_id}.md"


@pytest.fixture
def board() -> Iterator[BoardServer]:
    with BoardServer(token=TOKEN, hook_secret=HOOK_SECRET) as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, board: BoardServer) -> Iterator[Project]:
    project = Project(tmp_path / "site", board)
    yield project
    if project.process is not None and project.process.poll() is None:
        project.process.kill()
        project.process.wait()


def test_edits_and_expiry_reach_the_feeds_and_the_board(
    project: Project, board: BoardServer
) -> None:
    ends = datetime.now(UTC) + timedelta(seconds=12)
    expiring = project.posting("8x8-inside-sales-manager")
    expiring.write_text(
        expiring.read_text().replace(
            "\n---\n", f"\nvalid_through: {ends.isoformat(timespec='seconds')}\n---\n", 1
        )
    )
    project.start()
    on_indeed = {p.stem for p in (project.folder / "postings").iterdir()} - {
        "canonical-channel-sales-manager",
        "canonical-sales-director-iot-devices",
    }  # they opt out of Indeed
    assert set(project.indeed_titles()) == on_indeed
    assert len(board.state().listed()) == 5

    edited = project.posting("sixsq-sales-manager")
    edited.write_text(edited.read_text().replace("title: Sales Manager", "title: Head of Sales"))
    started = time.monotonic()
    wait_for(
        lambda: project.indeed_titles().get("sixsq-sales-manager") == "Head of Sales",
        INTERVAL * 3,
        "the edit in the served Indeed feed",
    )
    wait_for(
        lambda: board.state().jobs["sixsq-sales-manager"].fields.get("title") == "Head of Sales",
        INTERVAL * 3,
        "the edit at the board",
    )
    assert time.monotonic() - started < INTERVAL * 3

    wait_for(
        lambda: board.state().jobs["8x8-inside-sales-manager"].state == "CLOSED",
        30,
        "the expired job closed at the board",
    )
    assert "8x8-inside-sales-manager" not in project.indeed_titles()
    # The sync that closed it answers its page 410 once the sync has finished.
    wait_for(
        lambda: (
            project.client.get("/careers/jobs/8x8-inside-sales-manager.html").status_code == 410
        ),
        INTERVAL * 3,
        "the expired job's page answering 410",
    )
    assert all(job.creates == 1 for job in board.state().jobs.values())
    assert project.stop() == 0


def test_feed_server_answers_as_documented(project: Project) -> None:
    project.start()
    client = project.client
    home = client.get("/")  # the server's address leads a person to the jobs
    assert home.status_code == 302 and home.headers["location"] == "/careers/"
    assert 'href="jobs/sixsq-sales-manager.html"' in client.get("/", follow_redirects=True).text
    full = client.get("/indeed.xml")
    assert full.status_code == 200 and full.headers["content-type"].startswith("application/xml")
    etag, modified = full.headers["etag"], full.headers["last-modified"]
    again = client.get("/indeed.xml", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    since = client.get("/indeed.xml", headers={"If-Modified-Since": modified})
    assert since.status_code == 304 and since.content == b""

    with socket.create_connection(("127.0.0.1", project.port)) as raw:
        raw.sendall(
            b"GET /indeed.xml HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n"
            b"Connection: close\r\n\r\n"
        )
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-encoding: gzip" in head.lower()
    assert gzip.decompress(body) == full.content

    for path in ("/../config.yaml", "/%2e%2e/config.yaml", "/careers/..%2F..%2Fconfig.yaml",
                 "/.syndicate/state.db", "/careers%2F..%2F..%2Fconfig.yaml"):  # fmt: skip
        with socket.create_connection(("127.0.0.1", project.port)) as raw:
            raw.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            status_line = raw.recv(65536).split(b"\r\n", 1)[0]
        assert b" 404 " in status_line, (path, status_line)

    assert client.get("/linkedin.json").status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/linkedin.json", headers=wrong).status_code == 401
    right = {"Authorization": f"Bearer {PARTNER_TOKEN}"}
    assert client.get("/linkedin.json", headers=right).status_code == 200
    metrics = client.get("/metrics").text
    # Every series names the daemon (its id: host-pid without SYNDICATE_DAEMON_ID).
    assert re.search(r'(?m)^syndicate_syncs_total\{daemon="[^"]+",result="ok"\} [1-9]', metrics)
    assert project.stop() == 0
    assert PARTNER_TOKEN not in project.logs() and TOKEN not in project.logs()


def test_sigterm_mid_sync_exits_cleanly_and_a_restart_finishes(
    project: Project, board: BoardServer
) -> None:
    project.start()
    for path in (project.folder / "postings").glob("*.md"):
        path.write_text(path.read_text() + "\nEdited while the board is slow.\n")
    # A slow board: each webhook takes a second, so the next sync is mid-push when stopped.
    board.add_faults({"path": "/hook", "kind": "delay", "seconds": 1.0, "times": 5})
    wait_for(
        lambda: any(r.path.startswith("/hook") and r.fault for r in board.state().requests),
        INTERVAL * 4,
        "a sync pushing to the slow webhook",
    )
    started = time.monotonic()
    assert project.stop(timeout=15) == 0, project.logs()
    assert time.monotonic() - started < 8

    board.board.clear_faults()
    project.start()
    wait_for(
        lambda: all(
            "Edited while the board is slow." in job.fields.get("description", "")
            for job in board.state().listed().values()
        ),
        INTERVAL * 5,
        "every edit at the board after the restart",
    )
    state = board.state()
    assert len(state.listed()) == 5
    assert all(job.creates == 1 for job in state.jobs.values())
    latest = {}
    for delivery in state.deliveries:
        latest.setdefault(delivery.idempotency_key, 0)
        latest[delivery.idempotency_key] += 0 if delivery.duplicate else 1
    assert all(count == 1 for count in latest.values())
    assert project.stop() == 0


def test_retries_come_when_due_and_edits_are_watched_between_long_intervals(
    tmp_path: Path, board: BoardServer
) -> None:
    project = Project(tmp_path / "site", board, schedule="{sync_every: 10m, watch: true}")
    # The webhook refuses the first attempts: the first sync queues them for a retry.
    board.add_faults({"path": "/hook", "kind": "status", "status": 503, "times": 10})
    try:
        project.start()
        wait_for(
            lambda: len({d.idempotency_key for d in board.state().deliveries}) == 5,
            20,
            "the queued webhooks delivered by a retry, long before the next interval",
        )
        edited = project.posting("sixsq-sales-manager")
        edited.write_text(edited.read_text().replace("title: Sales Manager", "title: Sales Lead"))
        wait_for(
            lambda: board.state().jobs["sixsq-sales-manager"].fields.get("title") == "Sales Lead",
            15,
            "the watched edit at the board",
        )
        assert project.indeed_titles()["sixsq-sales-manager"] == "Sales Lead"
        assert project.stop() == 0
    finally:
        if project.process is not None and project.process.poll() is None:
            project.process.kill()


def test_a_scheduled_posting_is_listed_nowhere_until_its_moment_then_the_daemon_publishes_it(
    tmp_path: Path, board: BoardServer
) -> None:
    project = Project(tmp_path / "site", board, schedule="{sync_every: 10m}")
    # Far enough ahead for the daemon's start and the checks below on a loaded machine.
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=45)
    scheduled = project.posting("sixsq-sales-manager")
    scheduled.write_text(
        re.sub(
            r"(?m)^date_posted: .*$",
            f"date_posted: {starts.isoformat()}",
            scheduled.read_text(),
        )
    )
    plan = run_cli("publish", "--plan", cwd=project.folder)
    assert plan.returncode == 0, plan.stderr
    assert "sixsq-sales-manager: scheduled for " in plan.stdout
    try:
        project.start()
        assert datetime.now(UTC) < starts, "the daemon took too long to start for this test"
        # Before its moment: on no target, not told to any board, shown by status.
        assert "sixsq-sales-manager" not in project.indeed_titles()
        assert project.client.get("/careers/jobs/sixsq-sales-manager.html").status_code == 404
        assert "sixsq-sales-manager" not in board.state().jobs
        assert len(board.state().jobs) == 4
        status = run_cli("status", "--format", "json", cwd=project.folder)
        [row] = json.loads(status.stdout)["scheduled"]
        assert row["posting"] == "sixsq-sales-manager"
        assert datetime.fromisoformat(row["at"]) == starts
        # The daemon wakes for it, long before its 10-minute interval.
        wait_for(
            lambda: board.state().jobs.get("sixsq-sales-manager") is not None,
            60,
            "the scheduled job at the board when its moment came",
        )
        assert datetime.now(UTC) >= starts
        # The daemon builds beside its push: the feeds follow within the sync.
        wait_for(
            lambda: "sixsq-sales-manager" in project.indeed_titles(),
            10,
            "the scheduled job in the served Indeed feed",
        )
        wait_for(
            lambda: project.client.get("/careers/jobs/sixsq-sales-manager.html").status_code == 200,
            10,
            "the scheduled job's careers page",
        )
        assert project.stop() == 0
    finally:
        if project.process is not None and project.process.poll() is None:
            project.process.kill()


def test_a_taken_port_stops_the_daemon_before_anything_is_synced(
    project: Project, board: BoardServer
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", project.port))
        taken.listen()
        result = run_cli("daemon", cwd=project.folder, env={"COLUMNS": "80"}, timeout=30)
    assert result.returncode == 1, result.stderr
    assert f"cannot serve on 127.0.0.1:{project.port}: address already in use" in result.stderr
    assert "nothing was synced" in result.stderr
    assert not (project.folder / "feeds").exists()
    assert board.state().jobs == {} and board.state().deliveries == []


def metric(text: str, name: str, **labels: str) -> float:
    """One series' value, whichever daemon it is labelled with (0 when absent)."""
    wanted = sorted(f'{key}="{value}"' for key, value in labels.items())
    for line in text.splitlines():
        series, _, value = line.rpartition(" ")
        found = series[len(name) + 1 : -1].split(",")
        if (
            series.split("{")[0] == name
            and sorted(label for label in found if not label.startswith("daemon=")) == wanted
        ):
            return float(value)
    return 0.0


def test_metrics_count_an_operation_queued_through_several_syncs_once(
    project: Project, board: BoardServer
) -> None:
    # 5 webhooks, 2 attempts each per sync: 20 refusals keep them queued through two syncs.
    board.add_faults({"path": "/hook", "kind": "status", "status": 503, "times": 20})
    project.start(log_format="text")
    wait_for(
        lambda: len({d.idempotency_key for d in board.state().deliveries}) == 5,
        30,
        "the queued webhooks delivered by a later sync",
    )

    def hook_successes() -> str | None:
        text = project.client.get("/metrics").text
        done = metric(text, "syndicate_pushes_total", target="hook", outcome="succeeded")
        return text if done == 5 else None

    text = wait_for(hook_successes, 10, "the successes counted")
    assert metric(text, "syndicate_syncs_total", result="ok") >= 3
    assert metric(text, "syndicate_pushes_total", target="hook", outcome="queued") == 5
    assert project.stop() == 0
    lines = [line for line in (project.folder / "daemon.log").read_text().splitlines() if line]
    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d (INFO|WARNING|ERROR) ")
    assert all(iso.match(line) for line in lines), lines[:5]  # one line per event, never wrapped
    assert any(
        " push " in line and "target=hook" in line and "outcome=queued" in line for line in lines
    )
