"""Posting ids for imported postings.

An imported posting keeps the source's own identifier when it has one (Indeed's
``requisitionid``, Greenhouse's and Lever's ids, JSON-LD's ``identifier``, a page's
``permalink``): made a valid id if it is not one (lowercase, ``-`` for other characters).
Otherwise it is a slug of the employer and the title, the employer without its legal form and
the title without a parenthesised qualifier (``8x8, Inc.`` + ``Inside Sales Manager (Team
Manager)`` → ``8x8-inside-sales-manager``), the qualifier coming back only when two postings of
one run would otherwise share an id.
"""

from __future__ import annotations

import re
import unicodedata

from syndicate.importing.facts import strip_legal_form
from syndicate.model import ID_PATTERN

MAX_ID_LENGTH = 75
_NON_ID = re.compile(r"[^a-z0-9_.-]+")
_PARENTHESES = re.compile(r"\s*\([^)]*\)")


def slug(text: str) -> str:
    """Lowercase ASCII letters and digits joined by dashes (``Zürich AG`` → ``zurich-ag``)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def from_source(identifier: str) -> str | None:
    """The source's identifier as a posting id: unchanged when valid, else cleaned up."""
    value = identifier.strip()
    if re.match(ID_PATTERN, value):
        return value
    cleaned = _NON_ID.sub("-", value.lower()).strip("-.")
    return _shorten(cleaned) or None


def from_title(company: str | None, title: str, *, qualified: bool = False) -> str:
    """``<employer>-<title>``; ``qualified`` keeps the title's parenthesised part."""
    name = slug(strip_legal_form(company)) if company else ""
    words = slug(title if qualified else _PARENTHESES.sub("", title) or title)
    return _shorten("-".join(part for part in (name, words) if part)) or "posting"


def _shorten(value: str) -> str:
    if len(value) <= MAX_ID_LENGTH:
        return value
    cut = value[:MAX_ID_LENGTH]
    return cut.rsplit("-", 1)[0] if "-" in cut else cut
