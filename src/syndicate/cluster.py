"""A daemon's part among the daemons sharing one state (docs/scaling.md).

`Membership` decides, at each sync, what this daemon does (`Role`):

- it **plans** when it holds the ``planning`` lease (taken at the sync, renewed by a heartbeat
  every third of ``cluster.lease_time``) and its checkout of the postings is not older than the
  revision the last plan was made from; a daemon with an older checkout gives the lease up,
  does not plan and says so (a problem in ``/healthz``, logged once);
- it **builds** its own output from its own checkout, unless that checkout is older than the
  last plan (it keeps serving what it built before);
- it always **pushes**, sharing the operations with the others through leases.

The heartbeat also records that the daemon is alive (the state's ``daemons`` table) and puts
what the daemons show of each other in ``/healthz`` (``cluster``).  While the state store is out
of reach the daemon is ``degraded``: it serves its last feeds and pushes nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from syndicate.config import Settings
from syndicate.errors import StateError
from syndicate.loading import LoadResult
from syndicate.logs import event
from syndicate.revision import Revision, is_older, revision_of
from syndicate.serving import ServerStatus
from syndicate.state import StateStore
from syndicate.state.coordination import PLANNING
from syndicate.status import cluster_view
from syndicate.worker import Worker

log = logging.getLogger("syndicate.cluster")


@dataclass(frozen=True, slots=True)
class Role:
    """What the daemon does in one sync."""

    plans: bool
    builds: bool
    revision: Revision | None


class Membership:
    """This daemon among the others: its worker, its role per sync, its heartbeat."""

    def __init__(self, settings: Settings, store: StateStore, status: ServerStatus) -> None:
        self.settings = settings
        self.store = store
        self.status = status
        self.worker = Worker.of(settings)
        self.host = socket.gethostname()[:128]
        self.started_at = datetime.now(UTC)
        self.planner = False
        self.revision: Revision | None = None
        self._notes: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- each sync -----------------------------------------------------------------------------

    def role(self, loaded: LoadResult) -> Role:
        """Take the planning lease if free, and decide what this sync does."""
        coordination = self.store.coordination
        revision = revision_of(self.settings.postings_dir, loaded)
        self.revision = revision
        plans = coordination.acquire(PLANNING, self.worker.id, self.worker.lease_time)
        last = coordination.last_plan()
        older = last is not None and is_older(
            revision,
            Revision(last.kind, last.revision, last.revision_time),
            self.settings.postings_dir,
        )
        self._notes = []
        if older and last is not None:
            self._notes.append(
                f"this daemon's checkout ({revision}) is older than the last plan "
                f"({last.kind} {last.revision[:12]} by {last.daemon}): it does not plan or "
                "build until its postings are updated"
            )
            if plans:
                coordination.release(PLANNING, self.worker.id)
                plans = False
        if plans != self.planner:
            event(log, "planning" if plans else "not planning", daemon=self.worker.id)
        self.planner = plans
        return Role(plans=plans, builds=not older, revision=revision)

    def problems(self) -> list[str]:
        """What the last sync found about this daemon's place among the others."""
        return list(self._notes)

    def synced(self, result: str) -> None:
        """Record how the sync went, for ``status`` and the other daemons' ``/healthz``."""
        revision = self.revision.value if self.revision else None
        try:
            self._report(synced=(datetime.now(UTC), result), revision=revision)
        except StateError:
            return  # the heartbeat reports the store out of reach

    def store_unreachable(self, error: StateError) -> None:
        self.status.set_store_down(
            f"the state store is out of reach ({error.message}): serving the last feeds, "
            "pushing nothing until it is back"
        )

    def store_reachable(self) -> None:
        self.status.set_store_down(None)

    # -- the heartbeat -------------------------------------------------------------------------

    def start(self) -> None:
        """Beat every third of the lease time until `stop`."""
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and give the planning lease up (another daemon plans at once)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.planner:
            with contextlib.suppress(StateError):  # else it expires by itself
                self.store.coordination.release(PLANNING, self.worker.id)

    def beat(self) -> None:
        """Renew the planning lease, say this daemon is alive, refresh ``cluster``."""
        coordination = self.store.coordination
        try:
            if self.planner:
                self.planner = coordination.renew(PLANNING, self.worker.id, self.worker.lease_time)
            self._report()
            self.status.set_cluster(self.snapshot())
        except StateError as error:
            if error.retryable:
                self.store_unreachable(error)
            event(log, "heartbeat failed", level=logging.WARNING, error=str(error))
        else:
            self.store_reachable()

    def snapshot(self) -> dict[str, Any]:
        """This daemon, the planning lease, the push leases and every daemon's last sync."""
        return cluster_view(self.store, self.worker.id)

    def _beat(self) -> None:
        every = self.worker.lease_time.total_seconds() / 3
        self.beat()
        while not self._stop.wait(every):
            self.beat()

    def _report(
        self, *, synced: tuple[datetime, str] | None = None, revision: str | None = None
    ) -> None:
        self.store.coordination.report(
            self.worker.id,
            host=self.host,
            pid=os.getpid(),
            started_at=self.started_at,
            synced=synced,
            revision=revision,
        )
