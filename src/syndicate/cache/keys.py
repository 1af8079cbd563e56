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
    from syndicate.adapters.base import PushTarget, Target


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


def setup_digest(target: PushTarget) -> bytes:
    """What besides the posting may decide a push target's payloads: its options, the settings
    it renders from (job URLs included), and syndicate's own code.  When it changes, every
    payload is built again and compared with what the target was sent; only those that differ
    are sent."""
    return hashlib.sha256(target.rendered_from().encode() + code_fingerprint().encode()).digest()


def version_of(content_hash: str, setup: bytes) -> str:
    """The version of a posting (by its content hash) as a target of that `setup_digest`
    receives it: what its delivery records once the target accepts it."""
    return hashlib.sha256(content_hash.encode() + setup).hexdigest()
