"""A load brought up to date with a few edited files, without looking at the others.

The daemon's watcher says which files changed; reading those alone (and their cache entries)
keeps an edit's cost independent of how many postings there are.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import tzinfo
from pathlib import Path

from syndicate.loading.cached import load_cached
from syndicate.loading.files import LoadResult, PostingFile


def reload_edited(
    loaded: LoadResult, paths: Iterable[Path], timezone: tzinfo
) -> tuple[LoadResult, list[PostingFile]]:
    """``loaded`` with the files at ``paths`` read again, and the postings that changed.

    Only a file that ``loaded`` holds, that still loads, under the same posting id, is taken:
    anything else (a new or deleted file, one that fails to load, a changed id) is left as it
    was, for a whole load to decide.  Without the build cache nothing is taken.
    """
    if loaded.cache is None:
        return loaded, []
    index = indexed(loaded)
    asked = sorted({os.path.abspath(p) for p in paths} & index.keys())
    # As the load named them, so that the reloaded files keep their paths.
    wanted = [loaded.files[index[path]].source_path for path in asked if os.path.isfile(path)]
    if not wanted:
        return loaded, []
    again = load_cached(wanted, timezone, loaded.cache, forget_under=None, workers=0)
    files = list(loaded.files)
    edited: list[PostingFile] = []
    for fresh in again.files:
        at = index[os.path.abspath(fresh.source_path)]
        before = files[at]
        if fresh.posting_id != before.posting_id or fresh.content_hash == before.content_hash:
            continue
        files[at] = fresh
        edited.append(fresh)
    if not edited:
        return loaded, []
    # The same paths and ids: what was worked out from them still holds.
    result = LoadResult(
        files, loaded.problems, loaded.failed, loaded.cache, loaded.source_keys, index
    )
    return result, edited


def indexed(loaded: LoadResult) -> dict[str, int]:
    """Each file's index in ``loaded.files`` by its absolute path (worked out once)."""
    if loaded.path_index is None:
        loaded.path_index = {os.path.abspath(f.source_path): i for i, f in enumerate(loaded.files)}
    return loaded.path_index
