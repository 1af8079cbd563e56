"""The several-daemons step: how long 1, 2 and 3 daemons on one PostgreSQL state take to
converge, against the local board with latency, without and with a rate limit.

``python -m benchmarks --cluster`` runs it (``--daemons 1,2,3``, ``--cluster-postings 400``,
``--latency 0.1``, ``--rate-limit 8`` choose); it needs PostgreSQL installed (``apt-get install
postgresql``: `syndicate.testing.postgres` starts a throwaway server).  For each run:

1. a new database on the server, and ``N`` ``syndicate daemon`` processes
   (`syndicate.testing.cluster.DaemonCluster`: each its own checkout, output folder and id,
   syncing every second) with an empty postings folder, started and waited for until each has
   synced once;
2. the same ``postings`` open postings written into a new folder of every checkout, then the
   clock started and the new folders swapped in at one moment (`_swap_in`: as a ``git pull``
   on each machine would change its checkout between two syncs);
3. **converged**: every posting delivered to each of the three push targets (LinkedIn-style
   jobs API, Google Indexing, a webhook with ``concurrency: 1``) and no operation open, polled
   from the state every 0.2 s.  Then the board's own record is checked: every job created
   exactly once, one webhook delivery and one indexing notification per posting.

The board answers every API request after ``latency`` seconds; its Indexing quota is raised
for the run (Google grants more on request).  Beside the total, the table shows when the
board saw its first request (loading and planning the postings: CPU work, which the daemons of
this benchmark share two cores for) and the most webhook requests the board saw within any one
and any five seconds; with ``--rate-limit`` the webhook's ``rate_limit`` must hold across the
daemons (`rate_held`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from syndicate.state import StateStore
from syndicate.testing.board import BoardServer, BoardView
from syndicate.testing.cluster import HOOK_SECRET, TOKEN, DaemonCluster, write_postings
from syndicate.testing.postgres import PostgresServer

PUSH_TARGETS = 3  # linkedin, google, hook in the cluster's config
SETTLE_TIMEOUT = 120.0  # seconds for the daemons to start and sync once
CONVERGE_TIMEOUT = 900.0


@dataclass(slots=True)
class ClusterRun:
    """One measured convergence."""

    daemons: int
    postings: int
    rate_limit: float | None
    seconds: float  # from the postings written to every delivery recorded
    first_request: float  # seconds until the board saw its first API request
    hook_requests: int
    hook_max_per_second: int  # the most webhook requests the board saw within any one second
    hook_max_per_5s: int  # … within any five seconds
    hook_mean_per_second: float  # webhook requests over the span from the first to the last
    pushed_by: dict[str, int]  # webhook requests answered per daemon, from their logs
    created_once: bool
    load_average: tuple[float, float, float]
    note: str = ""


def converge(
    pg: PostgresServer,
    board: BoardServer,
    work: Path,
    *,
    daemons: int,
    postings: int,
    rate_limit: float | None = None,
) -> ClusterRun:
    """Start ``daemons`` daemons, give them ``postings`` postings, time their convergence."""
    board.reset()
    state = pg.create_database()
    root = Path(tempfile.mkdtemp(prefix=f"cluster-{daemons}-", dir=work))
    cluster = DaemonCluster(root, board, state, daemons=daemons, postings=0,
                            hook_rate_limit=rate_limit)  # fmt: skip
    for name in cluster.names:
        _swap_in(root / name, 0)
    expected = postings * PUSH_TARGETS
    with cluster, StateStore(state) as store:
        cluster.wait(lambda: _all_synced(cluster), SETTLE_TIMEOUT, every=0.5)
        for name in cluster.names:
            write_postings(root / name / "postings.1", postings)
        started_wall = time.time()
        started = time.monotonic()
        for name in cluster.names:
            _swap_in(root / name, 1)

        def converged() -> bool:
            delivered = store.deliveries()
            published = sum(1 for d in delivered.values() if d.state == "published")
            return published == expected == len(delivered) and store.open_count() == 0

        cluster.wait(converged, CONVERGE_TIMEOUT, every=0.2)
        seconds = time.monotonic() - started
        load = os.getloadavg()
        view = board.state()
        pushed_by = {
            name: sum(1 for e in cluster.events(name, "push") if e.get("target") == "hook")
            for name in cluster.names
        }
    shutil.rmtree(root, ignore_errors=True)
    return _measured(view, daemons, postings, rate_limit, seconds, started_wall, pushed_by, load)


def _swap_in(checkout: Path, version: int) -> None:
    """Make ``checkout/postings`` the folder ``postings.<version>`` in one step (a symlink
    replaced by rename), as a ``git pull`` changes a checkout between two syncs: a daemon
    syncing meanwhile sees all the new postings or none, not the half written so far."""
    target = checkout / f"postings.{version}"
    target.mkdir(exist_ok=True)
    link = checkout / "postings"
    if link.is_dir() and not link.is_symlink():
        link.rmdir()  # the empty folder the cluster made
    staged = checkout / "postings.link"
    staged.unlink(missing_ok=True)
    staged.symlink_to(target.name)
    os.replace(staged, link)


def _all_synced(cluster: DaemonCluster) -> bool:
    try:
        return all(cluster.health(name).json().get("last_sync_at") for name in cluster.names)
    except (httpx.HTTPError, ValueError):
        return False


def _measured(
    view: BoardView,
    daemons: int,
    postings: int,
    rate_limit: float | None,
    seconds: float,
    started_wall: float,
    pushed_by: dict[str, int],
    load: tuple[float, float, float],
) -> ClusterRun:
    requests = sorted(r.at.timestamp() for r in view.requests)
    hooks = sorted(
        (r.received_at or r.at).timestamp() for r in view.requests if r.path.startswith("/hook")
    )
    span = (hooks[-1] - hooks[0]) if len(hooks) > 1 else 0.0
    fresh = [d for d in view.deliveries if not d.duplicate]
    once = (
        all(job.creates == 1 for job in view.jobs.values())
        and len(view.jobs) == postings
        and len(fresh) == postings
        and len({n.url for n in view.notifications}) == postings
    )
    return ClusterRun(
        daemons=daemons,
        postings=postings,
        rate_limit=rate_limit,
        seconds=seconds,
        first_request=(requests[0] - started_wall) if requests else 0.0,
        hook_requests=len(hooks),
        hook_max_per_second=_most_within(hooks, 1.0),
        hook_max_per_5s=_most_within(hooks, 5.0),
        hook_mean_per_second=(len(hooks) - 1) / span if span else 0.0,
        pushed_by=pushed_by,
        created_once=once,
        load_average=load,
    )


def _most_within(times: list[float], window: float) -> int:
    """The most of ``times`` (sorted) within any window of ``window`` seconds."""
    most, first = 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


def run_cluster(
    counts: list[int],
    *,
    postings: int,
    latency: float,
    rate_limit: float | None,
    work: Path,
) -> list[ClusterRun]:
    """Every convergence: each count of daemons without a rate limit, then (with
    ``rate_limit``) the largest count with it; printed as they come."""
    runs: list[ClusterRun] = []
    plan: list[tuple[int, float | None]] = [(n, None) for n in counts]
    if rate_limit:
        plan.append((max(counts), rate_limit))
    with (
        PostgresServer() as pg,
        BoardServer(
            token=TOKEN, hook_secret=HOOK_SECRET, latency=latency, indexing_daily_quota=10**6
        ) as board,
    ):
        print(
            f"\nseveral daemons: {postings} postings, {latency * 1000:.0f} ms latency", flush=True
        )
        for daemons, limit in plan:
            run = converge(pg, board, work, daemons=daemons, postings=postings, rate_limit=limit)
            runs.append(run)
            print("  " + _row(run), flush=True)
    one = next((r for r in runs if r.daemons == 1 and r.rate_limit is None), None)
    for run in runs:
        if one is not None and run.rate_limit is None and run.daemons > 1:
            run.note = f"{run.seconds / one.seconds:.2f} × one daemon's time"
        if run.rate_limit is not None:
            run.note = f"rate limit {'held' if rate_held(run) else 'NOT held'}"
    return runs


def rate_held(run: ClusterRun) -> bool:
    """Whether the board saw at most ``rate_limit`` webhook requests arrive in any window of
    one second (and so of five), as the daemons together must keep it."""
    rate = run.rate_limit or float("inf")
    return run.hook_max_per_second <= rate and run.hook_max_per_5s <= 5 * rate


def _row(run: ClusterRun) -> str:
    limit = f"rate_limit {run.rate_limit:g}/s" if run.rate_limit else "no rate limit"
    return (
        f"{run.daemons} daemon(s), {limit}: converged in {run.seconds:.1f} s (first request "
        f"after {run.first_request:.1f} s); webhook {run.hook_mean_per_second:.1f}/s on "
        f"average, at most {run.hook_max_per_second} in a second and {run.hook_max_per_5s} in "
        f"five; pushed by "
        f"{run.pushed_by}; {'each created once' if run.created_once else 'DUPLICATES OR GAPS'}; "
        f"load average {run.load_average[0]:.1f}"
    )


def cluster_table(runs: list[ClusterRun]) -> str:
    """The convergences as a Markdown table."""
    lines = [
        "| daemons | webhook rate_limit | converged (s) | first request (s) | webhook req/s "
        "(mean; most in 1 s, in 5 s) | created once | load avg | notes |",
        "| ---: | ---: | ---: | ---: | --- | --- | ---: | --- |",
    ]
    for run in runs:
        limit = f"{run.rate_limit:g}/s" if run.rate_limit else "none"
        lines.append(
            f"| {run.daemons} | {limit} | {run.seconds:.1f} | {run.first_request:.1f} | "
            f"{run.hook_mean_per_second:.1f}; {run.hook_max_per_second}, {run.hook_max_per_5s} | "
            f"{'yes' if run.created_once else 'NO'} | {run.load_average[0]:.1f} | {run.note} |"
        )
    return "\n".join(lines)
