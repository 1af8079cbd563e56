"""The benchmark: generate N postings, then time each step in a fresh process and print a table.

``python -m benchmarks`` (from the repository root) runs N = 1,000, 10,000 and 100,000, each
for both posting shapes of `benchmarks.generate` (``default`` and ``wide``); ``--sizes
1000,10000`` and ``--shapes wide`` choose.  First the CLI's start-up (``syndicate --version``,
``validate`` of the five example postings: the fastest of three runs).  Then for each N and
shape, in a new temporary project:

1. generate N postings (`benchmarks.generate`), which is timed but is not part of any figure;
2. **cold build**: ``syndicate build`` with no output, no cache and no state;
3. **hugo build**: Hugo's build of the same posting files into the equivalent site and an
   Indeed-style feed (`benchmarks.hugo_site`; skipped with ``--no-hugo`` or without Hugo);
4. **warm build**: ``syndicate build`` again, nothing changed; then ``validate`` twice: the
   first checks the push targets' rules, which a build does not, and caches them; the second
   is **validate, warm**;
5. **push**: every posting sent as a CREATE to the local board server (LinkedIn-style jobs API,
   batches of 100, 50 ms of latency per request), without a build: pushes per second are the
   operations sent over the time from the first request to the last answer;
6. **plan, no change**: ``syndicate publish --plan`` once everything is published;
7. **publish, one edit**: one posting's title changed, then ``syndicate publish`` end to end
   (build, plan, push of the one UPDATE to the board, state recorded);
7b. **daemon: edit on the board**: ``syndicate daemon`` with ``watch: true``, another
   posting's title changed once its first sync is over: seconds from saving the file to the
   board showing it, the careers page's time, the daemon's CPU meanwhile, and one fetch of the
   served Indeed feed (`benchmarks.daemon_edit`);
8. **feeds, coded Indeed vs every profile**: the per-posting CPU cost of rendering Indeed's
   feed with the coded target (`indeed_xml`) and the feed of each of the built-in board
   profiles on its own, on the same postings read once, without the build cache: the best of
   three renders of each 1,000-posting slice, summed (`benchmarks.steps` ``render``).  After
   the steps table comes a table of these, one row per profile, with its ratio to the coded
   Indeed feed (issue 17: each profile costs at most the coded Indeed target per posting,
   ratio ≤ 1.0); ``--json`` writes them under ``"profiles"``.

Every step runs in its own process, started fresh; its wall time is measured around the process,
its CPU time (user and system, the process and the worker processes it waited for, from
``wait4``) and the load average are printed beside it (on a shared machine the wall time says
more about the neighbours than about syndicate; the CPU time much less so), and its peak memory
is the larger of the process's ``ru_maxrss`` and the peak of the summed RSS of its process tree,
sampled every 20 ms (the two differ only when a step uses worker processes).  The step is
started by a small launcher process (`LAUNCHER`) that reads its ``ru_maxrss`` with ``wait4``: a
process started directly from this one would report this one's peak, board server included,
since Linux carries the peak of the memory a process replaces by ``exec`` over to it.

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

from benchmarks import daemon_edit, hugo_site
from benchmarks.cluster import ClusterRun, cluster_table, run_cluster
from benchmarks.generate import DEFAULT_SEED, SHAPES, postings_folder, write_project
from syndicate.testing.board import DEFAULT_TOKEN, BoardServer

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (1_000, 10_000, 100_000)
SETTLE_S = 5.0  # pause before each step, after writing out dirty pages
CLI = ("-c", "from syndicate.cli import main; main()")
# Runs argv[2:] and writes its ru_maxrss (KB) and CPU seconds (user, system: its own and those
# of the descendants it waited for, its worker processes) to argv[1]; small, so that the step's
# peak is its own (see the module's docstring).
LAUNCHER = """
import os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{usage.ru_maxrss} {usage.ru_utime} {usage.ru_stime}")
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
    cpu_s: float = 0.0  # user + system, the step's process and its workers
    shape: str = "default"


@dataclass(slots=True)
class FeedCosts:
    """The render step's figures for one size and shape: CPU µs per posting of the coded
    Indeed feed and of each built-in profile, and each profile's bytes."""

    postings: int
    shape: str
    coded_us: float
    coded_bytes: int
    profiles: dict[str, dict[str, float]] = field(default_factory=dict)  # us, bytes, ratio


