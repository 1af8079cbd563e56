"""`BoardConfig`: everything a local board is set up with, in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

DEFAULT_TOKEN = "test-token-9f3c2a71d8"
DEFAULT_HOOK_SECRET = "test-hook-secret-4b7e19c0"
# The active versions LinkedIn's Talent versioning page lists (learn.microsoft.com/…/talent/
# versioning); each is supported for at least two years from its release.
LINKEDIN_VERSIONS = (
    "202501", "202502", "202503", "202504", "202505", "202506", "202507", "202508", "202508.02",
    "202510", "202511", "202512", "202602", "202603", "202604",
)  # fmt: skip
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
    ``hook_tolerance`` is how many seconds a ``webhook-timestamp`` may be off the board's clock
    (which tests move with `Board.shift_clock`).

    The indexing API also accepts the access tokens its token endpoint issues to the service
    accounts in ``service_accounts`` (``client_email`` → the RSA public key, PEM), which live
    ``indexing_token_lifetime`` seconds; it accepts ``indexing_daily_quota`` notifications per
    Pacific day, and answers a batch's parts in the order ``batch_answer_order`` says (Google
    may answer in any order: ``reversed`` makes clients prove they map answers by Content-ID).

    ``rate_limits`` maps a path prefix (``/hook``) to the requests per second the board takes
    there: a request that arrives when that many arrived in the second before it is answered
    ``429 Too Many Requests`` with ``Retry-After: 1``, as a rate-limited API answers a client over
    its limit, so that a client that bursts past its ``rate_limit`` is refused, not only counted.
    """

    token: str = DEFAULT_TOKEN
    hook_secret: str = DEFAULT_HOOK_SECRET
    indexing_token: str | None = None
    latency: float = 0.0
    reject_duplicate_creates: bool = True
    # LinkedIn: the LinkedIn-Version values /rest accepts, the OAuth client (2-legged flow),
    # how long its tokens live, and how long a task can be polled.
    linkedin_versions: tuple[str, ...] = LINKEDIN_VERSIONS
    linkedin_client_id: str | None = None
    linkedin_client_secret: str | None = None
    linkedin_token_lifetime: float = 1800.0  # seconds: LinkedIn's "30-minute lifespan"
    task_lifespan: float = 86400.0  # seconds; "task IDs … will have a lifespan of 24 hours"
    hook_previous_secret: str | None = None
    hook_signatures: HookSignatures = "standard"
    hook_tolerance: float = 300.0  # seconds, as the reference libraries use
    # Google Indexing: service accounts, their tokens' lifetime (Google's access tokens last an
    # hour), the daily quota and the order of a batch's answers.
    service_accounts: Mapping[str, str] = field(default_factory=dict)
    indexing_token_lifetime: float = 3600.0
    indexing_daily_quota: int = 200
    batch_answer_order: Literal["sent", "reversed"] = "reversed"
    rate_limits: Mapping[str, float] = field(default_factory=dict)

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
