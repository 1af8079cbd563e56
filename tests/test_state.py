"""The publish state store, on a real SQLite file and a real PostgreSQL server (each test that
is not about SQLite runs on both): schema, transitions, durability, lock, quota."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from syndicate import state as state_module
from syndicate.secret import read_secret
from syndicate.state import (
    DeliveryState,
    Failed,
    Hold,
    NewOperation,
    OperationKind,
    OperationStatus,
    StateError,
    StateLockedError,
    StateStore,
    Succeeded,
    utc_day,
)
from syndicate.state import store as store_module

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CREATE, UPDATE, CLOSE = OperationKind.CREATE, OperationKind.UPDATE, OperationKind.CLOSE


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "work" / ".syndicate" / "state.db"


@pytest.fixture
def store(state_url: str) -> Iterator[StateStore]:
    with StateStore(state_url) as opened:
        yield opened


def execute(url: str, statement: str) -> list[tuple[object, ...]]:
    """Run raw SQL on the store at ``url`` outside syndicate, as another tool would."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.exec_driver_sql(statement)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def op(
    posting_id: str = "sales-manager",
    target: str = "linkedin",
    kind: OperationKind = CREATE,
    content_hash: str | None = "h1",
    payload: object = None,
    source_path: str | None = None,
) -> NewOperation:
    return NewOperation(posting_id, target, kind, content_hash, payload, source_path)


# -- schema ---------------------------------------------------------------------------------------


def test_a_new_store_creates_its_folder_schema_and_wal_file(db_path: Path) -> None:
    assert not db_path.parent.exists()
    with StateStore(url_of(db_path)) as store:
        assert store.schema_version() == state_module.SCHEMA_VERSION
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    # WAL is a property of the file: a plain sqlite3 connection sees it too.
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {name for (name,) in raw.execute("SELECT name FROM sqlite_master")}
    assert {"meta", "deliveries", "operations", "quota", "runs"} <= tables
    assert "ix_operations_status_target" in tables


def test_reopening_keeps_data_and_schema(state_url: str) -> None:
    with StateStore(state_url) as store:
        [op_id] = store.enqueue([op(payload={"title": "Sales Manager"})])
    with StateStore(state_url) as again:
        assert again.schema_version() == state_module.SCHEMA_VERSION
        [pending] = again.pending()
        assert (pending.id, pending.payload) == (op_id, {"title": "Sales Manager"})
    assert execute(state_url, "SELECT key, value FROM meta") == [
        ("schema_version", str(state_module.SCHEMA_VERSION))
    ]


