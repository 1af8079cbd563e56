"""Whether a plan would find nothing to do, told by one summary row per target.

`syndicate.unchanged` answers "nothing changed" with set queries that compare every posting
with its listing and delivery (about 30 µs a posting).  A SQLite state also keeps, per target,
counts and order-free digests of its listings and of what its board shows, updated by triggers
in the same transactions as the rows (`syndicate.state.summary`).  `quick_plan` makes the same
digests from the postings as loaded now and compares them, so that what grows with the
postings is one pass in Python over their ids and content hashes (and one hash per posting per
push target, for the version it would be sent):

- every pull target's listings were saved under its target key now (`listing_keys`: its
  options, templates and syndicate's code unchanged since), number and digest equal to those
  of the postings listed now (status, ``date_posted``, ``valid_through`` at ``now``: time
  passing is noticed) less those it leaves out on purpose (``boards: {target: false}``);
- every ready push target has no open operation and no delivery failed for good, and shows
  exactly the postings it accepts now at the version each would be sent now
  (`syndicate.cache.keys.version_of`: content, options, settings, code), with no renewal due;
- the checks that say something (warnings, opt-outs: the cache's ``checks_flagged`` index) of
  the postings listed now hold no error (an error is a hold: the full path reports it).

Anything else is None: something may have changed, and the caller plans posting by posting.
A state without a summary (PostgreSQL, or a SQLite state not opened for writing since) raises
`NoSummary`, so that the caller can ask in another way.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from syndicate.adapters import PullTarget, PushTarget, Target, create_targets
from syndicate.cache.keys import setup_digest, target_key, version_of
from syndicate.cache.store import DATABASE
from syndicate.config import Settings
from syndicate.errors import Problem, Severity
from syndicate.model import Phase, Window
from syndicate.operations import OperationKind
from syndicate.state import summary

_LIVE = "d.delivered_kind IS NOT NULL AND d.delivered_kind != 'CLOSE'"
_ERROR, _OMIT = (f'"{severity}"' for severity in (Severity.ERROR, Severity.OMIT))


class NoSummary(Exception):
    """The state keeps no summary to compare with (or cannot be read as SQLite)."""


class Loaded(Protocol):
    """A loaded posting file as far as planning needs it."""

    @property
    def posting_id(self) -> str: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def window(self) -> Window: ...


@dataclass(slots=True)
class Verdicts:
    """One target's cached checks of the postings listed now: those it leaves off on purpose
    (``boards: {target: false}``) and its warnings."""

    omitted: set[str] = field(default_factory=set)
    warnings: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class PullVerdict:
    """What a pull target lists when nothing changed (or why it is disabled)."""

    name: str
    summary: str  # `Target.summary`
    disabled: str | None = None
    listed: set[str] = field(default_factory=set)
    verdicts: Verdicts = field(default_factory=Verdicts)


@dataclass(slots=True)
class QuickPlan:
    """The empty plan's parts: the pull targets' listings, the ready push targets, the
    disabled ones (and why), the postings scheduled to start."""

    pull: list[PullVerdict]
    push: list[str]
    disabled: dict[str, str]
    scheduled: dict[str, datetime]


def quick_plan(
    settings: Settings,
    files: Sequence[Loaded],
    now: datetime,
    push: Sequence[PushTarget] | None = None,
    *,
    with_pull: bool = True,
    report: bool = True,
) -> QuickPlan | None:
    """The empty plan when the state's summaries agree with ``files`` (see the module
    docstring); None when they do not.  ``push``: the push targets to plan (None: every ready
    one); ``report``: with each pull target's listed ids and warnings (the CLI prints
    neither).  Raises `NoSummary` when the state has no summaries."""
    targets = create_targets(settings)
    disabled: dict[str, str] = {}
    if push is None:
        push = []
        for each in targets:
            if isinstance(each, PushTarget):
                reason = each.disabled_reason()
                if reason:
                    disabled[each.name] = reason
                else:
                    push.append(each)
    listed, scheduled = _listed(files, now, settings)
    with _attached(settings) as db:
        summaries = summary.read(db, "state")
        if summaries is None:
            raise NoSummary
        keys = summary.listing_keys(db, "state")
        found = QuickPlan([], [t.name for t in push], disabled, scheduled)
        total = summary.digest(listed)
        for pushed in push:
            if not _push_agrees(db, pushed, listed, total, summaries, now):
                return None
        pull = [t for t in targets if isinstance(t, PullTarget)] if with_pull else []
        for target in pull:
            verdict = _pull_verdict(db, target, listed, total, summaries, keys, report)
            if verdict is None:
                return None
            found.pull.append(verdict)
    return found


def _listed(
    files: Sequence[Loaded], now: datetime, settings: Settings
) -> tuple[dict[str, str], dict[str, datetime]]:
    """The postings listed now (posting id by content hash), and those scheduled (their start
    by posting id); a phase worked out once per distinct window."""
    tz = settings.timezone
    phases: dict[Window, Phase] = {}
    listed: dict[str, str] = {}
    scheduled: dict[str, datetime] = {}
    for each in files:
        window = each.window
        phase = phases.get(window)
        if phase is None:
            phase = phases[window] = window.phase(now, tz)
        if phase is Phase.LISTED:
            listed[each.content_hash] = each.posting_id
        elif phase is Phase.SCHEDULED:
            scheduled[each.posting_id] = window.starts(tz)
    return listed, scheduled


@contextlib.contextmanager
def _attached(settings: Settings) -> Iterator[sqlite3.Connection]:
    """The state (``state``) and the build cache (``cache``), read-only, in one read
    transaction; `NoSummary` when either is not a SQLite file that can be read."""
    state_file = settings.state_file()
    cache_file = settings.cache_dir / DATABASE
    if state_file is None or not state_file.is_file() or not cache_file.is_file():
        raise NoSummary
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for name, path in (("state", state_file), ("cache", cache_file)):
            db.execute(f"ATTACH DATABASE ? AS {name}", (_read_only(path),))
        db.execute("BEGIN")
        yield db
    except sqlite3.Error as error:
        raise NoSummary from error
    finally:
        db.close()


def _read_only(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro"


def decode(posting_id: str, text: str, name: str, verdicts: Verdicts) -> bool:
    """Add one cached check (its problems as the cache keeps them) to ``verdicts``; False when
    it cannot be read or holds an error (the full path reports and holds it)."""
    try:
        entries = json.loads(text)
    except ValueError:
        return False
    for message, file, line, field_name, severity in entries:
        if severity == Severity.ERROR:
            return False
        if severity == Severity.OMIT:
            verdicts.omitted.add(posting_id)
        else:
            problem = Problem(
                message, file=file, line=line, field=field_name, target=name,
                posting_id=posting_id, severity=Severity(severity),
            )  # fmt: skip
            verdicts.warnings.append(problem)
    return True


def _flagged(
    db: sqlite3.Connection, target: Target, listed: dict[str, str], warnings: bool = False
) -> tuple[Verdicts, set[str]] | None:
    """The target's checks that say something, of the postings listed now, and the content
    hashes it leaves out; None when one is an error, or the cache holds no check under the
    target's key (it was never checked as it is configured now).  Warnings are read only
    when asked for."""
    key = target_key(target)
    if (
        listed
        and not db.execute(
            "SELECT 1 FROM cache.checks WHERE target_key = ? LIMIT 1", (key,)
        ).fetchone()
    ):
        return None
    verdicts = Verdicts()
    left: set[str] = set()
    rows = db.execute(
        "SELECT content_hash, problems FROM cache.checks WHERE target_key = ? AND problems != '[]'",
        (key,),
    )
    for content_hash, text in rows:
        posting_id = listed.get(content_hash)
        if posting_id is None:
            continue  # a version no longer loaded, or not listed now
        if not warnings and _ERROR not in text and _OMIT not in text:
            continue  # warnings only (a message naming them is decoded, which is exact)
        before = len(verdicts.omitted)
        if not decode(posting_id, text, target.name, verdicts):
            return None
        if len(verdicts.omitted) != before:
            left.add(content_hash)
    return verdicts, left


def _pull_verdict(
    db: sqlite3.Connection,
    target: PullTarget,
    listed: dict[str, str],
    total: tuple[int, int],
    summaries: dict[str, summary.Summary],
    keys: dict[str, str | None],
    report: bool,
) -> PullVerdict | None:
    reason = target.disabled_reason()
    if reason:
        return PullVerdict(target.name, target.summary, disabled=reason)
    if keys.get(target.name) != target_key(target):
        return None
    flagged = _flagged(db, target, listed, report)
    if flagged is None:
        return None
    verdicts, left = flagged
    row = summaries.get(target.name, summary.Summary())
    wanted = summary.add(total, summary.digest(left), -1)
    if row.listings != len(listed) - len(left) or row.listed != wanted:
        return None
    ids = set(listed.values()) - verdicts.omitted if report else set()
    return PullVerdict(target.name, target.summary, listed=ids, verdicts=verdicts)


def _push_agrees(
    db: sqlite3.Connection,
    target: PushTarget,
    listed: dict[str, str],
    total: tuple[int, int],
    summaries: dict[str, summary.Summary],
    now: datetime,
) -> bool:
    """Whether the push target's board shows exactly what it should, nothing on its way."""
    row = summaries.get(target.name, summary.Summary())
    if row.open or row.failed:
        return False
    flagged = _flagged(db, target, listed)
    if flagged is None:
        return False
    _, left = flagged
    setup = setup_digest(target)
    wanted = summary.digest(version_of(h, setup) for h in listed if h not in left)
    if row.live != len(listed) - len(left) or row.shown != wanted:
        return False
    if not target.accepts(OperationKind.RENEW):
        return True
    lapses, delivered = db.execute(
        f"SELECT min(expires_at), min(delivered_at) FROM state.deliveries d"
        f" WHERE d.target = ? AND {_LIVE}",
        (target.name,),
    ).fetchone()
    return not renewal_due(target, now, lapses, delivered)


def renewal_due(
    target: PushTarget, now: datetime, lapses: str | None, delivered: str | None
) -> bool:
    """Whether a live listing of the target may be due for renewal, given the earliest lapse
    and delivery of one (the planner decides which, and whether; this only says it must be
    asked)."""
    if not target.accepts(OperationKind.RENEW):
        return False
    before, every = target.renews_before_lapse(), target.renew_after()
    if before is not None and lapses is not None and now >= _utc(lapses) - before:
        return True
    return every is not None and delivered is not None and now - _utc(delivered) >= every


def _utc(text: str) -> datetime:
    # The state's SQLite times: fixed-width ISO 8601 in UTC (`syndicate.state.schema`).
    return datetime.fromisoformat(text)
