"""schema.org JobPosting as JSON-LD, for Google for Jobs (pull)."""

from __future__ import annotations

from typing import ClassVar, Literal

from syndicate.adapters.base import PullTarget, TargetOptions


class JsonLdOptions(TargetOptions):
    """``{type: jsonld, file: jobs.jsonld}``"""

    type: Literal["jsonld"]
    file: str = "jobs.jsonld"


class JsonLd(PullTarget):
    """schema.org JobPosting objects, one per open posting."""

    type_name: ClassVar[str] = "jsonld"
    summary: ClassVar[str] = "schema.org JobPosting (JSON-LD)"
    Options: ClassVar[type[TargetOptions]] = JsonLdOptions
