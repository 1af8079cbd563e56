"""Which revision of the postings a checkout holds, and whether it is older than another's.

A checkout whose postings folder is in a clean git work tree is at its ``HEAD`` commit (ordered
by git's history: an ancestor is older); any other folder is at the digest of what it loaded
(every file's path and content hash), ordered by the newest modification time of its files.
Daemons sharing a state record the revision each plan was made from
(`syndicate.state.coordination.CoordinationStore.record_plan`), and one whose checkout is older
than the last plan does not plan over it.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from syndicate.loading import LoadResult

_GIT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Revision:
    """A revision of the postings: ``kind`` git (``value`` a commit) or digest."""

    kind: str
    value: str
    time: datetime  # the commit's time, or the newest file change

    def __str__(self) -> str:
        return f"{self.kind} {self.value[:12]}"


def revision_of(folder: Path, loaded: LoadResult) -> Revision:
    """The revision of the postings in ``folder`` as loaded."""
    commit = _git(folder, "rev-parse", "HEAD")
    if commit and not _git(folder, "status", "--porcelain", "--", "."):
        seconds = _git(folder, "log", "-1", "--format=%ct", commit)
        when = datetime.fromtimestamp(int(seconds or 0), UTC)
        return Revision("git", commit, when)
    digest = hashlib.sha256()
    for path, content_hash in sorted((str(f.path), f.content_hash) for f in loaded.files):
        digest.update(f"{path}\0{content_hash}\n".encode())
    for failed in sorted(str(path) for path in loaded.failed):
        digest.update(f"{failed}\0failed\n".encode())
    return Revision("digest", digest.hexdigest()[:40], _newest_change(folder))


def is_older(mine: Revision, theirs: Revision, folder: Path) -> bool:
    """Whether ``mine`` is older than ``theirs`` (the same revision is not)."""
    if mine.value == theirs.value:
        return False
    if mine.kind == theirs.kind == "git" and _git_ok(folder, "cat-file", "-e", theirs.value):
        return _git_ok(folder, "merge-base", "--is-ancestor", mine.value, theirs.value)
    return mine.time < theirs.time


def _newest_change(folder: Path) -> datetime:
    newest = max((p.stat().st_mtime for p in folder.rglob("*") if p.is_file()), default=0.0)
    return datetime.fromtimestamp(newest, UTC)


def _git(folder: Path, *args: str) -> str | None:
    """git's output in ``folder`` (stripped), or None when git fails or is absent."""
    try:
        result = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _git_ok(folder: Path, *args: str) -> bool:
    return _git(folder, *args) is not None
