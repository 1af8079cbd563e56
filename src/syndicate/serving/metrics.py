"""The daemon's Prometheus metrics for ``GET /metrics``, on ``prometheus_client``.

Each `Metrics` has its own `CollectorRegistry`, never the library's global one, so several apps
in one process (the tests make many) don't clash.  The daemon increments ``syncs`` and
``pushes``, the server counts requests, and the values that already live elsewhere (queue
depth, held postings, the last sync, feed sizes) are read by `ScrapeCollector` when scraped::

    metrics.syncs.inc(result="ok")
    metrics.pushes.inc(target="linkedin", outcome="succeeded")

The series:

``syndicate_syncs_total{result}``, counter
    Syncs finished, by result; ``ok`` and ``failed`` are shown at 0 from the start.
``syndicate_pushes_total{target, outcome}``, counter
    Operations pushed to boards, by target (``linkedin``) and outcome (``succeeded``).
``syndicate_queued_operations``, gauge (read when scraped)
    Operations waiting to be retried.
``syndicate_held_postings``, gauge (read when scraped)
    Postings kept at their last good version.
``syndicate_last_sync_timestamp_seconds``, gauge (read when scraped)
    Unix time the last sync finished; no sample before the first.
``syndicate_feed_bytes{path}``, gauge (read when scraped)
    Bytes of each served feed file, by its path under ``output`` (see `feed_sizes`).
``syndicate_http_requests_total{code, method}``, counter
    HTTP responses of the feed server, by status code and method (``GET``, ``HEAD``, ``other``).

``syndicate_planning``, gauge (read when scraped; daemons on a shared state)
    1 while this daemon holds the planning lease, else 0.
``syndicate_leased_operations``, gauge (read when scraped; daemons on a shared state)
    Open operations leased to this daemon now (being pushed by it).

Every series of a daemon's metrics carries a ``daemon`` label, its id (``cluster.id``,
``$SYNDICATE_DAEMON_ID``, else ``<host>-<pid>``: set one for series that outlive a restart), so
that the metrics of daemons sharing one state add up and tell apart; `Metrics` made without an
id (tests, a bare feed server) has none.

``prometheus_client`` also gives each counter a ``<name>_created`` gauge with the same labels
(the Unix time each series started); ``PROMETHEUS_DISABLE_CREATED_SERIES=True`` in the
environment turns those off for the whole process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from syndicate.output import read_media_types
from syndicate.serving.files import MEDIA_TYPES, media_type
from syndicate.serving.health import ServerStatus

CONTENT_TYPE = CONTENT_TYPE_LATEST

QUEUED = ("syndicate_queued_operations", "Operations waiting to be retried.")
HELD = (
    "syndicate_held_postings",
    "Postings kept at their last good version (their file fails to load or breaks a "
    "target's rules).",
)
LAST_SYNC = (
    "syndicate_last_sync_timestamp_seconds",
    "When the last sync finished (Unix time; absent before the first).",
)
FEED_BYTES = ("syndicate_feed_bytes", "Size of each served feed file, by path under output.")
PLANNING = ("syndicate_planning", "1 while this daemon holds the planning lease, else 0.")
LEASED = ("syndicate_leased_operations", "Open operations leased to this daemon now.")


class LabelledCounter:
    """A `prometheus_client.Counter` whose labels are given as keywords to `inc`."""

    def __init__(
        self,
        name: str,
        help_text: str,
        labels: tuple[str, ...],
        registry: CollectorRegistry,
        constant: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self._registry = registry
        self._constant = constant or {}  # labels every series carries (the daemon's id)
        names = (*self._constant, *labels)
        self._counter = Counter(name, help_text, names, registry=registry)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` (0 declares the series so that it shows before its first event)."""
        labels = {**self._constant, **labels}
        (self._counter.labels(**labels) if labels else self._counter).inc(amount)

    def value(self, **labels: str) -> float:
        """The current value of one series (0 when it was never touched)."""
        return self._registry.get_sample_value(self.name, {**self._constant, **labels}) or 0.0


