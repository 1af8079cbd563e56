"""Publish: build the pull targets, plan the push targets against the state, apply the plan.

The plan is recorded in the state store before anything is pushed (as it is made, a window of
operations at a time: `syndicate.plan.make_plan`), and every outcome is
recorded as it happens, each in its own transaction: a run killed at any moment leaves open
operations that the next run resumes.  Boards are asked in a way that makes a repeat harmless
(an existing id turns a CREATE into an UPDATE; webhooks carry an idempotency key), so a resumed
operation never creates a job twice.

Timeouts, connection errors, 5xx and 429 are retried within the run with exponential backoff and
jitter, honouring ``Retry-After``, up to ``retry.max_attempts``, and waiting at most
``retry.max_wait_per_run`` in all; what still fails stays queued with its next attempt time.  A
``Retry-After`` longer than ``retry.max_backoff`` is not waited for within the run: the
operations are queued until then (and even ``retry_now`` waits for it).  Every wait is reported to
``waiter`` (a countdown on a terminal, a log line otherwise).

A board that refuses our credentials (401/403) is not the postings' fault: the target is marked
as failing authentication in the state, nothing more is sent to it in the run, and its
operations stay queued; the next run sends one operation first, as a probe, and the rest only
once it succeeds.  Other refusals are final until the posting changes (or ``retry_failed``).

``now`` is the run's clock: it decides what is listed, which queued operations are due, the UTC
day of daily quotas and the time of the next attempt (moving on with real time during the run).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from syndicate.adapters import PushTarget, create_targets
from syndicate.adapters.base import Outcome, Outgoing
from syndicate.build import BuildReport, build
from syndicate.config import Settings
from syndicate.errors import AuthenticationError, LeaseLostError, Problem, PushError
from syndicate.listing import Lister, Refusal, TargetListing
from syndicate.loading import LoadResult
from syndicate.logs import event
from syndicate.operations import OperationKind
from syndicate.plan import Plan, PlannedOperation, is_few, make_plan
from syndicate.progress import Progress, Step, ticker
from syndicate.revision import Revision
from syndicate.state import Failed, Operation, StateStore, Succeeded
from syndicate.state.coordination import SharedRateLimiter
from syndicate.unchanged import unchanged_plan
from syndicate.worker import LeaseKeeper, Worker

log = logging.getLogger("syndicate.publish")
_EVERYTHING = datetime.max.replace(tzinfo=UTC)
SEND_MARGIN = timedelta(seconds=5)  # beyond the longest request, for the steps around it
PUBLISH_ROLE = "publish"  # the worker ids of publish runs: publish-<host>-<pid>
TransportFactory = Callable[[PushTarget], httpx.BaseTransport | None]
# Waits for a retry: (target name, seconds, why); it returns once the time has passed.
Waiter = Callable[[str, float, str], None]


def log_and_sleep(target: str, seconds: float, why: str) -> None:
    """The default `Waiter`: one log line per wait, then the wait."""
    event(log, "waiting to retry", target=target, seconds=round(seconds, 1), reason=why)
    time.sleep(seconds)


class WaitBudget:
    """How long one run may still wait for retries, shared by every target and thread."""

    def __init__(self, seconds: float) -> None:
        self._left = seconds
        self._lock = threading.Lock()

    @property
    def left(self) -> float:
        with self._lock:
            return self._left

    def spend(self, seconds: float) -> None:
        with self._lock:
            self._left = max(0.0, self._left - seconds)


@dataclass(slots=True)
class TargetResult:
    """What one push target did in one run."""

    name: str
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    queued: int = 0
    errors: list[str] = field(default_factory=list)
    # The operations the board accepted in this run, by kind (CREATE, UPDATE, RENEW, CLOSE).
    done: Counter[OperationKind] = field(default_factory=Counter)
    stopped: bool = False  # asked to stop before everything was sent
    auth_error: str | None = None  # the board refused our credentials in this run


@dataclass(slots=True)
class PublishReport:
    """The plan, the build, and what each push target did; ``disabled`` says why some did not."""

    plan: Plan
    build: BuildReport | None = None
    targets: dict[str, TargetResult] = field(default_factory=dict)
    disabled: dict[str, str] = field(default_factory=dict)
    kept: list[Problem] = field(default_factory=list)  # one line per held file

    @property
    def queued(self) -> int:
        return sum(t.queued for t in self.targets.values())

    @property
    def failed(self) -> int:
        return sum(t.failed for t in self.targets.values())

    @property
    def refusals(self) -> list[Refusal]:
        """Mass closes the guard refused, on pull and push targets."""
        pulled = [t.refusal for t in self.build.targets if t.refusal] if self.build else []
        return [*pulled, *self.plan.refusals]

    @property
    def held(self) -> bool:
        """Whether any posting is kept at its last good version somewhere."""
        return bool(self.plan.holds) or bool(
            self.build and any(t.holds for t in self.build.targets)
        )


def push_targets(
    settings: Settings, only: str | None = None
) -> tuple[list[PushTarget], dict[str, str]]:
    """The push targets ready to run, and the reason each other configured one is not."""
    ready: list[PushTarget] = []
    disabled: dict[str, str] = {}
    for target in create_targets(settings):
        if not isinstance(target, PushTarget) or (only and target.name != only):
            continue
        reason = target.disabled_reason()
        if reason:
            disabled[target.name] = reason
        else:
            ready.append(target)
    return ready, disabled


def publish(
    settings: Settings,
    loaded: LoadResult,
    store: StateStore,
    *,
    now: datetime | None = None,
    plan_only: bool = False,
    only_target: str | None = None,
    posting_ids: Collection[str] | None = None,
    transport: TransportFactory | None = None,
    wait_for_lock: bool = False,
    with_build: bool = True,
    should_stop: Callable[[], bool] = lambda: False,
    allow_mass_close: bool = False,
    retry_failed: bool = False,
    retry_now: bool = False,
    waiter: Waiter = log_and_sleep,
    worker: Worker | None = None,
    planning: bool = True,
    revision: Revision | None = None,
    on_planned: Callable[[], None] | None = None,
    progress: Progress | None = None,
) -> PublishReport:
    """Bring every board to the postings now; see the module docstring.

    ``should_stop`` is asked before each batch: once it says so, the batches not yet sent stay
    pending in the store for the next run.  ``allow_mass_close`` approves (and records) the
    closes the guard would refuse; ``retry_failed`` plans again what failed for good;
    ``retry_now`` sends queued operations without waiting for our own backoff; ``progress``
    is told how the rendering of each pull target and the push to each board advance.

    Without ``worker`` (one ``publish`` run) the publish lock spans planning and pushing.  A
    daemon gives its ``worker``: it plans (``planning``: it holds the planning lease) under the
    publish lock and records the ``revision`` planned from, then pushes without the lock, side
    by side with the other daemons; a daemon that does not plan only builds and pushes.  Every
    push is leased to the worker (`syndicate.worker`).  A daemon's ``on_planned`` is called once
    its plan is recorded (or it had none to make), before the build and the push.
    """
    now = now or datetime.now(UTC)
    targets, disabled = push_targets(settings, only_target)
    lister = Lister(
        settings, loaded, store, now, allow_mass_close=allow_mass_close and not plan_only
    )
    plan_args = _PlanArgs(now, posting_ids, retry_failed, with_build, plan_only, progress)
    if worker is None:
        with store.publish_lock(wait=wait_for_lock):
            report, run_id = _plan(settings, loaded, store, lister, targets, plan_args)
            report.disabled = disabled
            if not plan_only:
                # Holding the lock, no other publish run lives: the leases of one killed
                # before it recorded its answers are free at once (daemons' are kept).
                store.release_leases_of(f"{PUBLISH_ROLE}-")
                pusher = _Pusher(settings, store, Worker.of(settings, PUBLISH_ROLE), transport)
                pusher.progress = progress
                pusher.push(report, targets, now, should_stop, waiter, retry_now, run_id)
        return report
    run_id = None
    if planning:
        with store.publish_lock(wait=True):
            # The daemon builds beside its push, below, not before enqueueing: the operations
            # are there for every daemon as soon as they are planned.
            daemon_args = replace(plan_args, with_build=with_build and plan_only)
            report, run_id = _plan(settings, loaded, store, lister, targets, daemon_args)
            if revision is not None and posting_ids is None and not plan_only:
                store.coordination.record_plan(
                    revision.value, revision.kind, revision.time, worker.id
                )
    else:
        report = PublishReport(plan=Plan())
    if on_planned is not None:
        on_planned()
    report.disabled = disabled
    if plan_only:
        if with_build and report.build is None:
            report.build = build(settings, loaded, now=now, lister=lister, dry_run=True)
        return report
    pusher = _Pusher(settings, store, worker, transport)
    pusher.progress = progress
    with ThreadPoolExecutor(1, thread_name_prefix="push") as pushing:
        # The push waits on the boards, the build on the CPU: side by side, neither waits for
        # the other (the feeds are not held back by a long push, nor the push by the build).
        pushed = pushing.submit(
            pusher.push, report, targets, now, should_stop, waiter, retry_now, run_id
        )
        try:
            if with_build:
                report.build = build(settings, loaded, now=now, lister=lister, progress=progress)
                report.kept = lister.kept_notes(_listings(report))
        finally:
            pushed.result()
    return report


@dataclass(frozen=True, slots=True)
class _PlanArgs:
    now: datetime
    posting_ids: Collection[str] | None
    retry_failed: bool
    with_build: bool
    plan_only: bool
    progress: Progress | None = None


def _plan(
    settings: Settings,
    loaded: LoadResult,
    store: StateStore,
    lister: Lister,
    targets: list[PushTarget],
    args: _PlanArgs,
) -> tuple[PublishReport, int | None]:
    """Plan, build, and record the plan durably (unless ``plan_only``); the run's id."""
    now = args.now
    if args.plan_only and args.posting_ids is None:
        found = unchanged_plan(settings, loaded, targets, now, with_build=args.with_build)
        if found is not None:  # nothing to do, told by a few set queries
            return PublishReport(
                plan=found.plan, build=found.build if args.with_build else None
            ), None
    run_id = None if args.plan_only else store.begin_run(now=now)

    def enqueue(operations: Sequence[PlannedOperation]) -> None:
        store.enqueue([op.recorded() for op in operations], run_id=run_id, now=now)

    # Planning needs no fresh paths: a posting that loads is found by its id; only the
    # paths of files that fail to load are looked up, and those are not here.
    few = is_few(args.posting_ids)
    plan = make_plan(
        targets,
        loaded,
        store.deliveries(posting_ids=args.posting_ids if few else None),
        store.pending(now=_EVERYTHING),
        now,
        posting_ids=args.posting_ids,
        lister=lister,
        retry_failed=args.retry_failed,
        delivered=store.last_payload,
        timezone=settings.timezone,
        record=None if args.plan_only else enqueue,  # recorded as planned, a window at a time
    )
    report = PublishReport(plan=plan)
    if args.plan_only:
        if args.with_build:  # what the pull targets would list, held and refused included
            report.build = build(
                settings, loaded, now=now, lister=lister, dry_run=True, progress=args.progress
            )
        report.kept = lister.kept_notes(_listings(report))
        return report, None
    wanted, by_id = args.posting_ids, lister.by_id
    chosen = by_id.values() if wanted is None else [by_id[p] for p in wanted if p in by_id]
    store.update_source_paths({f.posting_id: str(f.path) for f in chosen})
    if args.with_build:
        report.build = build(settings, loaded, now=now, lister=lister, progress=args.progress)
    store.cancel(plan.cancel, now=now)
    store.refresh(plan.refresh, now=now)
    if args.posting_ids is None:
        for listing in plan.listings.values():
            lister.save(listing)
    report.kept = lister.kept_notes(_listings(report))
    return report, run_id


