"""Measured steps that are not a plain ``syndicate`` command, each run in its own process.

``python -m benchmarks.steps push CONFIG``: plan and push every posting to the push targets
(no build), as `syndicate publish` does after its build, and print what was sent as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from syndicate.config import load_settings
from syndicate.loading import load_project
from syndicate.publish import publish
from syndicate.state import StateStore


def push(config: Path) -> dict[str, float | int]:
    """Publish without building; how many operations each target sent and how long it took."""
    settings = load_settings(config)
    loaded = load_project(settings)
    started = time.perf_counter()
    with StateStore(settings.state_url) as store:
        report = publish(settings, loaded, store, with_build=False)
    return {
        "seconds": time.perf_counter() - started,
        "planned": len(report.plan.operations),
        "sent": sum(t.sent for t in report.targets.values()),
        "succeeded": sum(t.succeeded for t in report.targets.values()),
        "failed": report.failed,
        "queued": report.queued,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.steps")
    parser.add_argument("step", choices=["push"])
    parser.add_argument("config", type=Path)
    args = parser.parse_args(argv)
    print(json.dumps(push(args.config)))


if __name__ == "__main__":
    main()
