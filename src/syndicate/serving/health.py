"""What ``GET /healthz`` reports: the daemon's syncs as the daemon tells them, thread-safe.

The daemon calls `ServerStatus.sync_started` and `ServerStatus.sync_finished` around each
sync, and sets the queue depth, the next sync time and the problems the sync found; the server
reads a `Health` snapshot, which is one of:

- ``ok``: the last sync succeeded and finished less than ``2 × sync_every + grace`` ago (or,
  before any sync finished, the daemon started less than ``startup_grace`` ago);
- ``degraded`` (still HTTP 200, so load balancers keep serving the feeds): as ``ok``, but the
  sync found something a person must fix: a posting held at its last good version, a mass close
  the guard refused, a target whose board refuses our credentials; each listed in ``problems``;
- ``failing`` (HTTP 503): the last sync failed or is overdue.

While the state store is out of reach (`ServerStatus.set_store_down`) the daemon is
``degraded``, not failing: it serves its last feeds and pushes nothing until the store is back.
Daemons sharing a state add ``cluster`` (`ServerStatus.set_cluster`): this daemon's id, who
holds the planning lease, the push leases, and when each daemon last synced.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from syndicate.secret import mask

Clock = Callable[[], datetime]
SyncResult = Literal["ok", "failed"]
HealthState = Literal["ok", "degraded", "failing"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SyncRecord:
    """One finished sync."""

    finished_at: datetime
    result: SyncResult
    duration: float | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Health:
    """A snapshot of the daemon's state, and whether it counts as healthy."""

    healthy: bool
    reason: str
    now: datetime
    started_at: datetime
    syncing: bool
    last_sync: SyncRecord | None
    queue_depth: int
    next_sync_at: datetime | None
    problems: tuple[str, ...] = ()
    cluster: dict[str, Any] | None = None

    @property
    def state(self) -> HealthState:
        """``ok``, ``degraded`` (healthy, with problems to fix) or ``failing``."""
        if not self.healthy:
            return "failing"
        return "degraded" if self.problems else "ok"

    def as_json(self) -> dict[str, Any]:
        """The body of ``GET /healthz``."""
        last = self.last_sync
        return {
            "status": self.state,
            "reason": self.reason,
            "problems": list(self.problems),
            "now": self.now.isoformat(),
            "started_at": self.started_at.isoformat(),
            "syncing": self.syncing,
            "last_sync_at": last.finished_at.isoformat() if last else None,
            "last_sync_result": last.result if last else None,
            "last_sync_duration_seconds": last.duration if last else None,
            "last_sync_error": last.error if last else None,
            "queue_depth": self.queue_depth,
            "next_sync_at": self.next_sync_at.isoformat() if self.next_sync_at else None,
            **({"cluster": self.cluster} if self.cluster is not None else {}),
        }


class ServerStatus:
    """The daemon's sync state, updated by the scheduler and read by ``/healthz`` and metrics.

    ``grace`` is added to twice the interval before a sync counts as overdue;
    ``startup_grace`` (by default one interval plus ``grace``) is how long the first sync may
    take before the daemon is reported unhealthy.
    """

    def __init__(
        self,
        sync_every: timedelta,
        *,
        grace: timedelta = timedelta(seconds=60),
        startup_grace: timedelta | None = None,
        clock: Clock = _utc_now,
    ) -> None:
        self.sync_every = sync_every
        self.grace = grace
        self.startup_grace = sync_every + grace if startup_grace is None else startup_grace
        self._clock = clock
        self._lock = threading.Lock()
        self._started_at = clock()
        self._syncing = False
        self._last: SyncRecord | None = None
        self._queue_depth = 0
        self._next_sync_at: datetime | None = None
        self._problems: tuple[str, ...] = ()
        self._held = 0
        self._store_down: str | None = None
        self._cluster: dict[str, Any] | None = None

    @property
    def overdue_after(self) -> timedelta:
        """How old the last sync may be before the daemon is unhealthy."""
        return 2 * self.sync_every + self.grace

    def sync_started(self) -> None:
        """A sync began."""
        with self._lock:
            self._syncing = True

    def sync_finished(
        self,
        result: SyncResult,
        *,
        duration: float | None = None,
        error: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """A sync ended with ``result``; ``error`` (masked of secrets) says why it failed."""
        record = SyncRecord(
            finished_at=at or self._clock(),
            result=result,
            duration=duration,
            error=mask(error) if error else None,
        )
        with self._lock:
            self._syncing = False
            self._last = record

    def set_queue_depth(self, depth: int) -> None:
        """How many operations wait to be retried."""
        with self._lock:
            self._queue_depth = depth

    def set_problems(self, problems: list[str], *, held: int = 0) -> None:
        """What the last sync found for a person to fix (``file:line: field: message``), and
        how many postings it held at their last good version."""
        with self._lock:
            self._problems = tuple(mask(problem) for problem in problems)
            self._held = held

    def set_store_down(self, message: str | None) -> None:
        """The state store is out of reach (``message`` says how), or back (None)."""
        with self._lock:
            self._store_down = mask(message) if message else None

    def set_cluster(self, cluster: dict[str, Any] | None) -> None:
        """What the daemons sharing the state show of each other (JSON-ready)."""
        with self._lock:
            self._cluster = cluster

    @property
    def cluster(self) -> dict[str, Any] | None:
        """What `set_cluster` last said (None for a daemon that never reported)."""
        with self._lock:
            return self._cluster

    @property
    def held(self) -> int:
        """Postings held at their last good version after the last sync."""
        with self._lock:
            return self._held

    def set_next_sync(self, at: datetime | None) -> None:
        """When the next sync is scheduled."""
        with self._lock:
            self._next_sync_at = at

    @property
    def queue_depth(self) -> int:
        with self._lock:
            return self._queue_depth

    @property
    def last_sync(self) -> SyncRecord | None:
        with self._lock:
            return self._last

    def health(self) -> Health:
        """The state now, and whether it is healthy."""
        now = self._clock()
        with self._lock:
            last, syncing = self._last, self._syncing
            depth, next_at, problems = self._queue_depth, self._next_sync_at, self._problems
            down, cluster = self._store_down, self._cluster
        healthy, reason = self._judge(now, last)
        if down is not None:
            healthy, problems = True, (down, *problems)
            reason = "the state store is out of reach: serving the last feeds, pushing nothing"
        elif healthy and problems:
            reason = f"{len(problems)} problem(s) to fix; the feeds keep their last good version"
        return Health(
            healthy, reason, now, self._started_at, syncing, last, depth, next_at, problems,
            cluster,
        )  # fmt: skip

    def _judge(self, now: datetime, last: SyncRecord | None) -> tuple[bool, str]:
        if last is None:
            if now - self._started_at <= self.startup_grace:
                return True, "starting: no sync finished yet"
            return False, f"no sync finished within {self.startup_grace} of starting"
        age = now - last.finished_at
        if last.result != "ok":
            return False, "the last sync failed"
        if age > self.overdue_after:
            return False, f"the last sync finished {age} ago (overdue after {self.overdue_after})"
        return True, "the last sync succeeded"