class ScrapeCollector(Collector):
    """The gauges read when scraped: queued operations, held postings, last sync, feed sizes,
    and for a daemon on a shared state whether it plans and how many operations it leases."""

    def __init__(self, status: ServerStatus, output: Path, daemon: str | None = None) -> None:
        self.status = status
        self.output = output
        self.daemon = daemon
        self._names = ["daemon"] if daemon else []
        self._values = [daemon] if daemon else []

    def _family(self, name: str, help_text: str, *labels: str) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, help_text, labels=[*self._names, *labels])

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The families without samples, for the registry's check of duplicate names."""
        for name, help_text in (QUEUED, HELD, LAST_SYNC, PLANNING, LEASED):
            yield self._family(name, help_text)
        yield self._family(*FEED_BYTES, "path")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        values = self._values
        for family, value in ((QUEUED, self.status.queue_depth), (HELD, self.status.held)):
            gauge = self._family(*family)
            gauge.add_metric(values, value)
            yield gauge
        last_sync = self._family(*LAST_SYNC)
        if (last := self.status.last_sync) is not None:
            last_sync.add_metric(values, last.finished_at.timestamp())
        yield last_sync
        yield from self._cluster()
        feeds = self._family(*FEED_BYTES, "path")
        for path, size in sorted(feed_sizes(self.output).items()):
            feeds.add_metric([*values, path], size)
        yield feeds

    def _cluster(self) -> Iterator[GaugeMetricFamily]:
        """Whether this daemon plans and what it leases, from its last heartbeat."""
        cluster = self.status.cluster
        if cluster is None:
            return
        me = cluster.get("daemon")
        planning = self._family(*PLANNING)
        planning.add_metric(self._values, 1.0 if cluster.get("planner") == me else 0.0)
        yield planning
        leased = self._family(*LEASED)
        leases = cluster.get("push_leases", ())
        mine = sum(row["operations"] for row in leases if row["holder"] == me)
        leased.add_metric(self._values, mine)
        yield leased


def feed_sizes(output: Path) -> dict[str, int]:
    """Bytes of each feed file (XML, JSON, JSON-LD, Atom) in ``output`` and its sub-folders.

    Only two levels are looked at (``indeed.xml``, ``careers/sitemap.xml``), which leaves out
    the job pages; hidden files and folders (``.versions``) are skipped, and so is a symlinked
    folder that leads outside ``output``.
    """
    sizes: dict[str, int] = {}
    recorded = read_media_types(Path(output))
    feed_suffixes = tuple(
        suffix
        for suffix in {*recorded, *MEDIA_TYPES}
        if _is_feed(media_type(f"feed{suffix}", recorded))
    )
    base = os.path.realpath(output)
    for entry, relative in _entries(base, base, ""):
        if entry.is_file() and entry.name.endswith(feed_suffixes):
            sizes[relative] = entry.stat().st_size
        elif entry.is_dir():
            for inner, inner_relative in _entries(entry.path, base, relative + "/"):
                if inner.is_file() and inner.name.endswith(feed_suffixes):
                    sizes[inner_relative] = inner.stat().st_size
    return sizes


def _is_feed(content_type: str) -> bool:
    """XML and JSON documents are feeds; pages, styles and pictures are not."""
    base = content_type.split(";", 1)[0].strip()
    return base.endswith(("/xml", "+xml", "/json", "+json")) and not base.startswith("image/")


def _inside(path: str, base: str) -> bool:
    real = os.path.realpath(path)
    return real == base or real.startswith(base + os.sep)


def _entries(folder: str, base: str, prefix: str) -> Iterator[tuple[os.DirEntry[str], str]]:
    """The visible entries of ``folder`` that lead somewhere inside ``base``."""
    try:
        with os.scandir(folder) as entries:
            found = [entry for entry in entries if not entry.name.startswith(".")]
    except OSError:
        return
    for entry in found:
        if not entry.is_symlink() or _inside(entry.path, base):
            yield entry, prefix + entry.name


class Metrics:
    """The daemon's metrics: syncs, pushes, queued operations, feed sizes, HTTP requests;
    every series labelled ``daemon`` with ``daemon`` when given (see the module docstring)."""

    def __init__(self, status: ServerStatus, output: Path, daemon: str | None = None) -> None:
        self.registry = CollectorRegistry()
        self.daemon = daemon
        constant = {"daemon": daemon} if daemon else None
        self.syncs = LabelledCounter(
            "syndicate_syncs_total",
            "Syncs finished, by result (ok, failed).",
            ("result",),
            self.registry,
            constant,
        )
        for result in ("ok", "failed"):
            self.syncs.inc(0, result=result)
        self.pushes = LabelledCounter(
            "syndicate_pushes_total",
            "Operations pushed to boards, by target and outcome.",
            ("target", "outcome"),
            self.registry,
            constant,
        )
        self.scraped = ScrapeCollector(status, output, daemon)
        self.registry.register(self.scraped)
        self.requests = LabelledCounter(
            "syndicate_http_requests_total",
            "HTTP requests answered by the feed server, by status code and method.",
            ("code", "method"),
            self.registry,
            constant,
        )

    def render(self) -> str:
        """The body of ``GET /metrics``."""
        return generate_latest(self.registry).decode()