class _Pusher:
    """Every push target's due operations, leased to one worker and sent."""

    def __init__(
        self,
        settings: Settings,
        store: StateStore,
        worker: Worker,
        transport: TransportFactory | None,
    ) -> None:
        self.settings, self.store, self.worker, self.transport = settings, store, worker, transport
        self.progress: Progress | None = None

    def push(
        self,
        report: PublishReport,
        targets: list[PushTarget],
        now: datetime,
        should_stop: Callable[[], bool],
        waiter: Waiter,
        retry_now: bool,
        run_id: int | None,
    ) -> None:
        budget = WaitBudget(self.settings.retry.max_wait_per_run.total_seconds())
        with LeaseKeeper(self.store, self.worker):
            for target in targets:
                factory = self.transport(target) if self.transport else None
                applier = _Applier(target, self.store, self.settings, now, should_stop)
                applier.budget, applier.waiter, applier.retry_now = budget, waiter, retry_now
                applier.worker, applier.progress = self.worker, self.progress
                report.targets[target.name] = applier.run(factory)
        if run_id is not None:
            outcome = "queued" if report.queued else "failed" if report.failed else "ok"
            self.store.finish_run(run_id, outcome)


def _listings(report: PublishReport) -> list[TargetListing]:
    """What each target lists in this run: the plan's push targets and the build's pull ones."""
    listings = list(report.plan.listings.values())
    if report.build is not None:
        listings.extend(t.selection for t in report.build.targets if t.selection is not None)
    return listings


