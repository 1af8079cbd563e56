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
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from syndicate.adapters import PullTarget, Target
from syndicate.adapters.places import assign
from syndicate.cache import BATCH, CLEAN, CachedChecks, read_lines, target_key
from syndicate.config import Settings
from syndicate.errors import Problem, Severity
from syndicate.loading import LoadResult, PostingFile, display_path, line_in
from syndicate.model import Phase, Window
from syndicate.postings import LoadedPosting

if TYPE_CHECKING:
    from syndicate.state import StateStore

NUMBERS = "reference-numbers"  # the fragment of a target's numbers by the rule alone (JSON)
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
    postings share their dates), in the order of ``loaded.files`` (`each`) or by id (`of`)."""

    def __init__(self, settings: Settings, now: datetime) -> None:
        self.now = now
        self.timezone = settings.timezone
        self._known: dict[Window, Phase] = {}
        self._each: list[Phase] | None = None
        self._by_id: dict[str, Phase] | None = None

    def of(self, posting_file: PostingFile) -> Phase:
        window = posting_file.window
        phase = self._known.get(window)
        if phase is None:
            phase = self._known[window] = window.phase(self.now, self.timezone)
        return phase

    def each(self, loaded: LoadResult) -> list[Phase]:
        """The phase of each of ``loaded.files``, in order (worked out on the first call)."""
        if self._each is None or len(self._each) != len(loaded.files):
            self._each = [self.of(f) for f in loaded.files]
        return self._each

    def by_id(self, loaded: LoadResult) -> dict[str, Phase]:
        """The phase of each loaded posting, by id."""
        if self._by_id is None:
            pairs = zip(loaded.files, self.each(loaded), strict=True)
            self._by_id = {f.posting_id: phase for f, phase in pairs}
        return self._by_id


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
        path = posting_file.source_path
        entry = self._entries.get(path) or self._entries.get(os.path.abspath(path))
        if entry is None or entry[0] != posting_file.content_hash:
            return None
        return entry[1]

    def lines(self, posting_file: PostingFile) -> tuple[dict[str, int], int, int] | None:
        """``(line of each top-level key, first line, body line)`` of the file as the cache
        keeps them (`syndicate.cache.read_lines`); None when the cache does not know the file."""
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
    decoded = _Decoded()
    for posting_file, phase in zip(loaded.files, phases.each(loaded), strict=True):
        if phase in _QUIET:
            continue
        text = checks.cached(posting_file)
        if text == CLEAN:
            continue
        entries = decoded(text) if text is not None else None
        if entries is None:  # not cached (or damaged): checked now, and remembered
            entries = [_entry_of(p) for p in checks.problems(posting_file)]
        if any(entry[4] is Severity.OMIT for entry in entries):
            result.opted_out.add(posting_file.posting_id)
        kept = [entry for entry in entries if entry[4] is not Severity.OMIT]
        if kept:
            draft = phase is Phase.DRAFT
            problems = _problems(kept, target.name, posting_file, places, draft=draft)
            result.found[posting_file.posting_id] = problems
    checks.save()
    return result


# A cached problem: message, file, line, field, severity (`syndicate.cache.encode_problems`).
_Entry = tuple[str, "Path | str | None", "int | None", "str | None", Severity]


class _Decoded:
    """Cached check results decoded once per distinct text: many postings break the same
    rules alike, and their results are the same text."""

    def __init__(self) -> None:
        self._known: dict[str, list[_Entry] | None] = {}

    def __call__(self, text: str) -> list[_Entry] | None:
        """The entries of a cached result (None when it is damaged: it is checked again)."""
        if text not in self._known:
            try:
                self._known[text] = [
                    (message, file, line, field, Severity(severity))
                    for message, file, line, field, severity in json.loads(text)
                ]
            except (ValueError, TypeError, KeyError):
                self._known[text] = None
        return self._known[text]


def _entry_of(problem: Problem) -> _Entry:
    return (problem.message, problem.file, problem.line, problem.field, problem.severity)


def _problems(
    entries: Sequence[_Entry],
    target: str,
    posting_file: PostingFile,
    places: Places,
    *,
    draft: bool,
) -> list[Problem]:
    """A posting's problems with a target, placed at their file and line (`PostingFile.locate`),
    a draft's as warnings: each made once."""
    posting_id = posting_file.posting_id
    lines = places.lines(posting_file)
    if lines is None:
        problems = posting_file.locate(
            [
                Problem(message, file=file, line=line, field=field, target=target,
                        posting_id=posting_id, severity=severity)
                for message, file, line, field, severity in entries
            ]
        )  # fmt: skip
        if draft:
            return [dataclasses.replace(p, severity=Severity.WARNING) for p in problems]
        return problems
    shown = places.shown(posting_file)
    return [
        Problem(
            message,
            file=shown if file is None else file,
            line=line_in(field, *lines) if file is None else line,
            field=field,
            target=target,
            posting_id=posting_id,
            severity=Severity.WARNING if draft else severity,
        )
        for message, file, line, field, severity in entries
    ]


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
            pairs = zip(loaded.files, phases.each(loaded), strict=True)
            listed = [
                f for f, phase in pairs if phase in _LISTED and f.posting_id not in each.opted_out
            ]
            if _stateless(settings):
                if not _shared(_rule_numbers(target, listed, loaded)):
                    continue  # the numbers the rule gives, none given twice
            else:
                numbered = [(f.posting_id, f.content_hash) for f in listed]
                if numbers_unshared(settings, target.reference_scheme, numbered):
                    continue  # every number as the state has it, none given twice
            if not opened:
                store, opened = existing_state(settings), True
            problems.extend(_collisions(target, listed, store))
    finally:
        if store is not None:
            store.close()
    return problems


