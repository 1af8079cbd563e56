"""`BoardConfig`: everything a local board is set up with, in one place."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

DEFAULT_TOKEN = "test-token-9f3c2a71d8"
DEFAULT_HOOK_SECRET = "test-hook-secret-4b7e19c0"


@dataclass(frozen=True, slots=True)
class BoardConfig:
    """How a local board authenticates, answers and paces itself.

    ``token`` is the bearer token of the jobs API (and of the indexing API unless
    ``indexing_token`` is given), ``hook_secret`` the webhook's signing secret, ``latency``
    seconds added to every API answer.  ``reject_duplicate_creates=False`` makes the board apply
    a CREATE of an existing id again (counted in ``Job.creates``), as careless boards do.
    """

    token: str = DEFAULT_TOKEN
    hook_secret: str = DEFAULT_HOOK_SECRET
    indexing_token: str | None = None
    latency: float = 0.0
    reject_duplicate_creates: bool = True

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
