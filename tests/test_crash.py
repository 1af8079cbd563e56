"""Crash safety: `syndicate publish` killed with SIGKILL at random moments, then a clean run.

The board's record after the crashes and one clean run must equal what one clean publish of the
same postings gives a fresh board: every open posting listed once with its latest content, every
other one closed or never shown, no CREATE applied twice, the latest webhook delivery and the
latest indexing notification of every job saying what it is now.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from syndicate.state import Operation, StateStore, state_exists
from syndicate.testing.board import BoardServer, BoardView

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "syndicate"
TOKEN, HOOK_SECRET = "crash-token", "crash-hook-secret"
COPIES = 6  # of each of the five examples: 30 postings
KILLS = int(os.environ.get("SYNDICATE_CRASH_KILLS", "12"))
LATENCY = 0.02  # seconds per board answer, so that a run spends its time pushing
LANDING = 1.5  # seconds: LinkedIn's landing_window (a delayed CREATE is applied within 1 s)


def write_project(folder: Path, board: BoardServer, state: str) -> Path:
    """A config whose push targets are ``board`` and whose state is at ``state``, with COPIES ×
    the example postings."""
    config = (ROOT / "config.yaml").read_text()
    config = config.replace("state: sqlite:///.syndicate/state.db", f"state: {state}")
    config = config.replace("https://api.linkedin.com/rest", board.url + "/rest")
    config = config.replace("https://indexing.googleapis.com", board.url)
    config = config.replace("https://example.com/jobs-hook", board.hook_url)
    config = re.sub(
        r"retry: .*", "retry: {max_attempts: 3, backoff: 10ms, max_backoff: 50ms}", config
    )
    config = config.replace(
        'organization: "urn:li:organization:123"',
        f'organization: "urn:li:organization:123"\n    poll_interval: 10ms\n'
        f"    landing_window: {LANDING * 1000:.0f}ms",
    )
    folder.mkdir()
    (folder / "config.yaml").write_text(config)
    postings = folder / "postings"
    postings.mkdir()
    for example in sorted((ROOT / "postings").glob("*.md")):
        text = example.read_text()
        for copy in range(COPIES):
            posting_id = f"{example.stem}-{copy}"
            (postings / f"{posting_id}.md").write_text(
                re.sub(r"(?m)^id: .*$", f"id: {posting_id}", text, count=1)
            )
    return folder


def edit_postings(postings: Path, rng: random.Random, round_number: int) -> None:
    """Change the content of some postings, close some and open others again."""
    for path in rng.sample(sorted(postings.glob("*.md")), 4):
        text = path.read_text()
        text = re.sub(r"(?m)^status: .*\n", "", text)
        if rng.random() < 0.3:
            text = text.replace("\n---\n", "\nstatus: closed\n---\n", 1)
        text += f"\nRevised in round {round_number}.\n"
        path.write_text(text)


def publish(project: Path, board: BoardServer) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LINKEDIN_TOKEN": TOKEN,
        "GOOGLE_INDEXING_TOKEN": TOKEN,
        "HOOK_SECRET": HOOK_SECRET,
    }
    return subprocess.Popen(
        [str(SCRIPT), "-q", "publish", "--wait"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def clean_publish(project: Path, board: BoardServer, state_url: str | None = None) -> None:
    """A publish that must end with every operation done.  A CLOSE that LinkedIn answers "does
    not exist" while a killed run's CREATE may still land is sent again after the landing
    window (LANDING here): then, and only then, one more publish is allowed."""
    process = publish(project, board)
    _, stderr = process.communicate(timeout=120)
    if process.returncode == 3 and state_url is not None:
        waiting = open_operations(state_url)
        assert waiting and all("may still land" in (op.last_error or "") for op in waiting), [
            (op.posting_id, op.kind, op.last_error) for op in waiting
        ]
        time.sleep(LANDING + 0.2)
        process = publish(project, board)
        _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr.decode()


def board_record(view: BoardView, base_url: str) -> dict[str, object]:
    """What a board ends up saying about each job, comparable between two boards."""
    latest_notification = {n.url.removeprefix(base_url): n.type for n in view.notifications}
    latest_delivery: dict[str, str] = {}
    for delivery in view.deliveries:
        posting_id, _, rest = delivery.idempotency_key.partition(":")
        latest_delivery[posting_id] = rest.rpartition(":")[0]  # without the operation number
    return {
        "listed": {key: job.fields for key, job in view.listed().items()},
        "notified": {url: kind for url, kind in latest_notification.items()},
        "hooks": latest_delivery,
    }


def test_publish_killed_at_random_moments_ends_like_one_clean_publish(
    tmp_path: Path, state_url: str
) -> None:
    rng = random.Random(int(os.environ.get("SYNDICATE_CRASH_SEED", "20261123")))
    with BoardServer(token=TOKEN, hook_secret=HOOK_SECRET, latency=LATENCY) as board:
        project = write_project(tmp_path / "crashed", board, state_url)
        kills = interrupted = 0
        for round_number in range(KILLS):
            if round_number % 3 == 2:
                edit_postings(project / "postings", rng, round_number)
            # A slow jobs API: a kill while it thinks leaves a CREATE applied but unanswered.
            board.add_faults({"path": "/rest/simpleJobPostings", "kind": "delay", "seconds": 1.0})
            process = publish(project, board)
            if round_number % 4 == 0:
                # At least some kills land while the jobs API holds a batch it will apply.
                wait_for_batch_in_flight(state_url, process)
            else:
                time.sleep(rng.uniform(0.4, 3.0))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.wait(timeout=30)
            interrupted += bool(open_operations(state_url))
        clean_publish(project, board, state_url)
        crashed = board.state()
        assert kills >= KILLS // 2, f"only {kills} of {KILLS} runs were killed"
        assert interrupted >= KILLS // 3, f"only {interrupted} kills left work in progress"
        # Some CREATE reached the board twice (its answer lost to a kill) and was applied once.
        assert any(count > 1 for count in crashed.create_requests.values())

    with BoardServer(token=TOKEN, hook_secret=HOOK_SECRET) as fresh_board:
        fresh = tmp_path / "fresh"
        write_project(fresh, fresh_board, "sqlite:///.syndicate/state.db")
        shutil.rmtree(fresh / "postings")
        shutil.copytree(project / "postings", fresh / "postings")
        clean_publish(fresh, fresh_board)
        expected = fresh_board.state()

    assert all(job.creates == 1 for job in crashed.jobs.values())
    site = "http://127.0.0.1:8080"
    got, want = board_record(crashed, site), board_record(expected, site)
    assert got["listed"] == want["listed"]
    # Jobs listed once during the crashes and closed since are closed, not missing or listed.
    for key in crashed.jobs.keys() - want["listed"].keys():
        assert crashed.jobs[key].state == "CLOSED", key
    for url, kind in got["notified"].items():
        assert kind == want["notified"].get(url, "URL_DELETED"), url
    assert want["notified"].items() <= got["notified"].items()
    for posting_id, key in got["hooks"].items():
        assert key == want["hooks"].get(posting_id, key if key.endswith(":close") else None)
    assert open_operations(state_url) == []


def wait_for_batch_in_flight(state_url: str, process: subprocess.Popen[bytes]) -> None:
    """Return once a LinkedIn operation was sent and its answer is not recorded yet."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        if any(op.target == "linkedin" and op.attempts for op in open_operations(state_url)):
            return
        time.sleep(0.02)


def open_operations(state_url: str) -> list[Operation]:
    if not state_exists(state_url):
        return []
    with StateStore(state_url) as store:
        return store.pending(now=datetime.max.replace(tzinfo=UTC))
