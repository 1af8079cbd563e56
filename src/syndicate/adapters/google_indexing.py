"""Google's Indexing API: URL_UPDATED / URL_DELETED for job pages (push)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from syndicate.adapters.base import PushTarget, TargetOptions
from syndicate.model import HttpUrl
from syndicate.secret import EnvName


class GoogleIndexingOptions(TargetOptions):
    """``{type: google_indexing, token_env: GOOGLE_INDEXING_TOKEN, daily_quota: 200}``"""

    type: Literal["google_indexing"]
    endpoint: HttpUrl = "https://indexing.googleapis.com"
    token_env: EnvName = "GOOGLE_INDEXING_TOKEN"
    daily_quota: int = Field(default=200, ge=1)


class GoogleIndexing(PushTarget):
    """Tells Google when a job page appears, changes or goes away."""

    type_name: ClassVar[str] = "google_indexing"
    summary: ClassVar[str] = "Google Indexing API"
    Options: ClassVar[type[TargetOptions]] = GoogleIndexingOptions
    secret_option: ClassVar[str | None] = "token_env"
