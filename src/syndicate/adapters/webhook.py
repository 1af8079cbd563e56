"""A signed JSON POST per operation to a URL of the team's choosing (push)."""

from __future__ import annotations

from typing import ClassVar, Literal

from syndicate.adapters.base import PushTarget, TargetOptions
from syndicate.model import HttpUrl
from syndicate.secret import EnvName


class WebhookOptions(TargetOptions):
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
