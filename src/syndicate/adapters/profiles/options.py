"""The options of the ``profile`` target type, apart from the target: the configuration is
validated against every type's options, and this module is all that needs of board profiles
(the target, with the profile engine, is imported only when a profile target is made)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from syndicate.adapters.profiles import finding
from syndicate.adapters.tagging import TaggingOptions
from syndicate.errors import ConfigError


class ProfileOptions(TaggingOptions):
    """``{type: profile, profile: adzuna, file: adzuna.xml, tagging: true}``

    ``tagging: true`` adds the profile's ``url_params`` (``utm_source=adzuna``) to the job and
    apply URLs of this target's items, or ``url_params`` given here instead; ``tagging:
    {source: x}`` adds exactly those (`syndicate.adapters.tagging`).
    """

    type: Literal["profile"] = "profile"
    profile: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    file: str | None = None
    url_params: dict[str, str] | None = None
    gzip: bool | None = None  # the profile's limits.gzip, unless given here

    @field_validator("profile")
    @classmethod
    def _known(cls, value: str, info: ValidationInfo) -> str:
        # The configuration's folder comes with the configuration (`syndicate.config`): the
        # name is checked there, for a disabled target too, without loading the profile.
        root = (info.context or {}).get("root")
        if isinstance(root, Path):
            try:
                finding.find(value, root)
            except ConfigError as error:
                raise ValueError(error.message) from None
        return value
