"""The daemon's edit to the board: ``syndicate daemon`` with ``watch: true`` on a benchmark
project, one posting's title changed once its first sync is over, and the time from saving the
file until the edit is on the careers page, on the board and in the served Indeed feed.

The figures, measured from just before the file is written:

- **careers page**: the job's page (a small GET, asked every 10 ms) shows the new title;
- **board**: the local board's job has it (its state read in this process every 10 ms);
- the daemon's own ``edit shown`` log line (the edit read, checked, rendered into the cache,
  served and pushed) and the CPU the daemon used meanwhile (``/proc/PID/stat``);
- **Indeed feed**: one GET of the whole served feed afterwards, timed apart (at 100,000
  postings it is hundreds of MB assembled from the cache: its cost is the fetch's, not the
  edit's) and checked to hold the edit.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from syndicate.testing.board import BoardServer
from syndicate.testing.logs import log_events

_POLL_S = 0.01
_TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _board_title(board: BoardServer, posting_id: str) -> object:
    with board.board.lock:
        job = board.board.state.jobs.get(posting_id)
        return job.fields.get("title") if job else None


def _until(condition: Callable[[], bool], timeout: float) -> float | None:
    """Seconds until ``condition()`` holds, from now; None after ``timeout``."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if _holds(condition):
            return time.perf_counter() - started
        time.sleep(_POLL_S)
    return None


def _both(
    first: Callable[[], bool], second: Callable[[], bool], started: float, timeout: float = 60
) -> tuple[float | None, float | None]:
    """Seconds from ``started`` until each condition first holds (None: not within timeout)."""
    times: list[float | None] = [None, None]
    while None in times and time.perf_counter() - started < timeout:
        for index, condition in enumerate((first, second)):
            if times[index] is None and _holds(condition):
                times[index] = time.perf_counter() - started
        time.sleep(_POLL_S)
    return times[0], times[1]


def _holds(condition: Callable[[], bool]) -> bool:
    try:
        return bool(condition())
    except (httpx.TransportError, ValueError):
        return False


def measure_edit(
    project: Path,
    config: Path,
    env: dict[str, str],
    argv: list[str],
    board: BoardServer,
    edit: Callable[[], tuple[str, str]],
    *,
    timeout: float = 3600,
) -> dict[str, object]:
    """Start the daemon (``argv``) on ``config`` with a watch, wait for its first sync, make
    ``edit()`` (which returns the posting id and new title), and time its way out."""
    port = _free_port()
    original = config.read_text("utf-8")
    config.write_text(
        original + f"schedule: {{sync_every: 6h, watch: true}}\n"
        f"server: {{host: 127.0.0.1, port: {port}}}\n",
        "utf-8",
    )
    log = project / "logs" / "daemon-edit.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600)
    with log.open("wb") as out:
        daemon = subprocess.Popen(
            [*argv, "daemon", "--log-format", "json"], cwd=project, env=env, stdout=out, stderr=out
        )
    try:
        synced = _until(
            lambda: client.get("/healthz").json().get("last_sync_result") == "ok", timeout
        )
        if synced is None:
            return {"error": "the first sync did not end"}
        time.sleep(1.0)  # the watcher is up well before; let the first sync's logs settle
        cpu_before = _cpu_s(daemon.pid)
        started = time.perf_counter()
        posting_id, title = edit()
        page = f"/careers/jobs/{posting_id}.html"
        on_page, on_board = _both(
            lambda: title in client.get(page).text,
            lambda: _board_title(board, posting_id) == title,
            started,
        )
        cpu = _cpu_s(daemon.pid) - cpu_before
        rss = _rss_mb(daemon.pid)
        _until(lambda: bool(log_events(log, "edit shown")), 10)  # logged once it has pushed
        shown = log_events(log, "edit shown")
        fetched_at = time.perf_counter()
        feed = client.get("/indeed.xml")
        fetch = time.perf_counter() - fetched_at
        return {
            "careers_page_s": on_page,
            "board_s": on_board,
            "edit_shown_ms": shown[0].get("duration_ms") if shown else None,
            "daemon_cpu_s": cpu,
            "daemon_rss_mb": rss,
            "feed_fetch_s": fetch,
            "feed_mb": len(feed.content) / 1e6,
            "feed_has_edit": title.encode() in feed.content,
            "first_sync_s": synced,
        }
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=120)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        client.close()
        config.write_text(original, "utf-8")


def summary(figures: dict[str, object]) -> str:
    """The figures as the benchmark's note."""
    if "error" in figures:
        return str(figures["error"])

    def seconds(key: str) -> str:
        value = figures.get(key)
        return f"{value:.2f} s" if isinstance(value, float) else "not seen"

    return (
        f"careers page {seconds('careers_page_s')}, board {seconds('board_s')}, "
        f"edit shown in {figures.get('edit_shown_ms')} ms; served Indeed feed "
        f"{figures.get('feed_mb', 0):.0f} MB fetched in {seconds('feed_fetch_s')} "
        f"({'with' if figures.get('feed_has_edit') else 'WITHOUT'} the edit); first sync "
        f"{seconds('first_sync_s')}"
    )
