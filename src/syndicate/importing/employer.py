"""The employer a text speaks of without ever introducing it: ``the SixSq sales effort``,
``SixSq's customer engagement``, ``the rest of the SixSq team``, ``profitable for SixSq``.

One capitalized name is counted each time the text uses it the way a text speaks of its own
company: a possessive, ``the X team``, ``X CEO``, ``at X``, ``for X``, ``join X``.  A name
introduced as another company (``Ekinops's (parent company)``) is not the employer.  The name
is *sure* when it is used so at least `SURE_AT` times and more than twice as often as any other;
otherwise it is only a candidate, for a person to confirm.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

SURE_AT = 3

_NAME = r"[A-Z][\w&]*(?:\.[a-z]{2,4})?"
_CUES = tuple(
    re.compile(pattern)
    for pattern in (
        rf"(?<![\w.])(?P<name>{_NAME})(?:'s|’s)(?![\w])",
        rf"\bthe (?P<name>{_NAME}) (?:team|teams|family|group|way|culture|office|offices|"
        r"headquarters|founders?|management|leadership)\b",
        rf"(?<![\w.])(?P<name>{_NAME}) (?:CEO|CTO|COO|CFO|founders?|headquarters|head office)\b",
        rf"\b(?:at|for|join|joining|with) (?P<name>{_NAME})(?![\w’'-]| [A-Z])",
    )
)
_OTHER_COMPANY = re.compile(r"^(?:'s|’s)?\s*\((?:its |our |the )?(?:parent|sister|partner)\b")
# Capitalized words texts use so that are not employers.
_NOT_NAMES = frozenset(
    {"we", "our", "us", "you", "your", "the", "this", "that", "it", "its", "they", "their",
     "all", "today", "company", "team", "role", "candidate", "customer", "customers", "sales",
     "ceo", "a", "an", "least", "home", "work", "one"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Employer:
    """A name the text speaks of as its company, how often, and whether that is sure."""

    name: str
    mentions: int
    sure: bool


def employer_in_text(text: str) -> Employer | None:
    """The company ``text`` speaks of as its own (see the module docstring), if any."""
    counts: Counter[str] = Counter()
    others: set[str] = set()
    for pattern in _CUES:
        for match in pattern.finditer(text):
            name = match["name"]
            if name.lower() in _NOT_NAMES:
                continue
            if _OTHER_COMPANY.match(text[match.end("name") :]):
                others.add(name)
                continue
            counts[name] += 1
    for name in others:
        counts.pop(name, None)
    if not counts:
        return None
    ranked = counts.most_common(2)
    name, mentions = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0
    return Employer(name, mentions, sure=mentions >= SURE_AT and mentions > 2 * runner_up)
