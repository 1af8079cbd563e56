"""The digests that decide whether a cached result still holds: syndicate's code, and a
target's key (`Target.rendered_from`: its type, options and templates, and the settings it
renders from)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from syndicate import __version__
from syndicate.cache.store import FORMAT

if TYPE_CHECKING:
    from syndicate.adapters.base import Target


@cache
def code_fingerprint() -> str:
    """A digest of syndicate's version and the source of every module of the package.

    Part of every key: output cached by other code is never reused, whatever changed in it.
    """
    root = Path(__file__).resolve().parents[1]  # the syndicate package
    digest = hashlib.sha256(f"{__version__}\0{FORMAT}\0".encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def target_key(target: Target) -> str:
    """What besides a posting decides what ``target`` makes of it (`Target.rendered_from`),
    with the code, as one digest."""
    digest = hashlib.sha256(code_fingerprint().encode())
    digest.update(target.rendered_from().encode())
    return digest.hexdigest()
