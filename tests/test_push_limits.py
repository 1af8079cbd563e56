"""Push concurrency, the per-target rate limit and Retry-After, against the local board server."""

from __future__ import annotations

import itertools
import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from syndicate.config import Settings, load_settings
from syndicate.loading import load_postings
from syndicate.pacing import SEND_MARGIN, RateLimiter, turn_spacing
from syndicate.publish import publish
from syndicate.state import StateStore
from syndicate.testing.board import BoardServer

ROOT = Path(__file__).resolve().parent.parent
TOKEN, HOOK_SECRET = "limits-token", "limits-hook"
COPIES = 8  # of each of the five examples: 40 postings


def make_project(folder: Path, board: BoardServer, hook_options: str) -> Settings:
    """Only the webhook target (one request per posting), with ``hook_options``."""
    config = (ROOT / "config.yaml").read_text()
    config = re.sub(r"(?ms)^  linkedin:\n.*?(?=^  hook:)", "", config)
    config = config.replace(
        "    url: https://example.com/jobs-hook",
        f"    url: {board.hook_url}\n{hook_options}",
    )
    folder.mkdir()
    (folder / "config.yaml").write_text(config)
    postings = folder / "postings"
    postings.mkdir()
    for example in sorted((ROOT / "postings").glob("*.md")):
        for copy in range(COPIES):
            text = re.sub(r"(?m)^id: (.*)$", rf"id: \1-{copy}", example.read_text(), count=1)
            (postings / f"{example.stem}-{copy}.md").write_text(text)
    return load_settings(folder / "config.yaml")


def run_publish(settings: Settings, **kwargs: object):
    loaded = load_postings(settings.postings_dir, settings.timezone)
    with StateStore(settings.state_url) as store:
        return publish(settings, loaded, store, with_build=False, **kwargs), store.pending(
            now=datetime.max.replace(tzinfo=UTC)
        )


def hook_times(board: BoardServer) -> list[float]:
    return sorted(r.at.timestamp() for r in board.state().requests if r.path.startswith("/hook"))


@pytest.fixture
def board(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)
    with BoardServer(token=TOKEN, hook_secret=HOOK_SECRET, latency=0.05) as server:
        yield server


def test_concurrent_batches_are_faster_and_still_deliver_each_posting_once(
    tmp_path: Path, board: BoardServer
) -> None:
    settings = make_project(tmp_path / "p", board, "    concurrency: 8")
    report, left = run_publish(settings)
    assert report.targets["hook"].succeeded == 5 * COPIES and not left
    keys = [d.idempotency_key for d in board.state().deliveries]
    assert len(keys) == len(set(keys)) == 5 * COPIES
    # Each answer takes the board 50 ms: one request at a time, no two end closer than that.
    times = hook_times(board)
    close_together = sum(1 for a, b in itertools.pairwise(times) if b - a < 0.025)
    assert close_together >= 10, times


def arrivals(board: BoardServer) -> list[float]:
    """When each webhook request arrived at the board (not when it was answered)."""
    requests = [r for r in board.state().requests if r.path.startswith("/hook")]
    return sorted(r.received_at.timestamp() for r in requests if r.received_at)


def busiest_second(times: list[float]) -> int:
    """The most of ``times`` within any one second."""
    return max((sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times)),
               default=0)  # fmt: skip


def test_the_rate_limit_is_never_exceeded_even_with_concurrency(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rate = 20.0
    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)
    # The board itself refuses (429) a request over 20 in any second, as a rate-limited API
    # does: a client that bursts at a window's edge is refused, not just counted.
    limits = {"/hook": rate}
    with BoardServer(
        token=TOKEN, hook_secret=HOOK_SECRET, latency=0.05, rate_limits=limits
    ) as board:
        settings = make_project(
            tmp_path / "p", board, f"    concurrency: 8\n    rate_limit: {rate}"
        )
        report, left = run_publish(settings)
        assert report.targets["hook"].succeeded == 5 * COPIES and not left
        refused = [r for r in board.state().requests if r.status == 429]
        assert refused == []
        times = arrivals(board)
    assert len(times) == 5 * COPIES
    assert busiest_second(times) <= rate
    # Turns are (1 + SEND_MARGIN) / rate apart: the limit is kept, and not much below it.
    observed = (len(times) - 1) / (times[-1] - times[0])
    assert rate / (1 + SEND_MARGIN) * 0.8 <= observed <= rate, observed


