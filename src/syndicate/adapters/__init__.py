"""Targets: one module per board or feed, registered here by their ``type`` name.

Adding a board means one new module with its target class, one line below, and its golden test.
"""

from syndicate.adapters.base import Document, PullTarget, RenderContext, Target, TargetKind
from syndicate.adapters.careers_site import CareersSite
from syndicate.adapters.google_indexing import GoogleIndexing
from syndicate.adapters.indeed_xml import IndeedXml
from syndicate.adapters.jsonld import JsonLd
from syndicate.adapters.linkedin_api import LinkedInApi
from syndicate.adapters.linkedin_json import LinkedInJson
from syndicate.adapters.registry import Registry
from syndicate.adapters.webhook import Webhook

REGISTRY = Registry()
for _target in (IndeedXml, JsonLd, LinkedInJson, CareersSite, LinkedInApi, GoogleIndexing, Webhook):
    REGISTRY.add(_target)

__all__ = [
    "REGISTRY",
    "Document",
    "PullTarget",
    "Registry",
    "RenderContext",
    "Target",
    "TargetKind",
]
