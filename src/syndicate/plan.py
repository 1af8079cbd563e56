"""Plan: the postings now + what each board has (the publish state) → operations per push target.

For every push target and posting:

| posting now                          | board has nothing / closed | board has it              |
| ------------------------------------ | -------------------------- | ------------------------- |
| open, not expired, passes the rules  | CREATE                     | UPDATE if content changed |
| closed, draft again, expired         | nothing                    | CLOSE                     |
| file deleted                         | nothing                    | CLOSE                     |
| file fails to load                   | nothing                    | nothing (kept, reported)  |
| breaks the target's rules            | nothing (reported)         | nothing (kept, reported)  |

A posting whose file fails to load is never closed: what was published stays published until the
file is fixed.  An operation sent without a recorded answer may have reached the board: it is
followed by the operation that undoes it (a CLOSE, or an UPDATE back to what the board had), never
just dropped.  An operation refused for good is planned again only once the posting changes.
Planning is pure; `syndicate.publish` writes the plan to the state store before anything is
pushed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from syndicate.adapters import PushTarget, RenderContext
from syndicate.adapters.base import OperationKind
from syndicate.cache import CachedChecks
from syndicate.errors import Problem, Severity
from syndicate.loading import LoadResult, PostingFile, display_path
from syndicate.model import Status


class Reason(StrEnum):
    """Why an operation is planned."""

    NEW = "new"
    REOPENED = "reopened"
    EDITED = "edited"
    CLOSED = "closed"
    DRAFT = "draft again"
    EXPIRED = "expired"
    DELETED = "file deleted"
    RENEWAL = "renewal due"


class DeliveryView(Protocol):
    """What planning needs to know of one posting × target in the publish state."""

    posting_id: str
    target: str
    state: str  # pending | published | failed | closed
    content_hash: str | None  # of the last operation the target accepted
    planned_hash: str | None  # of the newest operation planned
    source_path: str | None
    delivered_at: datetime | None  # when the target last accepted an operation

    @property
    def live(self) -> bool:
        """True when the target shows the posting now."""
        ...


class OpenOperationView(Protocol):
    """An operation planned earlier and not finished (pending, or queued for a retry)."""

    posting_id: str
    target: str
    kind: str
    content_hash: str | None
    attempts: int


@dataclass(frozen=True, slots=True)
class PlannedOperation:
    """One operation to send to one push target, its payload built now."""

    target: str
    kind: OperationKind
    posting_id: str
    content_hash: str
    reason: Reason
    payload: dict[str, Any]
    source_path: str | None = None


@dataclass(slots=True)
class Plan:
    """The operations to apply, the open operations no longer wanted, and what is kept as it is.

    ``cancel`` holds ``(posting_id, target)`` whose open operation would bring the board away
    from what it should show (a posting edited back to what the board already has, or withdrawn
    before its CREATE was sent), or whose failed delivery is settled because the board already
    shows what it should; cancelling drops the operation and settles the delivery.
    """

    operations: list[PlannedOperation] = field(default_factory=list)
    cancel: list[tuple[str, str]] = field(default_factory=list)
    kept: list[Problem] = field(default_factory=list)

    def for_target(self, name: str) -> list[PlannedOperation]:
        return [op for op in self.operations if op.target == name]


def setup_digest(target: PushTarget) -> bytes:
    """What besides the posting decides a target's payloads: its options, organization, site."""
    settings = target.settings
    return hashlib.sha256(
        target.fingerprint().encode()
        + settings.model_dump_json(include={"organization", "site", "timezone"}).encode()
    ).digest()


def make_plan(
    targets: Iterable[PushTarget],
    loaded: LoadResult,
    deliveries: Mapping[tuple[str, str], DeliveryView],
    open_operations: Iterable[OpenOperationView],
    now: datetime,
    *,
    posting_ids: Collection[str] | None = None,
) -> Plan:
    """Plan every push target against what it has (``deliveries``) and what is already on its
    way to it (``open_operations``).  ``posting_ids`` limits the plan to those postings."""
    plan = Plan()
    open_by_key = {(op.posting_id, op.target): op for op in open_operations}
    for target in targets:
        checks = CachedChecks(target, loaded.cache, prefetch=True)
        planner = _TargetPlanner(plan, target, deliveries, open_by_key, now, checks)
        planner.run(loaded, posting_ids)
    return plan


