"""Google's Indexing API: URL_UPDATED / URL_DELETED for job pages (push).

Google allows about 200 notifications a day by default; the publisher never sends more than
``daily_quota`` per UTC day and carries the rest to the next day.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import httpx
from pydantic import Field

from syndicate.adapters.auth import authorized
from syndicate.adapters.base import (
    OperationKind,
    Outcome,
    Outgoing,
    PushOptions,
    PushTarget,
    RenderContext,
    TargetOptions,
)
from syndicate.model import HttpUrl, Posting
from syndicate.secret import EnvName

URL_UPDATED, URL_DELETED = "URL_UPDATED", "URL_DELETED"


class GoogleIndexingOptions(PushOptions):
    """``{type: google_indexing, token_env: GOOGLE_INDEXING_TOKEN, daily_quota: 200}``"""

    type: Literal["google_indexing"]
    endpoint: HttpUrl = "https://indexing.googleapis.com"
    token_env: EnvName = "GOOGLE_INDEXING_TOKEN"
    daily_quota: int = Field(default=200, ge=1)


class GoogleIndexing(PushTarget):
    """Tells Google when a job page appears, changes (URL_UPDATED) or goes away (URL_DELETED)."""

    type_name: ClassVar[str] = "google_indexing"
    summary: ClassVar[str] = "Google Indexing API"
    Options: ClassVar[type[TargetOptions]] = GoogleIndexingOptions
    secret_option: ClassVar[str | None] = "token_env"
    options: GoogleIndexingOptions

    def daily_quota(self) -> int | None:
        return self.options.daily_quota

    def payload(
        self, kind: OperationKind, posting_id: str, posting: Posting | None, context: RenderContext
    ) -> dict[str, Any]:
        kind_name = URL_DELETED if kind is OperationKind.CLOSE else URL_UPDATED
        return {"url": context.settings.job_url(posting_id), "type": kind_name}

    def send(self, client: httpx.Client, batch: Sequence[Outgoing]) -> list[Outcome]:
        credentials = self.credentials()
        assert credentials is not None
        outcomes = []
        for op in batch:
            authorized(
                credentials,
                client,
                "POST",
                f"{self.options.endpoint}/v3/urlNotifications:publish",
                target=self.name,
                json=op.payload,
            )
            outcomes.append(Outcome(op.key, ok=True, remote_id=op.payload["url"]))
        return outcomes
