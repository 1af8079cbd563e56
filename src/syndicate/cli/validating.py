"""What `syndicate validate` finds: the loaded postings' problems with every enabled target's
rules, the unknown names in their ``boards:``, reference numbers two places would share, and
what the publish state says of them.

A warm `validate` of 100,000 postings has to take seconds (CI runs it on every pull request), so
nothing here costs a posting more than a few dictionary look-ups unless that posting has
something to report (0.5 to 0.66 ms of CPU a posting before, by cProfile: every posting read
back from the cache for its ``boards:``, every problem located by a query of its own, every
posting's phase worked out again per target, every listing, delivery and number of the state
read into Python):

- each target's checks are the cached ones (`syndicate.cache.CachedChecks`); a posting whose
  cached result is "no problem" is not decoded, and a posting's phase is worked out once per
  listing window, not per target;
- problems are placed at their lines from the lines the cache keeps of every file, read in one
  query (`_Places`); a file the cache does not know is placed as before (`PostingFile.locate`);
- a posting is read back for its ``boards:`` only when its file has a top-level key ``boards``
  (or a YAML merge key) by the cache's lines: the only way a posting names a board;
- the state's side and the reference numbers are first asked by set queries
  (`syndicate.quiet`); only when those say there may be something to report is the full path
  taken (the `syndicate.listing.Lister`, the `syndicate.references.ReferenceBook`), which also
  imports the state store (SQLAlchemy) only then.

The output is the full path's, problem for problem (``tests/test_validate_fast.py``).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from syndicate.adapters import PullTarget, Target
from syndicate.cache import CachedChecks, read_lines
from syndicate.config import Settings
from syndicate.errors import Problem, Severity
from syndicate.loading import LoadResult, PostingFile, display_path, line_in
from syndicate.model import Phase, Window
from syndicate.postings import LoadedPosting

if TYPE_CHECKING:
    from syndicate.state import StateStore

_QUIET = (Phase.CLOSED, Phase.EXPIRED)  # checked against the posting model only
_LISTED = (Phase.LISTED, Phase.SCHEDULED)  # given reference numbers


@dataclasses.dataclass(slots=True)
class Checked:
    """One target's checks of the loaded postings: problems by posting id (only the postings
    with any), and the postings that asked to be left off it (``boards: {<target>: false}``)."""

    target: Target
    found: dict[str, list[Problem]]
    opted_out: set[str]


class Phases:
    """Each loaded posting's `Phase` at one moment, worked out once per listing window (many
    postings share their dates)."""

    def __init__(self, settings: Settings, now: datetime) -> None:
        self.now = now
        self.timezone = settings.timezone
        self._known: dict[Window, Phase] = {}

    def of(self, posting_file: PostingFile) -> Phase:
        window = posting_file.window
        phase = self._known.get(window)
        if phase is None:
            phase = self._known[window] = window.phase(self.now, self.timezone)
        return phase


class Places:
    """Where a loaded file's problems are shown: its path as messages show it, and the line of
    each field, from the lines the build cache keeps of every file (read in one query)."""

    def __init__(self, loaded: LoadResult) -> None:
        self._entries = loaded.cache.file_lines() if loaded.cache is not None else {}
        self._lines: dict[str, tuple[dict[str, int], int, int] | None] = {}
        self._folders: dict[str, Path] = {}

    def shown(self, posting_file: PostingFile) -> Path:
        """`display_path` of the file, its folder's worked out once."""
        folder, name = os.path.split(posting_file.source_path)
        shown = self._folders.get(folder)
        if shown is None:
            shown = self._folders[folder] = display_path(Path(folder))
        return shown / name

    def locate(self, posting_file: PostingFile, problems: Sequence[Problem]) -> list[Problem]:
        """`PostingFile.locate`, from the cached lines when the cache knows the file."""
        lines = self._cached_lines(posting_file)
        if lines is None:
            return posting_file.locate(problems)
        shown = self.shown(posting_file)
        return [
            p
            if p.file is not None
            else Problem(
                p.message,
                file=shown,
                line=line_in(p.field, *lines),
                field=p.field,
                target=p.target,
                posting_id=p.posting_id,
                severity=p.severity,
            )
            for p in problems
        ]

    def may_name_boards(self, posting_file: PostingFile) -> bool:
        """False only when the cache's lines of the file show no top-level ``boards`` key (nor
        a merge key, which could bring one): its posting names no board."""
        entry = self._entry(posting_file)
        return entry is None or '"boards"' in entry or '"<<"' in entry

    def _entry(self, posting_file: PostingFile) -> str | None:
        """The lines JSON the cache keeps of the file, when the file's posting is the cache's
        (a file kept whole was parsed here, and is placed by its own document)."""
        if posting_file.shipped() is None:
            return None
        entry = self._entries.get(os.path.abspath(posting_file.source_path))
        if entry is None or entry[0] != posting_file.content_hash:
            return None
        return entry[1]

    def _cached_lines(self, posting_file: PostingFile) -> tuple[dict[str, int], int, int] | None:
        key = posting_file.source_path
        if key not in self._lines:
            entry = self._entry(posting_file)
            try:
                self._lines[key] = read_lines(entry) if entry is not None else None
            except (ValueError, KeyError, TypeError):
                self._lines[key] = None
        return self._lines[key]


