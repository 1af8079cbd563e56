"""Build: render every enabled pull target into ``output``, atomically.

Which postings a target gets: those listed now (open, not past ``valid_through``) that pass the
target's rules.  A posting that breaks a rule is left out of that target only, and the problem is
reported.  Given the publish state, a posting whose file fails to load or whose edit breaks the
target's rules keeps its last good version instead, and files that disappear are withdrawn only
within the guard against mass closes (`syndicate.listing`).  Each target's build time (Indeed's
``lastBuildDate``, Atom's ``updated``) moves only when what it renders from changes, using a
small manifest in ``.syndicate/``.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from syndicate.adapters import Document, PullTarget, RenderContext, Target, create_targets
from syndicate.adapters.places import Spot
from syndicate.cache import (
    BuildCache,
    CachedChecks,
    Fragments,
    code_fingerprint,
    target_key,
)
from syndicate.config import Settings
from syndicate.errors import Problem, Severity
from syndicate.inplace import FolderInPlace, published_root, save_record
from syndicate.listing import Lister, Refusal, TargetListing
from syndicate.loading import (
    LoadResult,
    PostingFile,
    PostingReader,
    ShippedPosting,
    display_path,
)
from syndicate.loading.checking import WINDOW, Places, check_ahead
from syndicate.model import Posting
from syndicate.output import FolderVersion, record_media_types, write_atomic
from syndicate.parallel import ordered_map, worker_count
from syndicate.postings import LoadedPosting, PostingList
from syndicate.progress import Progress, Step, ticker
from syndicate.references import ReferenceBook
from syndicate.splice import Noting, Piece, boot_id, record_layout, resolved, write_pieces

if TYPE_CHECKING:
    # The worker processes import this module to render; they never touch the state, and
    # SQLAlchemy is 27 MB of each one's memory.
    from syndicate.state import Hold, StateStore

MANIFEST = "build.json"


class _Counted(PostingList):
    """The postings a target renders, telling `Progress` how far the rendering has come (the
    documents are written as they are rendered, so this is the progress of the whole step)."""

    def __init__(self, files: Sequence[LoadedPosting], name: str, progress: Progress | None):
        super().__init__(files)
        self.tick = ticker(progress, Step("render", name), len(files)) if progress else None

    def __iter__(self) -> Iterator[Posting]:
        if self.tick is None:
            yield from super().__iter__()
            return
        for done, posting in enumerate(super().__iter__()):
            self.tick(done)
            yield posting


_AHEAD = 500  # postings checked, and whose missing fragments are made, in one go
_TASK = 100  # postings a worker renders per task


@dataclass(slots=True)
class TargetBuild:
    """What one target's build included, left out, and wrote."""

    name: str
    summary: str
    included: int = 0
    left_out: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    changed: int = 0
    media_types: dict[str, str] = field(default_factory=dict)  # by file suffix, as rendered
    disabled: str | None = None
    opted_out: int = 0  # postings that asked to be left off this target (`boards:`)
    listed: set[str] = field(default_factory=set)  # the posting ids it lists
    holds: list[Hold] = field(default_factory=list)  # kept at their last good version
    refusal: Refusal | None = None  # the guard refused to withdraw these
    selection: TargetListing | None = None  # what it lists, as `syndicate.listing` decided
    # What it rendered from, in the order given to `PullTarget.render` (a daemon serves the
    # target from them, and the cache's fragments, while an edit is not yet written).
    rendered: list[LoadedPosting] = field(default_factory=list)
    context: RenderContext | None = None


@dataclass(slots=True)
class BuildReport:
    """The outcome of a build, per target; ``kept`` says, per held file, what was kept."""

    targets: list[TargetBuild] = field(default_factory=list)
    kept: list[Problem] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        refused = [t.refusal.problem() for t in self.targets if t.refusal is not None]
        return [p for t in self.targets for p in t.left_out] + refused

    @property
    def ok(self) -> bool:
        held = any(t.holds for t in self.targets)
        return not held and not any(p.severity is Severity.ERROR for p in self.problems)


