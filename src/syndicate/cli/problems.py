"""Problems as people read them: every error on its own line, and warnings that many postings
share grouped into one line (``2,904 postings: locations: LinkedIn takes one location per job;
only the first … is sent [linkedin_feed] (-v lists them)``).

Warnings are alike when they say the same thing of the same field for the same target; the
values a message quotes (in parentheses or quotes) are left out of the comparison and shown as
``…``.  ``-v`` prints every problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from syndicate.errors import Problem, Severity

GROUP_FROM = 4  # this many alike warnings or more are printed as one line
_QUOTED = re.compile(r"\([^()]*\)|'[^']*'|\"[^\"]*\"")
_INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True, slots=True)
class Group:
    """Alike warnings of several postings: their shared text and how many there are."""

    text: str
    count: int

    def __str__(self) -> str:
        return f"{self.count:,} postings: {self.text} (-v lists them)"


def problem_order(problem: Problem) -> tuple[str, int]:
    return (str(problem.file or ""), problem.line or 0)


def grouped(problems: Iterable[Problem], *, verbose: bool) -> list[Problem | Group]:
    """Problems in file and line order, alike warnings of many postings as one `Group` each
    (after the single problems); everything one by one when ``verbose``."""
    ordered = sorted(problems, key=problem_order)
    if verbose:
        return list(ordered)
    alike: dict[str, list[Problem]] = {}
    for problem in ordered:
        if problem.severity is Severity.WARNING:
            alike.setdefault(_shape(problem), []).append(problem)
    big = {shape for shape, members in alike.items() if len(members) >= GROUP_FROM}
    single: list[Problem | Group] = [
        p for p in ordered if p.severity is not Severity.WARNING or _shape(p) not in big
    ]
    return [*single, *(Group(shape, len(alike[shape])) for shape in alike if shape in big)]


def _shape(problem: Problem) -> str:
    field = _INDEX.sub("[]", problem.field) if problem.field else None
    text = ": ".join(part for part in (field, _QUOTED.sub("…", problem.message)) if part)
    return f"{text} [{problem.target}]" if problem.target else text
