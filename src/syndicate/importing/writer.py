"""Canonical posting files from drafts: YAML front matter in the model's field order, then the
description in Markdown.

The file is meant to be read and finished by a person: it says where it came from, every note
on a field sits just above that field, and a required field the source did not state is there
as a commented line to fill in, so ``syndicate validate`` and the eye both find it.

A new file is created without ever replacing one that appeared meanwhile (written beside it,
then hard-linked into place); ``--force`` replaces files atomically (`output.write_atomic`).
"""

from __future__ import annotations

import os
import re
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from syndicate.errors import Problem
from syndicate.importing.base import Draft
from syndicate.model import Posting, Remote
from syndicate.output import write_atomic

_WIDTH = 98
_FRONT_MATTER_ID = re.compile(r"""^id:\s*["']?([a-z0-9_.-]{1,75})["']?\s*(?:#.*)?$""", re.M)


@dataclass(frozen=True, slots=True)
class PostingText:
    """A posting file's text, and the line of each top-level field in it."""

    text: str
    lines: dict[str, int]
    body_line: int


def required_fields() -> list[str]:
    """The fields a posting cannot do without (from the model)."""
    return [
        name
        for name, info in Posting.model_fields.items()
        if info.is_required() and name != "description"
    ]


def posting_text(draft: Draft, header: list[str]) -> PostingText:
    """The posting file for ``draft``: front matter in the model's order, notes as comments."""
    out: list[str] = ["---"]
    for line in header:
        out.extend(_comment(line))
    by_field: dict[str | None, list[Problem]] = {}
    for note in draft.notes:
        by_field.setdefault(_head(note.field), []).append(note)
    for note in by_field.pop(None, []):
        out.extend(_comment(note.message))
    lines: dict[str, int] = {}
    required = required_fields()
    for name in Posting.model_fields:
        if name == "description":
            continue
        for note in by_field.pop(name, []):
            out.extend(_comment(f"{name}: {note.message}"))
        if draft.has(name):
            lines[name] = len(out) + 1
            out.extend(_yaml_field(name, draft.fields[name]).split("\n"))
        elif name in draft.offers:
            lines[name] = len(out) + 1
            out.extend("# " + line for line in _yaml_field(name, draft.offers[name]).split("\n"))
        elif name in required or _needed(draft, name):
            lines[name] = len(out) + 1
            out.append(f"# {name}:   (to fill in: the source does not say)")
    for field, notes in by_field.items():
        for note in notes:
            out.extend(_comment(f"{field}: {note.message}"))
    out.append("---")
    body_line = len(out) + 1
    description = str(draft.fields.get("description") or "")
    return PostingText("\n".join(out) + "\n" + description, lines, body_line)


def _needed(draft: Draft, name: str) -> bool:
    remote = draft.fields.get("remote", str(Remote.ONSITE))
    if name == "locations":
        return remote != Remote.REMOTE
    if name == "applicant_locations":
        return remote == Remote.REMOTE
    return False


def _head(field: str | None) -> str | None:
    if not field:
        return None
    head = field.split(".", 1)[0].split("[", 1)[0]
    return head if head in Posting.model_fields else None


def _comment(text: str) -> list[str]:
    flat = " ".join(text.split())
    return ["# " + line for line in textwrap.wrap(flat, _WIDTH - 2, break_long_words=False)]


def _yaml_field(name: str, value: Any) -> str:
    """``name: value``; a list of mappings (locations) as one flow mapping per line."""
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return f"{name}:\n" + "\n".join(f"  - {_flow(item)}" for item in value)
    return f"{name}: {_flow(value)}"


def _flow(value: Any) -> str:
    dumped = yaml.safe_dump(
        value, allow_unicode=True, sort_keys=False, default_flow_style=True, width=10**6
    )
    first, *rest = dumped.removesuffix("\n").removesuffix("\n...").strip().split("\n")
    # A scalar folded over lines continues indented, never at the start of a line (where a
    # "---" would end the front matter).
    return "\n".join([first, *("  " + line for line in rest)])


def existing_ids(folder: Path) -> dict[str, Path]:
    """The id of every posting file under ``folder``, read from its front matter's ``id:``."""
    found: dict[str, Path] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.rglob("*.md")):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        try:
            head = path.read_bytes()[:16384].decode("utf-8", "replace")
        except OSError:
            continue
        front = head.split("\n---", 1)[0] if head.startswith("---") else ""
        match = _FRONT_MATTER_ID.search(front)
        if match:
            found.setdefault(match[1], path)
    return found


def write_new(path: Path, text: str) -> None:
    """Create ``path`` with ``text``; raises `FileExistsError` rather than replace a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        try:
            os.link(temp, path)  # fails if the file exists, unlike a rename
        except FileExistsError:
            raise
        except OSError:
            # No hard links here (some network and FUSE file systems): create it exclusively.
            with path.open("xb") as handle:
                handle.write(text.encode("utf-8"))
    finally:
        temp.unlink(missing_ok=True)


def replace_file(path: Path, text: str) -> bool:
    """Write ``path`` atomically (``--force``); False when it already held exactly ``text``."""
    return write_atomic(path, [text.encode("utf-8")]).changed
