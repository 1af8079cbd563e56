"""Turn pydantic validation errors into located, human `Problem`s.

Both posting files and config.yaml are validated by pydantic models; this module gives their
errors one voice: a dotted field path (``locations[0].country``), a message written for a
recruiter rather than a programmer, and a did-you-mean for unknown keys (``tittle`` → ``title``).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from syndicate import hints
from syndicate.errors import Problem

Loc = tuple[int | str, ...]

_MESSAGES: dict[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "string_type": "must be text",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "int_parsing": "must be a whole number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "date_from_datetime_inexact": "must be a date",
    "greater_than_equal": "must not be negative",
}
_TAG_ERRORS = frozenset({"union_tag_invalid", "union_tag_not_found"})


def field_path(loc: Loc) -> str:
    """``('locations', 0, 'city')`` → ``locations[0].city``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def problems_from_validation_error(
    error: ValidationError,
    model: type[BaseModel],
    *,
    file: Path | str | None = None,
    line_of: Callable[[Loc], int | None] = lambda loc: None,
    posting_id: str | None = None,
    drop_loc: Callable[[Loc], Loc] = lambda loc: loc,
) -> list[Problem]:
    """One `Problem` per pydantic error, located by ``line_of`` and explained plainly.

    ``drop_loc`` removes parts of pydantic's location that are not keys in the file (such as the
    tag pydantic inserts for a discriminated union).
    """
    problems = []
    for detail in error.errors(include_url=False):
        loc = drop_loc(tuple(detail["loc"]))
        if detail["type"] in _TAG_ERRORS:
            # pydantic locates a bad or missing union tag at the mapping; the key at fault is
            # the tag itself (``targets.board.type``), which also gives the right line.
            loc = (*loc, str(detail.get("ctx", {}).get("discriminator", "type")).strip("'"))
        problems.append(
            Problem(
                _message(detail, model),
                file=file,
                line=line_of(loc),
                field=field_path(loc) or None,
                posting_id=posting_id,
            )
        )
    return problems


def _message(detail: ErrorDetails, model: type[BaseModel]) -> str:
    kind = detail["type"]
    if kind == "union_tag_invalid":
        ctx = detail.get("ctx", {})
        return f"unknown {ctx.get('tag')!r}; known: {ctx.get('expected_tags', '')}"
    if kind == "union_tag_not_found":
        return "is required"
    if kind == "extra_forbidden":
        loc = tuple(detail["loc"])
        known = known_fields(model, loc[:-1])
        suggestion = difflib.get_close_matches(str(loc[-1]), sorted(known), n=1, cutoff=0.6)
        hint = f"; did you mean '{suggestion[0]}'?" if suggestion else ""
        return f"is not a known field{hint}"
    if kind in ("enum", "literal_error"):
        expected = str(detail.get("ctx", {}).get("expected", ""))
        meant = hints.enum_value(detail["input"], re.findall(r"'([^']*)'", expected))
        fix = f"; write {meant}" if meant else ""
        return f"{detail['input']!r} is not one of {expected}{fix}"
    if kind == "string_pattern_mismatch":
        return f"{detail['input']!r} does not have the required form"
    if kind in {"value_error", "assertion_error"}:
        return str(detail["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind.startswith(("date_", "datetime_")):
        return f"{detail['input']!r} is not a date (2026-11-20) or datetime (2026-11-20T09:00:00)"
    return _MESSAGES.get(kind, str(detail["msg"]))


def known_fields(model: type[BaseModel], loc: Loc) -> set[str]:
    """The field names accepted at ``loc`` inside ``model`` (used for did-you-mean)."""
    candidates: list[Any] = [model]
    for part in loc:
        next_candidates: list[Any] = []
        for annotation in _flatten(candidates):
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                if isinstance(part, str) and part in annotation.model_fields:
                    next_candidates.append(annotation.model_fields[part].annotation)
                else:
                    # A tagged member of a union, or of a base validated by its subclasses
                    # (the targets' options, each a `TargetOptions` tagged by its type).
                    next_candidates.extend(
                        tagged for tagged in _with_subclasses(annotation) if _tag_of(tagged) == part
                    )
            elif typing.get_origin(annotation) in (list, dict) and typing.get_args(annotation):
                next_candidates.append(typing.get_args(annotation)[-1])
        candidates = next_candidates
    names: set[str] = set()
    for annotation in _flatten(candidates):
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.update(annotation.model_fields)
    return names


def _flatten(annotations: Iterable[Any]) -> list[Any]:
    flat: list[Any] = []
    for annotation in annotations:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            flat.extend(_flatten([typing.get_args(annotation)[0]]))
        elif origin in (typing.Union, types.UnionType):
            flat.extend(_flatten(typing.get_args(annotation)))
        else:
            flat.append(annotation)
    return flat


def _with_subclasses(model: type[BaseModel]) -> list[type[BaseModel]]:
    found = [model]
    for subclass in model.__subclasses__():
        found.extend(_with_subclasses(subclass))
    return found


def _tag_of(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("type")
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    return args[0] if typing.get_origin(field.annotation) is typing.Literal and args else None