def checked(target: Target, loaded: LoadResult, phases: Phases, places: Places) -> Checked:
    """The target's checks of every loaded posting, as builds and plans cached them (reading
    each back and checking it again cost 1.7 ms of CPU a posting), as they matter now: errors
    for a posting that is or will be listed (open, scheduled), warnings for a draft, nothing for
    a closed or expired one; and the postings that asked to be left off the target (not told
    for a closed or expired one)."""
    checks = CachedChecks(target, loaded.cache, prefetch=True)
    result = Checked(target, {}, set())
    for posting_file in loaded.files:
        phase = phases.of(posting_file)
        if phase in _QUIET or checks.clean(posting_file):
            continue
        found = checks.problems(posting_file)
        if any(p.severity is Severity.OMIT for p in found):
            result.opted_out.add(posting_file.posting_id)
        problems = [p for p in found if p.severity is not Severity.OMIT]
        if not problems:
            continue
        problems = places.locate(posting_file, problems)
        if phase is Phase.DRAFT:
            problems = [dataclasses.replace(p, severity=Severity.WARNING) for p in problems]
        result.found[posting_file.posting_id] = problems
    checks.save()
    return result


def unknown_boards(settings: Settings, loaded: LoadResult, places: Places) -> list[Problem]:
    """Names in a posting's ``boards:`` that are no configured target."""
    names = sorted(settings.targets)
    problems = []
    for posting_file in loaded.files:
        if not places.may_name_boards(posting_file):
            continue
        for name in posting_file.posting.boards:
            if name in settings.targets:
                continue
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                Problem(
                    f"{name!r} is not a configured target; {hint}(targets: {', '.join(names)})",
                    file=display_path(posting_file.path),
                    line=posting_file.line_of("boards"),
                    field=f"boards.{name}",
                    posting_id=posting_file.posting_id,
                )
            )
    return problems


def reference_collisions(
    settings: Settings, loaded: LoadResult, checks: Sequence[Checked], phases: Phases
) -> list[Problem]:
    """Reference numbers that two postings would give on a target that lists a job once per
    place (Indeed): an error at each of them, naming the other file."""
    from syndicate.quiet import numbers_unshared

    problems: list[Problem] = []
    store: StateStore | None = None
    opened = False
    try:
        for each in checks:
            target = each.target
            if not isinstance(target, PullTarget) or target.reference_scheme is None:
                continue
            listed = [
                f
                for f in loaded.files
                if phases.of(f) in _LISTED and f.posting_id not in each.opted_out
            ]
            pairs = [(f.posting_id, f.content_hash) for f in listed]
            if numbers_unshared(settings, target.reference_scheme, pairs):
                continue  # every number as the state has it, none given twice
            if not opened:
                store, opened = existing_state(settings), True
            problems.extend(_collisions(target, listed, store))
    finally:
        if store is not None:
            store.close()
    return problems


