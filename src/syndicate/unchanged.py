"""Whether a plan would find nothing to do, told by set queries rather than posting by posting.

``syndicate publish --plan`` with nothing changed used to read every listing of every target,
every delivery and every cached check into Python and walk every posting for every target
(0.24 ms of CPU a posting at 100,000 postings) to conclude that nothing was to be done.
`unchanged_plan` concludes it with a few indexed queries instead: the cache and the publish
state are both SQLite files, attached side by side to one connection (read-only), and each
question is a count over a join with the postings as loaded now (a temporary table of their ids,
content hashes and whether they are listed now).

The answer is *unchanged* only when all of these hold, and then the plan is empty and every
target lists what it listed (the full path would find the same; see
``tests/test_unchanged_plan.py``, which compares the two):

- every file loaded (a file that fails to load keeps its last good version: a hold), and the
  cache has every target's checks of every posting listed now, none of them an error;
- each pull target's listings are exactly the postings it accepts now, at the same content
  hashes (an edit, a new file, a deleted or renamed file, a posting closed, expired, or opted
  out since: a difference);
- each push target has no open operation and no delivery failed for good; the board shows every
  posting it accepts now at the version it would be sent now (`syndicate.plan.version_of`: the
  content and the target's setup, options and code included), and nothing else; and no
  listing's renewal falls due (its lapse within `renews_before_lapse`, or `renew_after` since it
  was delivered).

Anything else, or a state that is not a SQLite file (PostgreSQL cannot be attached to the
cache): None, and the caller plans posting by posting as before, which is always correct.
Whether a posting is listed now (status, ``date_posted``, ``valid_through``) is decided in
Python from the loaded files, the same test the planner uses, so time passing is noticed.

``syndicate validate`` asks its own question of the state, `syndicate.quiet`.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from syndicate.adapters import PullTarget, PushTarget, Target, create_targets
from syndicate.build import BuildReport, TargetBuild
from syndicate.cache import target_key
from syndicate.config import Settings
from syndicate.listing import TargetListing
from syndicate.loading import LoadResult
from syndicate.plan import Plan, note_scheduled, setup_digest, version_of
from syndicate.quickplan import NoSummary, QuickPlan, Verdicts, decode, quick_plan, renewal_due

_LIVE = "d.delivered_kind IS NOT NULL AND d.delivered_kind != 'CLOSE'"
_OPEN = ("pending", "queued")


@dataclass(slots=True)
class UnchangedPlan:
    """The empty plan, and what the pull targets list (as a dry-run build would report it)."""

    plan: Plan
    build: BuildReport


def unchanged_plan(
    settings: Settings,
    loaded: LoadResult,
    push: Sequence[PushTarget],
    now: datetime,
    *,
    with_build: bool = True,
) -> UnchangedPlan | None:
    """The plan of ``push`` and the pull targets' dry-run build when nothing changed since the
    state was written; None when something may have (see the module docstring)."""
    if loaded.failed or loaded.cache is None:
        return None
    try:
        quick = quick_plan(settings, loaded.files, now, push, with_pull=with_build)
    except NoSummary:
        pass  # a state without summaries: the set queries
    else:
        return None if quick is None else _of_quick(quick, push)
    found = None
    with _opened(settings, loaded, now) as opened:
        if opened is not None:
            db, on_air = opened
            found = _unchanged(db, settings, push, on_air, now, with_build)
    if found is not None:
        note_scheduled(found.plan, loaded, now, settings.timezone, None)
    return found


def _of_quick(quick: QuickPlan, push: Sequence[PushTarget]) -> UnchangedPlan:
    """The empty plan and dry-run build report of what the summaries told."""
    plan = Plan(scheduled=dict(quick.scheduled))
    for target in push:
        plan.listings[target.name] = TargetListing(target.name)
    report = BuildReport()
    for verdict in quick.pull:
        result = TargetBuild(verdict.name, verdict.summary)
        result.disabled = verdict.disabled
        if not verdict.disabled:
            result.included = len(verdict.listed)
            result.listed = verdict.listed
            result.opted_out = len(verdict.verdicts.omitted)
            result.left_out = verdict.verdicts.warnings
            result.selection = TargetListing(verdict.name)
        report.targets.append(result)
    return UnchangedPlan(plan, report)


@contextlib.contextmanager
def _opened(
    settings: Settings, loaded: LoadResult, now: datetime
) -> Iterator[tuple[sqlite3.Connection, list[tuple[str, str]]] | None]:
    """The attached cache and state, with the postings listed now in the temporary table
    ``now``, and those postings.  None when they cannot be asked: a file failed to load, no
    cache, a state that is not a SQLite file, a database error on the way (an error in the
    body of the ``with`` ends it: whatever it was finding is then not found)."""
    state_file = settings.state_file()
    if loaded.failed or loaded.cache is None or state_file is None or not state_file.is_file():
        yield None
        return
    rows = [
        (f.posting_id, f.content_hash, f.is_listed(now, settings.timezone)) for f in loaded.files
    ]
    on_air = [(posting_id, content_hash) for posting_id, content_hash, listed in rows if listed]
    ready = False
    try:
        with _attached(Path(loaded.cache.path), state_file) as db:
            db.execute(
                "CREATE TEMP TABLE now (posting_id TEXT PRIMARY KEY, content_hash TEXT)"
                " WITHOUT ROWID"
            )
            db.executemany("INSERT INTO now VALUES (?, ?)", on_air)  # a duplicate id raises
            ready = True
            yield db, on_air
    except sqlite3.Error:  # a state or cache of another shape, locked, damaged: ask in full
        if not ready:
            yield None


def _unchanged(
    db: sqlite3.Connection,
    settings: Settings,
    push: Sequence[PushTarget],
    on_air: Sequence[tuple[str, str]],
    now: datetime,
    with_build: bool,
) -> UnchangedPlan | None:
    plan = Plan()
    for target in push:
        if not _push_unchanged(db, target, on_air, now):
            return None
        plan.listings[target.name] = TargetListing(target.name)
    report = BuildReport()
    if with_build:
        listed = _listed_counts(db)
        for each in create_targets(settings):
            if isinstance(each, PullTarget):
                result = _pull_unchanged(db, each, on_air, listed)
                if result is None:
                    return None
                report.targets.append(result)
    return UnchangedPlan(plan, report)


@contextlib.contextmanager
def _attached(cache_file: Path, state_file: Path) -> Iterator[sqlite3.Connection]:
    """One connection with the cache and the state attached read-only, in one read
    transaction (a snapshot of both, whatever other processes write meanwhile)."""
    db = sqlite3.connect(":memory:", uri=True, isolation_level=None)
    try:
        db.execute("PRAGMA temp_store = MEMORY")
        for name, path in (("cache", cache_file), ("state", state_file)):
            db.execute(f"ATTACH DATABASE ? AS {name}", (path.resolve().as_uri() + "?mode=ro",))
        db.execute("BEGIN")
        yield db
        db.execute("ROLLBACK")
    finally:
        db.close()


def _verdicts(db: sqlite3.Connection, key: str, name: str) -> Verdicts | None:
    """The target's cached checks of every posting listed now (None when one lacks its check,
    or breaks the target's rules)."""
    found = db.execute(
        "SELECT n.posting_id, c.problems FROM now n LEFT JOIN cache.checks c"
        " ON c.target_key = ? AND c.content_hash = n.content_hash"
        " WHERE c.problems IS NULL OR c.problems != '[]'",
        (key,),
    ).fetchall()
    verdicts = Verdicts()
    for posting_id, text in found:
        if text is None:
            return None  # never checked at this content: the full path checks it
        if not decode(posting_id, text, name, verdicts):
            return None  # an error: reported and held by the full path
    return verdicts


