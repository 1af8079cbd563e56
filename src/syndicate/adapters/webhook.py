"""A signed JSON POST per operation to a URL of the team's choosing (push).

Each request carries ``X-Syndicate-Signature: sha256=<hex>``, the HMAC-SHA256 of the exact body
with the shared secret, and ``Idempotency-Key: <posting id>:<content hash>[:close]:<operation>``,
so a receiver can verify the sender and drop a delivery it has already seen: every retry of one
operation (also after a killed run resumes it) carries the same key, while a new operation, say a
job reopened with the content it had before, carries a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import httpx

from syndicate.adapters.base import (
    OperationKind,
    Outcome,
    Outgoing,
    PushOptions,
    PushTarget,
    RenderContext,
    TargetOptions,
)
from syndicate.adapters.http import request
from syndicate.model import HttpUrl, Posting
from syndicate.secret import EnvName

SIGNATURE_HEADER = "X-Syndicate-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class WebhookOptions(PushOptions):
    """``{type: webhook, url: https://…, secret_env: HOOK_SECRET}``"""

    type: Literal["webhook"]
    url: HttpUrl
    secret_env: EnvName = "HOOK_SECRET"


class Webhook(PushTarget):
    """Posts each create, update and close as signed JSON."""

    type_name: ClassVar[str] = "webhook"
    summary: ClassVar[str] = "webhook"
    Options: ClassVar[type[TargetOptions]] = WebhookOptions
    secret_option: ClassVar[str | None] = "secret_env"
    options: WebhookOptions

    operation_keys: ClassVar[frozenset[str]] = frozenset({"operation"})

    def payload(
        self,
        kind: OperationKind,
        posting_id: str,
        posting: Posting | None,
        context: RenderContext,
        *,
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "operation": str(kind),
            "id": posting_id,
            "url": context.settings.job_url(posting_id),
        }
        if posting is not None and kind is not OperationKind.CLOSE:
            body["posting"] = posting.model_dump(mode="json", exclude={"description"}) | {
                "company": context.company(posting),
                "description_html": posting.description_html,
                "description_text": posting.description_text,
            }
        return body

    def send(self, client: httpx.Client, batch: Sequence[Outgoing]) -> list[Outcome]:
        secret = self.secret()
        key = secret.get_secret_value().encode() if secret else b""
        outcomes = []
        for op in batch:
            body = json.dumps(op.payload, separators=(",", ":"), sort_keys=True).encode()
            signature = hmac.new(key, body, hashlib.sha256).hexdigest()
            request(
                client,
                "POST",
                self.options.url,
                target=self.name,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: f"sha256={signature}",
                    IDEMPOTENCY_HEADER: idempotency_key(op),
                },
            )
            outcomes.append(Outcome(op.key, ok=True))
        return outcomes


def idempotency_key(op: Outgoing) -> str:
    """``<posting id>:<content hash>[:close]:<operation number>``."""
    suffix = ":close" if op.kind is OperationKind.CLOSE else ""
    return f"{op.posting_id}:{op.content_hash}{suffix}:{op.key}"
