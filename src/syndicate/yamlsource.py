"""YAML parsed with libyaml, remembering the line of every key so errors can point at it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from syndicate import hints
from syndicate.diagnostics import Loc, field_path
from syndicate.errors import InputError, Problem, SyndicateError


# A base class chosen at import (libyaml's when it is there), which mypy cannot follow.
class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's safe loader, except that an impossible timestamp (``2026-02-30``) stays text.

    PyYAML raises a bare ValueError for it, without a line; as text it reaches validation,
    which reports it at its field and line.
    """


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)

_COMMENTED_KEY = re.compile(r"^#\s?(?P<key>[A-Za-z_][\w-]*):")

MAX_YAML_VALUES = 10_000
"""At most this many values once aliases are expanded: a few lines of aliases can stand for
billions of values ("billion laughs"), which nothing that walks the data would survive."""


@dataclass(slots=True)
class YamlDocument:
    """Parsed YAML data with the line (1-based, in the whole file) of each key and item.

    ``first_line`` is where the block opens (line 1, or the front matter's opening fence).
    """

    data: Any
    lines: dict[Loc, int]
    first_line: int
    duplicates: list[Problem] = field(default_factory=list)
    # Top-level keys that are only written as comments (``# date_posted:   (to fill in)``, as
    # `syndicate import` leaves them): the last such line of each.
    commented: dict[str, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int:
        """The line of ``loc``, or of its nearest enclosing key when it is absent (a missing
        field is reported at its parent); a top-level key that is absent but written as a
        comment is reported at that comment, where it is to be filled in."""
        for end in range(len(loc), 0, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        if loc and isinstance(loc[0], str) and loc[0] in self.commented:
            return self.commented[loc[0]]
        return self.first_line


def parse_yaml(
    text: str,
    *,
    file: Path | str,
    line_offset: int,
    error_type: type[SyndicateError] = InputError,
) -> YamlDocument:
    """Parse ``text`` (which starts ``line_offset`` lines into ``file``) keeping key lines.

    A syntax error raises ``error_type`` at the line libyaml reports.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        # Only aliases (declared with ``&name``) make a document larger than its text.
        if node is not None and "&" in text and expanded_size(node) > MAX_YAML_VALUES:
            raise error_type(
                f"YAML aliases expand to more than {MAX_YAML_VALUES} values; refused",
                file=file,
                line=line_offset + 1,
            )
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 + line_offset if mark else line_offset + 1
        reason = error.problem or error.context or "invalid YAML"
        if mark is not None and "mapping values are not allowed" in reason:
            lines = text.splitlines()
            hint = hints.unquoted_colon(lines[mark.line]) if mark.line < len(lines) else None
            reason = f"{reason}; {hint}" if hint else reason
        raise error_type(f"YAML syntax error: {reason}", file=file, line=line) from None
    except yaml.YAMLError as error:
        raise error_type(f"YAML error: {error}", file=file, line=line_offset + 1) from None
    except RecursionError:
        raise error_type("YAML nested too deeply", file=file, line=line_offset + 1) from None
    finally:
        loader.dispose()
    # A key that is absent is reported where its block opens: line 1 of a config file, the
    # opening '---' of a posting's front matter.
    document = YamlDocument(data=data, lines={}, first_line=max(line_offset, 1))
    if node is not None:
        _index(node, (), document, file, line_offset)
    for number, written in enumerate(text.splitlines(), start=line_offset + 1):
        commented = _COMMENTED_KEY.match(written)
        if commented:
            document.commented[commented["key"]] = number
    return document


def _index(
    node: yaml.Node, loc: Loc, document: YamlDocument, file: Path | str, offset: int
) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1 + offset
            child = (*loc, key)
            if key in seen:
                document.duplicates.append(
                    Problem(
                        "is given twice; keep one", file=file, line=line, field=field_path(child)
                    )
                )
            seen.add(key)
            document.lines.setdefault(child, line)
            _index(value_node, child, document, file, offset)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*loc, index)
            document.lines[child] = item.start_mark.line + 1 + offset
            _index(item, child, document, file, offset)


def expanded_size(node: yaml.Node, sizes: dict[int, int] | None = None) -> int:
    """How many values ``node`` stands for with its aliases expanded (capped just above
    `MAX_YAML_VALUES`); each shared node is measured once, and a cycle counts as too many."""
    sizes = {} if sizes is None else sizes
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = MAX_YAML_VALUES + 1
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(expanded_size(k, sizes) + expanded_size(v, sizes) for k, v in node.value)
    sizes[id(node)] = min(size, MAX_YAML_VALUES + 1)
    return sizes[id(node)]
