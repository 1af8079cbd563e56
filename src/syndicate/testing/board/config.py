"""`BoardConfig`: everything a local board is set up with, in one place."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Literal

DEFAULT_TOKEN = "test-token-9f3c2a71d8"
DEFAULT_HOOK_SECRET = "test-hook-secret-4b7e19c0"
HookSignatures = Literal["standard", "legacy", "both"]


@dataclass(frozen=True, slots=True)
class BoardConfig:
    """How a local board authenticates, answers and paces itself.

    ``token`` is the bearer token of the jobs API (and of the indexing API unless
    ``indexing_token`` is given), ``hook_secret`` the webhook's signing secret, ``latency``
    seconds added to every API answer.  ``reject_duplicate_creates=False`` makes the board apply
    a CREATE of an existing id again (counted in ``Job.creates``), as careless boards do.

    Webhooks (see `syndicate.testing.board.hooks`): ``hook_secret`` is raw (its UTF-8 bytes are
    the key) or ``whsec_<base64>``; ``hook_previous_secret`` a second secret whose Standard
    Webhooks signatures are accepted too (key rotation).  ``hook_signatures`` says which
    signatures the board accepts: ``standard`` (the default: the three ``webhook-*`` headers are
    required), ``legacy`` (``X-Syndicate-Signature`` is required) or ``both`` (either).
    ``hook_tolerance`` is how many seconds a ``webhook-timestamp`` may be off ``clock``, the
    board's unix time, which tests replace to move the board in time.
    """

    token: str = DEFAULT_TOKEN
    hook_secret: str = DEFAULT_HOOK_SECRET
    indexing_token: str | None = None
    latency: float = 0.0
    reject_duplicate_creates: bool = True
    hook_previous_secret: str | None = None
    hook_signatures: HookSignatures = "standard"
    hook_tolerance: float = 300.0  # seconds, as the reference libraries use
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        if self.hook_signatures not in ("standard", "legacy", "both"):
            raise ValueError(
                f"hook_signatures must be standard, legacy or both, not {self.hook_signatures!r}"
            )

    @property
    def indexing_bearer(self) -> str:
        """The bearer token the indexing API expects."""
        return self.indexing_token if self.indexing_token is not None else self.token

    @classmethod
    def of(cls, **options: Any) -> BoardConfig:
        """A config from keyword options (unknown ones are a TypeError, as for a call)."""
        known = {f.name for f in fields(cls)}
        unknown = set(options) - known
        if unknown:
            raise TypeError(f"unknown board options: {', '.join(sorted(unknown))}")
        return cls(**options)
