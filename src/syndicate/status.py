"""What each push target has, read from the publish state, for ``syndicate status``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from syndicate.loading import LoadResult
from syndicate.model import Phase
from syndicate.secret import mask
from syndicate.state import DeliveryState, StateStore
from syndicate.state.coordination import PLANNING

if TYPE_CHECKING:
    from syndicate.adapters import PushTarget

_EVERYTHING = datetime.max.replace(tzinfo=UTC)


def status_rows(store: StateStore, target: str | None = None) -> list[dict[str, Any]]:
    """One JSON-ready row per posting × target, sorted by posting then target."""
    queued_until = {
        op.key: op.next_attempt_at
        for op in store.pending(target, now=_EVERYTHING)
        if op.next_attempt_at
    }
    rows = []
    for (posting_id, name), delivery in sorted(store.deliveries(target).items()):
        rows.append(
            {
                "posting": posting_id,
                "target": name,
                "state": str(delivery.state),
                "version": delivery.version,
                "remote_id": delivery.remote_id,
                "attempts": delivery.attempts,
                "last_attempt": _iso(delivery.last_attempt_at),
                "queued_until": _iso(queued_until.get((posting_id, name))),
                "error": mask(delivery.last_error) if delivery.last_error else None,
                "source": delivery.source_path,
            }
        )
    return rows


def status_summary(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Counts of rows by state, and of operations waiting for a retry."""
    states = Counter(row["state"] for row in rows)
    return {
        "deliveries": len(rows),
        "published": states["published"],
        "pending": states["pending"],
        "failed": states["failed"],
        "closed": states["closed"],
        "queued": sum(1 for row in rows if row["queued_until"]),
    }


def waiting_rows(store: StateStore, target: str | None = None) -> list[dict[str, Any]]:
    """The operations waiting for a retry (queued, with their next attempt time) and the
    deliveries that failed for good (waiting for an edit or ``--retry-failed``), with why."""
    rows = [
        {
            "target": op.target,
            "operation": str(op.kind),
            "posting": op.posting_id,
            "state": "queued",
            "next_attempt": _iso(op.next_attempt_at),
            "not_before": _iso(op.not_before),
            "error": mask(op.last_error) if op.last_error else None,
        }
        for op in store.pending(target, now=_EVERYTHING)
        if op.next_attempt_at is not None
    ]
    failed = store.deliveries(target, state=DeliveryState.FAILED)  # not every delivery
    for (posting_id, name), delivery in sorted(failed.items()):
        if delivery.state == "failed":
            rows.append(
                {
                    "target": name,
                    "operation": None,
                    "posting": posting_id,
                    "state": "failed",
                    "next_attempt": None,
                    "not_before": None,
                    "error": mask(delivery.last_error) if delivery.last_error else None,
                }
            )
    return rows


def held_rows(store: StateStore, target: str | None = None) -> list[dict[str, Any]]:
    """The postings kept at their last good version, one row per file and target."""
    return [
        {
            "file": hold.source,
            "posting": hold.posting_id,
            "target": hold.target,
            "kept_version_built_at": _iso(hold.listed_at),
            "since": _iso(hold.since),
            "problems": hold.problems,
        }
        for hold in store.listings.holds(target)
    ]


def scheduled_rows(loaded: LoadResult, timezone: tzinfo) -> list[dict[str, Any]]:
    """The postings whose ``date_posted`` is still to come, soonest first: listed nowhere yet."""
    now = datetime.now(UTC)
    rows = [
        {"posting": f.posting_id, "at": _iso(f.window.starts(timezone))}
        for f in loaded.files
        if f.window.phase(now, timezone) is Phase.SCHEDULED
    ]
    return sorted(rows, key=lambda row: (row["at"], row["posting"]))


def quota_rows(
    store: StateStore, targets: Iterable[PushTarget], now: datetime | None = None
) -> dict[str, dict[str, Any]]:
    """Per target with a daily quota: what it used of it today, as the board counts its day,
    and when the board resets it."""
    moment = now or datetime.now(UTC)
    rows = {}
    for target in targets:
        limit = target.daily_quota()
        if limit is None:
            continue
        day = target.quota_day(moment)
        rows[target.name] = {
            "used": store.quota_used(target.name, day),
            "limit": limit,
            "unit": getattr(target, "quota_unit", "operations"),
            "day": day.isoformat(),
            "resets_at": _iso(target.quota_resets_at(moment)),
        }
    return rows


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def cluster_view(store: StateStore, daemon: str | None = None) -> dict[str, Any]:
    """The daemons on this state as the state tells: who holds the planning lease (and until
    when), which push leases are held, and each daemon's last word (seen, last sync and how it
    went, revision).  ``daemon`` names the daemon asking (``/healthz``), if any."""
    coordination = store.coordination
    lease = coordination.lease(PLANNING)
    now = coordination.now()
    held = lease if lease is not None and lease.expires_at > now else None
    return {
        **({"daemon": daemon} if daemon is not None else {}),
        "planner": held.holder if held else None,
        "planning_lease_expires_at": _iso(held.expires_at) if held else None,
        "push_leases": [{**row, "until": _iso(row["until"])} for row in store.push_leases()],
        "daemons": [
            {
                "id": d.id,
                "host": d.host,
                "seen_at": _iso(d.seen_at),
                "last_sync_at": _iso(d.last_sync_at),
                "last_sync_result": d.last_sync_outcome,
                "revision": d.revision,
            }
            for d in coordination.daemons()
        ],
    }


def cluster_lines(view: dict[str, Any]) -> list[str]:
    """`cluster_view` as lines for people (none when no daemon ever ran on the state)."""
    if not view["daemons"] and not view["planner"] and not view["push_leases"]:
        return []
    planner = view["planner"]
    lines = [
        f"planning: {planner} (lease until {view['planning_lease_expires_at']})"
        if planner
        else "planning: no daemon holds the planning lease"
    ]
    lines += [
        f"push lease: {row['holder']} has {row['operations']} operation(s) of {row['target']} "
        f"until {row['until']}"
        for row in view["push_leases"]
    ]
    for d in view["daemons"]:
        synced = (
            f"last synced {d['last_sync_at']} ({d['last_sync_result']})"
            if d["last_sync_at"]
            else "never synced"
        )
        revision = f", revision {d['revision'][:12]}" if d["revision"] else ""
        lines.append(f"daemon {d['id']} on {d['host']}: {synced}, seen {d['seen_at']}{revision}")
    return lines
