"""A profile's per-field rules, checked on the values an item would be written with.

Each problem names the posting field it is about (so ``validate`` reports it at that field's
line) and says which board rule it breaks; a field's ``rules.severity`` makes them errors (the
posting stays off the board) or warnings.  docs/profiles.md describes every rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from syndicate.adapters.profiles.engine import Record, Written, source_field
from syndicate.adapters.profiles.spec import OnMissing, Override, Severity, ValueType
from syndicate.adapters.profiles.writing import visible_text


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken rule: the posting field, the message, and whether it is only a warning."""

    field: str | None
    message: str
    warning: bool


def findings(values: Iterable[Written], record: Record, target: str, board: str) -> list[Finding]:
    """What breaks the fields' rules in one item's values."""
    found: list[Finding] = []
    for written in values:
        found.extend(_field_findings(written, record, target, board))
    return found


def _field_findings(written: Written, record: Record, target: str, board: str) -> list[Finding]:
    spec = written.spec
    rules = spec.rules
    where = source_field(spec, record, target)
    warning = rules.severity is Severity.WARNING
    messages: list[str] = []
    if written.unmapped:
        known = ", ".join(sorted(spec.map or {}))
        messages.append(
            f"has no {board} value for {', '.join(written.unmapped)} "
            f"(<{spec.element}> takes {known})"
        )
        if spec.on_missing is OnMissing.WARNING:
            return [Finding(where, message, True) for message in messages]
    text = written.text or ""
    if not text:
        if rules.required or _true(written.plan.required_when, record):
            messages.append(rules.message or f"is required: {board} needs <{spec.element}>")
        return [Finding(where, message, warning) for message in messages]
    length = len(visible_text(text) if spec.type is ValueType.HTML else text)
    if rules.min_length is not None and length < rules.min_length:
        messages.append(
            rules.message
            or f"is {length} characters long; {board} needs at least {rules.min_length} "
            f"in <{spec.element}>"
        )
    if rules.max_length is not None and length > rules.max_length:
        messages.append(
            rules.message
            or f"is {length} characters long; {board} takes at most {rules.max_length} "
            f"in <{spec.element}>"
        )
    if rules.pattern is not None and not re.search(rules.pattern, text):
        messages.append(
            rules.message or f"{text!r} does not match {board}'s form for <{spec.element}>"
        )
    if rules.allowed is not None:
        wrong = [part for part in written.parts if part not in rules.allowed]
        if wrong:
            messages.append(
                rules.message
                or f"{', '.join(wrong)} is not a value {board} takes in <{spec.element}> "
                f"({', '.join(rules.allowed)})"
            )
    return [Finding(where, message, warning) for message in messages]


def _true(expression: Any, record: Record) -> bool:
    return bool(expression(**record)) if expression is not None else False


def override_findings(
    given: Mapping[str, Any], overrides: Mapping[str, Override], target: str
) -> list[Finding]:
    """What is wrong with a posting's own options for this target (``boards.<target>``)."""
    found = []
    for key, value in given.items():
        where = f"boards.{target}.{key}"
        override = overrides.get(key)
        if override is None:
            known = ", ".join(sorted(overrides)) or "none"
            message = f"is not an option of this target (options: {known})"
            found.append(Finding(where, message, False))
            continue
        problem = _override_problem(override, value)
        if problem:
            found.append(Finding(where, problem, False))
    return found


def _override_problem(override: Override, value: Any) -> str | None:
    if override.type == "bool":
        return None if isinstance(value, bool) else "must be true or false"
    if override.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "must be a number"
        if override.minimum is not None and value < override.minimum:
            return f"must be at least {override.minimum:g}"
        if override.maximum is not None and value > override.maximum:
            return f"must be at most {override.maximum:g}"
        text = str(value)
    else:
        if not isinstance(value, str):
            return "must be text"
        text = value
    if override.pattern is not None and not re.search(override.pattern, text):
        return f"{text!r} does not have the form this board asks for ({override.pattern})"
    return None