@dataclass(slots=True)
class Result:
    """Every step of every size, and how long generating the postings took."""

    steps: list[Step] = field(default_factory=list)
    generated: dict[str, float] = field(default_factory=dict)  # by "N shape"
    cleanup: list[Path] = field(default_factory=list)
    feeds: list[FeedCosts] = field(default_factory=list)


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
    name: str,
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    logs: Path,
    n: int,
    settle_s: float = SETTLE_S,
) -> tuple[Step, str]:
    """Run ``argv`` in a fresh process; its time, peak RSS and exit code, and its stdout."""
    logs.mkdir(parents=True, exist_ok=True)
    settle(settle_s)
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
        fields = peak_path.read_text().split()
        maxrss, cpu = int(fields[0]) * 1024, float(fields[1]) + float(fields[2])
    except (OSError, ValueError, IndexError):
        maxrss, cpu = 0, 0.0
    step = Step(n, name, seconds, max(maxrss, sampled) / 2**20, process.returncode, cpu_s=cpu)
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


def edit_one(
    project: Path, n: int, seed: int, shape: str = "default", index: int | None = None
) -> tuple[str, str]:
    """Change the title of the posting in the middle (or at ``index``); its id and new title."""
    department, posting_id, _ = SHAPES[shape](n // 2 if index is None else index, seed)
    path = postings_folder(project, shape) / department / f"{posting_id}.md"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.startswith("title: "):
            title = line.removeprefix("title: ").strip().strip('"') + " (edited)"
            lines[index] = f'title: "{title}"\n'
            break
    path.write_text("".join(lines), encoding="utf-8")
    return posting_id, title


def run_size(
    n: int,
    *,
    seed: int,
    board: BoardServer,
    work: Path,
    keep: bool,
    result: Result,
    shape: str = "default",
    hugo_program: str | None = None,
) -> list[Step]:
    """Every step for ``n`` postings of a shape, in a new project under ``work``; with a Hugo
    program, Hugo's build of the same files right after the cold build."""
    project = Path(tempfile.mkdtemp(prefix=f"bench-{shape}-{n}-", dir=work))
    logs = project / "logs"
    started = time.perf_counter()
    size = write_project(project, n, endpoint=board.url + "/rest", seed=seed, shape=shape)
    generated = result.generated[f"{n} {shape}"] = time.perf_counter() - started
    print(
        f"\n{n:,} postings, {shape} shape ({size / 1e6:.0f} MB) generated in "
        f"{generated:.1f} s into {postings_folder(project, shape)}",
        flush=True,
    )
    env = step_environment(BENCH_LINKEDIN_TOKEN=DEFAULT_TOKEN)
    config = str(project / "config.yaml")
    steps: list[Step] = []

    def step(name: str, argv: list[str]) -> tuple[Step, str]:
        measured, out = measure(name, argv, cwd=project, env=env, logs=logs, n=n)
        measured.shape = shape
        steps.append(measured)
        _print_row(measured)
        return measured, out

    board.reset()
    board.board.config = dataclasses.replace(board.board.config, latency=0.05)
    cold, _ = step("cold build", syndicate("--config", config, "build"))
    cold.note = _output_size(project / "feeds")
    if hugo_program is not None:
        hugo, _ = step(
            "hugo build (same files)",
            hugo_site.command(hugo_program, postings_folder(project, shape), project / "hugo"),
        )
        hugo.note = _output_size(project / "hugo") + f"; {hugo_site.version(hugo_program)}"
    step("warm build, no change", syndicate("--config", config, "build"))
    # The builds check the pull targets only: the first `validate` checks the push targets'
    # rules of every posting (and caches them); the second is what CI's runs cost.
    first, _ = step("validate, after the builds", syndicate("--config", config, "validate"))
    first.note = "checks the push targets' rules, which no build checks"
    step("validate, warm", syndicate("--config", config, "validate"))
    pushed, out = step("push (50 ms latency)", [sys.executable, "-m", "benchmarks.steps", "push",
                                                config])  # fmt: skip
    pushed.note = _push_rate(out, board)
    step("publish --plan, no change", syndicate("--config", config, "publish", "--plan"))
    posting_id, title = edit_one(project, n, seed, shape)
    edited, _ = step("publish, one posting edited", syndicate("--config", config, "publish"))
    edited.note = _board_has(board, posting_id, title)
    steps.append(_daemon_edit(project, n, seed, shape, env, board))
    _print_row(steps[-1])
    rendered, out = step("feeds, coded Indeed vs profiles",
                         [sys.executable, "-m", "benchmarks.steps", "render", config])  # fmt: skip
    costs = _feed_costs(out, n, shape)
    if costs is not None:
        result.feeds.append(costs)
        print(feeds_table([costs]), flush=True)
    rendered.note = _render_note(costs)
    board.reset()
    if not keep:
        # removed after the last size, not before the next
        result.cleanup += [project, postings_folder(project, shape)]
    return steps


def _daemon_edit(
    project: Path, n: int, seed: int, shape: str, env: dict[str, str], board: BoardServer
) -> Step:
    """The daemon's edit to the board (`benchmarks.daemon_edit`): a posting other than the
    one the publish step edited, saved while the daemon watches."""
    settle()
    config = project / "config.yaml"
    figures = daemon_edit.measure_edit(
        project,
        config,
        env,
        [sys.executable, *CLI, "--config", str(config)],  # not -q: its log is read
        board,
        lambda: edit_one(project, n, seed, shape, index=n // 3),
    )
    seconds = figures.get("board_s")
    step = Step(
        n,
        "daemon: edit on the board",
        float(seconds) if isinstance(seconds, float) else float("nan"),
        float(figures.get("daemon_rss_mb") or 0.0),  # type: ignore[arg-type]
        0 if isinstance(seconds, float) else 1,
        cpu_s=float(figures.get("daemon_cpu_s") or 0.0),  # type: ignore[arg-type]
        shape=shape,
    )
    step.note = daemon_edit.summary(figures)
    return step


def step_environment(**extra: str) -> dict[str, str]:
    """The environment of every step: this one's, with the repository on ``PYTHONPATH`` and
    without ``PYTHONDONTWRITEBYTECODE``.  An installed syndicate runs from its modules' compiled
    bytecode (pip compiles them; an editable install writes them at first import); where that
    variable is set (this project's CI machine sets it) every fresh process would compile
    syndicate's modules anew, about 0.15 s of a start-up that is not the user's."""
    env = dict(os.environ, **extra)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(REPO)]))
    return env


