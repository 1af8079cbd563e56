"""The benchmark: generate N postings, then time each step in a fresh process and print a table.

``python -m benchmarks`` (from the repository root) runs N = 1,000, 10,000 and 100,000;
``--sizes 1000,10000`` chooses.  For each N, in a new temporary project:

1. generate N postings (`benchmarks.generate`), which is timed but is not part of any figure;
2. **cold build**: ``syndicate build`` with no output, no cache and no state;
3. **warm build**: ``syndicate build`` again, nothing changed;
4. **push**: every posting sent as a CREATE to the local board server (LinkedIn-style jobs API,
   batches of 100, 50 ms of latency per request), without a build: pushes per second are the
   operations sent over the time from the first request to the last answer;
5. **plan, no change**: ``syndicate publish --plan`` once everything is published;
6. **publish, one edit**: one posting's title changed, then ``syndicate publish`` end to end
   (build, plan, push of the one UPDATE to the board, state recorded);
7. **Indeed feed, coded vs profile**: the per-posting cost of rendering Indeed's feed with the
   coded target and with the Indeed board profile (`benchmarks.steps` ``render``).

Every step runs in its own process, started fresh; its wall time is measured around the process
and its peak memory is the larger of the process's ``ru_maxrss`` and the peak of the summed RSS
of its process tree, sampled every 20 ms (the two differ only when a step uses worker
processes).  The step is started by a small launcher process (`LAUNCHER`) that reads its
``ru_maxrss`` with ``wait4``: a process started directly from this one would report this one's
peak, board server included, since Linux carries the peak of the memory a process replaces by
``exec`` over to it.

``python -m benchmarks --cluster`` runs the several-daemons step instead (`benchmarks.cluster`;
it needs PostgreSQL): 1, 2 and 3 daemons converging 400 postings against the board with 100 ms
of latency, then three with a rate limit.  ``--cluster --sizes 1000`` runs both.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.cluster import ClusterRun, cluster_table, run_cluster
from benchmarks.generate import DEFAULT_SEED, posting, write_project
from syndicate.testing.board import DEFAULT_TOKEN, BoardServer

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (1_000, 10_000, 100_000)
SETTLE_S = 5.0  # pause before each step, after writing out dirty pages
CLI = ("-c", "from syndicate.cli import main; main()")
# Runs argv[2:] and writes its ru_maxrss (KB) to argv[1]; small, so that the step's peak is its
# own (see the module's docstring).
LAUNCHER = """
import os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(slots=True)
class Step:
    """One measured step."""

    postings: int
    name: str
    seconds: float
    rss_mb: float
    exit_code: int
    note: str = ""


@dataclass(slots=True)
class Result:
    """Every step of every size, and how long generating the postings took."""

    steps: list[Step] = field(default_factory=list)
    generated: dict[int, float] = field(default_factory=dict)
    cleanup: list[Path] = field(default_factory=list)


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and its descendants until stopped; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.02, *, skip_root: bool = False) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.skip_root = skip_root  # the launcher is not part of the step
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            pids = _tree(self.pid)[1 if self.skip_root else 0 :]
            self.peak = max(self.peak, sum(_rss(pid) for pid in pids))

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


def _tree(pid: int) -> list[int]:
    found = [pid]
    for current in found:
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    found.extend(int(child) for child in handle.read().split())
            except OSError:
                continue
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def measure(
    name: str, argv: Sequence[str], *, cwd: Path, env: dict[str, str], logs: Path, n: int
) -> tuple[Step, str]:
    """Run ``argv`` in a fresh process; its time, peak RSS and exit code, and its stdout."""
    logs.mkdir(parents=True, exist_ok=True)
    settle()
    slug = name.replace(" ", "-").replace(",", "")
    out_path, err_path = logs / f"{slug}.out", logs / f"{slug}.err"
    peak_path = logs / f"{slug}.maxrss"
    launched = [sys.executable, "-c", LAUNCHER, str(peak_path), *argv]
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(launched, cwd=cwd, env=env, stdout=out, stderr=err)
        sampler = TreeSampler(process.pid, skip_root=True)
        sampler.start()
        process.wait()
        seconds = time.perf_counter() - started
        sampled = sampler.stop()
    try:
        maxrss = int(peak_path.read_text()) * 1024
    except (OSError, ValueError):
        maxrss = 0
    step = Step(n, name, seconds, max(maxrss, sampled) / 2**20, process.returncode)
    return step, out_path.read_text("utf-8", errors="replace")