def build(
    settings: Settings,
    postings: LoadResult | Sequence[Posting],
    *,
    now: datetime | None = None,
    only: str | None = None,
    progress: Progress | None = None,
    store: StateStore | None = None,
    lister: Lister | None = None,
    dry_run: bool = False,
) -> BuildReport:
    """Render every enabled pull target (or only the one named ``only``) into ``output``.

    Given a load (`LoadResult`) and the publish state (``store``, or a ``lister`` made with
    one), what each target lists follows `syndicate.listing`: last good versions kept, mass
    closes guarded, and what the targets list remembered.  With the build cache, a target's
    checks and per-posting fragments are taken from it when the posting's content and the
    target's key are unchanged; given a cached load, postings are read back only to render what
    the cache lacks, one at a time, so memory does not grow with their number.  ``dry_run``
    decides what each target lists and reports it, but renders and records nothing.
    """
    now = now or datetime.now(UTC)
    manifest = _Manifest(settings.work_dir / MANIFEST)
    cache = BuildCache.open(settings.cache_dir)
    if isinstance(postings, LoadResult):
        refs: Sequence[LoadedPosting] = postings.files
        if lister is None and store is not None:
            lister = Lister(settings, postings, store, now)
    else:
        refs = PostingList.of(postings).files
    on_air = [ref for ref in refs if ref.is_listed(now, settings.timezone)]
    report = BuildReport()
    try:
        runs: list[_Run] = []
        for target in create_targets(settings):
            if not isinstance(target, PullTarget) or (only and target.name != only):
                continue
            result = TargetBuild(target.name, target.summary)
            report.targets.append(result)
            result.disabled = target.disabled_reason()
            if not result.disabled:
                runs.append(_Run(target, result, CachedChecks(target, cache, prefetch=False)))
        places = Places()
        for index, run in enumerate(runs):
            run.book = _book(run.target, index, lister, places)
        _check(runs, on_air, settings, places)
        files = (
            {f.posting_id: f for f in postings.files} if isinstance(postings, LoadResult) else {}
        )
        for run in runs:
            _number(run, lister, files)
        selections = [_select(lister, run) for run in runs] if lister is not None else []
        if lister is not None:
            report.kept = lister.kept_notes(selections)
        if dry_run:
            for run in runs:
                run.result.included = len(run.accepted)
                run.result.listed = {ref.posting_id for ref in run.accepted}
            return report
        for run in runs:
            run.result.included = len(run.accepted)
            run.result.listed = {ref.posting_id for ref in run.accepted}
            build_time = manifest.build_time(run.target, run.accepted, now)
            numbers = None
            if run.book is not None:
                numbers = {ref.posting_id: run.book.numbers(ref) for ref in run.accepted}
            selection = run.result.selection
            changed = selection.changed_at(now) if selection is not None else None
            context = RenderContext(
                settings=settings, build_time=build_time, references=numbers, changed=changed
            )
            run.context = run.result.context = context
            run.result.rendered = run.accepted
            run.fragments = run.target.fragments = (
                _fragments(run.target, cache, context, settings.output_dir)
                if cache is not None
                else None
            )
        code = code_fingerprint()
        keys = [run.fragments.key for run in runs if run.fragments]
        runs = [run for run in runs if not manifest.still_written(run, code, settings.output_dir)]
        for run in runs:
            run.settled = _settled(run, manifest)
            run.version = _version(run, settings.output_dir)
        _make_ahead(runs, on_air, settings, progress)
        leftovers: dict[str, _Run] = {}
        for run in runs:
            listed = _Counted(run.accepted, run.target.name, progress)
            documents = run.target.render(listed, run.render_context)
            version, run.version = run.version, None
            _write(
                run.target, documents, settings.output_dir, run.result, settings.work_dir, version
            )
            leftovers |= dict.fromkeys(manifest.written(run, code, settings.output_dir), run)
            if progress:
                progress(Step("render", run.target.name), len(run.accepted), len(run.accepted))
        _remove_leftovers(leftovers, report, settings.output_dir)
        manifest.save()
        record_media_types(
            settings.output_dir, {k: v for run in runs for k, v in run.result.media_types.items()}
        )
        for run in runs:
            if run.book is not None:
                run.book.save()
        if lister is not None:
            for selection in selections:
                lister.save(selection)
        if cache is not None and not only and all(isinstance(r, PostingFile) for r in refs):
            cache.prune([*keys, *_push_keys(settings)])
    except BaseException:
        for run in runs:
            if run.version is not None:
                run.version.discard()
        raise
    finally:
        if cache is not None:
            cache.close()
    return report


