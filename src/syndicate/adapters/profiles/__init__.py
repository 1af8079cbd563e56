"""Board profiles: feed boards described as data (YAML), rendered by one coded target.

`spec` is the format, `loader` finds and checks profile files (built-in ones in ``builtin/``,
a project's own in its ``adapters/`` folder), `engine` turns a posting into a profile's items,
`rules` checks them, and `target` is the ``profile`` target type (docs/profiles.md).
"""

from syndicate.adapters.profiles.target import ProfileOptions, ProfileTarget

__all__ = ["ProfileOptions", "ProfileTarget"]
