"""Three daemon processes on one real PostgreSQL state, pushing to the local board with faults.

One story, in phases, each checked on the board's own record: the first convergence (every
posting created exactly once, the webhook's rate limit held across the three), edits and closes,
one daemon killed with SIGKILL while a batch of its is in flight (the others finish its work),
the planner killed (another plans the next edit within the lease time), PostgreSQL stopped and
started under the running daemons (degraded meanwhile, feeds still served, nothing lost, nothing
sent twice).
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from syndicate.testing.board import BoardServer, BoardView
from syndicate.testing.cluster import HOOK_SECRET, TOKEN, DaemonCluster
from syndicate.testing.postgres import PostgresServer

pytestmark = pytest.mark.slow
POSTINGS = 30
RATE = 15.0  # the webhook's rate_limit, requests per second, for all daemons together
LEASE = 3.0  # seconds (cluster.lease_time)
CONVERGE = 90.0  # seconds a phase may take at most


def listed_titles(view: BoardView) -> dict[str, str]:
    return {key: str(job.fields.get("title")) for key, job in view.listed().items()}


def assert_created_once(view: BoardView) -> None:
    twice = {key: job.creates for key, job in view.jobs.items() if job.creates != 1}
    assert not twice, f"jobs created other than once: {twice}"


def max_rate(view: BoardView, path: str) -> int:
    """The most requests to ``path`` that arrived within any one second."""
    requests = [r for r in view.requests if r.path.startswith(path) and r.received_at]
    times = sorted(r.received_at.timestamp() for r in requests if r.received_at)
    return max((sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times)),
               default=0)  # fmt: skip


def assert_rate_kept(view: BoardView, path: str) -> None:
    """The board never refused a request for its rate, and no second held more than RATE."""
    refused = [r.received_at for r in view.requests if r.fault == "rate_limit"]
    assert refused == [], f"the board refused {len(refused)} request(s) over its rate limit"
    assert max_rate(view, path) <= RATE


def test_three_daemons_share_one_postgresql_state(tmp_path: Path, postgres: PostgresServer) -> None:
    # The board refuses (429) a webhook request over RATE in any second, as a rate-limited API.
    limits = {"/hook": RATE}
    with BoardServer(
        token=TOKEN, hook_secret=HOOK_SECRET, latency=0.02, rate_limits=limits
    ) as board:
        board.add_faults(
            {"path": "/rest/simpleJobPostings", "kind": "status", "status": 500, "times": 2},
            {"path": "/hook", "kind": "status", "status": 503, "times": 3},
            {"path": "/rest/simpleJobPostings", "kind": "drop_after_apply"},
        )
        state = postgres.create_database()
        cluster = DaemonCluster(tmp_path, board, state, daemons=3, postings=POSTINGS,
                                hook_rate_limit=RATE, lease_time=f"{LEASE:g}s")  # fmt: skip
        with cluster:
            ids = cluster.posting_ids()

            # 1. Every posting created exactly once; the rate limit holds across the three.
            cluster.wait(lambda: len(board.state().listed()) == POSTINGS, CONVERGE)
            cluster.wait(lambda: cluster.open_operations() == 0, CONVERGE)
            first = board.state()
            assert_created_once(first)
            assert_rate_kept(first, "/hook")
            health = {name: cluster.health(name).json() for name in cluster.names}
            planners = {h["cluster"]["planner"] for h in health.values()}
            assert len(planners) == 1 and planners <= set(cluster.names), health

            # 2. Edits and closes arrive.
            edited, closed = ids[:5], ids[5:8]
            cluster.edit(lambda t: t.replace("title: ", "title: Senior ", 1), edited)
            cluster.edit(lambda t: t.replace("\n---\n", "\nstatus: closed\n---\n", 1), closed)

            def edits_arrived() -> bool:
                view = board.state()
                titles = listed_titles(view)
                return all(titles.get(i, "").startswith("Senior ") for i in edited) and all(
                    view.jobs[i].state == "CLOSED" for i in closed
                )

            cluster.wait(edits_arrived, CONVERGE)
            assert_created_once(board.state())

            # 3. A daemon killed in the middle of a batch: the others finish its work.
            board.add_faults(
                {"path": "/rest/simpleJobPostings", "kind": "delay", "seconds": 2.0, "times": 3}
            )
            rest = ids[8:]
            cluster.edit(lambda t: t.replace("title: ", "title: Lead ", 1), rest)
            victim = ""

            def some_batch_in_flight() -> bool:
                nonlocal victim
                victim = next((n for n in cluster.names if cluster.leased_by(n)), "")
                return bool(victim)

            cluster.wait(some_batch_in_flight, CONVERGE, every=0.05)
            cluster.kill(victim)
            cluster.wait(
                lambda: all(listed_titles(board.state()).get(i, "").startswith("Lead ")
                            for i in rest),
                CONVERGE,
            )  # fmt: skip
            cluster.wait(lambda: cluster.open_operations() == 0, CONVERGE)
            after_kill = board.state()
            assert_created_once(after_kill)
            assert set(after_kill.listed()) == set(ids) - set(closed)

            # 4. The planner killed: another daemon plans the next edit within the lease time.
            planner = cluster.planner()
            assert planner is not None and planner in cluster.processes
            cluster.kill(planner)
            killed_at = time.monotonic()
            cluster.edit(lambda t: t.replace("title: Lead ", "title: Head ", 1), ids[8:9])
            cluster.wait(
                lambda: listed_titles(board.state()).get(ids[8], "").startswith("Head "),
                CONVERGE,
            )
            took = time.monotonic() - killed_at
            new_planner = cluster.planner()
            assert new_planner not in (None, planner, victim)
            # The lease expires within LEASE; the survivor syncs every second and pushes.
            assert took <= LEASE + 6, took

            # 5. PostgreSQL stopped and started again under the running daemon.
            [survivor] = list(cluster.processes)
            postgres.stop()
            cluster.edit(lambda t: t.replace("title: Head ", "title: Chief ", 1), ids[8:9])
            down: dict[str, object] = {}

            def reported_degraded() -> bool:
                answer = cluster.health(survivor)
                down.update(answer.json(), code=answer.status_code)
                return answer.json()["status"] == "degraded"

            cluster.wait(reported_degraded, 30)
            assert down["code"] == 200 and "state store is out of reach" in str(down["reason"])
            feed = httpx.get(f"http://127.0.0.1:{cluster.ports[survivor]}/indeed.xml", timeout=5)
            assert feed.status_code == 200 and b"<source>" in feed.content
            postgres.start()
            cluster.wait(
                lambda: listed_titles(board.state()).get(ids[8], "").startswith("Chief "),
                CONVERGE,
            )
            cluster.wait(lambda: cluster.health(survivor).json()["status"] == "ok", 30)
            cluster.wait(lambda: cluster.open_operations() == 0, CONVERGE)
            final = board.state()
            assert_created_once(final)
            assert set(final.listed()) == set(ids) - set(closed)
            assert_rate_kept(final, "/hook")
