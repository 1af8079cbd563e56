"""schema.org JobPosting, from JSON(-LD) files or the ``<script type="application/ld+json">`` of
HTML pages (careers pages made for Google for Jobs), mapped field by field.

=============================== ===================================================
JobPosting                      posting
=============================== ===================================================
identifier (PropertyValue.value) id
title                           title
description (HTML)              the description, as Markdown
datePosted, validThrough        date_posted, valid_through (a date when it is a whole day)
employmentType                  employment_type
hiringOrganization.name         company
jobLocation[].address           locations (PostalAddress: locality, region, postal code,
                                street, country as a code, a name or a Country)
jobLocationType TELECOMMUTE     remote: remote
applicantLocationRequirements   applicant_locations (Country names or codes)
baseSalary (MonetaryAmount)     salary (value or minValue/maxValue, unitText)
experienceRequirements          experience
educationRequirements           education (text, or a credential's category)
occupationalCategory            category
applicationContact              apply (its email and url)
url                             the job's page (a hint for apply, never the apply route)
=============================== ===================================================
"""

from __future__ import annotations

import html as html_entities
import json
from collections.abc import Iterator
from typing import Any, ClassVar

from syndicate.errors import InputError
from syndicate.importing.base import Draft, Importer
from syndicate.importing.blocks import html_to_blocks, parse_html
from syndicate.importing.dates import parse_when
from syndicate.importing.facts import employment_types
from syndicate.importing.places import (
    Place,
    country_code,
    read_place_phrase,
    region_of,
    subdivision,
)
from syndicate.importing.sources import SourceFile
from syndicate.model import EmploymentType, SalaryPeriod

JOB_POSTING = "JobPosting"
_MAX_DEPTH = 32


class JsonLdImporter(Importer):
    """schema.org JobPosting objects in JSON or in HTML pages."""

    name: ClassVar[str] = "jsonld"
    summary: ClassVar[str] = "schema.org JobPosting (JSON-LD files, or pages that embed it)"

    @classmethod
    def recognises(cls, source: SourceFile) -> bool:
        if source.looks_like_json():
            return any(True for _ in job_postings(source.json))
        lowered = source.text[:2_000_000].lower()
        return "application/ld+json" in lowered and '"jobposting"' in lowered

    def read(self, source: SourceFile) -> list[Draft]:
        found: list[tuple[dict[str, Any], int | None]] = []
        if source.looks_like_json():
            found = [(node, None) for node in job_postings(source.json)]
        else:
            for data, line in _scripts(source):
                found.extend((node, line) for node in job_postings(data))
        if not found:
            raise InputError("holds no schema.org JobPosting", file=source.shown)
        return [self._posting(source, node, line) for node, line in found]

    def _posting(self, source: SourceFile, node: dict[str, Any], line: int | None) -> Draft:
        draft = self.draft(source, line=line)
        draft.source_id = _identifier(node.get("identifier"))
        draft.set("title", _unescaped(_text(node.get("title"))))
        draft.set("date_posted", parse_when(_text(node.get("datePosted"))))
        draft.set("valid_through", parse_when(_text(node.get("validThrough")), end_of_day=True))
        draft.set("employment_type", _employment(node.get("employmentType")))
        draft.set("company", _unescaped(_name(node.get("hiringOrganization"))))
        draft.set("category", _unescaped(_text(node.get("occupationalCategory"))))
        draft.set("experience", _experience(node.get("experienceRequirements")))
        draft.set("education", _education(node.get("educationRequirements")))
        draft.set("locations", _locations(draft, node.get("jobLocation")))
        if _text(node.get("jobLocationType")) == "TELECOMMUTE":
            draft.set("remote", "remote")
            draft.set("applicant_locations", _countries(node.get("applicantLocationRequirements")))
        draft.set("salary", _salary(draft, node.get("baseSalary")))
        draft.set("apply", _contact(node.get("applicationContact")))
        draft.page_url = _text(node.get("url"))
        description = _text(node.get("description")) or ""
        if "<" not in description and "&lt;" in description:
            description = html_entities.unescape(description)  # entity-encoded HTML
        draft.blocks = html_to_blocks(description)
        return draft