def _fragments(
    target: PullTarget, cache: BuildCache, context: RenderContext, output: Path
) -> Fragments:
    """What the cache holds of a target's per-posting pieces, its parts that are files of
    their own read from its published folder."""
    variant = functools.partial(target.fragment_variant, context=context)
    fragments = Fragments(target, cache, variant)
    folder = target.folder()
    return fragments.read_files(output / folder) if folder is not None else fragments


def _version(run: _Run, output: Path) -> FolderInPlace | FolderVersion | None:
    """What will write a target's folder, opened before its parts that are files of their own
    are made ahead (they are written into it as they come, not kept in the cache): a new
    version on the folder's first build, the published folder changed in place after it."""
    folder = run.target.folder()
    if folder is None or run.fragments is None or not run.target.filed_parts:
        return None
    root = published_root(output, folder)
    version: FolderInPlace | FolderVersion = (
        FolderInPlace(output, folder, root) if root is not None else FolderVersion(output, folder)
    )
    run.fragments.write_into(version)
    return version


@dataclass(slots=True)
class _Run:
    """One target's part of a build."""

    target: PullTarget
    result: TargetBuild
    checks: CachedChecks
    accepted: list[LoadedPosting] = field(default_factory=list)
    rejected: dict[str, list[Problem]] = field(default_factory=dict)  # errors, by posting id
    context: RenderContext | None = None
    book: ReferenceBook | None = None  # the reference numbers of a target that needs them
    fragments: Fragments | None = None  # what the cache holds of its per-posting pieces
    settled: frozenset[str] = frozenset()  # posting ids whose fragments the last build made
    version: FolderInPlace | FolderVersion | None = None  # its folder's writer, until written

    @property
    def render_context(self) -> RenderContext:
        """`context`, once the build has made it (every run has one before anything renders)."""
        assert self.context is not None
        return self.context


def _number(run: _Run, lister: Lister | None, files: dict[str, PostingFile]) -> None:
    """Give the postings of a target that lists a job once per place their reference numbers;
    two places that would give the same number break the target's rules, all of them."""
    if run.book is None:
        return
    named = functools.partial(_named, files=files)
    collided = run.book.collision_problems(run.accepted, run.target.name, named)
    if not collided:
        return
    run.accepted = [ref for ref in run.accepted if ref.posting_id not in collided]
    for posting_id, problems in collided.items():
        run.rejected[posting_id] = problems
        run.result.left_out.extend(problems)


def _book(
    target: PullTarget, index: int, lister: Lister | None, places: Places
) -> ReferenceBook | None:
    """The reference numbers of a target that lists a job once per place (None for the
    others), each posting's places taken from what the checks sent (``places``, by the
    target's index among the runs) rather than read back."""
    if target.reference_scheme is None:
        return None
    sent = functools.partial(_sent_places, places, index)
    return ReferenceBook.of(target, lister.store if lister is not None else None, sent)


def _sent_places(places: Places, index: int, ref: LoadedPosting) -> list[Spot] | None:
    return places.of(index, ref.content_hash)


def _named(posting_id: str, files: dict[str, PostingFile]) -> str:
    found = files.get(posting_id)
    return f"{posting_id} ({display_path(found.path)})" if found is not None else posting_id


def _select(lister: Lister, run: _Run) -> TargetListing:
    """What the run's target lists: what it accepted, with kept and guarded versions."""
    selection = lister.select(run.target.name, run.accepted, run.rejected, run.checks.problems)
    selection.key = run.checks.key or None  # every posting it lists was checked under it
    run.accepted = selection.listed
    run.result.holds = selection.holds
    run.result.refusal = selection.refusal
    run.result.selection = selection
    return selection


