"""Board profiles: feed boards described as data (YAML), rendered by one coded target.

`spec` is the format, `loader` finds and checks profile files (built-in ones in ``builtin/``,
a project's own in its ``adapters/`` folder), `engine` turns a posting into a profile's items,
`rules` checks them, and `target` is the ``profile`` target type (docs/profiles.md).

The type is registered as `PROFILE_TYPE` (its options, `options`), so that a command that makes
no profile target (``validate`` with every profile disabled) never imports the engine, its
format's models or Jinja2; ``ProfileTarget`` here imports it when first named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syndicate.adapters.profiles.options import ProfileOptions
from syndicate.registry import Deferred

if TYPE_CHECKING:
    from syndicate.adapters.profiles.target import ProfileTarget

PROFILE_TYPE = Deferred(ProfileOptions, "syndicate.adapters.profiles.target:ProfileTarget")


def __getattr__(name: str) -> Any:
    if name == "ProfileTarget":
        from syndicate.adapters.profiles.target import ProfileTarget

        return ProfileTarget
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["PROFILE_TYPE", "ProfileOptions", "ProfileTarget"]
