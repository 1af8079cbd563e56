"""The LinkedIn-style jobs API: batched ``simpleJobPostings`` operations and task polling (push)."""

from __future__ import annotations

from typing import ClassVar, Literal

from syndicate.adapters.base import PushTarget, TargetOptions
from syndicate.model import HttpUrl
from syndicate.secret import EnvName


class LinkedInApiOptions(TargetOptions):
    """``{type: linkedin_api, endpoint: …, token_env: LINKEDIN_TOKEN, organization: urn:…}``"""

    type: Literal["linkedin_api"]
    endpoint: HttpUrl = "https://api.linkedin.com/rest"
    token_env: EnvName = "LINKEDIN_TOKEN"
    organization: str


class LinkedInApi(PushTarget):
    """Creates, updates and closes jobs through a LinkedIn-style jobs API."""

    type_name: ClassVar[str] = "linkedin_api"
    summary: ClassVar[str] = "LinkedIn-style jobs API"
    Options: ClassVar[type[TargetOptions]] = LinkedInApiOptions
    secret_option: ClassVar[str | None] = "token_env"
