"""Finding the posting files below a folder, and the paths that messages show."""

from __future__ import annotations

import os
from pathlib import Path

from syndicate.errors import InputError


def display_path(path: Path) -> Path:
    """``path`` relative to the working directory when it is below it (shorter messages)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def find_posting_files(folder: Path) -> list[Path]:
    """Every ``*.md`` below ``folder``, sorted, hidden folders skipped."""
    return [Path(name) for name in posting_file_names(folder)]


def posting_file_names(folder: Path) -> list[str]:
    """`find_posting_files` as text, in the same order (by path part, as paths sort)."""
    if not folder.is_dir():
        raise InputError("the postings folder does not exist", file=display_path(folder))
    found: list[str] = []
    _collect_posting_files(os.fspath(folder), found)
    return found


def _collect_posting_files(directory: str, found: list[str]) -> None:
    """Append the ``*.md`` files below ``directory`` to ``found``, depth first with the names
    of each folder sorted: the order of sorting the paths part by part.  Hidden files and
    folders are skipped, and symbolic links to folders not followed (as `os.walk` does)."""
    prefix = directory if directory.endswith(os.sep) else directory + os.sep
    with os.scandir(directory) as entries:
        listed = sorted(
            (entry.name, entry.is_dir() and not entry.is_symlink(), entry.is_dir())
            for entry in entries
            if not entry.name.startswith(".")
        )
    for name, descend, is_folder in listed:
        if descend:
            _collect_posting_files(prefix + name, found)
        elif not is_folder and name.endswith(".md"):
            found.append(prefix + name)
