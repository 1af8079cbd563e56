"""The team's careers site: index, job pages with JSON-LD, sitemap and Atom feed (pull)."""

from __future__ import annotations

from typing import ClassVar, Literal

from syndicate.adapters.base import PullTarget, TargetOptions


class CareersSiteOptions(TargetOptions):
    """``{type: careers_site, dir: careers}``"""

    type: Literal["careers_site"]
    dir: str = "careers"


class CareersSite(PullTarget):
    """Static careers pages rendered from Jinja2 templates users may override."""

    type_name: ClassVar[str] = "careers_site"
    summary: ClassVar[str] = "careers site"
    Options: ClassVar[type[TargetOptions]] = CareersSiteOptions
