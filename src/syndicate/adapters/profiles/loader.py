"""Finding and loading profiles: the built-in ones, and a project's own in its ``adapters/``.

A profile file is checked in three steps, and every problem is reported as
``file:line: key: message``: YAML syntax (libyaml, with the line of every key), the JSON Schema
``profile.schema.json`` (generated from `syndicate.adapters.profiles.spec`), then what a schema
cannot say (`spec` validators; every expression compiles).  A project profile named like a
built-in one replaces it, and the loader says so once (`replaced`).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from syndicate.adapters.profiles.expressions import syntax_problem
from syndicate.adapters.profiles.finding import (
    builtin_folder,
)
from syndicate.adapters.profiles.spec import Profile
from syndicate.diagnostics import field_path, problems_from_validation_error
from syndicate.errors import ConfigError, Problem
from syndicate.yamlsource import YamlDocument, parse_yaml

if TYPE_CHECKING:
    import jsonschema  # type: ignore[import-untyped]

MAX_PROFILE_BYTES = 1_000_000


def load(path: Path) -> Profile:
    """The profile in ``path``, checked (ConfigError with every problem, located)."""
    stat = path.stat() if path.exists() else None
    return _load(path, stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0)


@functools.lru_cache(maxsize=64)
def _load(path: Path, _mtime: int, _size: int) -> Profile:
    document = read(path)
    # A packaged profile passed the schema and the expression checks when it was made
    # (tests/test_profiles_format.py checks every one): every start need not import
    # jsonschema and check it again; the model's validation below still runs.
    problems = [] if path.parent == builtin_folder() else problems_in(document, path)
    if problems:
        raise ConfigError(
            f"{len(problems)} problem(s) in board profile {path.name}", file=path, problems=problems
        )
    profile = Profile.model_validate(document.data)
    if profile.name != path.stem:
        raise ConfigError(
            f"is {profile.name!r}; a profile's name is its file's name ({path.stem!r})",
            file=path,
            line=document.line_of(("name",)),
            field="name",
        )
    return profile


def read(path: Path) -> YamlDocument:
    """A profile file's YAML with the line of every key (ConfigError when unreadable)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"cannot be read: {error.strerror or error}", file=path) from None
    if len(data) > MAX_PROFILE_BYTES:
        raise ConfigError(f"is larger than {MAX_PROFILE_BYTES} bytes; refused", file=path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("is not UTF-8", file=path) from None
    document = parse_yaml(text, file=path, line_offset=0, error_type=ConfigError)
    if document.duplicates:
        raise ConfigError("duplicate keys", file=path, problems=document.duplicates)
    return document


@functools.cache
def schema() -> dict[str, Any]:
    """The JSON Schema of a profile, as shipped beside this module."""
    text = (resources.files("syndicate.adapters.profiles") / "profile.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def problems_in(document: YamlDocument, path: Path) -> list[Problem]:
    """Every problem of a parsed profile: the schema's, then the semantic ones."""
    import jsonschema  # only where a profile is checked (its types: TYPE_CHECKING above)

    validator = jsonschema.Draft202012Validator(schema())
    problems = [
        Problem(
            _schema_message(error),
            file=path,
            line=document.line_of(tuple(error.absolute_path)),
            field=field_path(tuple(error.absolute_path)) or None,
        )
        for error in sorted(validator.iter_errors(document.data), key=_error_order)
    ]
    if problems:
        return problems
    try:
        Profile.model_validate(document.data)
    except ValidationError as error:
        return problems_from_validation_error(error, Profile, file=path, line_of=document.line_of)
    return _expression_problems(document, path)


def _error_order(error: jsonschema.ValidationError) -> list[str]:
    return [str(part) for part in error.absolute_path]


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown key")
    if error.validator in ("anyOf", "oneOf") and error.context:
        reasons = sorted({sub.message for sub in error.context})
        return f"{error.instance!r} is not valid: " + "; or ".join(reasons)
    return error.message


def _expression_problems(document: YamlDocument, path: Path) -> list[Problem]:
    data = document.data
    problems = []
    places: list[tuple[tuple[Any, ...], Any]] = []
    for index, spec in enumerate(data.get("fields") or []):
        places.append((("fields", index, "expr"), spec.get("expr")))
        rules = spec.get("rules") or {}
        places.append((("fields", index, "rules", "required_when"), rules.get("required_when")))
        places.append((("fields", index, "when"), spec.get("when")))
    for index, header in enumerate((data.get("document") or {}).get("header") or []):
        places.append((("document", "header", index, "expr"), header.get("expr")))
    for loc, source in places:
        if source is None:
            continue
        reason = syntax_problem(str(source))
        if reason:
            problems.append(
                Problem(reason, file=path, line=document.line_of(loc), field=field_path(loc))
            )
    return problems
