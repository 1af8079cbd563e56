"""The registry of target types, by the ``type`` name used in config.yaml.

It sits below the configuration, which builds the union of every registered target's options
from it each time a configuration is validated; the targets themselves (`syndicate.adapters`)
sit above and register into it.  Two ways in, both explicit:

- the entry point group ``syndicate.targets`` (the built-in targets are listed in
  pyproject.toml; an installed package can add its own the same way), read the first time the
  registry is asked for anything;
- `register(TargetClass)` from code (a test's own target, a plugin loaded by hand).

A target type is named once: by the ``Literal`` of its options' ``type`` field.  An entry point
may name a `Deferred` instead of the class: the options alone, with where the class is, for a
target whose code is dear to import (the board profiles' engine); its class is imported the
first time it is asked for, so a command that never makes such a target never imports it.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Annotated, Any, ClassVar, Literal, Protocol, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

ENTRY_POINT_GROUP = "syndicate.targets"


class Transport:
    """Marks an option that says how to reach a board, not what it receives (``Annotated[
    Duration, TRANSPORT]``): changing it re-sends nothing."""


class SecretVariable:
    """Marks the option naming the environment variable that holds a target's secret (a
    transport option too)."""


TRANSPORT = Transport()
SECRET = SecretVariable()


def marked(options: type[BaseModel], marker: object) -> frozenset[str]:
    """The names of the fields of ``options`` annotated with ``marker``."""
    return frozenset(
        name for name, field in options.model_fields.items() if marker in field.metadata
    )


SELECTABLE = ("department", "category", "company", "country", "remote", "employment_type",
              "language")  # fmt: skip


class TargetOptions(BaseModel):
    """Options every target accepts; each target's own ``Options`` extends this and names its
    type with a literal: ``type: Literal["indeed_xml"] = "indeed_xml"``.

    ``select`` maps posting fields to the values a target takes (``{department: [Sales],
    country: [US, CA]}``): a posting whose field has none of them is left off the target, as
    with ``boards: {<target>: false}``.  ``country`` is any of the posting's locations' or
    applicant countries, ``employment_type`` any of its types; values compare case-blind.  It
    decides which postings a target gets, not what they become (a transport option).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    enabled: Annotated[bool, TRANSPORT] = True
    select: Annotated[dict[Literal[SELECTABLE], list[str]], TRANSPORT] = {}  # type: ignore[valid-type]

    @field_validator("select", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: [v] if isinstance(v, str) else v for key, v in value.items()}
        return value


class TargetType(Protocol):
    """What the registry needs of a target class: its options model (and the name from it)."""

    Options: ClassVar[type[TargetOptions]]
    type_name: ClassVar[str]


def type_name_of(options: type[TargetOptions]) -> str:
    """The ``type`` an options model declares by the literal of its ``type`` field."""
    annotation = options.model_fields["type"].annotation
    values = get_args(annotation) if get_origin(annotation) is Literal else ()
    if len(values) != 1 or not isinstance(values[0], str):
        raise TypeError(
            f"{options.__name__}.type must be a Literal of one name, e.g. Literal['my_board']"
        )
    return values[0]


@dataclass(frozen=True)
class Deferred:
    """A target type known by its options, its class imported when first asked for.

    ``where`` names the class as ``"package.module:Class"``; that class's ``Options`` must be
    ``Options`` (checked when it is imported)."""

    Options: type[TargetOptions]
    where: str

    @property
    def type_name(self) -> str:
        """The type name its options declare."""
        return type_name_of(self.Options)

    def load(self) -> type[TargetType]:
        """Import the target class."""
        module, _, name = self.where.partition(":")
        target: type[TargetType] = getattr(importlib.import_module(module), name)
        if target.Options is not self.Options:
            raise TypeError(f"{self.where}.Options is not the options registered for it")
        return target


class Registry:
    """Target classes by type name, in registration order; a name taken twice is an error."""

    def __init__(self, group: str | None = ENTRY_POINT_GROUP) -> None:
        self._targets: dict[str, type[TargetType] | Deferred] = {}
        self._group = group
        self._lock = threading.RLock()
        self._union: TypeAdapter[dict[str, TargetOptions]] | None = None

    def register(self, target: type[TargetType]) -> type[TargetType]:
        """Add ``target`` under its type name (usable as a class decorator)."""
        with self._lock:
            self._discover()
            name = target.type_name
            if self._targets.get(name, target) is not target:
                raise ValueError(f"target type {name!r} is already registered")
            self._targets[name] = target
            self._union = None
        return target

    def unregister(self, type_name: str) -> None:
        """Remove a type registered by code (a test's own target, once the test is over)."""
        with self._lock:
            self._targets.pop(type_name, None)
            self._union = None

    def get(self, type_name: str) -> type[TargetType]:
        """The target class for ``type_name`` (KeyError listing the known ones otherwise)."""
        self._discover()
        try:
            return self._loaded(type_name)
        except KeyError:
            raise KeyError(
                f"unknown target type {type_name!r}; known types: {', '.join(self.names())}"
            ) from None

    def _loaded(self, type_name: str) -> type[TargetType]:
        with self._lock:
            found = self._targets[type_name]
            if isinstance(found, Deferred):
                found = self._targets[type_name] = found.load()
            return found

    def names(self) -> list[str]:
        """Registered type names, in registration order."""
        self._discover()
        return list(self._targets)

    def options_adapter(self) -> TypeAdapter[dict[str, TargetOptions]]:
        """Validates a ``targets:`` mapping: each entry by the options of the type it names."""
        with self._lock:
            self._discover()
            if self._union is None:
                # A type made at run time from what is registered now, which mypy cannot read.
                union = _union_of([target.Options for target in self._targets.values()])
                self._union = TypeAdapter(dict[str, union])  # type: ignore[valid-type]
            return self._union

    def __iter__(self) -> Iterator[type[TargetType]]:
        self._discover()
        return iter([self._loaded(name) for name in list(self._targets)])

    def __contains__(self, type_name: object) -> bool:
        self._discover()
        return type_name in self._targets

    def _discover(self) -> None:
        """Register the entry points' targets, once (the first time the registry is used)."""
        if self._group is None:
            return
        with self._lock:
            group, self._group = self._group, None
            for entry in entry_points(group=group):
                target = entry.load()
                self._targets.setdefault(target.type_name, target)


def _union_of(members: list[type[TargetOptions]]) -> Any:
    if not members:
        return TargetOptions
    union: Any = members[0]
    for member in members[1:]:
        union = union | member
    return Annotated[union, Field(discriminator="type")] if len(members) > 1 else union


REGISTRY = Registry()


def register(target: type[TargetType]) -> type[TargetType]:
    """Register a target class in the one registry (see the module docstring)."""
    return REGISTRY.register(target)