def test_a_newer_schema_is_refused_with_a_clear_error(state_url: str) -> None:
    StateStore(state_url).close()
    execute(state_url, "UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StateError, match=r"schema version 99, newer .* upgrade syndicate"):
        StateStore(state_url)


def test_an_older_schema_is_migrated_once(state_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    StateStore(state_url).close()
    calls: list[int] = []
    current = state_module.SCHEMA_VERSION

    def to_next(conn: sa.Connection) -> None:
        calls.append(1)
        conn.exec_driver_sql("ALTER TABLE runs ADD COLUMN note TEXT")

    monkeypatch.setattr(store_module, "SCHEMA_VERSION", current + 1)
    monkeypatch.setitem(state_module.MIGRATIONS, current, to_next)
    with StateStore(state_url) as store:
        assert store.schema_version() == current + 1
        assert "note" in {c["name"] for c in sa.inspect(store.engine).get_columns("runs")}
    StateStore(state_url).close()
    assert calls == [1]


def test_a_version_1_store_gains_delivered_at(state_url: str) -> None:
    with StateStore(state_url) as store:
        (op_id,) = store.enqueue([NewOperation("job", "board", CREATE, "h1")], now=T0)
        store.start_attempt(op_id, now=T0)
        store.succeed(op_id, "urn:1", now=T0)
        store.enqueue([NewOperation("never", "board", CREATE, "h2")], now=T0)
    execute(state_url, "ALTER TABLE deliveries DROP COLUMN delivered_at")  # as version 1 wrote it
    execute(state_url, "UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with StateStore(state_url) as store:
        assert store.schema_version() == state_module.SCHEMA_VERSION
        assert store.delivery("job", "board").delivered_at == T0
        assert store.delivery("never", "board").delivered_at is None


def test_a_file_that_is_not_a_database_is_a_state_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match="not a database"):
        StateStore(url_of(path))


def test_a_bad_url_is_a_state_error() -> None:
    with pytest.raises(StateError, match="not a SQLAlchemy URL"):
        StateStore("no url here")


# -- planning -------------------------------------------------------------------------------------


def test_enqueue_records_the_plan_and_pending_deliveries(store: StateStore) -> None:
    run = store.begin_run(now=T0)
    ids = store.enqueue(
        [op("a", source_path="postings/a.md", payload={"n": 1}), op("b", content_hash="h2")],
        run_id=run,
        now=T0,
    )
    assert len(ids) == 2 and ids[0] < ids[1]
    pending = store.pending(now=T0)
    assert [(p.id, p.posting_id, p.kind, p.status, p.run_id) for p in pending] == [
        (ids[0], "a", CREATE, OperationStatus.PENDING, run),
        (ids[1], "b", CREATE, OperationStatus.PENDING, run),
    ]
    assert pending[0].payload == {"n": 1} and pending[1].payload is None
    delivery = store.delivery("a", "linkedin")
    assert delivery is not None
    assert delivery.state is DeliveryState.PENDING
    assert (delivery.planned_hash, delivery.content_hash, delivery.version) == ("h1", None, 0)
    assert delivery.source_path == "postings/a.md"
    assert not delivery.live
    assert set(store.deliveries()) == {("a", "linkedin"), ("b", "linkedin")}
    assert store.delivery("a", "google") is None


def test_planning_the_same_operation_again_records_nothing_new(store: StateStore) -> None:
    [first] = store.enqueue([op(payload={"n": 1})])
    [again] = store.enqueue([op(payload={"n": 1})])
    assert again == first
    assert [o.id for o in store.history()] == [first]


def test_a_new_plan_supersedes_the_open_operation(store: StateStore) -> None:
    [old] = store.enqueue([op(content_hash="h1")], now=T0)
    [new] = store.enqueue([op(content_hash="h2", source_path="postings/moved.md")], now=T0)
    assert new != old
    assert [o.id for o in store.pending(now=T0)] == [new]
    superseded = store.operation(old)
    assert superseded.status is OperationStatus.SUPERSEDED
    assert superseded.finished_at == T0
    delivery = store.delivery("sales-manager", "linkedin")
    assert delivery is not None
    assert (delivery.planned_hash, delivery.source_path) == ("h2", "postings/moved.md")


def test_one_plan_holds_one_operation_per_posting_and_target(store: StateStore) -> None:
    with pytest.raises(ValueError, match="at most one operation"):
        store.enqueue([op(content_hash="h1"), op(content_hash="h2")])
    assert store.history() == []


def test_a_large_plan_keeps_its_order(store: StateStore) -> None:
    plan = [op(f"job-{n:04}") for n in range(1_200)]  # more than one IN (...) chunk
    ids = store.enqueue(plan)
    assert [o.posting_id for o in store.pending()] == [o.posting_id for o in plan]
    assert ids == sorted(ids) and len(set(ids)) == 1_200
    assert store.enqueue(plan) == ids


def test_the_plan_is_durable_across_processes_of_the_store(state_url: str) -> None:
    with StateStore(state_url) as store:
        [op_id] = store.enqueue([op()])
        store.start_attempt(op_id, now=T0)
    # A run killed after sending: the next one sees the operation still pending, attempted once.
    with StateStore(state_url) as next_run:
        [resumed] = next_run.pending()
        assert (resumed.id, resumed.status, resumed.attempts) == (op_id, "pending", 1)
        assert resumed.last_attempt_at == T0
        delivery = next_run.delivery("sales-manager", "linkedin")
        assert delivery is not None
        assert (delivery.attempts, delivery.last_attempt_at) == (1, T0)


def test_cancel_returns_a_delivery_to_what_was_delivered(store: StateStore) -> None:
    created, _ = store.enqueue([op("a"), op("b")])
    store.succeed(created, "urn:li:jobPosting:1")
    [update] = store.enqueue([op("a", kind=UPDATE, content_hash="h2")])
    store.fail(update, "boom")  # failed for good; the posting then went back to its old content
    assert store.cancel([("a", "linkedin"), ("b", "linkedin")]) == 1  # b's CREATE was open
    assert store.pending() == []
    a, b = store.delivery("a", "linkedin"), store.delivery("b", "linkedin")
    assert a is not None and b is not None
    assert (a.state, a.planned_hash, a.last_error) == (DeliveryState.PUBLISHED, "h1", None)
    assert (b.state, b.version) == (DeliveryState.CLOSED, 0)


def test_source_paths_follow_renamed_files(store: StateStore) -> None:
    store.enqueue([op("a", source_path="postings/a.md"), op("a", "google", source_path="x.md")])
    store.update_source_paths({"a": "postings/renamed.md", "unknown": "y.md"})
    paths = {key: d.source_path for key, d in store.deliveries().items()}
    assert paths == {
        ("a", "linkedin"): "postings/renamed.md",
        ("a", "google"): "postings/renamed.md",
    }


# -- outcomes -------------------------------------------------------------------------------------


def test_success_updates_the_delivery_through_create_update_close(store: StateStore) -> None:
    [created] = store.enqueue([op(content_hash="h1")], now=T0)
    store.start_attempt(created, now=T0)
    store.succeed(created, "urn:li:jobPosting:7", now=T0)
    d = store.delivery("sales-manager", "linkedin")
    assert d is not None
    assert (d.state, d.content_hash, d.remote_id, d.version) == ("published", "h1", d.remote_id, 1)
    assert d.remote_id == "urn:li:jobPosting:7"
    assert (d.attempts, d.first_published_at, d.delivered_kind, d.live) == (0, T0, CREATE, True)
    assert store.operation(created).status is OperationStatus.SUCCEEDED

    later = T0 + timedelta(days=1)
    [updated] = store.enqueue([op(kind=UPDATE, content_hash="h2")], now=later)
    assert store.delivery("sales-manager", "linkedin").state is DeliveryState.PENDING  # type: ignore[union-attr]
    store.succeed(updated, now=later)  # no remote id: the one we have is kept
    d = store.delivery("sales-manager", "linkedin")
    assert d is not None
    assert (d.content_hash, d.remote_id, d.version) == ("h2", "urn:li:jobPosting:7", 2)
    assert (d.first_published_at, d.updated_at) == (T0, later)

    [closed] = store.enqueue([op(kind=CLOSE, content_hash="h3")], now=later)
    store.succeed(closed, now=later)
    d = store.delivery("sales-manager", "linkedin")
    assert d is not None
    assert (d.state, d.delivered_kind, d.live, d.version) == ("closed", CLOSE, False, 3)


def test_a_failure_with_a_retry_time_is_queued_until_then(store: StateStore) -> None:
    [op_id] = store.enqueue([op()], now=T0)
    store.start_attempt(op_id, now=T0)
    retry_at = T0 + timedelta(seconds=30)
    store.fail(op_id, "HTTP 503 from the board", retry_at, now=T0)
    queued = store.operation(op_id)
    assert (queued.status, queued.next_attempt_at, queued.last_error) == (
        OperationStatus.QUEUED,
        retry_at,
        "HTTP 503 from the board",
    )
    assert store.pending(now=T0) == []
    assert store.pending(now=retry_at - timedelta(microseconds=1)) == []
    assert [o.id for o in store.pending(now=retry_at)] == [op_id]
    assert store.next_retry_at() == retry_at
    d = store.delivery("sales-manager", "linkedin")
    assert d is not None
    assert (d.state, d.next_attempt_at, d.last_error) == ("pending", retry_at, queued.last_error)
    # The retry is attempted: pending again until its outcome is recorded.
    retried = store.start_attempt(op_id, now=retry_at)
    assert (retried.status, retried.attempts, retried.next_attempt_at) == ("pending", 2, None)
    store.succeed(op_id, "urn:1", now=retry_at)
    d = store.delivery("sales-manager", "linkedin")
    assert d is not None
    assert (d.state, d.last_error, d.next_attempt_at, d.attempts) == ("published", None, None, 0)
    assert store.next_retry_at() is None


def test_a_failure_without_retry_waits_for_a_new_plan(store: StateStore) -> None:
    [op_id] = store.enqueue([op(content_hash="h1")], now=T0)
    store.fail(op_id, ValueError("title too long"), now=T0)
    assert store.operation(op_id).status is OperationStatus.FAILED
    assert store.operation(op_id).finished_at == T0
    d = store.delivery("sales-manager", "linkedin")
    assert d is not None
    assert (d.state, d.last_error) == (DeliveryState.FAILED, "title too long")
    assert store.pending(now=T0 + timedelta(days=365)) == []
    [fixed] = store.enqueue([op(content_hash="h2")], now=T0)
    assert [o.id for o in store.pending(now=T0)] == [fixed]
    assert store.delivery("sales-manager", "linkedin").state == "pending"  # type: ignore[union-attr]


def test_errors_are_masked_before_they_are_stored(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_STATE_TOKEN", "s3cr3t-t0ken-value")
    assert read_secret("TEST_STATE_TOKEN") is not None
    [op_id] = store.enqueue([op()])
    store.fail(op_id, "401 for Authorization: Bearer s3cr3t-t0ken-value")
    with store.engine.connect() as raw:
        stored = [row[0] for row in raw.exec_driver_sql("SELECT last_error FROM operations")]
        stored += [row[0] for row in raw.exec_driver_sql("SELECT last_error FROM deliveries")]
    assert stored == ["401 for Authorization: Bearer ****"] * 2


def test_outcomes_of_a_batch_are_one_transaction(store: StateStore) -> None:
    a, b = store.enqueue([op("a"), op("b")])
    with pytest.raises(StateError, match="no operation 9999"):
        store.record([Succeeded(a, "urn:a"), Failed(9999, "x")])
    assert store.operation(a).status is OperationStatus.PENDING  # rolled back
    store.record([Succeeded(a, "urn:a"), Failed(b, "rejected")])
    assert store.delivery("a", "linkedin").state == "published"  # type: ignore[union-attr]
    assert store.delivery("b", "linkedin").state == "failed"  # type: ignore[union-attr]


def test_an_operation_is_finished_only_once(store: StateStore) -> None:
    [op_id] = store.enqueue([op()])
    store.succeed(op_id, "urn:1")
    with pytest.raises(StateError, match="already succeeded"):
        store.succeed(op_id, "urn:2")
    with pytest.raises(StateError, match="not open"):
        store.start_attempt(op_id)
    assert store.delivery("sales-manager", "linkedin").remote_id == "urn:1"  # type: ignore[union-attr]


def test_a_superseded_operation_that_succeeds_keeps_the_newer_plan_pending(
    store: StateStore,
) -> None:
    [sent] = store.enqueue([op(content_hash="h1")])
    store.start_attempt(sent)
    [newer] = store.enqueue([op(content_hash="h2")])
    store.succeed(sent, "urn:1")  # the answer to the old request arrives after the new plan
    d = store.delivery("sales-manager", "linkedin")
    assert d is not None
    assert (d.state, d.content_hash, d.planned_hash, d.version) == ("pending", "h1", "h2", 1)
    assert [o.id for o in store.pending()] == [newer]


def test_times_go_in_aware_and_come_back_in_utc(store: StateStore) -> None:
    zurich_winter = timezone(timedelta(hours=1))
    [op_id] = store.enqueue([op()], now=datetime(2026, 11, 23, 10, 0, tzinfo=zurich_winter))
    assert store.operation(op_id).created_at == T0
    assert store.operation(op_id).created_at.tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        store.enqueue([op("other")], now=datetime(2026, 11, 23, 10, 0))
    with pytest.raises(ValueError, match="naive"):
        store.fail(op_id, "x", datetime(2026, 11, 23, 10, 0))


def test_history_is_newest_first_and_filtered(store: StateStore) -> None:
    first, _ = store.enqueue([op("a"), op("b")])
    [second] = store.enqueue([op("a", content_hash="h2")])
    assert [o.id for o in store.history("a")] == [second, first]
    assert [o.posting_id for o in store.history(limit=2)] == ["a", "b"]
    assert store.history("a", target="google") == []


def test_runs_are_recorded(store: StateStore) -> None:
    run = store.begin_run(now=T0)
    store.finish_run(run, "queued", now=T0 + timedelta(seconds=5))
    [recorded] = store.runs()
    assert (recorded.id, recorded.started_at, recorded.outcome) == (run, T0, "queued")
    assert recorded.finished_at == T0 + timedelta(seconds=5)


def test_an_in_memory_store_works_for_quick_use() -> None:
    with StateStore("sqlite://") as store:
        [op_id] = store.enqueue([op()])
        store.succeed(op_id)
        assert store.delivery("sales-manager", "linkedin").state == "published"  # type: ignore[union-attr]
        with store.publish_lock(), pytest.raises(StateLockedError):  # noqa: SIM117
            with store.publish_lock():
                pass


# -- quota ----------------------------------------------------------------------------------------


def in_threads(work: Callable[[], None], count: int) -> None:
    """``work`` in ``count`` threads at once, until each has finished."""
    workers = [threading.Thread(target=work) for _ in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def test_quota_is_counted_per_target_and_utc_day(store: StateStore) -> None:
    day = date(2026, 11, 23)
    assert store.quota_used("google", day) == 0
    assert store.use_quota("google", day) == 1
    assert store.use_quota("google", day, n=4) == 5
    assert store.use_quota("google", day + timedelta(days=1), n=2) == 2
    assert store.use_quota("google-2", day) == 1
    assert store.quota_used("google", day) == 5
    assert store.quota_used("google", day + timedelta(days=1)) == 2
    # 23:30 in New York in November is already the next day in UTC.
    new_york = timezone(timedelta(hours=-5))
    assert utc_day(datetime(2026, 11, 23, 23, 30, tzinfo=new_york)) == date(2026, 11, 24)


def test_quota_counts_from_concurrent_writers_add_up(state_url: str) -> None:
    StateStore(state_url).close()
    day = date(2026, 11, 23)

    def count() -> None:
        with StateStore(state_url) as own:
            for _ in range(40):
                own.use_quota("google", day)

    in_threads(count, 3)
    with StateStore(state_url) as store:
        assert store.quota_used("google", day) == 120


def test_quota_reserved_by_concurrent_daemons_never_exceeds_the_limit(state_url: str) -> None:
    """Three stores (as three daemons) reserve pages of operations of cost 1 or 2 at once: what
    they get adds up to at most the limit, and what they give back is free again."""
    StateStore(state_url).close()
    day, limit = date(2026, 11, 23), 50
    granted: list[int] = []

    def reserve() -> None:
        with StateStore(state_url) as own:
            for _ in range(10):
                costs = [1, 2, 1, 1]
                allowed = own.reserve_quota("google", day, costs, limit)
                granted.append(sum(costs[:allowed]))

    in_threads(reserve, 3)
    with StateStore(state_url) as store:
        assert sum(granted) == store.quota_used("google", day) <= limit
        assert store.quota_used("google", day) >= limit - 1  # only a cost of 2 may not fit
        assert store.reserve_quota("google", day, [1], limit) == (
            1 if store.quota_used("google", day) < limit else 0
        )
        store.use_quota("google", day, n=-10)  # given back: not accepted by the board
        assert store.reserve_quota("google", day, [2, 2, 2, 2, 2, 2], limit) == 5
        assert store.reserve_quota("google", day + timedelta(days=1), [3], limit) == 1


# -- the publish lock -----------------------------------------------------------------------------

HOLDER = textwrap.dedent(
    """
    import sys
    from syndicate.state import StateStore
    store = StateStore(sys.argv[1])
    with store.publish_lock():
        print("locked", flush=True)
        sys.stdin.read()  # hold the lock until the test closes our stdin
    """
)


@pytest.fixture
def holder(state_url: str) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the publish lock of the store at ``state_url``."""
    StateStore(state_url).close()
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, state_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "locked"
    yield process
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def test_a_second_publish_is_refused_while_another_process_holds_the_lock(
    store: StateStore, holder: subprocess.Popen[str]
) -> None:
    busy = f"another publish is running.*pid {holder.pid}"
    with pytest.raises(StateLockedError, match=busy), store.publish_lock():
        pass
    started = time.monotonic()
    with pytest.raises(StateLockedError), store.publish_lock(wait=True, timeout=0.5):
        pass
    assert time.monotonic() - started >= 0.5


def test_a_waiting_publish_gets_the_lock_when_the_holder_finishes(
    store: StateStore, holder: subprocess.Popen[str]
) -> None:
    assert holder.stdin is not None
    threading.Timer(0.3, holder.stdin.close).start()
    started = time.monotonic()
    with store.publish_lock(wait=True, timeout=20):
        assert time.monotonic() - started >= 0.25
        assert holder.wait(timeout=10) == 0


def test_the_lock_dies_with_its_holder(store: StateStore, holder: subprocess.Popen[str]) -> None:
    holder.kill()
    holder.wait(timeout=10)
    with store.publish_lock():
        pass


def test_two_stores_on_one_file_in_one_process_share_the_lock(state_url: str) -> None:
    with StateStore(state_url) as one, StateStore(state_url) as two:
        with one.publish_lock(), pytest.raises(StateLockedError):  # noqa: SIM117
            with two.publish_lock():
                pass
        with two.publish_lock():  # released by the first
            pass


def test_open_count_counts_pending_and_queued_operations(state_url: str) -> None:
    with StateStore(state_url) as store:
        first, second, third = store.enqueue(
            [
                NewOperation("a", "board", CREATE, "h1"),
                NewOperation("b", "board", CREATE, "h2"),
                NewOperation("c", "other", CREATE, "h3"),
            ],
            now=T0,
        )
        store.fail(first, "busy", retry_at=T0, now=T0)  # queued: still open
        store.succeed(second, "urn:2", now=T0)
        assert store.open_count() == 2
        assert store.open_count("board") == 1
        store.fail(third, "refused", now=T0)  # failed for good: no longer open
        assert store.open_count() == 1


def test_a_version_is_forgotten_once_no_listing_or_hold_names_it(store: StateStore) -> None:
    # Asked for by the hashes rows stopped naming (not a pass over every hash), so each way a
    # version stops being used is checked: an edit on every target, a withdrawal, a hold
    # dropped, and a withdrawal of a listing the caller did not read (the whole pass).
    from syndicate.state.listings import Listed

    listings = store.listings

    def listed(posting_id: str, content: str) -> Listed:
        return Listed(posting_id, content, f"{posting_id}.md", lambda: f'{{"id": "{content}"}}')

    def update(
        target: str, items: list[Listed], withdrawn: tuple[str, ...] = (), read=True
    ) -> None:
        known = {k[0]: v for k, v in listings.all().items() if k[1] == target} if read else {}
        listings.update(target, items, withdrawn, known, now=T0)

    for target in ("indeed", "careers"):
        update(target, [listed("a", "a1"), listed("b", "b1")])
    update("indeed", [listed("a", "a2")])
    assert listings.posting_json("a1") is not None  # careers still lists it
    update("careers", [listed("a", "a2")])
    assert listings.posting_json("a1") is None and listings.posting_json("a2") is not None
    update("indeed", [], ("b",))
    assert listings.posting_json("b1") is not None  # careers still lists it
    hold = Hold("careers", "b.md", "b", "b1", T0, [], T0)
    listings.set_holds("careers", [hold])
    update("careers", [], ("b",))
    assert listings.posting_json("b1") is not None  # held
    listings.set_holds("careers", [])
    assert listings.posting_json("b1") is None
    update("careers", [listed("c", "c1")])
    listings.set_holds("careers", [Hold("careers", "a.md", "a", "a2", T0, [], T0)])
    update("indeed", [], ("a",), read=False)  # its old version unknown: every version looked at
    assert listings.posting_json("a2") is not None  # careers and its hold still name it
    listings.set_holds("careers", [])
    update("careers", [], ("a", "c"), read=False)
    assert listings.posting_json("a2") is None and listings.posting_json("c1") is None


def test_a_batch_is_enqueued_and_recorded_by_its_keys_not_by_every_open_operation(
    db_path: Path,
) -> None:
    # While a first push has 100,000 operations open, each batch's enqueue and outcomes must
    # find its own rows by (posting_id, target): a statement that scans the table, or reads
    # every open operation by the status index, costs a third of such a push (py-spy).
    url = url_of(db_path)
    with StateStore(url) as store:
        ids = store.enqueue([op(f"job-{i}") for i in range(300)], now=T0)
        statements: list[tuple[str, Any]] = []

        def seen(
            conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
        ) -> None:
            if statement.lstrip().upper().startswith("SELECT") and not many:
                statements.append((statement, parameters))

        engine = store._db.engine
        sa.event.listen(engine, "before_cursor_execute", seen)
        try:
            store.enqueue([op(f"job-{i}", content_hash="h2") for i in range(5)], now=T0)
            store.record([Succeeded(op_id, f"urn:{op_id}") for op_id in ids[5:15]], now=T0)
        finally:
            sa.event.remove(engine, "before_cursor_execute", seen)
    raw = sqlite3.connect(db_path)
    plans = [
        " ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {text}", parameters))
        for text, parameters in statements
        if " operations" in text or " deliveries" in text
    ]
    raw.close()
    assert plans, "no statement was seen"
    for plan in plans:
        assert "SCAN operations" not in plan and "SCAN deliveries" not in plan, plan
        assert "ix_operations_status_target" not in plan, plan