def _pull_unchanged(
    db: sqlite3.Connection,
    target: PullTarget,
    on_air: Sequence[tuple[str, str]],
    listed: dict[str, tuple[int, int]],
) -> TargetBuild | None:
    """What the pull target lists, when that is what its listings say it listed; ``listed``
    is `_listed_counts`."""
    result = TargetBuild(target.name, target.summary)
    result.disabled = target.disabled_reason()
    if result.disabled:
        return result
    verdicts = _listing_verdicts(db, target, on_air, listed)
    if verdicts is None:
        return None
    result.included = len(on_air) - len(verdicts.omitted)
    result.listed = {posting_id for posting_id, _ in on_air} - verdicts.omitted
    result.opted_out = len(verdicts.omitted)
    result.left_out = verdicts.warnings
    result.selection = TargetListing(target.name)
    return result


def _listing_verdicts(
    db: sqlite3.Connection,
    target: Target,
    on_air: Sequence[tuple[str, str]],
    listed: dict[str, tuple[int, int]],
) -> Verdicts | None:
    """The target's checks of the postings listed now, when its listings are exactly those it
    accepts (at their content now); None when they differ."""
    verdicts = _verdicts(db, target_key(target), target.name)
    if verdicts is None:
        return None
    accepted = len(on_air) - len(verdicts.omitted)
    total, matched = listed.get(target.name, (0, 0))
    if not total == matched == accepted or _any_listed(db, target.name, verdicts.omitted):
        return None
    return verdicts


