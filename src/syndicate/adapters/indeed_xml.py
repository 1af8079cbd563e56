"""Indeed's XML job feed (pull)."""

from __future__ import annotations

from typing import ClassVar, Literal

from syndicate.adapters.base import PullTarget, TargetOptions


class IndeedXmlOptions(TargetOptions):
    """``{type: indeed_xml, file: indeed.xml}``"""

    type: Literal["indeed_xml"]
    file: str = "indeed.xml"


class IndeedXml(PullTarget):
    """Indeed's XML feed: one ``<job>`` per location of every open posting."""

    type_name: ClassVar[str] = "indeed_xml"
    summary: ClassVar[str] = "Indeed XML feed"
    Options: ClassVar[type[TargetOptions]] = IndeedXmlOptions
