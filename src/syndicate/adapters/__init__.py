"""Targets: one module per board or feed, registered here by their ``type`` name.

Adding a board means one new module with its target class, one line below, and its golden test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from syndicate.adapters.base import (
    Document,
    PullTarget,
    PushTarget,
    RenderContext,
    Target,
    TargetKind,
)
from syndicate.adapters.careers_site import CareersSite
from syndicate.adapters.google_indexing import GoogleIndexing
from syndicate.adapters.indeed_xml import IndeedXml
from syndicate.adapters.jsonld import JsonLd
from syndicate.adapters.linkedin_api import LinkedInApi
from syndicate.adapters.linkedin_json import LinkedInJson
from syndicate.adapters.profiles import ProfileTarget
from syndicate.adapters.registry import Registry
from syndicate.adapters.webhook import Webhook

REGISTRY = Registry()
_CODED = (IndeedXml, JsonLd, LinkedInJson, CareersSite, LinkedInApi, GoogleIndexing, Webhook)
for _target in (*_CODED, ProfileTarget):
    REGISTRY.add(_target)

if TYPE_CHECKING:
    from syndicate.config import Settings


def create_targets(settings: Settings) -> list[Target]:
    """One target object per entry of ``settings.targets``, in the order configured."""
    return [
        REGISTRY.get(options.type)(name, options, settings)
        for name, options in settings.targets.items()
    ]


__all__ = [
    "REGISTRY",
    "Document",
    "PullTarget",
    "PushTarget",
    "Registry",
    "RenderContext",
    "Target",
    "TargetKind",
]
