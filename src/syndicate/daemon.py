"""The daemon: scheduled syncs, retries and expiry, an optional watch, and the feed server.

One process runs:

- an APScheduler scheduler with one worker thread, so that two syncs never run at once.  A sync
  (load → build → publish) runs at start and every ``schedule.sync_every`` (missed runs
  coalesced); after each sync a follow-up is scheduled for the earliest moment something is due
  before the next interval: a queued retry, a scheduled posting whose ``date_posted`` comes (it
  is published everywhere then), or a posting whose ``valid_through`` passes (it is closed
  everywhere then, without anyone editing a file);
- with ``schedule.watch``, a watch of the postings folder (watchfiles) that asks for a sync
  once edits have settled;
- the feed server (`syndicate.serving`) on ``server.host:server.port`` in the main thread.

SIGTERM or SIGINT stops the server from taking requests, asks the running sync to stop after the
push in flight (what it has not sent stays pending in the state store, durable), waits for it,
and returns.  A sync that raises is logged and counted; the daemon keeps running.

What a sync finds for a person to fix (a posting held at its last good version, a mass close the
guard refused, a board refusing our credentials) is logged once, when it is first found, and
shown by ``/healthz`` as ``degraded`` for as long as it lasts.  The daemon never approves a mass
close: ``syndicate publish --allow-mass-close`` against the same state does.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, Literal

import uvicorn
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from syndicate.cluster import Membership
from syndicate.config import Settings
from syndicate.errors import Problem, StateError, SyndicateError
from syndicate.live import LiveView
from syndicate.loading import LoadResult, load_project
from syndicate.loading.edits import indexed, reload_edited
from syndicate.logs import event
from syndicate.model import Phase, expires_at
from syndicate.publish import PublishReport, publish
from syndicate.serving import GonePaths, Metrics, ServerStatus, create_app_for, job_page_path
from syndicate.state import StateStore
from syndicate.worker import Worker

log = logging.getLogger("syndicate.daemon")
SYNC_JOB, FOLLOW_UP_JOB, EDITED_JOB = "sync", "follow-up", "edited"
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_STOP_GRACE = 30.0  # seconds a running sync gets to finish its push after a stop is asked
_DEBOUNCE_MS = 100  # the watcher's wait for more changes before it reports a batch


class Syncer:
    """One sync: load the postings, build, publish; report it to the health and metrics."""

    def __init__(
        self,
        settings: Settings,
        store: StateStore,
        status: ServerStatus,
        metrics: Metrics,
        gone: GonePaths,
        stop: threading.Event,
        live: LiveView | None = None,
    ) -> None:
        self.settings = settings
        self.live = live  # with ``watch``: edits served from the cache until written
        self.loaded: LoadResult | None = None  # the last sync's load, kept up to date by edits
        self._built = False  # whether the last sync built this daemon's output
        # Held by a sync from before its load until its plan is recorded: an edit's plan comes
        # after it, so that a sync that loaded the file before the edit never plans last.
        self._planning = threading.Lock()
        self._sync_plans = False  # whether the running sync holds it (the scheduler's thread)
        self.edit_worker = Worker.of(settings, "edit")  # an edit's push, beside a sync's
        self._loading = threading.Lock()  # around ``loaded``, which a sync and edits replace
        self.store = store
        self.status = status
        self.metrics = metrics
        self.gone = gone
        self.stop = stop
        self.ever_listed: set[str] = set()  # by this process, for pages of deleted files
        self.on_finished: Callable[[LoadResult | None], None] = lambda _loaded: None
        self._reported: set[str] = set()  # problems logged already
        self.membership = Membership(settings, store, status)
        self._queued: dict[str, set[int]] = {}  # open operation ids per target, last sync

    def __call__(self, reason: str = "schedule") -> None:
        """Run one sync; never raises (a failure is logged, counted and shown in /healthz)."""
        if self.stop.is_set():
            return
        self._planning.acquire()
        self._sync_plans = True
        try:
            self._sync(reason)
        finally:
            self._planned()

    def _planned(self) -> None:
        """The running sync's plan is recorded (or it failed before): edits may plan."""
        if self._sync_plans:
            self._sync_plans = False
            self._planning.release()

    def _sync(self, reason: str) -> None:
        started = time.monotonic()
        self.status.sync_started()
        loaded: LoadResult | None = None
        since = self.live.generation if self.live is not None else 0
        try:
            loaded = load_project(self.settings)
            # Before the build removes their pages, so that they answer 410 rather than 404 (a
            # page that stays, kept at its last good version, is served whatever this says).
            self.gone.update(self._gone_pages(loaded))
            role = self.membership.role(loaded)
            report = publish(
                self.settings,
                loaded,
                self.store,
                should_stop=self.stop.is_set,
                worker=self.membership.worker,
                planning=role.plans,
                revision=role.revision,
                with_build=role.builds,
                on_planned=self._planned,
            )
            self.membership.store_reachable()
            if report.build is not None:
                self.gone.update(self._gone_after(report))
            with self._loading:
                self.loaded, self._built = loaded, report.build is not None
            if self.live is not None and report.build is not None:
                self.live.rebase(report.build, since)
                indexed(loaded)  # worked out here rather than on the next edit's path
                self.live.warm()
            self._report_problems(loaded, report)
        except StateError as error:
            if error.retryable:  # the database is out of reach: serve the last feeds meanwhile
                self.membership.store_unreachable(error)
            self._finished(reason, started, error=error)
        except (SyndicateError, OSError) as error:
            self._finished(reason, started, error=error)
        except Exception as error:  # a bug must not stop the daemon; it is logged in full
            log.exception("sync failed unexpectedly")
            self._finished(reason, started, error=error)
        else:
            self._finished(reason, started, loaded=loaded, report=report)
        self.on_finished(loaded)

    def edit(self, paths: Collection[Path]) -> None:
        """The edit's path: the edited files read alone, their new versions served at once
        from the cache (`syndicate.live`) and pushed; the sync that follows writes the files
        and decides everything else (new, deleted or failing files).  Never raises."""
        before, live = self.loaded, self.live
        if before is None or live is None or not self._built or not live.ready:
            return
        started = time.monotonic()
        try:
            loaded, edited = reload_edited(before, paths, self.settings.timezone)
            if not edited:
                return
            now = datetime.now(UTC)
            shown = [ref.posting_id for ref in edited if live.edit(ref, now)]
            with self._loading:
                if self.loaded is before:  # else a sync loaded everything meanwhile
                    self.loaded = loaded
            with self._planning:  # a sync loading or planning now: after its plan
                publish(
                    self.settings,
                    loaded,
                    self.store,
                    posting_ids={ref.posting_id for ref in edited},
                    with_build=False,
                    should_stop=self.stop.is_set,
                    worker=self.edit_worker,
                    planning=self.membership.planner,
                )
        except (SyndicateError, OSError) as error:
            event(log, "edit not shown", level=logging.WARNING, error=str(error))
            return
        except Exception:  # a bug must not stop the watch; the sync that follows catches up
            log.exception("edit failed unexpectedly")
            return
        event(
            log,
            "edit shown",
            postings=", ".join(sorted(shown)) or None,
            duration_ms=round((time.monotonic() - started) * 1000),
        )

    def _finished(
        self,
        reason: str,
        started: float,
        *,
        loaded: LoadResult | None = None,
        report: PublishReport | None = None,
        error: BaseException | None = None,
    ) -> None:
        duration = time.monotonic() - started
        result: Literal["ok", "failed"] = "failed" if error is not None else "ok"
        self.status.sync_finished(result, duration=duration, error=str(error) if error else None)
        self.metrics.syncs.inc(result=result)
        self.membership.synced(result)
        queued = self.store.open_count() if error is None else None
        if queued is not None:
            self.status.set_queue_depth(queued)
        if report is not None:
            for name, target in report.targets.items():
                newly_queued = self._newly_queued(name)
                for outcome, count in (
                    ("succeeded", target.succeeded),
                    ("failed", target.failed),
                    ("queued", newly_queued),
                ):
                    if count:
                        self.metrics.pushes.inc(count, target=name, outcome=outcome)
        event(
            log,
            "sync",
            level=logging.INFO if error is None else logging.ERROR,
            reason=reason,
            outcome=result,
            duration_ms=round(duration * 1000),
            postings=len(loaded.files) if loaded else None,
            invalid=len(loaded.failed) if loaded else None,
            operations=len(report.plan.operations) if report else None,
            queued=queued,
            error=str(error) if error else None,
        )

    def _newly_queued(self, target: str) -> int:
        """How many of the target's queued operations were not queued after the last sync:
        an operation waiting through several syncs counts once, when it joins the queue (the
        report's ``queued`` is the queue's whole depth after each run)."""
        queued = self.store.open_ids(target)
        new = queued - self._queued.get(target, set())
        self._queued[target] = queued
        return len(new)

    def _gone_pages(self, loaded: LoadResult) -> set[str]:
        """Careers pages (paths under output) of known postings that are not listed now, as
        far as the load tells (`_gone_after` makes it exact once the build has run)."""
        if not any(o.type == "careers_site" for o in self.settings.targets.values()):
            return set()
        now = datetime.now(UTC)
        tz = self.settings.timezone
        listed = {f.posting_id for f in loaded.files if f.is_listed(now, tz)}
        self.ever_listed |= listed
        known = self._known_ids(loaded)
        return {job_page_path(self.settings, posting_id) for posting_id in known - listed}

    def _gone_after(self, report: PublishReport) -> set[str]:
        """The careers pages of known postings that the build did not list (kept versions and
        jobs the guard held back are listed, so their pages stay)."""
        assert report.build is not None
        careers = [
            t for t in report.build.targets
            if self.settings.targets[t.name].type == "careers_site"
        ]  # fmt: skip
        if not careers:
            return set()
        listed = set().union(*(t.listed for t in careers))
        self.ever_listed |= listed
        known = self._known_ids(None)
        return {job_page_path(self.settings, posting_id) for posting_id in known - listed}

    def _known_ids(self, loaded: LoadResult | None) -> set[str]:
        known = {pid for pid, _ in self.store.deliveries()} | self.ever_listed
        known |= {pid for pid, _ in self.store.listings.all()}
        if loaded is not None:
            known |= {f.posting_id for f in loaded.files}
        return known

    def _report_problems(self, loaded: LoadResult, report: PublishReport) -> None:
        """Show what the sync found for a person to fix in /healthz, and log each once."""
        problems: list[str] = []
        holds = [h for h in self.store.listings.holds()]
        for source in sorted({h.source for h in holds}):
            targets = ", ".join(sorted(h.target for h in holds if h.source == source))
            found = next(h.problems for h in holds if h.source == source)
            details = "; ".join(_problem_text(p) for p in found) or source
            problems.append(f"{details} (kept the last good version on {targets})")
        problems.extend(str(refusal.problem()) for refusal in report.refusals)
        problems.extend(self.membership.problems())
        for name, failure in self.store.guards.auth_failures().items():
            problems.append(f"{name}: the board refuses our credentials: {failure.error}")
        self.status.set_problems(problems, held=len({h.source for h in holds}))
        # Logged once each, when first found: what /healthz shows, and every posting problem.
        noticed = {problem: "needs attention" for problem in problems}
        noticed |= {str(problem): "invalid posting" for problem in loaded.problems}
        for problem, kind in noticed.items():
            if problem not in self._reported:
                event(log, kind, level=logging.WARNING, problem=problem)
        for problem in self._reported - set(noticed):
            event(log, "resolved", problem=problem)
        self._reported = set(noticed)


