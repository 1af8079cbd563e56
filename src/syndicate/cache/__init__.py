"""The build cache: what loading and rendering found last time, so unchanged work is not redone.

Kept where the configuration says (`syndicate.config.Settings.cache_dir`: beside the publish
state by default, whatever folder the postings are in), in ``cache.db``: a SQLite database
(WAL mode) holding, per posting file, its stat and digest with the posting it parsed into, and
per target, the checks and the rendered fragments of each posting, keyed by the posting's
content hash and by a *target key* that changes whenever anything else that decides the output
changes (the target's options and templates, the settings it renders from, and syndicate's own
code).

Why SQLite rather than files: a hundred thousand postings make several hundred thousand entries,
which as files would cost an inode and a directory entry each and a rename to replace safely;
in SQLite an entry is a row, many are written in one transaction, a process killed in the middle
of one leaves the previous state, and any number of readers (two builds, a daemon and a CLI) work
beside one writer, the others waiting for it through the busy timeout.

The cache is never the only copy of anything: every read that fails (a missing, corrupt or
outdated entry, a database that cannot be opened) is a miss, and the caller parses or renders
again.  A database that is not one (or a newer format) is set aside and started afresh.

The package, one job per module: `.store` (the SQLite database: parsed files, postings, checks
and fragments by key), `.keys` (the digests that decide when a cached result still holds:
the code and a target's key), `.checks` and `.fragments` (one target's rule checks and
rendered pieces, read from the store where it has them).
"""

from __future__ import annotations

from syndicate.cache.checks import CLEAN, CachedChecks, encode_problems
from syndicate.cache.fragments import Fragments
from syndicate.cache.keys import code_fingerprint, setup_digest, target_key, version_of
from syndicate.cache.store import (
    BATCH,
    CACHE_DIR,
    DATABASE,
    FORMAT,
    BuildCache,
    FileEntry,
    ParsedFile,
    lines_json,
    read_lines,
)

__all__ = [
    "BATCH",
    "CACHE_DIR",
    "CLEAN",
    "DATABASE",
    "FORMAT",
    "BuildCache",
    "CachedChecks",
    "FileEntry",
    "Fragments",
    "ParsedFile",
    "code_fingerprint",
    "encode_problems",
    "lines_json",
    "read_lines",
    "setup_digest",
    "target_key",
    "version_of",
]
