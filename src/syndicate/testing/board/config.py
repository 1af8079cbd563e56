"""`BoardConfig`: everything a local board is set up with, in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

DEFAULT_TOKEN = "test-token-9f3c2a71d8"
DEFAULT_HOOK_SECRET = "test-hook-secret-4b7e19c0"


@dataclass(frozen=True, slots=True)
class BoardConfig:
    """How a local board authenticates, answers and paces itself.

    ``token`` is the bearer token of the jobs API (and of the indexing API unless
    ``indexing_token`` is given), ``hook_secret`` the webhook's signing secret, ``latency``
    seconds added to every API answer.  ``reject_duplicate_creates=False`` makes the board apply
    a CREATE of an existing id again (counted in ``Job.creates``), as careless boards do.

    The indexing API also accepts the access tokens its token endpoint issues to the service
    accounts in ``service_accounts`` (``client_email`` → the RSA public key, PEM), which live
    ``token_lifetime`` seconds; it accepts ``indexing_daily_quota`` notifications per Pacific
    day, and answers a batch's parts in the order ``batch_answer_order`` says (Google may answer
    in any order: ``reversed`` makes clients prove they map answers by Content-ID).
    """

    token: str = DEFAULT_TOKEN
    hook_secret: str = DEFAULT_HOOK_SECRET
    indexing_token: str | None = None
    latency: float = 0.0
    reject_duplicate_creates: bool = True
    service_accounts: Mapping[str, str] = field(default_factory=dict)
    token_lifetime: float = 3600.0
    indexing_daily_quota: int = 200
    batch_answer_order: Literal["sent", "reversed"] = "reversed"

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