def _stateless(settings: Settings) -> bool:
    """Whether there is no publish state (its SQLite file is not there): numbers follow the
    rule alone (`syndicate.references`)."""
    database = settings.state_file()
    return database is not None and not database.is_file()


def _rule_numbers(
    target: PullTarget, listed: Sequence[PostingFile], loaded: LoadResult
) -> list[list[str]]:
    """Each listed posting's reference numbers by the rule alone (no state: none assigned
    before), which depend on the posting and the target only: kept in the build cache as a
    fragment of the target (`NUMBERS`), so that a posting is read back only the first time."""
    cache = loaded.cache
    if cache is None:
        return [assign(f.posting_id, target.spots(f.posting), {}) for f in listed]
    key = target_key(target)
    known: dict[str, bytes] = {}
    hashes = sorted({f.content_hash for f in listed})
    for start in range(0, len(hashes), BATCH):
        known.update(cache.fragments(key, hashes[start : start + BATCH], NUMBERS))
    numbers: list[list[str]] = []
    fresh: list[tuple[str, bytes]] = []
    for posting_file in listed:
        data = known.get(posting_file.content_hash)
        if data is not None:
            numbers.append(json.loads(data))
            continue
        found = assign(posting_file.posting_id, target.spots(posting_file.posting), {})
        numbers.append(found)
        fresh.append((posting_file.content_hash, json.dumps(found).encode()))
        known[posting_file.content_hash] = fresh[-1][1]
    cache.store_fragments(key, NUMBERS, fresh)
    return numbers


def _shared(numbers: Iterable[list[str]]) -> bool:
    """Whether a number is among ``numbers`` twice."""
    seen: set[str] = set()
    for each in numbers:
        for number in each:
            if number in seen:
                return True
            seen.add(number)
    return False


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

    by_id = phases.by_id(loaded)
    rejected = {each.target.name: _rejected(each, by_id) for each in checks}
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
                each.target.name,
                _accepted(each, loaded, phases, rejected[each.target.name]),
                rejected[each.target.name],
                functools.partial(_rules, each.target),
            )
            for each in checks
        ]
        refusals = [s.refusal.problem() for s in listings if s.refusal is not None]
        return [*lister.kept_notes(listings), *refusals, *lister.renames()]


def _rejected(each: Checked, phases: Mapping[str, Phase]) -> dict[str, list[Problem]]:
    """The postings listed now that break the target's rules (not left off it): their errors,
    in file order."""
    rejected: dict[str, list[Problem]] = {}
    for posting_id, found in each.found.items():
        if phases[posting_id] is not Phase.LISTED or posting_id in each.opted_out:
            continue
        errors = [p for p in found if p.severity is Severity.ERROR]
        if errors:
            rejected[posting_id] = errors
    return rejected


def _accepted(
    each: Checked, loaded: LoadResult, phases: Phases, rejected: Mapping[str, object]
) -> list[PostingFile]:
    """The postings listed now that the target takes, in file order."""
    pairs = zip(loaded.files, phases.each(loaded), strict=True)
    return [
        f
        for f, phase in pairs
        if phase is Phase.LISTED
        and f.posting_id not in each.opted_out
        and f.posting_id not in rejected
    ]


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