def job_postings(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every JobPosting object in JSON-LD data: top level, lists and ``@graph``s."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(data, list):
        for item in data:
            yield from job_postings(item, depth + 1)
    elif isinstance(data, dict):
        kinds = data.get("@type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if JOB_POSTING in kinds:
            yield data
        for key in ("@graph", "mainEntity", "itemListElement", "item"):
            if key in data:
                yield from job_postings(data[key], depth + 1)


def _scripts(source: SourceFile) -> Iterator[tuple[Any, int | None]]:
    root = parse_html(source.text)
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        text = script.text or ""
        try:
            yield json.loads(text), script.sourceline
        except json.JSONDecodeError as error:
            raise InputError(
                f"a JSON-LD script is not valid JSON: {error.msg}",
                file=source.shown,
                line=(script.sourceline or 1) + error.lineno - 1,
            ) from None
        except RecursionError:
            raise InputError(
                "a JSON-LD script is nested too deeply", file=source.shown, line=script.sourceline
            ) from None


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    return text or None


def _unescaped(value: str | None) -> str | None:
    return html_entities.unescape(value) if value else value


def _name(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        return _text(value.get("name"))
    return _text(value)


def _identifier(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        return _text(value.get("value"))
    return _text(value)


def _employment(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    kinds: list[str] = []
    for item in values:
        text = _text(item)
        if not text:
            continue
        key = text.upper().replace("-", "_").replace(" ", "_")
        found = [key] if key in EmploymentType.__members__ else employment_types(text)
        kinds.extend(kind for kind in found if kind not in kinds)
    return kinds


def _experience(value: Any) -> str | None:
    if isinstance(value, dict):
        months = value.get("monthsOfExperience")
        if isinstance(months, int | float) and not isinstance(months, bool):
            return f"{months:g} months of experience"
        return _text(value.get("description"))
    return _unescaped(_text(value))


def _education(value: Any) -> str | None:
    if isinstance(value, dict):
        return _text(value.get("credentialCategory")) or _text(value.get("description"))
    return _unescaped(_text(value))


def _locations(draft: Draft, value: Any) -> list[dict[str, str]]:
    values = value if isinstance(value, list) else [value]
    locations: list[dict[str, str]] = []
    for item in values:
        address = item.get("address") if isinstance(item, dict) else item
        if isinstance(address, list):
            address = address[0] if address else None
        places: list[Place] = []
        if isinstance(address, dict):
            place = _postal_address(draft, address)
            places = [place] if place else []
        elif isinstance(address, str):
            places = list(read_place_phrase(address).places)
            if not places:
                draft.note(f"jobLocation {address!r} names no country; add it", "locations")
        for place in places:
            if place.as_location() not in locations:
                locations.append(place.as_location())
    return locations


def _postal_address(draft: Draft, address: dict[str, Any]) -> Place | None:
    raw_country = address.get("addressCountry")
    country_text = _name(raw_country) if isinstance(raw_country, dict) else _text(raw_country)
    country = country_code(country_text or "", codes=True)
    city = _unescaped(_text(address.get("addressLocality")))
    region = _unescaped(_text(address.get("addressRegion")))
    if country is None and region:
        state = subdivision(region)
        country = state[0] if state else None
    if country is None:
        where = ", ".join(part for part in (city, region, country_text) if part)
        draft.note(f"the address {where!r} has no country that can be read; add it", "locations")
        return None
    return Place(
        country=country,
        city=city,
        region=region_of(country, region) if region else None,
        postal_code=_text(address.get("postalCode")),
        street=_unescaped(_text(address.get("streetAddress"))),
    )


def _countries(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    codes: list[str] = []
    for item in values:
        name = _name(item)
        code = country_code(name, codes=True) if name else None
        if code is None and name:
            state = subdivision(name)
            code = state[0] if state else None
        if code and code not in codes:
            codes.append(code)
    return codes


def _salary(draft: Draft, value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    currency = _text(value.get("currency"))
    amount = value.get("value")
    if isinstance(amount, dict):
        unit = (_text(amount.get("unitText")) or "").upper()
        low = amount.get("minValue", amount.get("value"))
        high = amount.get("maxValue")
    else:
        unit, low, high = (_text(value.get("unitText")) or "").upper(), amount, None
    low, high = _as_number(low), _as_number(high)
    if not _is_number(low) and _is_number(high):
        low, high = high, None
    if not (currency and _is_number(low) and unit in SalaryPeriod.__members__):
        draft.note(
            "baseSalary lacks a currency, an amount or a unitText (HOUR…YEAR); add salary yourself",
            "salary",
        )
        return None
    found: dict[str, Any] = {"min": low}
    if _is_number(high) and high != low:
        found["max"] = high
    found.update(currency=currency.upper(), period=unit)
    return found


def _as_number(value: Any) -> Any:
    """Schema.org allows numbers as text ("40.00"); anything else is left as it is."""
    if isinstance(value, str):
        try:
            number = float(value.replace(",", ""))
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _contact(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    route = {
        key: text
        for key, text in (("url", _text(value.get("url"))), ("email", _text(value.get("email"))))
        if text
    }
    return route or None
