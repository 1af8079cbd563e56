"""Plan: the postings now + what each board has (the publish state) → operations per push target.

For every push target and posting:

| posting now                          | board has nothing / closed | board has it              |
| ------------------------------------ | -------------------------- | ------------------------- |
| open, not expired, passes the rules  | CREATE                     | UPDATE if content changed |
| closed, draft again, expired         | nothing                    | CLOSE                     |
| scheduled (date_posted still to come)| nothing (listed then)      | CLOSE                     |
| file deleted                         | nothing                    | CLOSE                     |
| file fails to load                   | nothing                    | nothing (kept, reported)  |
| breaks the target's rules            | nothing (reported)         | nothing (kept, reported)  |
| id changed (same file, new id)       | CREATE of the new id       | CLOSE of the old id       |

A posting whose file fails to load is never closed: what was published stays published until the
file is fixed, unless the version the board has expires (then it is closed as usual).  CLOSEs
of deleted files and changed ids are held back by the guard against mass closes
(`syndicate.listing.Lister.guard`); the plan then carries the `Refusal` instead.

An operation sent without a recorded answer may have reached the board: it is followed by the
operation that undoes it (a CLOSE, or an UPDATE back to what the board had), never just
dropped.  An operation refused for good is planned again only once the posting changes, or when
asked (``retry_failed``).  Planning reads the state but writes nothing; `syndicate.publish`
writes the plan to the state store before anything is pushed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from syndicate.adapters import PushTarget, RenderContext
from syndicate.cache import CachedChecks, setup_digest, version_of
from syndicate.errors import Problem, Severity
from syndicate.listing import Lister, Refusal, TargetListing
from syndicate.loading import LoadResult, PostingFile, display_path
from syndicate.model import Phase, expires_at
from syndicate.operations import OperationKind
from syndicate.postings import LoadedPosting
from syndicate.state import Hold, NewOperation

# A plan of at most this many postings (an edit's) reads only their rows of the state and cache.
FEW_POSTINGS = 500
# A plan recorded as it is made (`make_plan`'s ``record``) hands over this many operations at a
# time: the payloads in memory are a window's, whatever the number of postings.
RECORD_WINDOW = 2_000


class Reason(StrEnum):
    """Why an operation is planned."""

    NEW = "new"
    REOPENED = "reopened"
    EDITED = "edited"
    CLOSED = "closed"
    DRAFT = "draft again"
    EXPIRED = "expired"
    DELETED = "file deleted"
    RENAMED = "id changed"
    SCHEDULED = "scheduled"
    LEFT_OUT = "left out of this target (boards:)"
    RENEWAL = "renewal due"
    RETRY = "retry of a failed delivery"
    UPGRADE = "payload changed by an upgrade or a configuration change"
    TAGGING = "payload changed: source tagging turned on"


class DeliveryView(Protocol):
    """What planning needs to know of one posting × target in the publish state (read-only:
    the store's records are frozen)."""

    @property
    def posting_id(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def state(self) -> str: ...  # pending | published | failed | closed
    @property
    def content_hash(self) -> str | None: ...  # of the last operation the target accepted
    @property
    def planned_hash(self) -> str | None: ...  # of the newest operation planned
    @property
    def source_path(self) -> str | None: ...
    @property
    def delivered_at(self) -> datetime | None: ...  # when the target last accepted an operation
    @property
    def posting_hash(self) -> str | None: ...  # the posting's content hash last accepted
    @property
    def payload_hash(self) -> str | None: ...  # digest of the payload last accepted
    @property
    def expires_at(self) -> datetime | None: ...  # when the board's listing lapses, if it does

    @property
    def live(self) -> bool:
        """True when the target shows the posting now."""
        ...


class OpenOperationView(Protocol):
    """An operation planned earlier and not finished (pending, or queued for a retry)."""

    @property
    def posting_id(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def content_hash(self) -> str | None: ...
    @property
    def attempts(self) -> int: ...


@dataclass(frozen=True, slots=True)
class PlannedOperation:
    """One operation to send to one push target, its payload built now (None once the
    operation is recorded in the state by a plan made with ``record``: `Plan.record`)."""

    target: str
    kind: OperationKind
    posting_id: str
    content_hash: str
    reason: Reason
    payload: dict[str, Any] | None
    source_path: str | None = None
    renamed_to: str | None = None  # the posting's new id, for a CLOSE of a changed id
    posting_hash: str | None = None  # the posting's content hash, when it has a posting
    payload_hash: str | None = None  # `PushTarget.payload_digest` of the payload
    listing_expires_at: datetime | None = None  # when the board's listing lapses once accepted

    def recorded(self) -> NewOperation:
        """The operation as the state store records it."""
        if self.payload is None:
            raise ValueError(f"{self.target}: {self.posting_id}: the operation is recorded already")
        return NewOperation(
            posting_id=self.posting_id,
            target=self.target,
            kind=self.kind,
            content_hash=self.content_hash,
            payload=self.payload,
            source_path=self.source_path,
            posting_hash=self.posting_hash,
            payload_hash=self.payload_hash,
            listing_expires_at=self.listing_expires_at,
        )

    def without_payload(self) -> PlannedOperation:
        """The operation as a recorded plan keeps it: what it reports, not what it sends."""
        return replace(self, payload=None)

    @property
    def why(self) -> str:
        """The reason as people read it: ``file deleted``, ``id changed to sales-lead``."""
        if self.reason is Reason.RENAMED and self.renamed_to:
            return f"id changed to {self.renamed_to}"
        return str(self.reason)


@dataclass(slots=True)
class Plan:
    """The operations to apply, the open operations no longer wanted, and what is kept as it is.

    ``cancel`` holds ``(posting_id, target)`` whose open operation would bring the board away
    from what it should show (a posting edited back to what the board already has, or withdrawn
    before its CREATE was sent), or whose failed delivery is settled because the board already
    shows what it should; cancelling drops the operation and settles the delivery.

    A plan made with a ``recorder`` hands its operations to it as they are planned,
    ``window`` at a time (`add`), and the rest when asked (`record`); it keeps them
    without their payloads.  A plan without one keeps every operation whole.
    """

    operations: list[PlannedOperation] = field(default_factory=list)
    cancel: list[tuple[str, str]] = field(default_factory=list)
    kept: list[Problem] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    listings: dict[str, TargetListing] = field(default_factory=dict)
    scheduled: dict[str, datetime] = field(default_factory=dict)  # posting id → when listed
    # (posting id, target, version, posting hash): new versions whose payload is what the
    # target already has; recorded without sending anything.
    refresh: list[tuple[str, str, str, str]] = field(default_factory=list)
    recorder: Callable[[Sequence[PlannedOperation]], None] | None = field(default=None, repr=False)
    recorded: int = 0  # how many of the operations the recorder has had
    window: int = RECORD_WINDOW

    def add(self, operation: PlannedOperation) -> None:
        """One more operation; with a recorder, a full window goes to it."""
        self.operations.append(operation)
        if self.recorder is not None and len(self.operations) - self.recorded >= self.window:
            self.record()

    def record(self) -> None:
        """Hand the operations not yet recorded to the recorder, and keep them without their
        payloads (nothing without a recorder)."""
        if self.recorder is None or self.recorded == len(self.operations):
            return
        fresh = self.operations[self.recorded :]
        self.recorder(fresh)
        self.operations[self.recorded :] = [op.without_payload() for op in fresh]
        self.recorded = len(self.operations)

    @property
    def holds(self) -> list[Hold]:
        """Postings held at the version the boards have, every push target together."""
        return [hold for listing in self.listings.values() for hold in listing.holds]

    def for_target(self, name: str) -> list[PlannedOperation]:
        return [op for op in self.operations if op.target == name]


def untagged(target: PushTarget) -> PushTarget | None:
    """The target as it is with its source tagging off (None: it is off already)."""
    if target.url_tags() is None:
        return None
    options = target.options.model_copy(update={"tagging": False})
    return type(target)(target.name, options, target.settings)


def make_plan(
    targets: Iterable[PushTarget],
    loaded: LoadResult,
    deliveries: Mapping[tuple[str, str], DeliveryView],
    open_operations: Iterable[OpenOperationView],
    now: datetime,
    *,
    posting_ids: Collection[str] | None = None,
    lister: Lister | None = None,
    retry_failed: bool = False,
    delivered: Callable[[str, str], Any] | None = None,
    timezone: tzinfo | None = None,
    record: Callable[[Sequence[PlannedOperation]], None] | None = None,
    window: int = RECORD_WINDOW,
) -> Plan:
    """Plan every push target against what it has (``deliveries``) and what is already on its
    way to it (``open_operations``).  ``posting_ids`` limits the plan to those postings;
    ``lister`` (with the publish state) keeps last good versions and guards mass closes;
    ``retry_failed`` plans again what failed for good; ``delivered(posting_id, target)`` gives
    the payload a target last accepted (for a CLOSE of a deleted file, and the targets that
    compare with it); ``timezone`` (the configuration's) dates the scheduled postings when no
    target is given.

    ``record`` (`syndicate.state.StateStore.enqueue`, as publish gives it) is handed the
    operations as they are planned, ``window`` at a time, and every one by the time the plan is
    returned; the plan keeps them without their payloads, so that its memory does not grow
    with every payload of a large plan.  Nothing else planning reads changes when they are
    recorded: the deliveries and open operations are read before, and the payloads a target
    last accepted (``delivered``) are not what is recorded.  A plan that fails part way has
    recorded some of its operations: the next plan finds them open, as it finds those of a run
    killed after planning."""
    plan = Plan(recorder=record, window=window)
    targets = list(targets)
    open_by_key = {(op.posting_id, op.target): op for op in open_operations}
    for target in targets:
        checks = CachedChecks(target, loaded.cache, prefetch=not is_few(posting_ids))
        planner = _TargetPlanner(plan, target, deliveries, open_by_key, now, checks)
        planner.lister = lister
        planner.retry_failed = retry_failed
        planner.delivered = delivered
        planner.run(loaded, posting_ids)
    zone = timezone or next((t.settings.timezone for t in targets), UTC)
    by_id = lister.by_id if lister is not None else None
    note_scheduled(plan, loaded, now, zone, posting_ids, by_id=by_id)
    plan.record()
    return plan


def is_few(posting_ids: Collection[str] | None) -> bool:
    """Whether a plan limited to ``posting_ids`` is small enough to read only those postings'
    rows of the state and the cache (an edit's), rather than every row at once."""
    return posting_ids is not None and len(posting_ids) <= FEW_POSTINGS


def note_scheduled(
    plan: Plan,
    loaded: LoadResult,
    now: datetime,
    timezone: tzinfo,
    posting_ids: Collection[str] | None,
    *,
    by_id: Mapping[str, PostingFile] | None = None,
) -> None:
    """Note every scheduled posting, whichever targets are ready: none lists it yet
    (``by_id``: the loaded postings by id, when already at hand)."""
    for loaded_file in _chosen(loaded, posting_ids, by_id):
        window = loaded_file.window
        if window.phase(now, timezone) is Phase.SCHEDULED:
            plan.scheduled[loaded_file.posting_id] = window.starts(timezone)


def _chosen(
    loaded: LoadResult,
    posting_ids: Collection[str] | None,
    by_id: Mapping[str, PostingFile] | None = None,
) -> list[PostingFile]:
    """The loaded postings of ``posting_ids`` (all without), in file order; a few are looked up
    by id (in ``by_id``, made when not given) rather than found among every file."""
    if not is_few(posting_ids):
        return [f for f in loaded.files if posting_ids is None or f.posting_id in posting_ids]
    assert posting_ids is not None
    by_id = by_id if by_id is not None else loaded.by_id()
    found = [by_id[pid] for pid in posting_ids if pid in by_id]
    order = {pid: index for index, pid in enumerate(by_id)} if len(found) > 1 else {}
    return sorted(found, key=lambda f: order.get(f.posting_id, 0))


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
        self.lister: Lister | None = None
        self.retry_failed = False
        self.delivered: Callable[[str, str], Any] | None = None
        self.listing = TargetListing(target.name)
        self._untagged: PushTarget | None = untagged(target)

    def run(self, loaded: LoadResult, posting_ids: Collection[str] | None) -> None:
        name = self.target.name
        few = is_few(posting_ids)
        if self.lister is not None:
            self.listing.known = self.lister.known(name, posting_ids if few else None)
        loaded_by_id = self.lister.by_id if self.lister is not None else loaded.by_id()
        chosen = _chosen(loaded, posting_ids, loaded_by_id)
        if few:
            self.checks.load(chosen)
        for posting_file in chosen:
            self.posting(posting_file)
        failed_paths = {str(path) for path in loaded.failed}
        failed_ids = {pid for pid in loaded.failed.values() if pid}
        vanished: dict[str, str | None] = {}
        for (posting_id, target_name), delivery in self.deliveries.items():
            if target_name != name or posting_id in loaded_by_id:
                continue
            if posting_ids is not None and posting_id not in posting_ids:
                continue
            listing = self.listing.known.get(posting_id)
            unloadable = posting_id in failed_ids or (delivery.source_path or "") in failed_paths
            if listing is not None and self.lister is not None:
                unloadable = unloadable or self.lister.failed(listing)
            if unloadable:
                self.unloadable(posting_id, delivery)
            elif self.may_show(posting_id):
                vanished[posting_id] = self.renamed_to(posting_id, delivery)
            else:
                self.withdraw(posting_id, None, Reason.DELETED, delivery.source_path)
        self.vanished(vanished)
        self.checks.save()
        self.plan.listings[name] = self.listing

    def posting(self, loaded: PostingFile) -> None:
        """Plan one loaded posting."""
        timezone = self.target.settings.timezone
        if not loaded.is_listed(self.now, timezone):
            reason = _REASONS[loaded.window.phase(self.now, timezone)]
            self.withdraw(loaded.posting_id, loaded, reason, loaded.source_path)
            if loaded.posting_id in self.listing.known:
                self.listing.withdrawn.append(loaded.posting_id)
            return
        found = self.checks.problems(loaded)
        if any(p.severity is Severity.OMIT for p in found):
            self.withdraw(loaded.posting_id, loaded, Reason.LEFT_OUT, loaded.source_path)
            if loaded.posting_id in self.listing.known:
                self.listing.withdrawn.append(loaded.posting_id)
            return
        problems = [p for p in found if p.severity is Severity.ERROR]
        if problems:
            self.plan.kept.extend(problems)
            self.hold_edit(loaded, problems)
            return
        if self.lister is not None:
            self.listing.fresh.append(self.lister.listed(loaded))
        self.list(loaded, loaded.source_path)

    def hold_edit(self, loaded: PostingFile, problems: list[Problem]) -> None:
        """An edit that breaks the target's rules: the board keeps what it has."""
        listing = self.listing.known.get(loaded.posting_id)
        if listing is None or listing.content_hash == loaded.content_hash:
            return
        self.listing.holds.append(Hold.of(listing, loaded.locate(problems), self.now))

    def unloadable(self, posting_id: str, delivery: DeliveryView) -> None:
        """A posting whose file fails to load: kept as the board has it, unless that version
        has expired since (then it is closed as usual)."""
        listing = self.listing.known.get(posting_id)
        kept = self.lister.kept(listing) if self.lister and listing else None
        timezone = self.target.settings.timezone
        if kept is not None and not kept.is_listed(self.now, timezone):
            reason = _REASONS[kept.posting.window.phase(self.now, timezone)]
            self.withdraw(posting_id, kept, reason, delivery.source_path)
            self.listing.withdrawn.append(posting_id)
            return
        if delivery.live:
            self.plan.kept.append(_kept_unloadable(delivery))
            if listing is not None and self.lister is not None:
                problems = self.lister.problems_of(listing.source)
                self.listing.holds.append(Hold.of(listing, problems, self.now))

    def may_show(self, posting_id: str) -> bool:
        """Whether the board shows the posting now, or may (an answer was lost)."""
        key = (posting_id, self.target.name)
        delivery = self.deliveries.get(key)
        pending = self.open_by_key.get(key)
        if pending is not None and pending.kind == "CLOSE":
            return False
        return (delivery is not None and delivery.live) or (
            pending is not None and pending.attempts > 0
        )

    def renamed_to(self, posting_id: str, delivery: DeliveryView) -> str | None:
        """The posting's new id when its file is still there under another id."""
        if self.lister is None:
            return None
        listing = self.listing.known.get(posting_id)
        if listing is not None:
            source = listing.source
        elif delivery.source_path is not None:
            source = self.lister.settings.posting_key(delivery.source_path)
        else:
            return None
        found = self.lister.id_at.get(source)
        return found if found != posting_id else None

    def vanished(self, vanished: dict[str, str | None]) -> None:
        """Close the postings whose files disappeared (or whose id changed), within the
        guard; refused, nothing is closed and the plan carries the refusal."""
        if not vanished:
            return
        self.listing.vanished = vanished
        refusal = None
        if self.lister is not None:
            live = sum(
                1 for (_, t), d in self.deliveries.items() if t == self.target.name and d.live
            )
            refusal = self.lister.guard(self.target.name, vanished, live)
        if refusal is not None:
            self.listing.refusal = refusal
            self.plan.refusals.append(refusal)
            return
        for posting_id, new_id in vanished.items():
            delivery = self.deliveries.get((posting_id, self.target.name))
            source = delivery.source_path if delivery is not None else None
            reason = Reason.RENAMED if new_id else Reason.DELETED
            last_good = self.last_good(posting_id)
            self.withdraw(posting_id, last_good, reason, source, renamed_to=new_id)

    def last_good(self, posting_id: str) -> LoadedPosting | None:
        """The last good version of a posting whose file is gone, as the state holds it: what
        a CLOSE is built from (every field the board requires, as it last showed them)."""
        listing = self.listing.known.get(posting_id)
        if listing is None or self.lister is None:
            return None
        return self.lister.kept(listing)

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
            elif self.renewal_due(delivery, loaded):
                self.add(OperationKind.RENEW, loaded, version, Reason.RENEWAL, source)
            return
        failed_for_good = delivery is not None and delivery.state == "failed"
        if (
            pending is None
            and delivery is not None
            and failed_for_good
            and delivery.planned_hash == version
        ):
            if not self.retry_failed:
                return  # failed for good: tried again once the posting changes
            kind = OperationKind.UPDATE if live else OperationKind.CREATE
            self.add(kind, loaded, version, Reason.RETRY, source)
            return
        if live and delivery is not None:
            if pending is None and not failed_for_good:
                self.update_if_changed(loaded, delivery, version, source)
            else:
                self.add(OperationKind.UPDATE, loaded, version, Reason.EDITED, source)
        else:
            reason = (
                Reason.REOPENED if delivery is not None and delivery.content_hash else Reason.NEW
            )
            self.add(OperationKind.CREATE, loaded, version, reason, source)

    def update_if_changed(
        self, loaded: PostingFile, delivery: DeliveryView, version: str, source: str
    ) -> None:
        """A new version of a posting the board shows: an UPDATE when what the target would be
        sent differs from what it has, else only the new version recorded."""
        payload = self.payload(OperationKind.UPDATE, loaded.posting_id, loaded)
        digest = self.target.payload_digest(payload, loaded.posting)
        if delivery.payload_hash == digest:
            self.plan.refresh.append(
                (loaded.posting_id, self.target.name, version, loaded.content_hash)
            )
            return
        edited = delivery.posting_hash != loaded.content_hash
        reason = Reason.EDITED if edited else self.change_reason(loaded, delivery)
        self.add(OperationKind.UPDATE, loaded, version, reason, source, payload=payload)

    def change_reason(self, loaded: PostingFile, delivery: DeliveryView) -> Reason:
        """Why the payload of an unedited posting changed: the target's source tagging, when
        the payload without it is what the board has; else an upgrade or configuration."""
        plain = self._untagged
        if plain is not None:
            kind = OperationKind.UPDATE
            payload = plain.payload(kind, loaded.posting_id, loaded.posting, self.context)
            if plain.payload_digest(payload, loaded.posting) == delivery.payload_hash:
                return Reason.TAGGING
        return Reason.UPGRADE

    def payload(self, kind: OperationKind, posting_id: str, loaded: LoadedPosting | None) -> Any:
        """The target's payload for one operation, with what it was last sent when it asks."""
        posting = loaded.posting if loaded is not None else None
        previous = None
        if (posting is None or self.target.wants_previous_payload) and self.delivered is not None:
            previous = self.delivered(posting_id, self.target.name)
        return self.target.payload(kind, posting_id, posting, self.context, previous=previous)

    def renewal_due(self, delivery: DeliveryView, loaded: PostingFile) -> bool:
        """Whether the board's listing of an unchanged posting should be renewed now: it lapses
        soon while the posting should stay listed longer, or (``renew_after``) it is due."""
        if not self.target.accepts(OperationKind.RENEW):
            return False
        before = self.target.renews_before_lapse()
        lapses = delivery.expires_at
        if before is not None and lapses is not None and self.now >= lapses - before:
            end = loaded.window.valid_through
            wanted = None if end is None else expires_at(end, self.target.settings.timezone)
            if wanted is None or wanted > lapses:
                return True
        every = self.target.renew_after()
        return (
            every is not None
            and delivery.delivered_at is not None
            and self.now - delivery.delivered_at >= every
        )

    def withdraw(
        self,
        posting_id: str,
        loaded: LoadedPosting | None,
        reason: Reason,
        source: str | None,
        *,
        renamed_to: str | None = None,
    ) -> None:
        """Make the board stop showing the posting, if it shows it or may be about to."""
        key = (posting_id, self.target.name)
        delivery = self.deliveries.get(key)
        pending = self.open_by_key.get(key)
        if pending is not None and pending.kind == "CLOSE":
            return
        may_show = self.may_show(posting_id)
        failed_for_good = pending is None and delivery is not None and delivery.state == "failed"
        if may_show:
            version = self.close_version(loaded, delivery)
            if failed_for_good and delivery is not None and delivery.planned_hash == version:
                if not self.retry_failed:
                    return  # this CLOSE failed for good: tried again once the posting changes
                reason = Reason.RETRY
            self.add(
                OperationKind.CLOSE,
                loaded,
                version,
                reason,
                source,
                posting_id=posting_id,
                renamed_to=renamed_to,
            )
        elif pending is not None or failed_for_good:
            self.plan.cancel.append(key)  # never sent, or never listed: nothing to close

    def version(self, content_hash: str) -> str:
        """The version of a posting (by its content hash) as this target receives it."""
        return version_of(content_hash, self.setup)

    def close_version(self, loaded: LoadedPosting | None, delivery: DeliveryView | None) -> str:
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
        loaded: LoadedPosting | None,
        version: str,
        reason: Reason,
        source: str | None,
        *,
        posting_id: str | None = None,
        renamed_to: str | None = None,
        payload: Any = None,
    ) -> None:
        posting = loaded.posting if loaded is not None else None
        posting_id = posting_id or (posting.id if posting else "")
        if payload is None:
            payload = self.payload(kind, posting_id, loaded)
        delivery = self.deliveries.get((posting_id, self.target.name))
        current = delivery.expires_at if delivery is not None else None
        self.plan.add(
            PlannedOperation(
                self.target.name,
                kind,
                posting_id,
                version,
                reason,
                payload,
                source,
                renamed_to,
                posting_hash=loaded.content_hash if loaded is not None else None,
                payload_hash=self.target.payload_digest(payload, posting),
                listing_expires_at=self.target.listing_expiry(kind, payload, self.now, current),
            )
        )


_REASONS = {
    Phase.DRAFT: Reason.DRAFT,
    Phase.CLOSED: Reason.CLOSED,
    Phase.EXPIRED: Reason.EXPIRED,
    Phase.SCHEDULED: Reason.SCHEDULED,
}


def _kept_unloadable(delivery: DeliveryView) -> Problem:
    source = display_path(Path(delivery.source_path)) if delivery.source_path else None
    return Problem(
        "the file does not load; what was published stays published until it is fixed",
        file=source,
        target=delivery.target,
        posting_id=delivery.posting_id,
        severity=Severity.WARNING,
    )
