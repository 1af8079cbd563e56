"""One-edit ``syndicate publish`` of two versions of the code, measured in turn on twin projects.

The build cache's key includes a digest of syndicate's source, so two versions of the code
cannot share a project: each gets its own copy of the same generated postings.  The local
board runs in a process of its own (``serve``) so that it outlives every step::

    python -m benchmarks.edit_pairs serve &                     # the board, port 18765
    python -m benchmarks.edit_pairs setup CODE PROJECT 10000 default   # generate, build, publish
    python -m benchmarks.edit_pairs edit CODE PROJECT 10000 default 4001   # edit one, publish

The twin projects push the same job ids, so give each its own board: ``serve 18766`` starts
one on another port, and ``EDIT_PAIRS_PORT=18766`` before ``setup`` points a project at it.

``CODE`` is a folder holding a copy of ``src/`` (``git archive <rev> src | tar -x -C CODE``);
each step prints one JSON line: CPU seconds of the process tree (user + system, from
``wait4`` by the benchmark's `LAUNCHER`), wall seconds, peak RSS and the load average.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.generate import DEFAULT_SEED, write_project
from benchmarks.run import CLI, LAUNCHER, edit_one

PORT = int(os.environ.get("EDIT_PAIRS_PORT", "18765"))


def _run(code: Path, project: Path, *args: str, label: str) -> None:
    os.sync()
    time.sleep(2)
    peak = project / ".peak"
    env = dict(os.environ, PYTHONPATH=f"{code}/src:{code}")
    from syndicate.testing.board import DEFAULT_TOKEN

    env["BENCH_LINKEDIN_TOKEN"] = DEFAULT_TOKEN
    load = os.getloadavg()[0]
    started = time.perf_counter()
    argv = [sys.executable, *CLI, "-q", "--config", str(project / "config.yaml"), *args]
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(peak), *argv],
        env=env,
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    rss, user, system = peak.read_text().split()
    figures = {"label": label, "code": str(code), "project": str(project), "rc": done.returncode}
    figures |= {"cpu": round(float(user) + float(system), 2), "wall": round(wall, 2)}
    print(json.dumps({**figures, "rss_mb": int(rss) // 1024, "load": load}), flush=True)


def main(argv: list[str]) -> None:
    if argv[0] == "serve":
        from syndicate.testing.board import BoardServer

        with BoardServer(latency=0.05, port=int(argv[1]) if len(argv) > 1 else PORT):
            while True:
                time.sleep(3600)
    code, project, n, shape = Path(argv[1]), Path(argv[2]), int(argv[3]), argv[4]
    if argv[0] == "setup":
        endpoint = f"http://127.0.0.1:{PORT}/rest"
        write_project(project, n, endpoint=endpoint, seed=DEFAULT_SEED, shape=shape)
        _run(code, project, "build", label="cold build")
        _run(code, project, "publish", label="first publish")
    elif argv[0] == "edit":
        posting_id, _ = edit_one(project, n, DEFAULT_SEED, shape, index=int(argv[5]))
        _run(code, project, "publish", label=f"one edit {posting_id}")


if __name__ == "__main__":
    main(sys.argv[1:])
