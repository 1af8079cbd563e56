"""Lever's public Postings API: ``GET /v0/postings/{site}?mode=json`` (a list of postings) or
``GET /v0/postings/{site}/{id}`` (one).

========================== ====================================================
Lever                      posting
========================== ====================================================
id                         id
text                       title
createdAt (epoch ms)       date_posted
categories.commitment      employment_type (``Full-time``, ``Part-time``, ``Intern``…)
categories.department      department (``categories.team`` when there is no department)
categories.location,       locations (``country`` completes a bare city), or the remote
categories.allLocations    rule and applicant countries (``Remote - US``)
country                    the country of the locations (ISO 3166-1 alpha-2)
workplaceType              remote (``on-site``, ``remote``, ``hybrid``; ``unspecified``
                           says nothing)
salaryRange                salary (``min``, ``max``, ``currency``, ``interval`` such as
                           ``per-year-salary`` or ``per-hour-wage``)
description                the description (opening and body, HTML)
lists[]                    a ``###`` section per list: its ``text``, then its ``content``
                           (list items) as a list
salaryDescription,         appended to the description
additional
applyUrl                   apply.url (``hostedUrl`` is the job's page)
========================== ====================================================
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from syndicate.errors import InputError
from syndicate.importing.base import Draft, Importer
from syndicate.importing.blocks import Block, Heading, html_to_blocks, text_inline
from syndicate.importing.dates import from_epoch_millis
from syndicate.importing.facts import employment_types, remote_rule
from syndicate.importing.places import country_code, read_place_phrase
from syndicate.importing.sources import SourceFile

# Lever's salaryRange intervals.
INTERVALS: dict[str, str] = {
    "per-hour-wage": "HOUR",
    "per-day-wage": "DAY",
    "per-week-salary": "WEEK",
    "per-month-salary": "MONTH",
    "per-year-salary": "YEAR",
}


class LeverImporter(Importer):
    """Lever Postings API JSON."""

    name: ClassVar[str] = "lever"
    summary: ClassVar[str] = "Lever Postings API JSON (postings/{site}?mode=json, or one)"

    @classmethod
    def recognises(cls, source: SourceFile) -> bool:
        return source.looks_like_json() and bool(_postings(source.json))

    def read(self, source: SourceFile) -> list[Draft]:
        postings = _postings(source.json)
        if not postings:
            raise InputError("holds no Lever postings", file=source.shown)
        return [self._posting(source, posting) for posting in postings]

    def _posting(self, source: SourceFile, posting: dict[str, Any]) -> Draft:
        draft = self.draft(source)
        draft.source_id = _text(posting.get("id"))
        draft.set("title", _text(posting.get("text")))
        draft.set("date_posted", from_epoch_millis(posting.get("createdAt")))
        found = posting.get("categories")
        categories: dict[str, Any] = found if isinstance(found, dict) else {}
        draft.set("employment_type", employment_types(_text(categories.get("commitment")) or ""))
        draft.set(
            "department", _text(categories.get("department")) or _text(categories.get("team"))
        )
        workplace = _text(posting.get("workplaceType"))
        draft.set("remote", remote_rule(workplace) if workplace else None)
        _places(draft, categories, _text(posting.get("country")))
        _salary(draft, posting.get("salaryRange"))
        apply_url = _text(posting.get("applyUrl"))
        draft.set("apply", {"url": apply_url} if apply_url else None)
        draft.page_url = _text(posting.get("hostedUrl"))
        draft.blocks = _description(posting)
        return draft


def _postings(data: Any) -> list[dict[str, Any]]:
    items = data if isinstance(data, list) else [data]
    return [item for item in items if _is_posting(item)]


def _is_posting(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("text"), str)
        and ("categories" in value or "hostedUrl" in value or "applyUrl" in value)
    )


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    return text or None


def _places(draft: Draft, categories: dict[str, Any], country_value: str | None) -> None:
    country = country_code(country_value, codes=True) if country_value else None
    names: list[str] = []
    for value in (categories.get("location"), *(categories.get("allLocations") or [])):
        text = _text(value)
        if text and text not in names:
            names.append(text)
    locations: list[dict[str, str]] = []
    countries: list[str] = []
    for name in names:
        reading = read_place_phrase(name, default_country=country)
        draft.fill("remote", reading.remote)
        countries.extend(code for code in reading.countries if code not in countries)
        locations.extend(
            place.as_location() for place in reading.places if place.as_location() not in locations
        )
        if not reading.places and not reading.remote:
            draft.note(f"location {name!r} names no country; add it", "locations")
    remote = draft.fields.get("remote") == "remote"
    if remote and not countries and country:
        countries.append(country)
    draft.set("locations", [] if remote and not _has_city(locations) else locations)
    if remote:
        draft.set("applicant_locations", countries)


def _has_city(locations: list[dict[str, str]]) -> bool:
    return any("city" in location for location in locations)


def _salary(draft: Draft, value: Any) -> None:
    if not isinstance(value, dict):
        return
    period = INTERVALS.get(str(value.get("interval") or ""))
    low, high = value.get("min"), value.get("max")
    currency = _text(value.get("currency"))
    if period is None or not currency or not isinstance(low, int | float):
        draft.note(
            f"salaryRange {str(value)[:80]} lacks a known interval, a currency or a minimum; add "
            "salary yourself",
            "salary",
        )
        return
    found: dict[str, Any] = {"min": low}
    if isinstance(high, int | float) and high != low:
        found["max"] = high
    found.update(currency=currency.upper(), period=period)
    draft.set("salary", found)


def _description(posting: dict[str, Any]) -> list[Block]:
    opening = _text(posting.get("description"))
    if opening is None:
        opening = (_text(posting.get("opening")) or "") + (
            _text(posting.get("descriptionBody")) or ""
        )
    blocks = html_to_blocks(opening or "")
    for entry in posting.get("lists") or []:
        if not isinstance(entry, dict):
            continue
        heading = _text(entry.get("text"))
        if heading:
            blocks.append(Heading(3, text_inline(heading)))
        content = _text(entry.get("content")) or ""
        if not re.match(r"^\s*<(?:ul|ol)\b", content, re.I):
            content = f"<ul>{content}</ul>"
        blocks.extend(html_to_blocks(content))
    for key in ("salaryDescription", "additional"):
        blocks.extend(html_to_blocks(_text(posting.get(key)) or ""))
    return blocks