def _check(
    runs: Sequence[_Run], postings: Sequence[LoadedPosting], settings: Settings, places: Places
) -> None:
    """Every target's rules, posting by posting: what the cache lacks made by worker processes
    when there is much (`syndicate.loading.checking`), else here, a posting read back to be
    checked read once for every target.  The reference numbers of each accepted posting are
    given with its window, while the places the workers sent are at hand."""
    for start in range(0, len(postings), WINDOW):
        window = postings[start : start + WINDOW]
        check_ahead([run.checks for run in runs], window, settings, places)
        for ref in window:
            for run in runs:
                found = run.checks.problems(ref)
                if any(p.severity is Severity.OMIT for p in found):
                    run.result.opted_out += 1  # left off on purpose: withdrawn, not rejected
                    continue
                run.result.left_out.extend(found)
                errors = [p for p in found if p.severity is Severity.ERROR]
                if errors:
                    run.rejected[ref.posting_id] = errors
                else:
                    run.accepted.append(ref)
                    if run.book is not None:
                        run.book.numbers(ref)
        places.clear()
    for run in runs:
        run.checks.save()


_Job = tuple[int, str]  # (index of a target's fragment makers, part)


def _make_ahead(
    runs: Sequence[_Run],
    postings: Sequence[LoadedPosting],
    settings: Settings,
    progress: Progress | None = None,
) -> None:
    """Render every fragment the cache lacks before the targets render, each posting read back
    once for all of its fragments of every target; spread over worker processes when there are
    many (`syndicate.parallel`).  Each target's render step starts here and counts the postings
    made for it; it ends when its files are written."""
    chosen = [run for run in runs if run.fragments is not None and run.context is not None]
    todo = _missing(chosen, postings)
    made_for = [0] * len(chosen)
    ticks = [
        ticker(progress, Step("render", run.target.name), len(run.accepted)) for run in chosen
    ]
    for tick, run in zip(ticks, chosen, strict=True):
        if run.accepted:
            tick(0)
    stores = [fragments for run in chosen if (fragments := run.fragments) is not None]
    shipped = [ref.shipped() if isinstance(ref, PostingFile) else None for ref, _ in todo]
    workers = worker_count(settings.workers, len(todo))
    if workers and all(shipped):
        tasks = _render_tasks(chosen, todo, shipped, settings)
        made: Iterator[list[bytes]] = itertools.chain.from_iterable(
            ordered_map(render_in_worker, tasks, workers)
        )
    else:
        makers = [run.target.fragment_makers(run.render_context) for run in chosen]
        made = (_render(makers, ref.posting, jobs) for ref, jobs in todo)
    pieces: dict[_Job, list[tuple[LoadedPosting, bytes]]] = {}
    for count, ((ref, jobs), datas) in enumerate(zip(todo, made, strict=True), start=1):
        for job, data in zip(jobs, datas, strict=True):
            pieces.setdefault(job, []).append((ref, data))
        for index in {job[0] for job in jobs}:
            made_for[index] += 1
            # Never the step's total here: the step is over once the target's files are written.
            total = len(chosen[index].accepted)
            ticks[index](min(made_for[index], total - 1))
        if count % _AHEAD == 0 or count == len(todo):
            for (index, part), items in pieces.items():
                stores[index].store_made(part, items)
            pieces.clear()


def _settled(run: _Run, manifest: _Manifest) -> frozenset[str]:
    """The postings whose fragments the target's last build made, with the same target key,
    from the content it lists now: not looked for in the cache again (one edit then looks for
    one posting's).  Should one be missing after all, the render makes it (`Fragments.each`)."""
    selection = run.result.selection
    entry = manifest.entries.get(run.target.name, {})
    if selection is None or run.fragments is None or entry.get("fragments") != run.fragments.key:
        return frozenset()
    known = selection.known
    return frozenset(
        ref.posting_id
        for ref in run.accepted
        if (listed := known.get(ref.posting_id)) is not None
        and listed.content_hash == ref.content_hash
    )


