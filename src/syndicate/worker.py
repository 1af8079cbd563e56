"""Who pushes: a `Worker` (a daemon, or one ``publish`` run) and the thread renewing its leases.

Every push goes through leases (`syndicate.state.StateStore.lease_due`), whether one process or
several share the state: a worker leases a few batches of a target's due operations, sends
them, and records each outcome (which ends the lease).  `LeaseKeeper` renews the worker's
leases every third of their duration while it pushes — also while it sleeps before a retry —
so that only a worker that died or lost the database loses them.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType

from syndicate.config import Settings
from syndicate.errors import StateError
from syndicate.logs import event
from syndicate.state import StateStore

log = logging.getLogger("syndicate.worker")


@dataclass(frozen=True, slots=True)
class Worker:
    """A pusher's id and its leases' terms (from config ``cluster``)."""

    id: str
    lease_time: timedelta
    batches_per_lease: int

    @classmethod
    def of(cls, settings: Settings, role: str = "daemon") -> Worker:
        """The daemon's worker (``cluster.id``, ``$SYNDICATE_DAEMON_ID`` or host-pid), or, with
        another ``role``, one for a single run (``publish-<host>-<pid>``)."""
        cluster = settings.cluster
        default = f"{socket.gethostname()[:40]}-{os.getpid()}"
        if role == "daemon":
            name = cluster.id or os.environ.get("SYNDICATE_DAEMON_ID") or default
        else:
            name = f"{role}-{default}"
        return cls(name, cluster.lease_time, cluster.batches_per_lease)


class LeaseKeeper:
    """Renews ``worker``'s operation leases in a thread, every third of the lease time,
    until the block ends; then gives the unsent ones up."""

    def __init__(self, store: StateStore, worker: Worker) -> None:
        self.store = store
        self.worker = worker
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"leases-{worker.id}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        try:
            self.store.release_leases(self.worker.id)
        except StateError as failure:  # they expire by themselves
            event(log, "leases not released", level=logging.WARNING, error=str(failure))

    def _renew(self) -> None:
        every = self.worker.lease_time.total_seconds() / 3
        while not self._stop.wait(every):
            try:
                self.store.renew_leases(self.worker.id, self.worker.lease_time)
            except StateError as failure:
                event(log, "leases not renewed", level=logging.WARNING, error=str(failure))
