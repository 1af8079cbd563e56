"""LinkedIn-style ``simpleJobPostings`` elements written as a JSON feed (pull)."""

from __future__ import annotations

from typing import ClassVar, Literal

from syndicate.adapters.base import PullTarget, TargetOptions


class LinkedInJsonOptions(TargetOptions):
    """``{type: linkedin_json, file: linkedin.json}``"""

    type: Literal["linkedin_json"]
    file: str = "linkedin.json"


class LinkedInJson(PullTarget):
    """The LinkedIn-style job elements of every open posting, as one JSON file."""

    type_name: ClassVar[str] = "linkedin_json"
    summary: ClassVar[str] = "LinkedIn-style JSON feed"
    Options: ClassVar[type[TargetOptions]] = LinkedInJsonOptions