def _missing(
    runs: Sequence[_Run], postings: Sequence[LoadedPosting]
) -> list[tuple[LoadedPosting, list[_Job]]]:
    """Each posting with the fragments (of the targets that accept it) the cache lacks, but
    for those each run knows settled."""
    accepted = [{id(ref) for ref in run.accepted} for run in runs]
    parts = [
        [(index, part) for part in run.target.fragment_makers(run.render_context)]
        for index, run in enumerate(runs)
    ]
    # Most postings lack the same fragments: one list of jobs each such set, not one per posting
    # (at 100,000 postings, a list and its tuples per posting were tens of megabytes).
    shared: dict[tuple[_Job, ...], list[_Job]] = {}
    todo: list[tuple[LoadedPosting, list[_Job]]] = []
    for start in range(0, len(postings), _AHEAD):
        batch = postings[start : start + _AHEAD]
        jobs: dict[int, list[_Job]] = {}
        for index, run in enumerate(runs):
            fragments = run.fragments
            assert fragments is not None and run.context is not None
            settled = run.settled
            taken = [
                ref for ref in batch if id(ref) in accepted[index] and ref.posting_id not in settled
            ]
            for job in parts[index]:
                for ref in fragments.missing(taken, job[1]) if taken else []:
                    jobs.setdefault(id(ref), []).append(job)
        for ref in batch:
            if (wanted := jobs.get(id(ref))) is not None:
                todo.append((ref, shared.setdefault(tuple(wanted), wanted)))
    return todo


@dataclass(frozen=True, slots=True)
class _RenderTask:
    """Fragments for a worker to render: what it needs to set up the targets, and the postings
    (as `PostingFile.shipped` gives them) with the fragments each lacks."""

    key: str
    settings: Settings
    runs: tuple[tuple[str, datetime], ...]  # target name, build time
    postings: list[tuple[ShippedPosting, list[_Job]]]
    # Per run (as in ``runs``): the reference numbers of these postings and when they last
    # changed, when the run has them.
    references: tuple[dict[str, list[str]] | None, ...] = ()
    changed: tuple[dict[str, datetime] | None, ...] = ()


def _render_tasks(
    runs: Sequence[_Run],
    todo: Sequence[tuple[LoadedPosting, list[_Job]]],
    shipped: Sequence[ShippedPosting | None],
    settings: Settings,
) -> Iterator[_RenderTask]:
    spec = tuple((run.target.name, run.render_context.build_time) for run in runs)
    key = hashlib.sha256(
        f"{settings.model_dump_json()}\0{settings.root}\0{spec}".encode()
    ).hexdigest()
    numbered = [run.render_context.references for run in runs]
    dated = [run.render_context.changed for run in runs]
    for start in range(0, len(todo), _TASK):
        chunk = [
            (posting, todo[i][1])
            for i in range(start, min(start + _TASK, len(todo)))
            if (posting := shipped[i]) is not None  # the caller ships only when all are
        ]
        ids = [todo[i][0].posting_id for i in range(start, min(start + _TASK, len(todo)))]
        references = tuple(
            None if known is None else {pid: list(known[pid]) for pid in ids if pid in known}
            for known in numbered
        )
        changed = tuple(
            None if known is None else {pid: known[pid] for pid in ids if pid in known}
            for known in dated
        )
        yield _RenderTask(key, settings, spec, chunk, references, changed)


_Makers = list[dict[str, Callable[[Posting], bytes]]]
_Known = tuple[list[dict[str, list[str]]], list[dict[str, datetime]]]
_worker_setup: dict[str, tuple[_Makers, PostingReader, _Known]] = {}


def render_in_worker(task: _RenderTask) -> list[list[bytes]]:
    """In a worker process: every fragment the task asks for, posting by posting."""
    if task.key not in _worker_setup:
        _worker_setup.clear()
        settings = task.settings
        targets = {
            target.name: target
            for target in create_targets(settings)
            if isinstance(target, PullTarget)
        }
        # Mappings per run, refilled for each task with its postings' reference numbers and
        # change times.
        numbers: list[dict[str, list[str]]] = [{} for _ in task.runs]
        dates: list[dict[str, datetime]] = [{} for _ in task.runs]
        makers = [
            targets[name].fragment_makers(
                RenderContext(settings=settings, build_time=when, references=known, changed=changed)
            )
            for (name, when), known, changed in zip(task.runs, numbers, dates, strict=True)
        ]
        reader = PostingReader(settings.cache_dir, settings.timezone)
        _worker_setup[task.key] = (makers, reader, (numbers, dates))
    makers, reader, (numbers, dates) = _worker_setup[task.key]
    _refill(numbers, task.references)
    _refill(dates, task.changed)
    return [_render(makers, reader.posting(shipped), jobs) for shipped, jobs in task.postings]


