"""The publish state store: what each push target has received, and the operations to get there.

One SQLAlchemy database (by default a SQLite file, ``state: sqlite:///.syndicate/state.db``)
holds, for every posting × target:

- a **delivery** (`Delivery`): the content hash and kind of the last operation the target
  accepted, its remote id, a ``state`` (pending, published, failed, closed), the attempts of the
  work in progress, when to try again, the last error, and the posting's source file (so that a
  posting whose file fails to load is recognised and never closed);
- its **operations** (`Operation`): each CREATE / UPDATE / CLOSE / RENEW planned, from the
  moment it is planned (``pending``) through retries (``queued`` until ``next_attempt_at``) to
  its end (``succeeded``, ``failed``, or ``superseded`` by a newer plan), which is also the
  history shown to people.

Plus a per target, per UTC day count of notifications (`quota_used` / `use_quota`), the runs of
``publish`` (`begin_run` / `finish_run`), and a lock that lets one publish at a time work on a
store (`StateStore.publish_lock`).

How a publish uses it::

    store = StateStore(settings.state_url)
    with store.publish_lock(wait=False):
        run = store.begin_run()
        ids = store.enqueue(plan, run_id=run)          # the plan, durable before any push
        for op in store.pending(target="linkedin"):     # also what a killed run left behind
            op = store.start_attempt(op.id)             # counts the attempt before sending
            ...push...
            store.succeed(op.id, remote_id=...)         # or store.fail(op.id, error, retry_at)
        store.finish_run(run, "ok")

Every write is its own short transaction, so a process killed at any moment leaves the store as
it was after the last recorded step.  An operation with ``attempts > 0`` that is still
``pending`` was sent by a run that did not live to record the answer: the board may have
applied it.  Errors are passed through `syndicate.secret.mask` before they are stored.

SQLite files are opened in WAL mode (readers never block the writer) with foreign keys on and a
busy timeout; ``synchronous=NORMAL`` keeps every committed step across a killed process (a power
cut may lose the last few).  PostgreSQL works too, for stores shared by several machines.
Times go in as timezone-aware datetimes and come back in UTC.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syndicate.errors import StateError, StateLockedError
    from syndicate.operations import OperationKind
    from syndicate.state.database import state_exists
    from syndicate.state.listings import Listed
    from syndicate.state.numbers import References
    from syndicate.state.records import (
        AuthFailure,
        Delivery,
        Failed,
        Hold,
        Listing,
        NewOperation,
        Operation,
        Run,
        Succeeded,
        utc_day,
    )
    from syndicate.state.schema import (
        MIGRATIONS,
        SCHEMA_VERSION,
        DeliveryState,
        OperationStatus,
    )
    from syndicate.state.store import StateStore

# Each name's module, imported when the name is first asked for: the store and its records
# need SQLAlchemy, a third of the start-up of a command such as ``validate`` that never opens
# a state (PEP 562).
_MODULE_OF = {
    "StateError": "syndicate.errors",
    "StateLockedError": "syndicate.errors",
    "OperationKind": "syndicate.operations",
    "state_exists": "syndicate.state.database",
    "Listed": "syndicate.state.listings",
    "References": "syndicate.state.numbers",
    **dict.fromkeys(
        (
            "AuthFailure",
            "Delivery",
            "Failed",
            "Hold",
            "Listing",
            "NewOperation",
            "Operation",
            "Run",
            "Succeeded",
            "utc_day",
        ),
        "syndicate.state.records",
    ),
    **dict.fromkeys(
        ("MIGRATIONS", "SCHEMA_VERSION", "DeliveryState", "OperationStatus"),
        "syndicate.state.schema",
    ),
    "StateStore": "syndicate.state.store",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # asked once
    return value


__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "AuthFailure",
    "Delivery",
    "DeliveryState",
    "Failed",
    "Hold",
    "Listed",
    "Listing",
    "NewOperation",
    "Operation",
    "OperationKind",
    "OperationStatus",
    "References",
    "Run",
    "StateError",
    "StateLockedError",
    "StateStore",
    "Succeeded",
    "state_exists",
    "utc_day",
]
