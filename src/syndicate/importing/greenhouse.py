"""Greenhouse's public Job Board API: ``GET /v1/boards/{board}/jobs?content=true`` (a
``{"jobs": [...], "meta": {...}}`` list) or ``GET /v1/boards/{board}/jobs/{id}`` (one job).

========================== ====================================================
Greenhouse                 posting
========================== ====================================================
id                         id (the job post's id)
title                      title
first_published            date_posted (``updated_at`` is not a posting date)
company_name               company
location.name              locations, or the remote rule (``Remote - US``)
offices[].location         locations, when ``location.name`` names no country
departments[0].name        department
absolute_url               apply.url (the hosted job page carries the application form)
language                   language
content                    the description: HTML, entity-encoded (``&lt;p&gt;``) by the API
pay_input_ranges           salary, only with a period stated (the API gives none, so the
                           range is passed on as a note)
metadata (custom fields)   employment_type, from a field named like "Employment Type"
========================== ====================================================
"""

from __future__ import annotations

import html as html_entities
import re
from typing import Any, ClassVar

from syndicate.errors import InputError
from syndicate.importing.base import Draft, Importer
from syndicate.importing.blocks import html_to_blocks
from syndicate.importing.dates import parse_when
from syndicate.importing.facts import employment_types
from syndicate.importing.places import read_place_phrase
from syndicate.importing.sources import SourceFile


class GreenhouseImporter(Importer):
    """Greenhouse Job Board API JSON."""

    name: ClassVar[str] = "greenhouse"
    summary: ClassVar[str] = "Greenhouse Job Board API JSON (jobs?content=true, or one job)"

    @classmethod
    def recognises(cls, source: SourceFile) -> bool:
        if not source.looks_like_json():
            return False
        return bool(_jobs(source.json))

    def read(self, source: SourceFile) -> list[Draft]:
        jobs = _jobs(source.json)
        if not jobs:
            raise InputError("holds no Greenhouse jobs", file=source.shown)
        return [self._job(source, job) for job in jobs]

    def _job(self, source: SourceFile, job: dict[str, Any]) -> Draft:
        draft = self.draft(source)
        identifier = job.get("id")
        draft.source_id = str(identifier) if isinstance(identifier, int | str) else None
        draft.set("title", _text(job.get("title")))
        draft.set("date_posted", parse_when(_text(job.get("first_published"))))
        draft.set("company", _text(job.get("company_name")))
        departments = job.get("departments")
        if isinstance(departments, list) and departments and isinstance(departments[0], dict):
            draft.set("department", _text(departments[0].get("name")))
        url = _text(job.get("absolute_url"))
        draft.set("apply", {"url": url} if url and url.startswith("http") else None)
        language = _text(job.get("language"))
        if language and re.match(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", language):
            draft.set("language", language)
        _places(draft, job)
        _metadata(draft, job.get("metadata"))
        _pay(draft, job.get("pay_input_ranges"))
        content = _text(job.get("content")) or ""
        draft.blocks = html_to_blocks(html_entities.unescape(content))
        return draft


def _jobs(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict) and isinstance(data.get("jobs"), list):
        return [job for job in data["jobs"] if _is_job(job)]
    if _is_job(data):
        return [data]
    return []


def _is_job(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and "title" in value
        and "absolute_url" in value
        and ("internal_job_id" in value or "content" in value or "location" in value)
    )


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    return text or None


def _places(draft: Draft, job: dict[str, Any]) -> None:
    location = job.get("location")
    name = _text(location.get("name")) if isinstance(location, dict) else None
    if name:
        reading = read_place_phrase(name)
        draft.set("remote", reading.remote)
        draft.set("applicant_locations", list(reading.countries))
        draft.set("locations", [place.as_location() for place in reading.places])
    if draft.has("locations") or draft.fields.get("remote") == "remote":
        return
    found = job.get("offices")
    offices: list[Any] = found if isinstance(found, list) else []
    locations: list[dict[str, str]] = []
    for office in offices:
        text = _text(office.get("location")) if isinstance(office, dict) else None
        for place in read_place_phrase(text).places if text else ():
            if place.as_location() not in locations:
                locations.append(place.as_location())
    draft.set("locations", locations)
    if not locations and name:
        draft.note(f"location {name!r} names no country; add the locations yourself", "locations")


def _metadata(draft: Draft, metadata: Any) -> None:
    if not isinstance(metadata, list):
        return
    for field in metadata:
        if not isinstance(field, dict):
            continue
        label = (_text(field.get("name")) or "").lower()
        value = field.get("value")
        values = value if isinstance(value, list) else [value]
        texts = [text for text in (_text(v) for v in values) if text]
        if re.search(r"employment|job type|commitment|schedule", label):
            draft.fill("employment_type", [k for t in texts for k in employment_types(t)])


def _pay(draft: Draft, ranges: Any) -> None:
    if not isinstance(ranges, list) or not ranges:
        return
    pay = ranges[0] if isinstance(ranges[0], dict) else {}
    low, high = pay.get("min_cents"), pay.get("max_cents")
    currency = _text(pay.get("currency_type"))
    if isinstance(low, int) and currency:
        amount = f"{low / 100:,.0f}" + (f" - {high / 100:,.0f}" if isinstance(high, int) else "")
        draft.note(
            f"pay range {amount} {currency} is given without a period (per hour, per year…); "
            "add salary with its period if it should be published",
            "salary",
        )
