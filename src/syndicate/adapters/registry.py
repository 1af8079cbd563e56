"""The one registry of target types, by the ``type`` name used in config.yaml."""

from __future__ import annotations

from collections.abc import Iterator

from syndicate.adapters.base import Target


class Registry:
    """Target classes by ``type_name``; adding the same name twice is a programming error."""

    def __init__(self) -> None:
        self._targets: dict[str, type[Target]] = {}

    def add(self, target: type[Target]) -> type[Target]:
        """Register ``target`` under its ``type_name``; refuses duplicates."""
        name = target.type_name
        if name in self._targets:
            raise ValueError(f"target type {name!r} is already registered")
        self._targets[name] = target
        return target

    def get(self, type_name: str) -> type[Target]:
        """The target class for ``type_name`` (KeyError listing the known ones otherwise)."""
        try:
            return self._targets[type_name]
        except KeyError:
            raise KeyError(
                f"unknown target type {type_name!r}; known types: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        """Registered type names, in registration order."""
        return list(self._targets)

    def __iter__(self) -> Iterator[type[Target]]:
        return iter(self._targets.values())

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._targets
