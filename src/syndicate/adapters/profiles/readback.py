"""A profile target's own feed read back: the reference numbers its items carry, per place.

When the publish state has no reference numbers for a profile's scheme yet (a state made
before the profile was used with it, or a new state beside an existing feed), the numbers the
feed as written gives are taken as assigned, as Indeed's coded target does with its own feed
(`syndicate.references`): a board that knows a job by its number keeps knowing it.

A profile's items do not say which place key (`syndicate.adapters.places.place_key`) they are
listed at, so an item is matched with a place of the posting by its *place signature*: the
written text of every field the profile fills from ``location`` (``path: location.city``, or an
expression naming ``location``).  The posting an item belongs to is its ``posting.id`` field,
or else its ``url`` field (the job's careers page, with or without source tags).  A profile
with neither, or whose fields say nothing of the place, is not seeded (its numbers start anew
by the rule, as before).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, cast
from urllib.parse import unquote, urlsplit

from lxml import etree

from syndicate.adapters.profiles.spec import FieldSpec, Profile

_PARSER = {"resolve_entities": False, "no_network": True, "huge_tree": True}
_PLACE = re.compile(r"\blocation\b(?!s)")  # the item's place, not the list of them all
_SEP = "\x1f"  # between a signature's texts (never in XML text: a control character)


def place_fields(profile: Profile) -> list[FieldSpec]:
    """The fields written from the item's place (its signature), reference numbers aside."""
    found = []
    for spec in profile.fields:
        source = spec.path or spec.expr or ""
        if _PLACE.search(source) and "reference" not in source:
            found.append(spec)
    return found


def signature(texts: Sequence[str | None]) -> str:
    """One place's signature from its fields' written texts (None: not written)."""
    return _SEP.join("" if text is None else text.strip() for text in texts)


def ranked_key(sign: str, seen: dict[str, int]) -> str:
    """A signature made unique within one posting: the second place with the same one is
    ``<signature>#2``, as the feed lists them."""
    seen[sign] = seen.get(sign, 0) + 1
    return sign if seen[sign] == 1 else f"{sign}#{seen[sign]}"


def read_numbers(
    profile: Profile, files: Sequence[Path], job_page: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    """posting id → place signature (`ranked_key`) → reference number, from the feed files
    as written ({} when they are missing or unreadable, or the profile cannot be matched).
    ``job_page`` gives the careers page URL's ``prefix`` and ``suffix`` around a posting id."""
    reference = next((s.element for s in profile.fields if s.path == "reference"), None)
    posting_field = next((s.element for s in profile.fields if s.path == "posting.id"), None)
    url_field = next((s.element for s in profile.fields if s.path == "url"), None)
    places = [spec.element for spec in place_fields(profile)]
    if reference is None or not places or (posting_field is None and url_field is None):
        return {}
    found: dict[str, dict[str, str]] = {}
    seen: dict[str, dict[str, int]] = {}
    try:
        for item in _items(profile, files):
            posting_id = item.get(posting_field) if posting_field else None
            if posting_id is None and url_field is not None:
                posting_id = _posting_of(item.get(url_field), job_page)
            number = item.get(reference)
            if not posting_id or not number:
                continue
            sign = ranked_key(
                signature([item.get(e) for e in places]), seen.setdefault(posting_id, {})
            )
            found.setdefault(posting_id, {})[sign] = number.strip()
    except (OSError, EOFError, etree.XMLSyntaxError):
        return {}
    return found


def _items(profile: Profile, files: Sequence[Path]) -> Iterator[dict[str, str]]:
    """Each item of the files as element path (``where/city``, ``@id``) → text."""
    tag = profile.document.item
    for path in files:
        with _open(path) as stream:
            for _, element in etree.iterparse(stream, tag=tag, **_PARSER):
                texts = {f"@{key}": str(value) for key, value in element.attrib.items()}
                _collect(element, "", texts)
                element.clear()
                yield texts


def _collect(element: etree._Element, prefix: str, texts: dict[str, str]) -> None:
    for child in element:
        if not isinstance(child.tag, str):
            continue  # a comment or processing instruction
        name = f"{prefix}{child.tag}"
        if len(child):
            _collect(child, name + "/", texts)
        else:
            texts[name] = child.text or ""


def _open(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def _posting_of(url: str | None, job_page: Mapping[str, str]) -> str | None:
    """The posting id of a careers page URL (its query, source tags included, left aside)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    bare = parts._replace(query="", fragment="").geturl()
    prefix, suffix = job_page["prefix"], job_page["suffix"]
    if not (bare.startswith(prefix) and bare.endswith(suffix)) or len(bare) <= len(prefix):
        return None
    return unquote(bare[len(prefix) : len(bare) - len(suffix)])
