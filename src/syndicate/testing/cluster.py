"""Several ``syndicate daemon`` processes on one state, for tests and benchmarks.

`DaemonCluster` writes one project per daemon (its own config, checkout of the postings and
output folder, as on separate machines), all pointing at the same state store and the same
board, and starts, kills and stops the daemons as real processes::

    with DaemonCluster(root, board, state_url, daemons=3, postings=30) as cluster:
        cluster.edit(lambda text: text.replace("title: ", "title: New "))  # in every checkout
        cluster.wait(lambda: cluster.converged(), timeout=60)
        cluster.kill("d2")                                                 # SIGKILL

`DAEMON_COMMAND`, `DAEMON_ENVIRONMENT` and `daemon_config` are what ``deploy/compose.yaml``
must match.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from syndicate.state import StateStore
from syndicate.testing.board import BoardServer
from syndicate.testing.logs import log_events
from syndicate.testing.postgres import free_port

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = Path(__file__).resolve().parents[3] / "postings"
TOKEN, HOOK_SECRET = "cluster-token", "cluster-hook-secret"
# How every daemon is started (as deploy/compose.yaml does), and the environment it gets
# (besides its secrets).
DAEMON_COMMAND = ("syndicate", "daemon", "--log-format", "json")
DAEMON_ENVIRONMENT = ("SYNDICATE_DAEMON_ID", "PGPASSWORD", "LINKEDIN_TOKEN",
                      "GOOGLE_INDEXING_TOKEN", "HOOK_SECRET")  # fmt: skip


def daemon_config(
    board_url: str,
    hook_url: str,
    state_url: str,
    *,
    port: int,
    sync_every: str = "1s",
    lease_time: str = "3s",
    hook_rate_limit: float | None = None,
    concurrency: int = 1,
) -> str:
    """The config.yaml of one daemon of the cluster (the repository's example, re-pointed)."""
    config = (ROOT / "config.yaml").read_text(encoding="utf-8")
    config = config.replace("https://api.linkedin.com/rest", board_url + "/rest")
    config = config.replace("https://indexing.googleapis.com", board_url)
    hook = f"{hook_url}\n    concurrency: {concurrency}"
    if hook_rate_limit:
        hook += f"\n    rate_limit: {hook_rate_limit}"
    config = config.replace("https://example.com/jobs-hook", hook)
    config = config.replace("daily_quota: 200", "daily_quota: 100000")
    config = config.replace("state: sqlite:///.syndicate/state.db", f"state: {state_url}")
    config = config.replace(
        'organization: "urn:li:organization:123"',
        'organization: "urn:li:organization:123"\n    poll_interval: 10ms',
    )
    config = re.sub(r"(?m)^retry: .*$", "", config)
    config = re.sub(r"(?m)^schedule: .*$", "", config)
    config = re.sub(r"(?m)^server: .*$", "", config)
    return config + (
        f"\nschedule: {{sync_every: {sync_every}}}\n"
        "retry: {max_attempts: 3, backoff: 50ms, max_backoff: 1s}\n"
        f"server: {{host: 127.0.0.1, port: {port}}}\n"
        f"cluster: {{lease_time: {lease_time}}}\n"
    )


def write_postings(folder: Path, count: int) -> None:
    """``count`` open postings made from the examples (ids ``<example>-<n>``)."""
    folder.mkdir(parents=True, exist_ok=True)
    examples = sorted(EXAMPLES.glob("*.md"))
    for n in range(count):
        example = examples[n % len(examples)]
        text = example.read_text(encoding="utf-8")
        text = re.sub(r"(?m)^status: .*\n", "", text)
        text = re.sub(r"(?m)^valid_through: .*\n", "", text)
        posting_id = f"{example.stem}-{n}"
        text = re.sub(r"(?m)^id: .*$", f"id: {posting_id}", text, count=1)
        (folder / f"{posting_id}.md").write_text(text, encoding="utf-8")


class DaemonCluster:
    """``daemons`` daemon processes named d1, d2, … on one state (see the module docstring)."""

    def __init__(
        self,
        root: Path,
        board: BoardServer,
        state_url: str,
        *,
        daemons: int = 3,
        postings: int = 30,
        **config: Any,
    ) -> None:
        self.root = root
        self.board = board
        self.state_url = state_url
        self.names = [f"d{n + 1}" for n in range(daemons)]
        self.ports: dict[str, int] = {}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        for name in self.names:
            folder = root / name
            folder.mkdir(parents=True)
            self.ports[name] = free_port()
            (folder / "config.yaml").write_text(
                daemon_config(board.url, board.hook_url, state_url, port=self.ports[name],
                              **config),
                encoding="utf-8",
            )  # fmt: skip
            write_postings(folder / "postings", postings)

    def __enter__(self) -> DaemonCluster:
        for name in self.names:
            self.start(name)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- processes -----------------------------------------------------------------------------

    def start(self, name: str) -> None:
        env = {
            **os.environ,
            "SYNDICATE_DAEMON_ID": name,
            "LINKEDIN_TOKEN": TOKEN,
            "GOOGLE_INDEXING_TOKEN": TOKEN,
            "HOOK_SECRET": HOOK_SECRET,
        }
        log = (self.root / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [str(Path(sys.executable).parent / "syndicate"), *DAEMON_COMMAND[1:]],
            cwd=self.root / name,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def kill(self, name: str) -> None:
        """SIGKILL: the daemon records nothing more, its leases are left to expire."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM every daemon still running, and wait for it."""
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def events(self, name: str, message: str) -> list[dict[str, Any]]:
        """The JSON log events of daemon ``name`` whose message is ``message``."""
        return log_events(self.root / f"{name}.log", message)

    # -- postings ------------------------------------------------------------------------------

    def edit(self, change: Callable[[str], str], ids: list[str] | None = None) -> None:
        """Change posting files the same way in every checkout (as a ``git pull`` would)."""
        for name in self.names:
            for path in sorted((self.root / name / "postings").glob("*.md")):
                if ids is None or path.stem in ids:
                    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")

    def posting_ids(self) -> list[str]:
        return sorted(p.stem for p in (self.root / self.names[0] / "postings").glob("*.md"))

    # -- what happened -------------------------------------------------------------------------

    def health(self, name: str) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.ports[name]}/healthz", timeout=5)

    def open_operations(self) -> int:
        with StateStore(self.state_url) as store:
            return store.open_count()

    def planner(self) -> str | None:
        with StateStore(self.state_url) as store:
            lease = store.coordination.lease("planning")
            now = store.coordination.now()
        return lease.holder if lease and lease.expires_at > now else None

    def leased_by(self, name: str) -> int:
        """Operations leased to daemon ``name`` now, sent at least once."""
        with StateStore(self.state_url) as store:
            far = datetime.max.replace(tzinfo=UTC)
            return sum(
                1 for op in store.pending(now=far) if op.lease_holder == name and op.attempts
            )

    @staticmethod
    def wait(condition: Callable[[], bool], timeout: float, every: float = 0.2) -> float:
        """Seconds until ``condition()`` held; AssertionError after ``timeout``."""
        started = time.monotonic()
        while not condition():
            if time.monotonic() - started > timeout:
                raise AssertionError(f"not reached within {timeout} s")
            time.sleep(every)
        return time.monotonic() - started
