"""A small Prometheus registry: counters and gauges with labels, in the text format 0.0.4.

`Metrics` holds the daemon's own series; the daemon increments ``syncs`` and ``pushes``, the
server counts requests, and the values that already live elsewhere (queue depth, feed sizes)
are read when scraped::

    metrics.syncs.inc(result="ok")
    metrics.pushes.inc(target="linkedin", outcome="succeeded")
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from syndicate.serving.health import ServerStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LabelValues = tuple[str, ...]
Collect = Callable[[], Mapping[LabelValues, float]]
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FEED_SUFFIXES = (".xml", ".json", ".jsonld", ".atom")


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class _Metric:
    kind = ""

    def __init__(self, name: str, help_text: str, labels: tuple[str, ...] = ()) -> None:
        if not _NAME.fullmatch(name) or not all(_LABEL.fullmatch(label) for label in labels):
            raise ValueError(f"invalid metric or label name in {name}{labels}")
        self.name = name
        self.help = help_text
        self.labels = labels
        self._values: dict[LabelValues, float] = {}
        self._lock = threading.Lock()

    def _key(self, labels: Mapping[str, str]) -> LabelValues:
        if set(labels) != set(self.labels):
            raise ValueError(f"{self.name} takes the labels {self.labels}, not {tuple(labels)}")
        return tuple(str(labels[name]) for name in self.labels)

    def value(self, **labels: str) -> float:
        """The current value of one series (0 when it was never touched)."""
        with self._lock:
            return self._values.get(self._key(labels), 0.0)

    def samples(self) -> Mapping[LabelValues, float]:
        with self._lock:
            return dict(self._values)

    def render(self) -> Iterator[str]:
        """The metric's lines in the text format."""
        yield f"# HELP {self.name} {_escape_help(self.help)}"
        yield f"# TYPE {self.name} {self.kind}"
        for values, number in sorted(self.samples().items()):
            if values:
                pairs = ",".join(
                    f'{label}="{_escape_label(value)}"'
                    for label, value in zip(self.labels, values, strict=True)
                )
                yield f"{self.name}{{{pairs}}} {_number(number)}"
            else:
                yield f"{self.name} {_number(number)}"


class Counter(_Metric):
    """A value that only goes up (its name ends in ``_total``)."""

    kind = "counter"

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` (0 declares the series so that it shows before its first event)."""
        if amount < 0:
            raise ValueError("a counter cannot go down")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount


class Gauge(_Metric):
    """A value that goes up and down, set directly or read from ``collect`` when scraped."""

    kind = "gauge"

    def __init__(
        self,
        name: str,
        help_text: str,
        labels: tuple[str, ...] = (),
        collect: Collect | None = None,
    ) -> None:
        super().__init__(name, help_text, labels)
        self._collect = collect

    def set(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = float(value)

    def samples(self) -> Mapping[LabelValues, float]:
        if self._collect is not None:
            return self._collect()
        return super().samples()


class Registry:
    """Metrics by name, rendered together for ``GET /metrics``."""

    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}
        self._lock = threading.Lock()

    def _add(self, metric: _Metric) -> None:
        with self._lock:
            if metric.name in self._metrics:
                raise ValueError(f"metric {metric.name} is already registered")
            self._metrics[metric.name] = metric

    def counter(self, name: str, help_text: str, labels: tuple[str, ...] = ()) -> Counter:
        """Register and return a counter."""
        metric = Counter(name, help_text, labels)
        self._add(metric)
        return metric

    def gauge(
        self,
        name: str,
        help_text: str,
        labels: tuple[str, ...] = (),
        collect: Collect | None = None,
    ) -> Gauge:
        """Register and return a gauge; with ``collect``, its values are read when scraped."""
        metric = Gauge(name, help_text, labels, collect)
        self._add(metric)
        return metric

    def render(self) -> str:
        """Every metric in the Prometheus text format."""
        with self._lock:
            metrics = list(self._metrics.values())
        return "".join(line + "\n" for metric in metrics for line in metric.render())


def feed_sizes(output: Path) -> dict[LabelValues, float]:
    """Bytes of each feed file (XML, JSON, JSON-LD, Atom) in ``output`` and its sub-folders.

    Only two levels are looked at (``indeed.xml``, ``careers/sitemap.xml``), which leaves out
    the job pages; hidden files and folders (``.versions``) are skipped, and so is a symlinked
    folder that leads outside ``output``.
    """
    sizes: dict[LabelValues, float] = {}
    base = os.path.realpath(output)
    for entry, relative in _entries(base, base, ""):
        if entry.is_file() and entry.name.endswith(FEED_SUFFIXES):
            sizes[(relative,)] = entry.stat().st_size
        elif entry.is_dir():
            for inner, inner_relative in _entries(entry.path, base, relative + "/"):
                if inner.is_file() and inner.name.endswith(FEED_SUFFIXES):
                    sizes[(inner_relative,)] = inner.stat().st_size
    return sizes


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
    """The daemon's metrics: syncs, pushes, queued operations, feed sizes, HTTP requests."""

    def __init__(self, status: ServerStatus, output: Path) -> None:
        self.registry = Registry()
        self.syncs = self.registry.counter(
            "syndicate_syncs_total", "Syncs finished, by result (ok, failed).", ("result",)
        )
        for result in ("ok", "failed"):
            self.syncs.inc(0, result=result)
        self.pushes = self.registry.counter(
            "syndicate_pushes_total",
            "Operations pushed to boards, by target and outcome.",
            ("target", "outcome"),
        )
        self.queued = self.registry.gauge(
            "syndicate_queued_operations",
            "Operations waiting to be retried.",
            collect=lambda: {(): float(status.queue_depth)},
        )
        self.held = self.registry.gauge(
            "syndicate_held_postings",
            "Postings kept at their last good version (their file fails to load or breaks a "
            "target's rules).",
            collect=lambda: {(): float(status.held)},
        )
        self.last_sync = self.registry.gauge(
            "syndicate_last_sync_timestamp_seconds",
            "When the last sync finished (Unix time; absent before the first).",
            collect=lambda: _last_sync_time(status),
        )
        self.feed_bytes = self.registry.gauge(
            "syndicate_feed_bytes",
            "Size of each served feed file, by path under output.",
            ("path",),
            collect=lambda: feed_sizes(output),
        )
        self.requests = self.registry.counter(
            "syndicate_http_requests_total",
            "HTTP requests answered by the feed server, by status code and method.",
            ("code", "method"),
        )

    def render(self) -> str:
        """The body of ``GET /metrics``."""
        return self.registry.render()


def _last_sync_time(status: ServerStatus) -> dict[LabelValues, float]:
    last = status.last_sync
    return {(): last.finished_at.timestamp()} if last else {}
