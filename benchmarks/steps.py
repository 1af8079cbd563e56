"""Measured steps that are not a plain ``syndicate`` command, each run in its own process.

``python -m benchmarks.steps push CONFIG``: plan and push every posting to the push targets
(no build), as `syndicate publish` does after its build, and print what was sent as JSON.

``python -m benchmarks.steps render CONFIG``: the per-posting cost of rendering Indeed's feed
with the coded target (`indeed_xml`) and the feed of every built-in board profile, each on its
own, on the same postings read once beforehand (their description HTML made too, which all
use), without the build cache, in microseconds of CPU time (user and system,
`time.process_time`) per posting, with each profile's ratio to the coded Indeed feed, as JSON.
The postings are rendered in slices of `SLICE` (larger than the targets' description caches,
so no render finds the last one's work): each slice by every target in turn, three times, the
best of the three kept per target and slice, and summed over the slices; a burst of load from
other work then costs one slice's round, not a whole feed's.  ``--profiles indeed,adzuna``
measures only those profiles, ``--repeat`` changes the three.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from syndicate.adapters import PullTarget, RenderContext
from syndicate.adapters.indeed_xml import IndeedXml, IndeedXmlOptions
from syndicate.adapters.profiles import ProfileOptions, ProfileTarget, finding
from syndicate.config import load_settings
from syndicate.loading import load_project
from syndicate.publish import publish
from syndicate.state import StateStore

CODED = "indeed_xml"  # the coded target's key among the render step's targets
SLICE = 1_000  # postings rendered at a time (more than the description caches hold: 256)


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


def render(config: Path, profiles: list[str] | None = None, repeat: int = 3) -> dict[str, Any]:
    """CPU microseconds per posting of the coded Indeed feed and of each built-in profile
    (the module's docstring says how they are measured)."""
    settings = load_settings(config)
    postings = [posting for posting in load_project(settings).postings]
    for posting in postings:
        _ = posting.description_html
    context = RenderContext(settings=settings, build_time=datetime.now(UTC))
    targets: dict[str, PullTarget] = {
        CODED: IndeedXml("indeed", IndeedXmlOptions(type="indeed_xml"), settings)
    }
    for name in profiles or sorted(finding.available(None)):
        targets[name] = ProfileTarget(name, ProfileOptions(type="profile", profile=name), settings)
    seconds = dict.fromkeys(targets, 0.0)
    sizes = dict.fromkeys(targets, 0)
    for start in range(0, len(postings), SLICE):
        part = postings[start : start + SLICE]
        best = dict.fromkeys(targets, float("inf"))
        written = dict.fromkeys(targets, 0)
        for _ in range(repeat):
            for name, target in targets.items():
                started = time.process_time()
                written[name] = sum(len(c) for d in target.render(part, context) for c in d.chunks)
                best[name] = min(best[name], time.process_time() - started)
        for name in targets:
            seconds[name] += best[name]
            sizes[name] += written[name]
    per_posting = {name: s / max(len(postings), 1) * 1e6 for name, s in seconds.items()}
    coded = per_posting.pop(CODED)
    return {
        "postings": len(postings),
        "coded_us_per_posting": coded,
        "coded_bytes": sizes[CODED],
        "profiles": {
            name: {"us_per_posting": us, "bytes": sizes[name], "ratio": us / coded}
            for name, us in per_posting.items()
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.steps")
    parser.add_argument("step", choices=["push", "render"])
    parser.add_argument("config", type=Path)
    parser.add_argument("--profiles", help="render: only these profiles (comma-separated)")
    parser.add_argument("--repeat", type=int, default=3, help="render: the best of how many")
    args = parser.parse_args(argv)
    if args.step == "push":
        print(json.dumps(push(args.config)))
        return
    chosen = args.profiles.split(",") if args.profiles else None
    print(json.dumps(render(args.config, chosen, args.repeat)))


if __name__ == "__main__":
    main()