def _listed_counts(db: sqlite3.Connection) -> dict[str, tuple[int, int]]:
    """By target: its listings, and those of a posting listed now at its content now (one
    scan of the listings)."""
    rows = db.execute(
        "SELECT l.target, count(*), count(n.posting_id) FROM state.listings l"
        " LEFT JOIN now n ON n.posting_id = l.posting_id AND n.content_hash = l.content_hash"
        " GROUP BY l.target"
    )
    return {name: (total, matched) for name, total, matched in rows}


def _any_listed(db: sqlite3.Connection, name: str, posting_ids: set[str]) -> bool:
    ids = sorted(posting_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        query = f"SELECT 1 FROM state.listings WHERE target = ? AND posting_id IN ({marks})"
        if db.execute(query + " LIMIT 1", (name, *chunk)).fetchone():
            return True
    return False


def _push_unchanged(
    db: sqlite3.Connection, target: PushTarget, on_air: Sequence[tuple[str, str]], now: datetime
) -> bool:
    """Whether the push target's board shows exactly what it should, nothing on its way."""
    name = target.name
    (waiting,) = db.execute(
        "SELECT count(*) FROM state.operations WHERE target = ? AND status IN (?, ?)",
        (name, *_OPEN),
    ).fetchone()
    verdicts = None if waiting else _verdicts(db, target_key(target), name)
    if verdicts is None:
        return False
    setup = setup_digest(target)
    versions = [
        (posting_id, version_of(content_hash, setup))
        for posting_id, content_hash in on_air
        if posting_id not in verdicts.omitted
    ]
    db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (posting_id TEXT PRIMARY KEY, version TEXT)")
    db.execute("DELETE FROM wanted")
    db.executemany("INSERT INTO wanted VALUES (?, ?)", versions)
    # One scan of the target's deliveries: those failed for good, those the board shows, of
    # which at the version wanted now, and the earliest lapse and delivery of a shown one.
    failed, live, shown, lapses, delivered = db.execute(
        "SELECT count(CASE WHEN d.state = 'failed' THEN 1 END),"
        f" count(CASE WHEN {_LIVE} THEN 1 END),"
        f" count(CASE WHEN {_LIVE} THEN w.posting_id END),"
        f" min(CASE WHEN {_LIVE} THEN d.expires_at END),"
        f" min(CASE WHEN {_LIVE} THEN d.delivered_at END)"
        " FROM state.deliveries d"
        " LEFT JOIN wanted w ON w.posting_id = d.posting_id AND w.version = d.content_hash"
        " WHERE d.target = ?",
        (name,),
    ).fetchone()
    if failed or not live == shown == len(versions):
        return False
    return not renewal_due(target, now, lapses, delivered)