def _problem_text(found: dict[str, Any]) -> str:
    """A stored problem (`Problem.to_dict`) as ``file:line: field: message``."""
    problem = Problem(
        str(found.get("message", "")),
        file=found.get("file"),
        line=found.get("line"),
        field=found.get("field"),
        target=found.get("target"),
    )
    return str(problem)


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening, for the feed server."""
    listening = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
        listening.listen(2048)
    except OSError as error:
        listening.close()
        reason = error.strerror or str(error)
        raise SyndicateError(
            f"cannot serve on {host}:{port}: {reason.lower()}; is another daemon running? "
            "Stop it, or set server.port in the config (nothing was synced)"
        ) from None
    listening.set_inheritable(True)
    return listening


class _Server(uvicorn.Server):
    """uvicorn, with the daemon's signal handling: a signal stops the scheduler's work too, and
    the process exits normally afterwards (uvicorn itself would re-raise the signal)."""

    def __init__(self, config: uvicorn.Config, *, on_signal: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_signal = on_signal

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        def stop(signum: int, frame: FrameType | None) -> None:
            self.on_signal()
            self.handle_exit(signum, frame)

        previous = {signum: signal.signal(signum, stop) for signum in _STOP_SIGNALS}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


class Daemon:
    """The scheduler and the feed server of one configuration; `run` until a signal stops it."""

    def __init__(self, settings: Settings, *, store: StateStore | None = None) -> None:
        self.settings = settings
        self.store = store or StateStore(settings.state_url)
        self.stop = threading.Event()
        self._shut_down = False
        self.status = ServerStatus(settings.schedule.sync_every)
        self.metrics = Metrics(self.status, settings.output_dir, daemon=Worker.of(settings).id)
        self.gone = GonePaths()
        self.live = LiveView(settings) if settings.schedule.watch else None
        self.syncer = Syncer(
            settings, self.store, self.status, self.metrics, self.gone, self.stop, self.live
        )
        self.syncer.on_finished = self._schedule_follow_up
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )

    def run(self) -> None:
        """Sync now and on schedule, serve the output, until SIGTERM or SIGINT.

        The server's port is taken first: when it cannot be (another daemon holds it), this
        raises `SyndicateError` before anything is synced.
        """
        listening = _listen(self.settings.server.host, self.settings.server.port)
        self.settings.output_dir.mkdir(parents=True, exist_ok=True)
        self.scheduler.add_job(
            self.syncer,
            "interval",
            seconds=self.settings.schedule.sync_every.total_seconds(),
            next_run_time=datetime.now(UTC),
            id=SYNC_JOB,
            args=["schedule"],
        )
        self.scheduler.start()
        self.syncer.membership.start()
        watcher = self._start_watch() if self.settings.schedule.watch else None
        try:
            self._serve(listening)
        finally:
            self.shutdown()
            if watcher is not None:
                watcher.join(timeout=5)

    def shutdown(self) -> None:
        """Stop taking new work and wait for the running sync to record where it stands."""
        if self._shut_down:
            return
        self._shut_down = True
        self.stop.set()
        event(log, "stopping", pending=self.status.queue_depth)
        self.scheduler.remove_all_jobs()
        waiter = threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True})
        waiter.start()
        waiter.join(timeout=_STOP_GRACE)
        self.syncer.membership.stop()
        self.store.close()

    def _serve(self, listening: socket.socket) -> None:
        server = self.settings.server
        app = create_app_for(
            self.settings, status=self.status, metrics=self.metrics, gone=self.gone, live=self.live
        )
        config = uvicorn.Config(
            app,
            host=server.host,
            port=server.port,
            log_config=None,  # our logging, as configured by the CLI
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
        event(log, "serving", url=f"http://{server.host}:{server.port}/")
        _Server(config, on_signal=self.stop.set).run(sockets=[listening])  # until a signal

    def _schedule_follow_up(self, loaded: LoadResult | None) -> None:
        """Run again when a retry or an expiry is due before the next interval."""
        if self.stop.is_set():
            return
        job = self.scheduler.get_job(SYNC_JOB)
        next_sync = job.next_run_time if job else None
        self.status.set_next_sync(next_sync)
        try:
            retry_at = self.store.next_retry_at()
        except StateError:  # the database is out of reach: the next interval tries again
            return
        due = [at for at in (retry_at, self._next_change(loaded)) if at]
        if not due:
            return
        when = max(min(due), datetime.now(UTC))
        if next_sync is not None and when >= next_sync:
            return
        self.scheduler.add_job(
            self.syncer, "date", run_date=when, id=FOLLOW_UP_JOB, args=["due"],
            replace_existing=True,
        )  # fmt: skip
        event(log, "follow-up scheduled", at=when.isoformat(timespec="seconds"))

    def _next_change(self, loaded: LoadResult | None) -> datetime | None:
        """The next moment a posting starts (scheduled) or ends (``valid_through``) being
        listed, a second after it, so that the sync then sees it changed."""
        if loaded is None:
            return None
        now = datetime.now(UTC)
        tz = self.settings.timezone
        moments = []
        for posting_file in loaded.files:
            window = posting_file.window
            phase = window.phase(now, tz)
            if phase is Phase.SCHEDULED:
                moments.append(window.starts(tz))
            elif phase is Phase.LISTED and window.valid_through is not None:
                moments.append(expires_at(window.valid_through, tz))
        return min(moments) + timedelta(seconds=1) if moments else None

    def _start_watch(self) -> threading.Thread:
        thread = threading.Thread(target=self._watch, name="watch-postings", daemon=True)
        thread.start()
        return thread

    def _watch(self) -> None:
        from watchfiles import watch

        folder = self.settings.postings_dir
        event(log, "watching", folder=str(folder))
        for changes in watch(folder, stop_event=self.stop, debounce=_DEBOUNCE_MS,
                             raise_interrupt=False):  # fmt: skip
            if self.stop.is_set():
                return
            edited = sorted({Path(path).name for _, path in changes})
            event(log, "postings edited", files=", ".join(edited[:10]))
            self.syncer.edit({Path(path) for _, path in changes})
            self.scheduler.add_job(
                self.syncer, "date", run_date=datetime.now(UTC), id=EDITED_JOB, args=["edit"],
                replace_existing=True,
            )  # fmt: skip
