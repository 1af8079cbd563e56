"""An edit shown at once: the documents it changes served from the build cache until the files
catch up.

The daemon's edit path (docs/performance.md, "One edit"): the watcher names the edited file,
the daemon reads that file alone, and `LiveView.edit` takes the new version into every pull
target that listed the old one and still accepts it, rendering its fragments into the cache.
From then on the server answers the documents that show it (a single-file feed whole; for the
careers site its index, sitemaps, Atom feed and the job's page) by assembling them from the
cached fragments at request time, in one read transaction of the cache (`BuildCache.snapshot`):
the same render as a build's, of the same postings, so the bytes are what the next build writes
(its build time and the job's change time excepted: the edit's moment here, the sync's there).
The sync that follows writes the files and records the state; `LiveView.rebase` then serves
the files again, keeping only the edits made since that sync began.

What an edit never does here, leaving it to that sync: add or remove a job (a new file, a
deleted one, one that no longer loads or now breaks a target's rules keeps its last version
everywhere until the sync decides), so the set of served documents and job pages is always
the set of files, and a job is in a feed exactly when its page is.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import threading
from collections import ChainMap
from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import cast

from syndicate.adapters import Document, PullTarget, RenderContext, create_targets
from syndicate.build import BuildReport
from syndicate.cache import BuildCache, Fragments
from syndicate.config import Settings
from syndicate.errors import Severity
from syndicate.loading import PostingFile
from syndicate.postings import LoadedPosting, PostingList


@dataclass(frozen=True, slots=True)
class _Base:
    """What a build rendered one target from, and which of its files any edit changes."""

    refs: tuple[LoadedPosting, ...]
    ids: dict[str, int]  # each posting's place in ``refs``
    context: RenderContext
    shared: frozenset[str]  # the documents that show every posting (all for a single file)


@dataclass(frozen=True, slots=True)
class _Edit:
    generation: int
    ref: PostingFile
    at: datetime
    targets: frozenset[str]  # the targets that take this version


@dataclass(frozen=True, slots=True)
class LiveTarget:
    """One target as served while edits are not written: its postings and context."""

    name: str
    refs: tuple[LoadedPosting, ...]
    context: RenderContext


@dataclass(frozen=True, slots=True)
class LiveDocument:
    """A document assembled for one request; `chunks` must be consumed or closed."""

    path: str
    media_type: str
    chunks: Iterator[bytes]


class LiveView:
    """The daemon's served outputs that differ from the files on disk, by edit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.generation = 0  # of the last edit taken
        self._lock = threading.Lock()
        self._base: dict[str, _Base] = {}
        self._edits: dict[str, _Edit] = {}  # by posting id
        self._live: dict[str, LiveTarget] = {}  # targets with edits, by name
        self._paths: dict[str, str] = {}  # served document → target name
        self._warm = False
        self._targets = {t.name: t for t in create_targets(settings) if isinstance(t, PullTarget)}

    @property
    def ready(self) -> bool:
        """Whether a build has told what the targets list (edits are taken only then)."""
        return bool(self._base)

    def rebase(self, report: BuildReport | None, since: int) -> None:
        """After a sync whose build (``report``) wrote its files: serve those files again,
        except for the edits taken after generation ``since`` (the sync's start), which are
        applied to what the build listed."""
        with self._lock:
            if report is not None:
                self._base = {
                    t.name: _Base(
                        tuple(t.rendered),
                        {ref.posting_id: index for index, ref in enumerate(t.rendered)},
                        t.context,
                        frozenset(self._targets[t.name].live_paths(t.files, ())),
                    )
                    for t in report.targets
                    if t.context is not None and t.disabled is None and t.name in self._targets
                }
            self._edits = {k: e for k, e in self._edits.items() if e.generation > since}
            self._update()

    def edit(self, ref: PostingFile, now: datetime) -> list[str]:
        """Take the new version ``ref`` of a listed posting into every target that lists it and
        still accepts it; the names of those targets (none: nothing changes until the sync)."""
        if not ref.is_listed(now, self.settings.timezone):
            return []
        posting = ref.posting
        with self._lock:
            taken: list[str] = []
            for name, base in self._base.items():
                if ref.posting_id not in base.ids:
                    continue
                target = self._targets[name]
                problems = target.rules(posting)
                if any(p.severity in (Severity.ERROR, Severity.OMIT) for p in problems):
                    continue
                if target.reference_scheme is not None and not self._same_spots(target, ref, base):
                    continue  # new places take new reference numbers: the sync gives them
                taken.append(name)
            if not taken:
                return []
            self.generation += 1
            self._edits[ref.posting_id] = _Edit(self.generation, ref, now, frozenset(taken))
            self._update()
            self._store_fragments(ref, [self._live[name] for name in taken])
        return taken

    def warm(self) -> None:
        """Render one listed posting's fragments of every target once, and discard them, so
        that the first edit does not pay for what rendering loads on first use (templates,
        the tables of country and region names)."""
        if self._warm or not self._base:
            return
        self._warm = True
        for name, base in self._base.items():
            if base.refs:
                posting = base.refs[0].posting
                for make in self._targets[name].fragment_makers(base.context).values():
                    make(posting)

    def document(self, relative: str) -> LiveTarget | None:
        """The target whose document at ``relative`` (a path under output) is served live."""
        with self._lock:
            name = self._paths.get(relative)
            return self._live.get(name) if name is not None else None

    def open(self, live: LiveTarget, relative: str) -> LiveDocument | None:
        """Assemble the document at ``relative`` of ``live`` from the cache, in one snapshot."""
        prototype = self._targets.get(live.name)
        cache = BuildCache.open(self.settings.cache_dir)
        if prototype is None or cache is None:
            if cache is not None:
                cache.close()
            return None
        # A target of its own for this request (a render sets the target's fragments), sharing
        # the prototype's compiled templates rather than making every target anew.
        target = copy.copy(prototype)
        stack = contextlib.ExitStack()
        stack.callback(cache.close)
        stack.enter_context(cache.snapshot())
        try:
            target.fragments = _fragments(target, cache, live.context)
            folder = target.folder()
            if folder is not None:  # a job page not edited is its published file
                target.fragments.read_files(self.settings.output_dir / folder)
            found = target.render_document(PostingList(live.refs), live.context, relative)
        except BaseException:
            stack.close()
            raise
        if found is None:
            stack.close()
            return None
        return LiveDocument(relative, found.media_type, _closing(found, stack))

    def _same_spots(self, target: PullTarget, ref: PostingFile, base: _Base) -> bool:
        before = base.refs[base.ids[ref.posting_id]]
        try:
            return bool(target.spots(before.posting) == target.spots(ref.posting))
        except Exception:  # the old version cannot be read back: the sync decides
            return False

    def _update(self) -> None:
        """The served targets and documents, from the bases and the edits (lock held)."""
        live: dict[str, LiveTarget] = {}
        paths: dict[str, str] = {}
        for name, base in self._base.items():
            edits = {
                pid: e for pid, e in self._edits.items() if name in e.targets and pid in base.ids
            }
            if not edits:
                continue
            patched = list(base.refs)
            for posting_id, edit in edits.items():
                patched[base.ids[posting_id]] = edit.ref
            refs = tuple(patched)
            # Over the build's own mapping, which nothing changes once it is built.
            built = cast("MutableMapping[str, datetime]", base.context.changed or {})
            changed = ChainMap({pid: e.at for pid, e in edits.items()}, built)
            latest = max(e.at for e in edits.values())
            context = replace(
                base.context, build_time=max(latest, base.context.build_time), changed=changed
            )
            live[name] = LiveTarget(name, refs, context)
            pages = self._targets[name].live_paths((), edits.keys())
            for path in base.shared | pages:
                paths[path] = name
        self._live = live
        self._paths = paths

    def _store_fragments(self, ref: PostingFile, targets: Sequence[LiveTarget]) -> None:
        """The edited posting's fragments on each target, rendered now and stored, so that
        the first request does not render them."""
        cache = BuildCache.open(self.settings.cache_dir)
        if cache is None:
            return
        try:
            posting = ref.posting
            for live in targets:
                target = self._targets[live.name]
                fragments = _fragments(target, cache, live.context)
                key = fragments.key_of(ref)
                for part, make in target.fragment_makers(live.context).items():
                    fragments.store(part, [(key, make(posting))])
        finally:
            cache.close()


def _fragments(target: PullTarget, cache: BuildCache, context: RenderContext) -> Fragments:
    return Fragments(target, cache, functools.partial(target.fragment_variant, context=context))


def _closing(document: Document, stack: contextlib.ExitStack) -> Iterator[bytes]:
    """The document's chunks, then its snapshot ended and the cache closed (also when the
    reader stops early)."""
    with stack:
        yield from document.chunks