def _outgoing(op: Operation, in_doubt: dict[str, datetime]) -> Outgoing:
    # A LinkedIn task accepted earlier keeps its URN as the operation's remote id: polled, not
    # sent again.
    kind = OperationKind(op.kind)
    return Outgoing(
        op.id,
        kind,
        op.posting_id,
        op.content_hash or "",
        op.payload or {},
        task_id=op.remote_id,
        task_accepted_at=op.task_accepted_at,
        create_in_doubt_since=in_doubt.get(op.posting_id) if kind is OperationKind.CLOSE else None,
    )


class _Applier:
    """Sends one target's due operations in batches, recording each outcome as it comes."""

    def __init__(
        self,
        target: PushTarget,
        store: StateStore,
        settings: Settings,
        now: datetime,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.target = target
        self.store = store
        self.retry = settings.retry
        self.result = TargetResult(target.name)
        self.should_stop = should_stop
        self.budget = WaitBudget(settings.retry.max_wait_per_run.total_seconds())
        self.waiter: Waiter = log_and_sleep
        self.retry_now = False
        self.worker = Worker("publish", timedelta(minutes=1), 4)
        self.progress: Progress | None = None
        self._sent = 0  # operations answered (or failed) so far, for ``progress``
        self._tick = ticker(None, Step("push", target.name), 0)
        self._start = (now, time.monotonic())
        self._lock = threading.Lock()  # the result is counted from several threads
        self._reserved: dict[int, tuple[date, int]] = {}  # quota held per operation, by day
        self._auth_failed = threading.Event()  # the board refused our credentials

    def now(self) -> datetime:
        """The run's clock: the ``now`` the run was given, plus the time spent since."""
        start, started = self._start
        return start + timedelta(seconds=time.monotonic() - started)

    def run(self, transport: httpx.BaseTransport | None) -> TargetResult:
        workers = self.target.options.concurrency
        rate = self.target.options.rate_limit
        # The board's rate limit is one for every process pushing to it: turns in the state.
        limiter = (
            SharedRateLimiter(self.store.coordination, self.target.name, rate) if rate else None
        )
        step, total = Step("push", self.target.name), 0
        if self.progress is not None and (total := self.store.open_count(self.target.name)):
            self._tick = ticker(self.progress, step, total)
        try:
            with self.target.client(transport, limiter=limiter) as client:
                if self._probe(client):
                    if workers == 1:
                        for batch in self._due_batches(page=self._page(1)):
                            self._batch_unless_stopped(client, batch)
                    else:
                        self._run_concurrently(client, workers)
        finally:
            self._give_back_quota()
            if self.progress is not None and 0 < self._sent < total:  # some wait for later
                self.progress(step, self._sent, self._sent)
        self.store.release_leases(self.worker.id, self.target.name)
        self.result.queued = self.store.open_count(self.target.name)
        return self.result

    def _page(self, workers: int) -> int:
        """How many operations to lease at a time: a few batches per thread."""
        return self.target.max_batch * workers * self.worker.batches_per_lease

    def _probe(self, client: httpx.Client) -> bool:
        """For a target that refused our credentials before: send one operation first, and
        the rest only if the board accepts it.  True when the rest may go."""
        failure = self.store.guards.auth_failures().get(self.target.name)
        if failure is None:
            return True
        first = next(self._due_batches(page=1), [])
        if not first:
            return True
        event(log, "probing credentials", target=self.target.name, since=failure.auth_failed_at)
        self._batch(client, first[:1])
        if self._auth_failed.is_set():
            return False
        self.store.guards.auth_ok(self.target.name)
        event(log, "credentials accepted again", target=self.target.name)
        return True

    def _run_concurrently(self, client: httpx.Client, workers: int) -> None:
        """Up to ``workers`` batches in flight; the due operations are read a page at a time,
        so memory holds a few batches, not every operation of a large plan."""
        in_flight: set[Future[None]] = set()
        page = self._page(workers)
        with ThreadPoolExecutor(workers, thread_name_prefix=self.target.name) as pool:
            try:
                for batch in self._due_batches(page=page):
                    if len(in_flight) >= workers * 2:
                        done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                        for finished in done:
                            finished.result()
                    in_flight.add(pool.submit(self._batch_unless_stopped, client, batch))
            finally:
                for finished in wait(in_flight).done:
                    finished.result()

    def _due_batches(self, *, page: int) -> Iterator[list[Operation]]:
        """The due operations in batches of ``max_batch``, leased from the store a page at a
        time, within the target's daily quota."""
        size = self.target.max_batch
        quota = self.target.daily_quota()
        after_id = 0
        while fetched := self.store.lease_due(
            self.target.name,
            self.worker.id,
            limit=page,
            duration=self.worker.lease_time,
            after_id=after_id,
            now=self.now(),
            retry_now=self.retry_now,
        ):
            after_id = fetched[-1].id
            due = fetched
            if quota is not None:
                due = self._within_quota(fetched, quota)
            for start in range(0, len(due), size):
                yield due[start : start + size]
            if len(fetched) < page:
                return

    def _batch_unless_stopped(self, client: httpx.Client, ops: Sequence[Operation]) -> None:
        # Asked to stop (SIGTERM in the daemon): what is not sent stays pending in the store.
        # Refused credentials: nothing more goes to this board in this run.
        if self.should_stop():
            self.result.stopped = True
            return
        if self._auth_failed.is_set():
            return
        self._batch(client, ops)

    def _within_quota(self, due: list[Operation], quota: int) -> list[Operation]:
        """The operations the daily quota still allows, reserved in the state (so that every
        daemon together stays within it); the others are carried to the board's next quota
        day.  What is reserved and not accepted is given back at the end of the run."""
        now = self.now()
        day = self.target.quota_day(now)
        costs = [self.target.quota_cost(op) for op in due]  # a moved job's two notifications
        allowed = due[: self.store.reserve_quota(self.target.name, day, costs, quota)]
        with self._lock:
            for op, cost in zip(allowed, costs, strict=False):
                self._reserved[op.id] = (day, cost)
        carried = due[len(allowed) :]
        if carried:
            tomorrow = self.target.quota_resets_at(now)
            message = f"daily quota of {quota} reached; carried to {tomorrow.isoformat()}"
            failures = [
                Failed(op.id, message, retry_at=tomorrow, not_before=tomorrow) for op in carried
            ]
            self.store.record(failures, now=now)
            log.info(
                "%s: %d operation(s) carried to tomorrow (quota)", self.target.name, len(carried)
            )
        return allowed

    def _give_back_quota(self) -> None:
        """Return the quota reserved for operations the board did not accept in this run."""
        with self._lock:
            left, self._reserved = self._reserved, {}
        by_day: dict[date, int] = {}
        for day, cost in left.values():
            by_day[day] = by_day.get(day, 0) + cost
        for day, cost in by_day.items():
            self.store.use_quota(self.target.name, day, n=-cost)

    def _batch(self, client: httpx.Client, ops: Sequence[Operation]) -> None:
        self._send_batch(client, ops)
        with self._lock:
            self._sent += len(ops)
            self._tick(self._sent)

    def _send_batch(self, client: httpx.Client, ops: Sequence[Operation]) -> None:
        ids = [op.id for op in ops]
        closing = [op.posting_id for op in ops if op.kind == OperationKind.CLOSE]
        in_doubt = self.store.creates_in_doubt(self.target.name, closing)
        outgoing = [_outgoing(op, in_doubt) for op in ops]
        started = time.monotonic()
        try:
            outcomes = self._send_with_retries(client, outgoing, ids)
        except LeaseLostError as error:  # another worker has them now: it sends them
            event(
                log, "lease lost", level=logging.WARNING, target=self.target.name, error=str(error)
            )
            return
        except AuthenticationError as error:
            self._record_auth_failure(ops, error, started)
            return
        except PushError as error:
            self._record_batch_failure(ops, error, started)
            return
        by_key = {op.id: op for op in ops}
        # One board answer, one transaction: its outcomes are recorded together.
        self._record([(by_key[outcome.key], outcome) for outcome in outcomes], started)

    def _send_with_retries(
        self, client: httpx.Client, outgoing: list[Outgoing], ids: list[int]
    ) -> list[Outcome]:
        why = {"error": ""}

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            why["error"] = getattr(error, "message", None) or str(error)

        def sleep(seconds: float) -> None:
            self.budget.spend(seconds)
            self.waiter(self.target.name, seconds, why["error"])

        out_of_attempts = stop_after_attempt(self.retry.max_attempts)

        def stop(state: RetryCallState) -> bool:
            # As ``out_of_attempts | ...`` would, which tenacity types for stop_base only.
            return (
                out_of_attempts(state)
                or self._asked_to_wait_too_long(state)
                or self._budget_spent(state)
            )

        retrying = Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, PushError) and e.retryable),
            stop=stop,
            wait=self._wait,
            sleep=sleep,
            before=lambda _state: self.store.start_attempts(
                ids, now=self.now(), holder=self.worker.id, hold=self._send_hold()
            ),
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(self.target.send, client, outgoing)

    def _send_hold(self) -> timedelta:
        """How long the leases of a batch about to be sent must still last: the lease time, and
        at least the longest request plus `SEND_MARGIN`, so that the request ends before any
        other worker could take the batch over, even if this one can renew nothing meanwhile
        (docs/scaling.md, "A daemon that pauses")."""
        longest = timedelta(seconds=self.target.longest_request()) + SEND_MARGIN
        return max(self.worker.lease_time, longest)

    def _backoff(self, state: RetryCallState) -> float:
        """The backoff before the next attempt, without jitter, and at least Retry-After."""
        initial = self.retry.backoff.total_seconds()
        longest = self.retry.max_backoff.total_seconds()
        return max(wait_exponential(multiplier=initial, max=longest)(state), _retry_after(state))

    def _wait(self, state: RetryCallState) -> float:
        """Exponential backoff with jitter, never shorter than the board's Retry-After, and no
        longer than the run may still wait."""
        initial = self.retry.backoff.total_seconds()
        longest = self.retry.max_backoff.total_seconds()
        # Jitter in proportion to the backoff (tenacity's default jitter is a whole second).
        jittered = min(self._backoff(state) + wait_random(0, initial)(state), longest)
        return max(min(jittered, self.budget.left), _retry_after(state))

    def _asked_to_wait_too_long(self, state: RetryCallState) -> bool:
        """A Retry-After beyond ``max_backoff`` is honoured by queueing, not by sleeping."""
        return _retry_after(state) > self.retry.max_backoff.total_seconds()

    def _budget_spent(self, state: RetryCallState) -> bool:
        """The run has waited as long as ``retry.max_wait_per_run`` allows."""
        return self._backoff(state) > self.budget.left

    def _record(self, answered: Sequence[tuple[Operation, Outcome]], started: float) -> None:
        now = self.now()
        records: list[Succeeded | Failed] = []
        for op, outcome in answered:
            if outcome.ok:
                records.append(Succeeded(op.id, outcome.remote_id))
            elif outcome.task_id:
                retry_at = now + self.retry.backoff
                self.store.await_task(op.id, outcome.task_id, retry_at=retry_at, now=now)
            elif outcome.retryable:
                retry_at = self._retry_at(op, outcome.retry_after)
                not_before = _not_before(now, outcome.retry_after)
                records.append(Failed(op.id, outcome.error or "failed", retry_at, not_before))
            else:
                records.append(Failed(op.id, outcome.error or "refused by the board"))
        self.store.record(records, now=now)
        succeeded = sum(isinstance(record, Succeeded) for record in records)
        with self._lock:
            for op, outcome in answered:
                if outcome.ok:  # its reserved quota is used for good
                    self._reserved.pop(op.id, None)
            self.result.sent += len(answered)
            self.result.succeeded += succeeded
            self.result.done.update(op.kind for op, outcome in answered if outcome.ok)
            for op, outcome in answered:
                if not (outcome.ok or outcome.task_id or outcome.retryable):
                    self.result.failed += 1
                    self.result.errors.append(f"{op.posting_id}: {outcome.error}")
        for op, outcome in answered:
            self._log_push(op, _outcome_name(outcome), started, outcome.error)

    def _record_batch_failure(
        self, ops: Sequence[Operation], error: PushError, started: float
    ) -> None:
        message = str(error.message)
        if error.retryable:
            not_before = _not_before(self.now(), error.retry_after)
            failures = [
                Failed(op.id, message, self._retry_at(op, error.retry_after), not_before)
                for op in ops
            ]
        else:
            failures = [Failed(op.id, message) for op in ops]
        self.store.record(failures, now=self.now())
        with self._lock:
            if not error.retryable:
                self.result.failed += len(ops)
            self.result.errors.append(message)
        outcome = "queued" if error.retryable else "failed"
        for op in ops:
            self._log_push(op, outcome, started, message, level=logging.WARNING)

    def _record_auth_failure(
        self, ops: Sequence[Operation], error: AuthenticationError, started: float
    ) -> None:
        """The board refused our credentials: the batch stays queued (due at once: the next
        run probes), the target is marked, and nothing more is sent in this run."""
        message = f"{error.message} (credentials refused; fix {self._secret_hint()} and publish)"
        now = self.now()
        self.store.record([Failed(op.id, message, retry_at=now) for op in ops], now=now)
        self.store.guards.auth_failed(self.target.name, message, now=now)
        self._auth_failed.set()
        with self._lock:
            self.result.auth_error = message
            self.result.errors.append(message)
        for op in ops:
            self._log_push(op, "queued", started, message, level=logging.WARNING)

    def _secret_hint(self) -> str:
        env_name = self.target.secret_env()
        return f"the credentials in ${env_name}" if env_name else "the target's credentials"

    def _log_push(
        self,
        op: Operation,
        outcome: str,
        started: float,
        error: str | None,
        level: int = logging.INFO,
    ) -> None:
        event(
            log,
            "push",
            level=level if outcome != "failed" else logging.WARNING,
            target=self.target.name,
            posting=op.posting_id,
            operation=str(op.kind),
            outcome=outcome,
            attempt=op.attempts + 1,
            duration_ms=round((time.monotonic() - started) * 1000),
            error=error,
        )

    def _retry_at(self, op: Operation, retry_after: float | None = None) -> datetime:
        """The next attempt: exponential in the attempts so far, and not before Retry-After."""
        attempts = self.store.operation(op.id).attempts
        seconds = self.retry.backoff.total_seconds() * (2 ** min(attempts, 20))
        seconds = min(seconds, self.retry.max_backoff.total_seconds())
        return self.now() + timedelta(seconds=max(seconds, retry_after or 0.0))


def _not_before(now: datetime, retry_after: float | None) -> datetime | None:
    """The board's own earliest retry, from its Retry-After."""
    return now + timedelta(seconds=retry_after) if retry_after else None


def _retry_after(state: RetryCallState) -> float:
    """The seconds the board asked to wait before the next attempt (0 when it did not say)."""
    error = state.outcome.exception() if state.outcome else None
    return getattr(error, "retry_after", None) or 0.0


def _outcome_name(outcome: Outcome) -> str:
    if outcome.ok:
        return "succeeded"
    if outcome.task_id:
        return "awaiting task"
    return "queued" if outcome.retryable else "failed"