class _TargetPlanner:
    """Plans one target: the operations that bring the board to the postings now.

    A posting is read (from the build cache, when loading used one) only when an operation is
    planned for it: whether it changed is told by its content hash, whether it is listed by its
    status and end date, and whether it breaks the target's rules by the cached checks.
    """

    def __init__(
        self,
        plan: Plan,
        target: PushTarget,
        deliveries: Mapping[tuple[str, str], DeliveryView],
        open_by_key: Mapping[tuple[str, str], OpenOperationView],
        now: datetime,
        checks: CachedChecks,
    ) -> None:
        self.plan = plan
        self.target = target
        self.deliveries = deliveries
        self.open_by_key = open_by_key
        self.now = now
        self.context = RenderContext(settings=target.settings, build_time=now)
        self.setup = setup_digest(target)
        self.checks = checks

    def run(self, loaded: LoadResult, posting_ids: Collection[str] | None) -> None:
        name = self.target.name
        loaded_by_id = loaded.by_id()
        for posting_id, posting_file in loaded_by_id.items():
            if posting_ids is None or posting_id in posting_ids:
                self.posting(posting_file)
        failed_paths = {str(path) for path in loaded.failed}
        failed_ids = {pid for pid in loaded.failed.values() if pid}
        for (posting_id, target_name), delivery in self.deliveries.items():
            if target_name != name or posting_id in loaded_by_id:
                continue
            if posting_ids is not None and posting_id not in posting_ids:
                continue
            if posting_id in failed_ids or (delivery.source_path or "") in failed_paths:
                if delivery.live:
                    self.plan.kept.append(_kept_unloadable(delivery))
                continue
            self.withdraw(posting_id, None, Reason.DELETED, delivery.source_path)
        self.checks.save()

    def posting(self, loaded: PostingFile) -> None:
        """Plan one loaded posting."""
        if not loaded.is_listed(self.now, self.target.settings.timezone):
            reason = _why_not_listed(loaded.status)
            self.withdraw(loaded.posting_id, loaded, reason, loaded.source_path)
            return
        problems = [p for p in self.checks.problems(loaded) if p.severity is Severity.ERROR]
        if problems:
            self.plan.kept.extend(problems)
            return
        self.list(loaded, loaded.source_path)

    def list(self, loaded: PostingFile, source: str) -> None:
        """Make the board show the posting as it is now."""
        key = (loaded.posting_id, self.target.name)
        version = self.version(loaded.content_hash)
        delivery = self.deliveries.get(key)
        live = delivery is not None and delivery.live
        pending = self.open_by_key.get(key)
        if pending is not None and pending.kind != "CLOSE" and pending.content_hash == version:
            return  # already on its way
        if live and delivery is not None and delivery.content_hash == version:
            if pending is not None and pending.attempts > 0:
                # Sent and its answer lost: the board may show the edit or the close, so it is
                # told again what it should show rather than the operation dropped.
                reason = Reason.REOPENED if pending.kind == "CLOSE" else Reason.EDITED
                self.add(OperationKind.UPDATE, loaded, version, reason, source)
            elif pending is not None or delivery.state == "failed":
                self.plan.cancel.append(key)  # back to what the board has
            elif self.renewal_due(delivery):
                self.add(OperationKind.RENEW, loaded, version, Reason.RENEWAL, source)
            return
        failed_for_good = delivery is not None and delivery.state == "failed"
        if pending is None and failed_for_good and delivery.planned_hash == version:
            return  # failed for good: tried again once the posting changes
        if live:
            self.add(OperationKind.UPDATE, loaded, version, Reason.EDITED, source)
        else:
            reason = (
                Reason.REOPENED if delivery is not None and delivery.content_hash else Reason.NEW
            )
            self.add(OperationKind.CREATE, loaded, version, reason, source)

    def renewal_due(self, delivery: DeliveryView) -> bool:
        """Whether the board's listing of an unchanged posting should be renewed now."""
        every = self.target.renew_after()
        if every is None or not self.target.accepts(OperationKind.RENEW):
            return False
        return delivery.delivered_at is not None and self.now - delivery.delivered_at >= every

    def withdraw(
        self, posting_id: str, loaded: PostingFile | None, reason: Reason, source: str | None
    ) -> None:
        """Make the board stop showing the posting, if it shows it or may be about to."""
        key = (posting_id, self.target.name)
        delivery = self.deliveries.get(key)
        pending = self.open_by_key.get(key)
        if pending is not None and pending.kind == "CLOSE":
            return
        may_show = (delivery is not None and delivery.live) or (
            pending is not None and pending.attempts > 0
        )
        failed_for_good = pending is None and delivery is not None and delivery.state == "failed"
        if may_show:
            version = self.close_version(loaded, delivery)
            if failed_for_good and delivery is not None and delivery.planned_hash == version:
                return  # this CLOSE failed for good: tried again once the posting changes
            self.add(OperationKind.CLOSE, loaded, version, reason, source, posting_id=posting_id)
        elif pending is not None or failed_for_good:
            self.plan.cancel.append(key)  # never sent, or never listed: nothing to close

    def version(self, content_hash: str) -> str:
        """The version of a posting (by its content hash) as this target receives it."""
        return hashlib.sha256(content_hash.encode() + self.setup).hexdigest()

    def close_version(self, loaded: PostingFile | None, delivery: DeliveryView | None) -> str:
        """The version of a CLOSE: of the posting closed, or of what the board last received
        when the file is gone; marked, so that a failed CLOSE is never mistaken for a failed
        CREATE or UPDATE of the same content (an expired posting has the content it had)."""
        if loaded is not None:
            base = self.version(loaded.content_hash)
        else:
            base = delivery.content_hash if delivery and delivery.content_hash else ""
        return hashlib.sha256(b"CLOSE " + base.encode()).hexdigest()

    def add(
        self,
        kind: OperationKind,
        loaded: PostingFile | None,
        version: str,
        reason: Reason,
        source: str | None,
        *,
        posting_id: str | None = None,
    ) -> None:
        posting = loaded.posting if loaded is not None else None
        posting_id = posting_id or (posting.id if posting else "")
        payload = self.target.payload(kind, posting_id, posting, self.context)
        self.plan.operations.append(
            PlannedOperation(self.target.name, kind, posting_id, version, reason, payload, source)
        )


def _why_not_listed(status: Status) -> Reason:
    if status is Status.DRAFT:
        return Reason.DRAFT
    if status is Status.CLOSED:
        return Reason.CLOSED
    return Reason.EXPIRED


def _kept_unloadable(delivery: DeliveryView) -> Problem:
    source = display_path(Path(delivery.source_path)) if delivery.source_path else None
    return Problem(
        "the file does not load; what was published stays published until it is fixed",
        file=source,
        target=delivery.target,
        posting_id=delivery.posting_id,
        severity=Severity.WARNING,
    )