def _refill(mappings: Sequence[dict[str, Any]], given: Sequence[dict[str, Any] | None]) -> None:
    """Replace each run's mapping by what a task gives for its postings."""
    for known, values in zip(mappings, given or [None] * len(mappings), strict=True):
        known.clear()
        known.update(values or {})


def _render(
    makers: Sequence[dict[str, Callable[[Posting], bytes]]], posting: Posting, jobs: list[_Job]
) -> list[bytes]:
    """The fragments ``jobs`` names, of one posting read back once for all of them."""
    return [makers[index][part](posting) for index, part in jobs]


def _push_keys(settings: Settings) -> list[str]:
    # Publishing checks push targets with the same cache: their results are kept too.
    return [target_key(t) for t in create_targets(settings) if not isinstance(t, PullTarget)]


def _write(
    target: PullTarget,
    documents: Iterable[Document],
    output: Path,
    result: TargetBuild,
    work_dir: Path,
    version: FolderInPlace | FolderVersion | None = None,
) -> None:
    """Write a target's documents: each file atomically, without an fsync (the cache and the
    state make it again), a document made of pieces from its previous file's byte ranges
    (`syndicate.splice`); a folder in place once it is published (`syndicate.inplace`), else as
    a new version (the one given, which holds the pages written ahead)."""
    folder = target.folder()
    if folder is None:
        layouts = work_dir / LAYOUTS
        for document in _noted(documents, result):
            path = output / document.path
            if document.pieces is not None:
                written = write_pieces(path, document.pieces(), layouts / _layout_name(document))
            else:
                written = write_atomic(path, document.chunks, durable=False)
            result.changed += written.changed
        return
    root = published_root(output, folder)
    writer: FolderInPlace | FolderVersion
    if version is not None:
        writer = version
    elif root is not None:
        writer = FolderInPlace(output, folder, root)
    else:
        writer = FolderVersion(output, folder)
    layouts = work_dir / LAYOUTS
    try:
        for document in _noted(documents, result):
            relative = str(Path(document.path).relative_to(folder))
            chunks, identity, pieces = _named_chunks(document)
            if pieces is not None and isinstance(writer, FolderInPlace):
                writer.write_pieces(relative, pieces, layouts / _layout_name(document))
            elif pieces is not None and isinstance(writer, FolderVersion):
                noting = Noting(pieces)  # a new version: written whole, its layout noted
                made = writer.write(relative, noting)
                if noting.done:
                    record_layout(made.path, layouts / _layout_name(document), noting.made)
            else:
                writer.write(relative, chunks, identity)
    except BaseException:
        writer.discard()
        raise
    if isinstance(writer, FolderInPlace):
        result.changed += writer.finish()
        return
    result.changed += writer.publish()
    published = published_root(output, folder)
    if published is not None:
        save_record(output, folder, published, writer.identities)


LAYOUTS = "layouts"  # in the work folder: where each spliced file's pieces lie


def _layout_name(document: Document) -> str:
    return hashlib.sha256(document.path.encode()).hexdigest()[:24] + ".json"


def _named_chunks(
    document: Document,
) -> tuple[Iterable[bytes], str | None, Iterable[bytes | Piece] | None]:
    """A document that is one named piece (a job's page) gives its name, its bytes read only
    when written; one of several pieces (the careers index) its pieces; any other its
    chunks."""
    if document.pieces is None:
        return document.chunks, None, None
    pieces = iter(document.pieces())
    first = list(itertools.islice(pieces, 2))
    if len(first) == 1 and isinstance(first[0], Piece):
        return resolved(first), first[0].identity, None
    return document.chunks, None, itertools.chain(first, pieces)