def settle(seconds: float = SETTLE_S) -> None:
    """Write out what earlier steps left in the page cache, then wait a moment: on this
    machine's disk (ext4 mounted with ``discard``), files created just after many were deleted
    or written cost up to ten times as much, which would be charged to the wrong step."""
    os.sync()
    time.sleep(seconds)


def syndicate(*args: str) -> list[str]:
    """The command line of ``syndicate ARGS`` run by this Python."""
    return [sys.executable, *CLI, "-q", *args]


def edit_one(project: Path, n: int, seed: int) -> tuple[str, str]:
    """Change the title of the posting in the middle; its id and new title."""
    department, posting_id, _ = posting(n // 2, seed)
    path = project / "postings" / department / f"{posting_id}.md"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.startswith("title: "):
            title = line.removeprefix("title: ").strip().strip('"') + " (edited)"
            lines[index] = f'title: "{title}"\n'
            break
    path.write_text("".join(lines), encoding="utf-8")
    return posting_id, title


def run_size(
    n: int, *, seed: int, board: BoardServer, work: Path, keep: bool, result: Result
) -> list[Step]:
    """Every step for ``n`` postings, in a new project under ``work``."""
    project = Path(tempfile.mkdtemp(prefix=f"bench-{n}-", dir=work))
    logs = project / "logs"
    started = time.perf_counter()
    size = write_project(project, n, endpoint=board.url + "/rest", seed=seed)
    result.generated[n] = time.perf_counter() - started
    print(
        f"\n{n:,} postings ({size / 1e6:.0f} MB) generated in {result.generated[n]:.1f} s "
        f"into {project}",
        flush=True,
    )
    env = dict(os.environ, BENCH_LINKEDIN_TOKEN=DEFAULT_TOKEN)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(REPO)]))
    config = str(project / "config.yaml")
    steps: list[Step] = []

    def step(name: str, argv: list[str]) -> tuple[Step, str]:
        measured, out = measure(name, argv, cwd=project, env=env, logs=logs, n=n)
        steps.append(measured)
        _print_row(measured)
        return measured, out

    board.reset()
    board.board.config = dataclasses.replace(board.board.config, latency=0.05)
    cold, _ = step("cold build", syndicate("--config", config, "build"))
    cold.note = _output_size(project / "feeds")
    step("warm build, no change", syndicate("--config", config, "build"))
    pushed, out = step("push (50 ms latency)", [sys.executable, "-m", "benchmarks.steps", "push",
                                                config])  # fmt: skip
    pushed.note = _push_rate(out, board)
    step("publish --plan, no change", syndicate("--config", config, "publish", "--plan"))
    posting_id, title = edit_one(project, n, seed)
    edited, _ = step("publish, one posting edited", syndicate("--config", config, "publish"))
    edited.note = _board_has(board, posting_id, title)
    rendered, out = step("Indeed feed, coded vs profile",
                         [sys.executable, "-m", "benchmarks.steps", "render", config])  # fmt: skip
    rendered.note = _render_costs(out)
    board.reset()
    if not keep:
        result.cleanup.append(project)  # removed after the last size, not before the next
    return steps


def _output_size(folder: Path) -> str:
    total = 0
    files = 0
    for directory, _, names in os.walk(folder, followlinks=True):
        if ".versions" in Path(directory).parts:
            continue
        for name in names:
            total += os.stat(Path(directory, name)).st_size
            files += 1
    return f"{files:,} files, {total / 1e6:,.0f} MB written"


def _render_costs(out: str) -> str:
    try:
        figures = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return "no figures"
    coded, profile = figures["coded_us_per_posting"], figures["profile_us_per_posting"]
    return (
        f"coded {coded:.0f} µs/posting, profile {profile:.0f} µs/posting ({profile / coded:.2f}×)"
    )


