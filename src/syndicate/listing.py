"""What each target lists now: the postings as loaded, or their last good version.

A target lists every posting that is open, not expired, and passes the target's rules.  Three
mistakes would make it withdraw jobs that nobody meant to withdraw, and this module keeps them
from doing so, with what the publish state remembers (`syndicate.state.listings`):

- **A file that fails to load** (a YAML typo) keeps, on every target, the last version of the
  posting that loaded and passed that target's rules; found by the posting's id, or by its file
  when the error leaves no id to read.  It is reported every run until the file is fixed or
  deleted.  A kept version whose ``valid_through`` passes is withdrawn as usual.
- **An edit that breaks one target's rules** keeps that target's last good version; the other
  targets take the edit.
- **Files that disappear** (a checkout of the wrong branch, a folder moved away) or whose ``id``
  changed: their jobs are withdrawn, unless that would withdraw more than the guard allows
  (`syndicate.config.Guard`): then nothing is withdrawn, the run is refused for that target, and
  ``syndicate publish --allow-mass-close`` approves it once a person has reviewed the plan.

Withdrawals the postings ask for (``status: closed`` or ``draft``, ``valid_through`` passed) are
never held back.  Without a state (a build of loose postings), a target lists exactly what loads
and passes its rules.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from syndicate.config import Settings
from syndicate.errors import Problem, Severity
from syndicate.loading import LoadResult, PostingFile, display_path
from syndicate.model import Posting
from syndicate.postings import LoadedPosting

if TYPE_CHECKING:
    from syndicate.state import Hold, Listed, Listing, StateStore

ALLOW_MASS_CLOSE = "syndicate publish --allow-mass-close"


class KeptPosting:
    """The last good version of a posting, read back from the publish state."""

    def __init__(self, listing: Listing, posting: Posting) -> None:
        self.listing = listing
        self.posting_id = listing.posting_id
        self.content_hash = listing.content_hash
        self.posting = posting

    def is_listed(self, now: datetime, tz: tzinfo) -> bool:
        return self.posting.is_listed(now, tz)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A guard that refused to withdraw ``posting_ids`` from ``target``."""

    target: str
    posting_ids: tuple[str, ...]
    open_jobs: int
    cause: str
    digest: str

    def problem(self) -> Problem:
        count = len(self.posting_ids)
        return Problem(
            f"refused to close {count} of {self.open_jobs} open job(s) because {self.cause}; "
            f"nothing was closed. Review `syndicate publish --plan`, then run "
            f"`{ALLOW_MASS_CLOSE}` to close them",
            target=self.target,
        )


@dataclass(slots=True)
class TargetListing:
    """What one target lists now, and why it differs from what loaded."""

    target: str
    listed: list[LoadedPosting] = field(default_factory=list)
    fresh: list[Listed] = field(default_factory=list)  # as loaded: to remember
    holds: list[Hold] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)  # no longer listed, on purpose
    vanished: dict[str, str | None] = field(default_factory=dict)  # id → its new id, if renamed
    refusal: Refusal | None = None
    known: Mapping[str, Listing] = field(default_factory=dict)
    # The target key its postings were checked under, when every posting was (a whole build):
    # recorded with the listings (`syndicate.state.summary`).
    key: str | None = None

    def changed_at(self, now: datetime) -> dict[str, datetime]:
        """When the content of each listed posting last changed: as remembered for the version
        listed before, ``now`` for a new posting or a new version."""
        changed: dict[str, datetime] = {}
        for ref in self.listed:
            before = self.known.get(ref.posting_id)
            same = before is not None and before.content_hash == ref.content_hash
            changed[ref.posting_id] = before.changed_at if before is not None and same else now
        return changed