def _noted(documents: Iterable[Document], result: TargetBuild) -> Iterator[Document]:
    """The documents, each noted in ``result`` with its media type as it passes."""
    for document in documents:
        result.files.append(document.path)
        result.media_types[PurePosixPath(document.path).suffix.lower()] = document.media_type
        yield document


class _Manifest:
    """Per target: a digest of what it rendered from, and the build time of that content."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.entries: dict[str, dict[str, Any]] = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            self.entries = {}

    def build_time(
        self, target: Target, postings: Sequence[LoadedPosting], now: datetime
    ) -> datetime:
        digest = hashlib.sha256(target.rendered_from().encode())
        for posting in postings:
            digest.update(posting.content_hash.encode())
        entry = self.entries.get(target.name, {})
        if entry.get("digest") == digest.hexdigest() and "build_time" in entry:
            return datetime.fromisoformat(entry["build_time"])
        # In place: what else the entry records (the fragments' key, what it wrote: `written`
        # removes the files it no longer writes) outlives the content.
        entry = self.entries.setdefault(target.name, {})
        entry.update(digest=digest.hexdigest(), build_time=now.isoformat())
        return now

    def still_written(self, run: _Run, code: str, output: Path) -> bool:
        """True when the target's output is what this build would write: rendered from the
        same content by the same code, and not touched since (same inode, size and mtime; the
        same version of a folder).  The run's result is then filled in from the record."""
        entry = self.entries.get(run.target.name, {})
        written = entry.get("written")
        if not isinstance(written, dict) or written.get("key") != _written_key(entry, code):
            return False
        if _stamps(run.target, output, written.get("files", [])) != written.get("stamps"):
            return False
        run.result.files = list(written["files"])
        return True

    def written(self, run: _Run, code: str, output: Path) -> list[str]:
        """Record what the target wrote, for `still_written` next time; the files it wrote
        last time and not this time (a split feed now in fewer parts)."""
        entry = self.entries.setdefault(run.target.name, {})
        before = entry.get("written", {}).get("files", [])
        now = set(run.result.files)  # a set: a careers site lists 100,000 files
        left = [name for name in before if isinstance(name, str) and name not in now]
        entry["fragments"] = run.fragments.key if run.fragments is not None else None
        entry["written"] = {
            "key": _written_key(entry, code),
            "files": run.result.files,
            "stamps": _stamps(run.target, output, run.result.files),
        }
        return left if run.target.folder() is None else []  # a folder is replaced whole

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, [json.dumps(self.entries, indent=2, sort_keys=True).encode()])


def _remove_leftovers(leftovers: dict[str, _Run], report: BuildReport, output: Path) -> None:
    """Remove the files a target wrote in an earlier build and not in this one, unless some
    target wrote or kept it this time: only files the manifest says the target wrote, only
    regular files inside ``output``."""
    current = {name for result in report.targets for name in result.files}
    root = output.resolve()
    for name, run in leftovers.items():
        path = output / name
        if name in current or path.is_symlink() or not path.is_file():
            continue
        if not path.resolve().is_relative_to(root):
            continue
        path.unlink()
        run.result.changed += 1


def _written_key(entry: dict[str, Any], code: str) -> str:
    # The boot too: outputs are renamed into place without an fsync, so after the machine
    # restarts none is trusted to hold what the manifest says until it is written again.
    return hashlib.sha256(f"{entry.get('digest')}\0{code}\0{boot_id()}".encode()).hexdigest()


def _stamps(target: PullTarget, output: Path, files: Sequence[str]) -> Any:
    """What tells that a target's output was not touched: each file's inode, size and mtime, or
    the version a folder's link points to (its files are syndicate's own)."""
    folder = target.folder()
    try:
        if folder is not None:
            return os.readlink(output / folder)
        stamps = []
        for name in files:
            stat = os.stat(output / name)
            stamps.append([stat.st_ino, stat.st_size, stat.st_mtime_ns])
        return stamps
    except OSError:
        return None