def test_the_local_board_refuses_a_client_over_its_rate_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The check above can fail: without our limiter, the board answers 429."""
    with BoardServer(token=TOKEN, hook_secret=HOOK_SECRET, rate_limits={"/hook": 5}) as board:
        with httpx.Client(base_url=board.url) as client:
            statuses = [client.post("/hook", content=b"{}").status_code for _ in range(8)]
        refused = [r for r in board.state().requests if r.fault == "rate_limit"]
    assert statuses.count(429) == 3 == len(refused)
    assert all(r.status == 429 for r in refused)


def test_retry_after_holds_back_every_thread(tmp_path: Path, board: BoardServer) -> None:
    settings = make_project(tmp_path / "p", board, "    concurrency: 4")
    board.add_faults({"path": "/hook", "kind": "status", "status": 429, "retry_after": 1})
    report, left = run_publish(settings)
    assert report.targets["hook"].succeeded == 5 * COPIES and not left
    requests = [r for r in board.state().requests if r.path.startswith("/hook")]
    refused = next(r for r in requests if r.status == 429)
    # Requests answered after the 429 were started at least a second after it (those already
    # in flight when it came back excepted: at most concurrency - 1 of them).
    early = [
        r
        for r in requests
        if r.at > refused.at and (r.at - refused.at).total_seconds() < 0.95 + 0.05
    ]
    assert len(early) <= 3, [(r.at, r.status) for r in early]


def test_a_stop_request_leaves_the_unsent_batches_pending(
    tmp_path: Path, board: BoardServer
) -> None:
    settings = make_project(tmp_path / "p", board, "")
    sent = threading.Event()

    def stop_after_first_batches() -> bool:
        if len(hook_times(board)) >= 5:
            sent.set()
        return sent.is_set()

    report, left = run_publish(settings, should_stop=stop_after_first_batches)
    assert report.targets["hook"].stopped
    assert 5 <= report.targets["hook"].succeeded < 5 * COPIES
    assert len(left) == 5 * COPIES - report.targets["hook"].succeeded
    report, left = run_publish(settings)
    assert not left
    keys = [d.idempotency_key for d in board.state().deliveries]
    assert len(keys) == len(set(keys)) == 5 * COPIES


def test_rate_limiter_spaces_requests() -> None:
    limiter = RateLimiter(50.0)
    started = time.monotonic()
    for _ in range(11):
        limiter.acquire()
    assert time.monotonic() - started >= 10 * turn_spacing(50.0) - 0.01
    limiter.hold(0.2)
    before = time.monotonic()
    limiter.acquire()
    assert time.monotonic() - before >= 0.19


def test_a_sender_woken_too_late_gives_its_turn_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """A request that would leave more than SEND_MARGIN after its turn (its thread woke late,
    the machine was busy) takes a new turn: the next request still waits a whole spacing."""
    limiter = RateLimiter(5.0)
    limiter.acquire()
    real_sleep, woken_late = time.sleep, [SEND_MARGIN + 0.1]  # only the first sleep is late

    def oversleep(seconds: float) -> None:
        real_sleep(seconds + (woken_late.pop() if woken_late else 0.0))

    monkeypatch.setattr(time, "sleep", oversleep)
    limiter.acquire()  # its turn came, but it woke 0.3 s after it
    second = time.monotonic()
    limiter.acquire()
    assert time.monotonic() - second >= turn_spacing(5.0) - 0.01
