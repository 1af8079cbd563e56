"""postings/**/*.md → validated `Posting`s, with every problem located at ``file:line: field``.

All files are read and all problems collected: one bad file never hides another.  A file that
fails to load is remembered in ``LoadResult.failed`` (with its id when it could be read) so that
publishing can leave what it published untouched rather than withdraw it.

The package, one job per module: `.discover` (the posting files below a folder, and the paths
messages show), `.parse` (one file's front matter and body → a `Posting`, problems located),
`.files` (`PostingFile`, `LoadResult`, loading given files), `.cached` (the same with the build
cache: unchanged files not read again, postings read back when asked for), `.project` (a
folder's or a project's postings), `.checking` (the rule checks the cache lacks, made by the
worker processes for a build).  What the rest of syndicate uses is named here.
"""

from __future__ import annotations

from syndicate.loading.cached import PostingReader
from syndicate.loading.discover import display_path, find_posting_files
from syndicate.loading.files import (
    LoadResult,
    PostingFile,
    ShippedPosting,
    line_in,
    load_file,
    load_files,
)
from syndicate.loading.parse import FRONT_MATTER_FENCE, split_front_matter
from syndicate.loading.project import load_postings, load_project

__all__ = [
    "FRONT_MATTER_FENCE",
    "LoadResult",
    "PostingFile",
    "PostingReader",
    "ShippedPosting",
    "display_path",
    "find_posting_files",
    "line_in",
    "load_file",
    "load_files",
    "load_postings",
    "load_project",
    "split_front_matter",
]
