"""Loading a folder of postings, or a project's: with the build cache when there is one."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from syndicate.cache import BuildCache
from syndicate.loading.cached import load_cached
from syndicate.loading.discover import display_path, find_posting_files, posting_file_names
from syndicate.loading.files import LoadResult, load_files
from syndicate.progress import Progress, Step, ticker

if TYPE_CHECKING:
    from syndicate.config import Settings


def load_project(settings: Settings, *, progress: Progress | None = None) -> LoadResult:
    """Load the postings of a configuration, with its build cache (`Settings.cache_dir`,
    wherever the postings folder is) and its ``workers``."""
    cache = BuildCache.open(settings.cache_dir)
    return load_postings(
        settings.postings_dir,
        settings.timezone,
        cache=cache,
        workers=settings.workers,
        progress=progress,
    )


def load_postings(
    folder: Path,
    timezone: tzinfo,
    *,
    cache: BuildCache | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> LoadResult:
    """Load every posting file below ``folder``.

    ``cache``: the build cache to read unchanged files from and remember parsed ones in (None:
    parse every file; `load_project` gives a configuration's own).  ``workers``: the
    ``workers`` setting; with a cache, many files to parse are parsed by worker processes
    (`syndicate.parallel`).  ``progress`` is told how many files are loaded
    (`syndicate.progress`), as the step ``load`` of the folder.
    """
    step = Step("load", display_path(folder).as_posix())
    if cache is None:
        paths = find_posting_files(folder)
        return load_files(paths, timezone, tick=ticker(progress, step, len(paths)))
    names = posting_file_names(folder)
    return load_cached(
        names,
        timezone,
        cache,
        forget_under=folder,
        workers=workers,
        tick=ticker(progress, step, len(names)),
    )
