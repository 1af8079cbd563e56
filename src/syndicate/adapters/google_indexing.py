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

    wants_previous_payload: ClassVar[bool] = True

    def payload(
        self,
        kind: OperationKind,
        posting_id: str,
        posting: Posting | None,
        context: RenderContext,
        *,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``{"url", "type"}``; an update of a job whose URL changed also carries the URL Google
        was told before (``previous_url``), which is then reported deleted."""
        kind_name = URL_DELETED if kind is OperationKind.CLOSE else URL_UPDATED
        url = context.settings.job_url(posting_id)
        body: dict[str, Any] = {"url": url, "type": kind_name}
        before = previous.get("url") if previous else None
        if kind is not OperationKind.CLOSE and before and before != url:
            body["previous_url"] = before
        return body

    def payload_digest(self, payload: dict[str, Any], posting: Posting | None) -> str:
        """The URL Google was told of and what its page is rendered from (the posting, the
        organization and site, the careers site's options): an edit of any of these updates
        the page, though the notification itself reads the same."""
        settings = self.settings
        careers = [o for o in settings.targets.values() if o.type == "careers_site"]
        page = {
            "posting": posting.content_hash if posting is not None else "",
            "site": settings.model_dump_json(include={"organization", "site", "timezone"}),
            "careers": [options.model_dump_json() for options in careers],
        }
        return super().payload_digest({"url": payload["url"], "page": page}, None)

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