class Lister:
    """Decides, for each target of one run, what it lists (see the module docstring).

    ``store`` is the publish state (None: no memory, no guard); ``allow_mass_close`` approves
    the guard's refusals of this run, recording the approval in the state.
    """

    def __init__(
        self,
        settings: Settings,
        loaded: LoadResult,
        store: StateStore | None,
        now: datetime,
        *,
        allow_mass_close: bool = False,
    ) -> None:
        self.settings = settings
        self.loaded = loaded
        self.store = store
        self.now = now
        self._versions: dict[str, Posting | None] = {}  # content hash → its kept posting
        self._listed: dict[str, Listed] = {}  # posting id → `listed` of its loaded version
        self.allow_mass_close = allow_mass_close
        self.by_id = loaded.by_id()
        self.failed_sources = {
            settings.posting_key(path): pid for path, pid in loaded.failed.items()
        }
        self.failed_ids = {pid for pid in loaded.failed.values() if pid}
        self.empty = not loaded.files and not loaded.failed
        self._problems = _problems_by_source(settings, loaded.problems)

    # Made when first asked for: a plan that finds nothing changed (`syndicate.unchanged`)
    # never asks, and the keys of 100,000 paths cost a second.
    @functools.cached_property
    def source_of(self) -> dict[str, str]:
        """Each loaded posting's file as the state records it (`Settings.posting_key`), by id;
        kept on the load, so that a daemon's load updated by an edit keeps its keys."""
        loaded = self.loaded
        if loaded.source_keys is None:
            keys = self.settings.posting_keys([f.source_path for f in loaded.files])
            loaded.source_keys = {
                f.posting_id: key for f, key in zip(loaded.files, keys, strict=True)
            }
        return loaded.source_keys

    @functools.cached_property
    def id_at(self) -> dict[str, str]:
        """The id of the posting loaded from each file (by `source_of`'s keys)."""
        return {source: posting_id for posting_id, source in self.source_of.items()}

    def known(
        self, target: str, posting_ids: Collection[str] | None = None
    ) -> dict[str, Listing]:
        """What ``target`` listed after the last run, by posting id (of ``posting_ids`` only,
        when given: an edit's plan reads its own postings' rows, not every row)."""
        if self.store is None:
            return {}
        found = self.store.listings.all(target, posting_ids=posting_ids)
        return {pid: listing for (pid, _), listing in found.items()}

    def select(
        self,
        target: str,
        accepted: Sequence[LoadedPosting],
        rejected: Mapping[str, Sequence[Problem]],
        recheck: Callable[[LoadedPosting], Sequence[Problem]],
    ) -> TargetListing:
        """What ``target`` lists now, given the loaded postings it ``accepted`` (listed, rules
        passed) and those it ``rejected`` (listed, rules broken: their errors); ``recheck``
        gives the target's rule errors for a kept version."""
        known = self.known(target)
        result = TargetListing(target, known=known)
        for ref in accepted:
            result.listed.append(ref)
            result.fresh.append(self.listed(ref))
        for posting_id, errors in rejected.items():
            listing = known.get(posting_id)
            if listing is None:
                continue
            loaded = self.by_id[posting_id]
            changed = listing.content_hash != loaded.content_hash
            if not (changed and self._keep(result, listing, loaded.locate(errors), recheck)):
                result.withdrawn.append(posting_id)
        listed_now = {ref.posting_id for ref in accepted}
        for posting_id, listing in known.items():
            if posting_id in self.by_id:
                if posting_id not in listed_now and posting_id not in rejected:
                    result.withdrawn.append(posting_id)  # closed, draft or expired: as asked
                continue
            if self.failed(listing):
                problems = self._problems.get(listing.source, [])
                if not self._keep(result, listing, problems, recheck):
                    result.withdrawn.append(posting_id)
                continue
            renamed = self.id_at.get(listing.source)
            result.vanished[posting_id] = renamed if renamed != posting_id else None
        self._guard(result, recheck)
        result.listed.sort(key=lambda ref: _order(self._source(ref, known)))
        return result

    def failed(self, listing: Listing) -> bool:
        """Whether the posting of ``listing`` is in a file that fails to load now."""
        return listing.posting_id in self.failed_ids or listing.source in self.failed_sources

    def kept(self, listing: Listing) -> KeptPosting | None:
        """The version of ``listing`` as the state holds it (None when it lacks it)."""
        if self.store is None:
            return None
        digest = listing.content_hash
        if digest not in self._versions:  # read and parsed once per run, whichever target asks
            self._versions[digest] = self._version(digest)
        posting = self._versions[digest]
        return KeptPosting(listing, posting) if posting is not None else None

    def _version(self, content_hash: str) -> Posting | None:
        """The posting of a version the state holds (None when it lacks it, or when it no
        longer validates: such a version is not kept)."""
        assert self.store is not None
        text = self.store.listings.posting_json(content_hash)
        if text is None:
            return None
        try:
            posting = Posting.model_validate_json(
                text, context={"timezone": self.settings.timezone}
            )
        except ValidationError:
            return None
        posting.__dict__["content_hash"] = content_hash
        return posting

    def guard(self, target: str, vanished: Iterable[str], open_jobs: int) -> Refusal | None:
        """The guard's refusal to withdraw ``vanished`` from a target with ``open_jobs`` open
        jobs, or None when it lets them go (few enough, or approved).

        Open jobs are what the target shows now: a pull target's listings (the build), a push
        target's live deliveries (the plan; a listing whose CREATE never got through is not a
        job on the board, and closing it closes nothing)."""
        ids = tuple(sorted(vanished))
        if not ids:
            return None
        rules = self.settings.guard
        if self.empty:
            cause = "the postings folder is empty (a checkout of the wrong branch?)"
        elif open_jobs >= rules.min_jobs and len(ids) > rules.max_close * open_jobs:
            cause = (
                f"their files disappeared or their ids changed (the guard allows "
                f"{rules.max_close:.0%} of a target's open jobs)"
            )
        else:
            return None
        digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()
        if self.store is not None:
            if self.allow_mass_close:
                self.store.guards.approve(target, digest, len(ids), now=self.now)
                return None
            if self.store.guards.approved(target, digest):
                return None
        return Refusal(target, ids, open_jobs, cause, digest)

    def save(self, result: TargetListing) -> None:
        """Remember what the target lists now (only what changed is written) and its holds."""
        if self.store is None:
            return
        withdrawn = list(result.withdrawn)
        if result.refusal is None:
            withdrawn.extend(result.vanished)
        self.store.listings.update(
            result.target, result.fresh, withdrawn, result.known, now=self.now, key=result.key
        )
        self.store.listings.set_holds(result.target, result.holds, now=self.now)

    def renames(self) -> list[Problem]:
        """A warning per loaded file whose id changed since it was listed or delivered."""
        if self.store is None:
            return []
        sources: dict[str, str] = {}
        for listing in self.store.listings.all().values():
            sources.setdefault(listing.posting_id, listing.source)
        delivered = [
            (posting_id, delivery.source_path)
            for (posting_id, _), delivery in self.store.deliveries().items()
            if delivery.source_path and delivery.live
        ]
        keys = self.settings.posting_keys([path for _, path in delivered])
        for (posting_id, _), key in zip(delivered, keys, strict=True):
            sources.setdefault(posting_id, key)
        warnings = []
        for old_id, source in sorted(sources.items()):
            new_id = self.id_at.get(source)
            if new_id is None or new_id == old_id or old_id in self.by_id:
                continue
            loaded = self.by_id[new_id]
            warnings.append(
                Problem(
                    f"id changed from {old_id} to {new_id}: boards will see a new job and "
                    f"{old_id} will be closed (an id must never change once published)",
                    file=display_path(loaded.path),
                    line=loaded.line_of("id"),
                    field="id",
                    posting_id=new_id,
                    severity=Severity.WARNING,
                )
            )
        return warnings

    def kept_notes(self, results: Iterable[TargetListing]) -> list[Problem]:
        """One line per held file: which targets keep which version, and what to do."""
        by_source: dict[str, list[Hold]] = {}
        for result in results:
            for hold in result.holds:
                by_source.setdefault(hold.source, []).append(hold)
        notes = []
        for source, holds in sorted(by_source.items()):
            targets = ", ".join(sorted(hold.target for hold in holds))
            built = min(hold.listed_at for hold in holds)
            notes.append(
                Problem(
                    f"kept the version built at {built:%Y-%m-%d %H:%M} UTC on {targets}; "
                    "fix the file to publish changes",
                    file=self._shown(source),
                    posting_id=holds[0].posting_id,
                    severity=Severity.WARNING,
                )
            )
        return notes

    # -- helpers -------------------------------------------------------------------------------

    def problems_of(self, source: str) -> list[Problem]:
        """What is wrong with the posting file at ``source`` (relative to the postings)."""
        return list(self._problems.get(source, []))

    def listed(self, ref: LoadedPosting) -> Listed:
        """``ref`` as the state remembers a listed posting: one record for every target that
        lists it (four targets' copies of each were a tenth of a 100,000-posting build's
        memory)."""
        found = self._listed.get(ref.posting_id)
        if found is not None and found.content_hash == ref.content_hash:
            return found
        posting_json = ref.posting_json if isinstance(ref, PostingFile) else _json_of(ref)
        made = _listed_record()(
            ref.posting_id, ref.content_hash, self.source_of[ref.posting_id], posting_json
        )
        self._listed[ref.posting_id] = made
        return made

    def _keep(
        self,
        result: TargetListing,
        listing: Listing,
        problems: list[Problem],
        recheck: Callable[[LoadedPosting], Sequence[Problem]],
    ) -> bool:
        kept = self._listable(listing, recheck)
        if kept is None:
            return False
        from syndicate.state.records import Hold

        result.listed.append(kept)
        result.holds.append(Hold.of(listing, problems, self.now))
        return True

    def _guard(
        self, result: TargetListing, recheck: Callable[[LoadedPosting], Sequence[Problem]]
    ) -> None:
        refusal = self.guard(result.target, result.vanished, len(result.known))
        if refusal is None:
            return
        result.refusal = refusal
        for posting_id in refusal.posting_ids:
            kept = self._listable(result.known[posting_id], recheck)
            if kept is not None:
                result.listed.append(kept)

    def _listable(
        self, listing: Listing, recheck: Callable[[LoadedPosting], Sequence[Problem]]
    ) -> KeptPosting | None:
        """The kept version of ``listing`` when it can be listed now: held by the state, open
        and not expired, and still passing the target's rules."""
        kept = self.kept(listing)
        if kept is None or not kept.is_listed(self.now, self.settings.timezone):
            return None
        if any(p.severity is Severity.ERROR for p in recheck(kept)):
            return None
        return kept

    def _source(self, ref: LoadedPosting, known: Mapping[str, Listing]) -> str:
        source = self.source_of.get(ref.posting_id)
        if source is None:
            listing = known.get(ref.posting_id)
            source = listing.source if listing is not None else ref.posting_id
        return source

    def _shown(self, source: str) -> Path:
        path = Path(source)
        return display_path(path if path.is_absolute() else self.settings.postings_dir / path)


def _json_of(ref: LoadedPosting) -> Callable[[], str]:
    return lambda: ref.posting.model_dump_json()


def _order(source: str) -> tuple[str, ...]:
    # Files load in the order of their paths sorted part by part; kept ones take their place.
    return tuple(source.split("/"))


def _problems_by_source(
    settings: Settings, problems: Iterable[Problem]
) -> dict[str, list[Problem]]:
    found: dict[str, list[Problem]] = {}
    for problem in problems:
        if problem.file is not None:
            found.setdefault(settings.posting_key(problem.file), []).append(problem)
    return found


@functools.cache
def _listed_record() -> type[Listed]:
    """`syndicate.state.Listed`, imported the first time a posting is listed (the state's
    SQLAlchemy is not imported by what merely imports this module: the build's workers); once,
    as an import statement costs about a microsecond and this is per posting and target."""
    from syndicate.state.listings import Listed

    return Listed
