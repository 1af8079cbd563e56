"""Targets: one module per board or feed, each a class registered by its ``type`` name.

The built-in targets are named in pyproject.toml's ``syndicate.targets`` entry points and
registered the first time `syndicate.registry.REGISTRY` is used; a target defined elsewhere
joins with `syndicate.registry.register`.  Adding a board means one module with its target
class, one entry point line, and its tests (the contract suite in tests/test_contract.py
checks every registered target).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from syndicate.adapters.base import (
    Document,
    PullTarget,
    PushTarget,
    RenderContext,
    Target,
    TargetKind,
)
from syndicate.registry import REGISTRY, Registry, register

if TYPE_CHECKING:
    from syndicate.config import Settings


def target_class(type_name: str) -> type[Target]:
    """The registered target class for ``type_name``."""
    return cast("type[Target]", REGISTRY.get(type_name))


def create_targets(settings: Settings, *, enabled_only: bool = False) -> list[Target]:
    """One target object per entry of ``settings.targets``, in the order configured; with
    ``enabled_only``, none for a target disabled in config (nor its type's code imported)."""
    return [
        target_class(options.type)(name, options, settings)
        for name, options in settings.targets.items()
        if options.enabled or not enabled_only
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
    "create_targets",
    "register",
    "target_class",
]