def _collisions(
    target: PullTarget, listed: Sequence[PostingFile], store: StateStore | None
) -> list[Problem]:
    from syndicate.references import ReferenceBook

    by_id = {f.posting_id: f for f in listed}
    named = functools.partial(_file_and_id, by_id=by_id)
    book = ReferenceBook.of(target, store)
    problems: list[Problem] = []
    for posting_id, found in book.collision_problems(listed, target.name, named).items():
        posting_file = by_id[posting_id]
        problems.extend(
            dataclasses.replace(
                problem,
                file=display_path(posting_file.path),
                line=posting_file.line_of("locations"),
            )
            for problem in found
        )
    return problems


def against_the_state(
    settings: Settings, loaded: LoadResult, checks: Sequence[Checked], phases: Phases
) -> list[Problem]:
    """What the publish state says of these postings, when there is one: the files held at
    their last good version, the guard's refusals, and ids that changed since publishing."""
    from syndicate.quiet import state_silent

    selections = [_selection(each, loaded, phases) for each in checks]
    rejected = {
        each.target.name: list(sel[1]) for each, sel in zip(checks, selections, strict=True)
    }
    ids = [f.posting_id for f in loaded.files]
    if state_silent(settings, ids, rejected, failed=bool(loaded.failed)):
        return []  # nothing held, guarded or renamed
    store = existing_state(settings)
    if store is None:
        return []
    from syndicate.listing import Lister

    with store:
        lister = Lister(settings, loaded, store, phases.now)
        listings = [
            lister.select(
                each.target.name, accepted, refused, functools.partial(_rules, each.target)
            )
            for each, (accepted, refused) in zip(checks, selections, strict=True)
        ]
        refusals = [s.refusal.problem() for s in listings if s.refusal is not None]
        return [*lister.kept_notes(listings), *refusals, *lister.renames()]


def _selection(
    each: Checked, loaded: LoadResult, phases: Phases
) -> tuple[list[PostingFile], dict[str, list[Problem]]]:
    """The postings listed now that the target accepts, and those it rejects (their errors)."""
    accepted: list[PostingFile] = []
    rejected: dict[str, list[Problem]] = {}
    for posting_file in loaded.files:
        if phases.of(posting_file) is not Phase.LISTED:
            continue
        if posting_file.posting_id in each.opted_out:
            continue
        found = each.found.get(posting_file.posting_id, ())
        errors = [p for p in found if p.severity is Severity.ERROR]
        if errors:
            rejected[posting_file.posting_id] = errors
        else:
            accepted.append(posting_file)
    return accepted, rejected


def valid_files(
    loaded: LoadResult, problems: Iterable[Problem], places: Places
) -> list[PostingFile]:
    """The loaded files with no error."""
    invalid = {str(p.file) for p in problems if p.severity is Severity.ERROR}
    if not invalid:
        return list(loaded.files)
    return [f for f in loaded.files if str(places.shown(f)) not in invalid]


def existing_state(settings: Settings) -> StateStore | None:
    """The publish state, opened, when there is one (None without importing the store when
    its SQLite file is not there)."""
    database = settings.state_file()
    if database is not None and not database.is_file():
        return None
    from syndicate.state import StateStore, state_exists

    return StateStore(settings.state_url) if state_exists(settings.state_url) else None


def _file_and_id(posting_id: str, by_id: dict[str, PostingFile]) -> str:
    return f"{display_path(by_id[posting_id].path)} ({posting_id})"


def _rules(target: Target, loaded: LoadedPosting) -> list[Problem]:
    return target.rules(loaded.posting)
