"""Measured steps that are not a plain ``syndicate`` command, each run in its own process.

``python -m benchmarks.steps push CONFIG``: plan and push every posting to the push targets
(no build), as `syndicate publish` does after its build, and print what was sent as JSON.

``python -m benchmarks.steps render CONFIG``: the per-posting cost of rendering Indeed's feed
with the coded target (`indeed_xml`) and with the Indeed board profile, on the same postings
read once beforehand (their description HTML made too, which both use), without the build
cache: the best of three renders of each, in microseconds per posting, as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path

from syndicate.adapters import PullTarget, RenderContext
from syndicate.adapters.indeed_xml import IndeedXml, IndeedXmlOptions
from syndicate.adapters.profiles import ProfileOptions, ProfileTarget
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


def render(config: Path) -> dict[str, float | int]:
    """Microseconds per posting of the coded Indeed feed and of the Indeed profile."""
    settings = load_settings(config)
    postings = [posting for posting in load_project(settings).postings]
    for posting in postings:
        _ = posting.description_html
    context = RenderContext(settings=settings, build_time=datetime.now(UTC))
    targets: dict[str, PullTarget] = {
        "coded": IndeedXml("indeed", IndeedXmlOptions(type="indeed_xml"), settings),
        "profile": ProfileTarget(
            "indeed", ProfileOptions(type="profile", profile="indeed"), settings
        ),
    }
    figures: dict[str, float | int] = {"postings": len(postings)}
    for name, target in targets.items():
        best = float("inf")
        size = 0
        for _ in range(3):
            started = time.perf_counter()
            size = sum(len(c) for d in target.render(postings, context) for c in d.chunks)
            best = min(best, time.perf_counter() - started)
        figures[f"{name}_us_per_posting"] = best / max(len(postings), 1) * 1e6
        figures[f"{name}_bytes"] = size
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.steps")
    parser.add_argument("step", choices=["push", "render"])
    parser.add_argument("config", type=Path)
    args = parser.parse_args(argv)
    print(json.dumps(push(args.config) if args.step == "push" else render(args.config)))


if __name__ == "__main__":
    main()