def _push_rate(out: str, board: BoardServer) -> str:
    try:
        report = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return "no report"
    # The board's own record of the requests: private, read under its lock (a full state()
    # copy of 100,000 jobs would cost more than the step).
    with board.board.lock:
        times = [record.at for record in board.board.state.requests]
    if not times:
        return f"{report['sent']} sent"
    span = (max(times) - min(times)).total_seconds() + board.board.latency
    rate = report["succeeded"] / span if span else 0.0
    return (
        f"{report['succeeded']:,} pushed in {span:.1f} s: {rate:,.0f}/s "
        f"({len(times):,} requests; {report['failed']} failed, {report['queued']} queued)"
    )


def _board_has(board: BoardServer, posting_id: str, title: str) -> str:
    with board.board.lock:
        job = board.board.state.jobs.get(posting_id)
        shown = job.fields.get("title") if job else None
    if shown == title:
        return "the board shows the edit"
    return f"the board does NOT show the edit (title {shown!r})"


TARGETS = {
    "cold build": "≤ 60 s, ≤ 400 MB, ≤ 1.5 × the 10,000 figure (at 100,000)",
    "publish --plan, no change": "≤ 3 s (at 100,000)",
    "publish, one posting edited": "≤ 5 s (at 100,000)",
}


def _print_row(step: Step) -> None:
    flag = "" if step.exit_code == 0 else f"  [exit {step.exit_code}]"
    print(
        f"  {step.name:<30} {step.seconds:>8.2f} s {step.rss_mb:>8.0f} MB  {step.note}{flag}",
        flush=True,
    )


def table(result: Result) -> str:
    """The figures as a Markdown table, one row per size and step."""
    lines = [
        "| postings | step | seconds | peak RSS (MB) | notes |",
        "| ---: | --- | ---: | ---: | --- |",
    ]
    for step in result.steps:
        note = step.note + ("" if step.exit_code == 0 else f" (exit {step.exit_code})")
        lines.append(
            f"| {step.postings:,} | {step.name} | {step.seconds:.2f} | {step.rss_mb:.0f} | {note} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--sizes",
        default=None,
        help="comma-separated numbers of postings (default 1000,10000,100000; none with --cluster)",
    )
    parser.add_argument(
        "--cluster", action="store_true", help="time several daemons on one PostgreSQL state"
    )
    parser.add_argument("--daemons", default="1,2,3", help="with --cluster: how many daemons")
    parser.add_argument("--cluster-postings", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds, with --cluster")
    parser.add_argument(
        "--rate-limit", type=float, default=8.0, help="the webhook's, with --cluster (0: none)"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--work", type=Path, default=None, help="where projects are generated")
    parser.add_argument("--keep", action="store_true", help="keep the generated projects")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    sizes_text = args.sizes
    if sizes_text is None:
        sizes_text = "" if args.cluster else ",".join(map(str, DEFAULT_SIZES))
    sizes = [int(size.replace("_", "")) for size in sizes_text.split(",") if size.strip()]
    work = args.work or Path(tempfile.gettempdir())
    work.mkdir(parents=True, exist_ok=True)
    result = Result()
    print(f"syndicate benchmark: {os.cpu_count()} CPU(s), sizes {sizes}, seed {args.seed}")
    if sizes:
        with BoardServer() as board:
            for n in sizes:
                result.steps += run_size(
                    n, seed=args.seed, board=board, work=work, keep=args.keep, result=result
                )
        for project in result.cleanup:
            shutil.rmtree(project, ignore_errors=True)
        print("\n" + table(result))
        for name, target in TARGETS.items():
            print(f"target, {name}: {target}")
    runs: list[ClusterRun] = []
    if args.cluster:
        counts = [int(n) for n in args.daemons.split(",") if n.strip()]
        runs = run_cluster(counts, postings=args.cluster_postings, latency=args.latency,
                           rate_limit=args.rate_limit or None, work=work)  # fmt: skip
        print("\n" + cluster_table(runs))
        print("target: three daemons take at most half the time of one; the rate limit holds")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "steps": [asdict(s) for s in result.steps],
                    "generated": result.generated,
                    "cluster": [asdict(run) for run in runs],
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
