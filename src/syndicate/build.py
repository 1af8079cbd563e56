"""Build: render every enabled pull target into ``output``, atomically.

Which postings a target gets: those listed now (open, not past ``valid_through``) that pass the
target's rules.  A posting that breaks a rule is left out of that target only, and the problem is
reported.  Each target's build time (Indeed's ``lastBuildDate``, Atom's ``updated``) moves only
when what it renders from changes, using a small manifest in ``.syndicate/``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from syndicate.adapters import Document, PullTarget, RenderContext, Target, create_targets
from syndicate.config import Settings
from syndicate.errors import Problem, Severity
from syndicate.model import Posting
from syndicate.output import FolderVersion, write_atomic

MANIFEST = "build.json"
# The settings that can change what a target renders (a change moves its build time).
_RENDERED_SETTINGS = {"organization", "site", "timezone", "targets"}
Progress = Callable[[str, int], None]


@dataclass(slots=True)
class TargetBuild:
    """What one target's build included, left out, and wrote."""

    name: str
    summary: str
    included: int = 0
    left_out: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    changed: int = 0
    disabled: str | None = None


@dataclass(slots=True)
class BuildReport:
    """The outcome of a build, per target."""

    targets: list[TargetBuild] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [p for t in self.targets for p in t.left_out]

    @property
    def ok(self) -> bool:
        return not any(p.severity is Severity.ERROR for p in self.problems)


def listed(postings: Iterable[Posting], now: datetime, settings: Settings) -> list[Posting]:
    """The postings that should be on the boards at ``now``: open and not expired."""
    return [p for p in postings if p.is_listed(now, settings.timezone)]


def select(target: Target, postings: Iterable[Posting]) -> tuple[list[Posting], list[Problem]]:
    """Split listed postings into those ``target`` accepts and the problems of the others.

    Warnings are reported but do not leave a posting out.
    """
    accepted: list[Posting] = []
    problems: list[Problem] = []
    for posting in postings:
        found = target.check(posting)
        problems.extend(found)
        if not any(p.severity is Severity.ERROR for p in found):
            accepted.append(posting)
    return accepted, problems


def build(
    settings: Settings,
    postings: list[Posting],
    *,
    now: datetime | None = None,
    only: str | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Render every enabled pull target (or only the one named ``only``) into ``output``."""
    now = now or datetime.now(UTC)
    manifest = _Manifest(settings.work_dir / MANIFEST)
    on_air = listed(postings, now, settings)
    report = BuildReport()
    for target in create_targets(settings):
        if not isinstance(target, PullTarget) or (only and target.name != only):
            continue
        result = TargetBuild(target.name, target.summary)
        report.targets.append(result)
        result.disabled = target.disabled_reason()
        if result.disabled:
            continue
        accepted, result.left_out = select(target, on_air)
        result.included = len(accepted)
        build_time = manifest.build_time(target, accepted, now)
        context = RenderContext(settings=settings, build_time=build_time)
        counted = _counting(accepted, target.name, progress)
        _write(target, target.render(counted, context), settings.output_dir, result)
    manifest.save()
    return report


def _write(
    target: PullTarget, documents: Iterable[Document], output: Path, result: TargetBuild
) -> None:
    folder = target.folder()
    if folder is None:
        for document in documents:
            written = write_atomic(output / document.path, document.chunks)
            result.files.append(document.path)
            result.changed += written.changed
        return
    version = FolderVersion(output, folder)
    try:
        for document in documents:
            relative = Path(document.path).relative_to(folder)
            version.write(str(relative), document.chunks)
            result.files.append(document.path)
    except BaseException:
        version.discard()
        raise
    result.changed += version.publish()


def _counting(postings: list[Posting], name: str, progress: Progress | None) -> Iterator[Posting]:
    """Yield ``postings``, telling ``progress`` how many were rendered every hundred."""
    for done, posting in enumerate(postings, start=1):
        yield posting
        if progress and (done % 100 == 0 or done == len(postings)):
            progress(name, done)


class _Manifest:
    """Per target: a digest of what it rendered from, and the build time of that content."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.entries: dict[str, dict[str, str]] = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            self.entries = {}

    def build_time(self, target: Target, postings: list[Posting], now: datetime) -> datetime:
        digest = hashlib.sha256(target.fingerprint().encode())
        # Not only the target's own options: the careers folder decides every job URL, and the
        # timezone every local date, so any target's options and the timezone count too.
        digest.update(target.settings.model_dump_json(include=_RENDERED_SETTINGS).encode())
        for posting in postings:
            digest.update(posting.content_hash.encode())
        entry = self.entries.get(target.name, {})
        if entry.get("digest") == digest.hexdigest() and "build_time" in entry:
            return datetime.fromisoformat(entry["build_time"])
        self.entries[target.name] = {"digest": digest.hexdigest(), "build_time": now.isoformat()}
        return now

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, [json.dumps(self.entries, indent=2, sort_keys=True).encode()])