def compile_bytecode() -> None:
    """syndicate's modules compiled once, before any step is timed (see `step_environment`)."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "src" / "syndicate")],
        check=False,
        env=step_environment(),
    )


def start_up(work: Path, *, repeat: int = 3) -> list[Step]:
    """``syndicate --version`` and ``validate`` of the repository's five example postings, each
    run ``repeat`` times in a fresh process: the fastest run of each (start-up is what is
    measured, and the slower runs only add the machine's noise)."""
    project = Path(tempfile.mkdtemp(prefix="bench-start-up-", dir=work))
    shutil.copy(REPO / "config.yaml", project / "config.yaml")
    shutil.copytree(REPO / "postings", project / "postings")
    env = step_environment()
    steps = []
    for name, args in (
        ("syndicate --version", ["--version"]),
        ("validate, 5 postings", ["-q", "validate"]),
    ):
        runs = [
            measure(
                name,
                [sys.executable, *CLI, *args],
                cwd=project,
                env=env,
                logs=project / "logs",
                n=5,
                settle_s=0.5,
            )[0]
            for _ in range(repeat)
        ]
        fastest = min(runs, key=lambda step: step.cpu_s)
        fastest.note = "fastest of " + ", ".join(
            f"{r.seconds:.2f} s ({r.cpu_s:.2f} s CPU)" for r in runs
        )
        _print_row(fastest)
        steps.append(fastest)
    shutil.rmtree(project, ignore_errors=True)
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


def _feed_costs(out: str, n: int, shape: str) -> FeedCosts | None:
    try:
        figures = json.loads(out.strip().splitlines()[-1])
        return FeedCosts(
            postings=n,
            shape=shape,
            coded_us=figures["coded_us_per_posting"],
            coded_bytes=figures["coded_bytes"],
            profiles={name: dict(f) for name, f in figures["profiles"].items()},
        )
    except (ValueError, IndexError, KeyError, TypeError):
        return None


def _render_note(costs: FeedCosts | None) -> str:
    if costs is None:
        return "no figures"
    worst = max(costs.profiles.items(), key=lambda item: item[1]["ratio"], default=None)
    note = f"coded Indeed {costs.coded_us:.0f} µs/posting"
    if worst is not None:
        name, figures = worst
        note += (
            f"; costliest profile {name} {figures['us_per_posting']:.0f} µs "
            f"({figures['ratio']:.2f}×)"
        )
    return note


def feeds_table(feeds: Sequence[FeedCosts]) -> str:
    """The render step's figures as a Markdown table: one row per size, shape and profile,
    the coded Indeed feed first, each with its ratio to it."""
    lines = [
        "| postings | shape | feed | CPU per posting | × coded Indeed | bytes |",
        "| ---: | --- | --- | ---: | ---: | ---: |",
    ]
    for costs in feeds:
        head = f"| {costs.postings:,} | {costs.shape} "
        lines.append(f"{head}| coded `indeed_xml` | {costs.coded_us:,.0f} µs | 1.00 "
                     f"| {costs.coded_bytes:,} |")  # fmt: skip
        for name, figures in sorted(costs.profiles.items()):
            lines.append(
                f"{head}| profile `{name}` | {figures['us_per_posting']:,.0f} µs "
                f"| {figures['ratio']:.2f} | {int(figures['bytes']):,} |"
            )
    return "\n".join(lines)


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


# Issue 17's numbers, on 2 cores at 100,000 postings.
TARGETS = {
    "cold build": "≤ 30 s (about 0.6 ms of CPU per posting), faster than Hugo; peak RSS of the "
    "process tree ≤ 300 MB and ≤ 1.2 × the 10,000 figure, on every shape",
    "publish --plan, no change": "≤ 1 s",
    "publish, one posting edited": "≤ 2 s",
    "daemon: edit on the board": "≤ 1 s (served feeds, careers page and board)",
    "validate, warm": "≤ 10 s",
    "push (50 ms latency)": "≥ 1,000 per second, memory flat",
    "feeds, coded Indeed vs profiles": "each board profile ≤ the coded Indeed feed's CPU per "
    "posting (ratio ≤ 1.0)",
    "syndicate --version": "≤ 0.2 s",
    "validate, 5 postings": "≤ 0.5 s",
}


def _print_row(step: Step) -> None:
    flag = "" if step.exit_code == 0 else f"  [exit {step.exit_code}]"
    print(
        f"  {step.name:<30} {step.seconds:>8.2f} s {step.cpu_s:>8.2f} s CPU "
        f"{_per_posting(step):>8} {step.rss_mb:>6.0f} MB  {step.note}{flag}  "
        f"[load {os.getloadavg()[0]:.2f}]",
        flush=True,
    )


def _per_posting(step: Step) -> str:
    """CPU per posting, in ms: the figure whose growth with N shows a super-linear step."""
    return f"{step.cpu_s * 1000 / step.postings:.3f} ms" if step.postings else ""


def table(result: Result) -> str:
    """The figures as a Markdown table, one row per size and step."""
    lines = [
        "| postings | shape | step | wall (s) | CPU (s) | CPU per posting | peak RSS (MB) "
        "| notes |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for step in result.steps:
        note = step.note + ("" if step.exit_code == 0 else f" (exit {step.exit_code})")
        lines.append(
            f"| {step.postings:,} | {step.shape} | {step.name} | {step.seconds:.2f} "
            f"| {step.cpu_s:.2f} | {_per_posting(step)} | {step.rss_mb:.0f} | {note} |"
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
    parser.add_argument(
        "--shapes",
        default="default,wide",
        help="comma-separated posting shapes of benchmarks.generate (default default,wide)",
    )
    parser.add_argument("--no-hugo", action="store_true", help="leave Hugo's build out")
    args = parser.parse_args(argv)
    shapes = [shape.strip() for shape in args.shapes.split(",") if shape.strip()]
    sizes_text = args.sizes
    if sizes_text is None:
        sizes_text = "" if args.cluster else ",".join(map(str, DEFAULT_SIZES))
    sizes = [int(size.replace("_", "")) for size in sizes_text.split(",") if size.strip()]
    work = args.work or Path(tempfile.gettempdir())
    work.mkdir(parents=True, exist_ok=True)
    result = Result()
    print(
        f"syndicate benchmark: {os.cpu_count()} CPU(s), sizes {sizes}, shapes {shapes}, "
        f"seed {args.seed}, load average {os.getloadavg()[0]:.2f}"
    )
    if sizes:
        hugo_program = None if args.no_hugo else hugo_site.hugo()
        if hugo_program is None and not args.no_hugo:
            print("hugo is not installed (run benchmarks/install-hugo.sh as root): no Hugo column")
        compile_bytecode()
        print("\nstart-up (the CLI in a fresh process)")
        result.steps += start_up(work)
        with BoardServer(latency=0.05) as board:
            for n in sizes:
                for shape in shapes:
                    result.steps += run_size(
                        n,
                        seed=args.seed,
                        board=board,
                        work=work,
                        keep=args.keep,
                        result=result,
                        shape=shape,
                        hugo_program=hugo_program,
                    )
        for project in result.cleanup:
            shutil.rmtree(project, ignore_errors=True)
        print("\n" + table(result))
        if result.feeds:
            print("\n" + feeds_table(result.feeds))
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
                    "profiles": [asdict(costs) for costs in result.feeds],
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
