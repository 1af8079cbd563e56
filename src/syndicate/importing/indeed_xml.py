"""Indeed's XML job feed: ``<source>…<job>…</job>…</source>``, one posting per job.

Each ``<job>`` is read by Indeed's own element names (title, date, referencenumber,
requisitionid, url, company, city, state, country, postalcode, streetaddress, email,
description, salary, education, jobtype, category, experience, expirationdate, remotetype).
Jobs that share a ``requisitionid`` and a title are one posting at several locations, the way
Indeed asks multi-location jobs to be listed (and the way syndicate writes them); the posting's
id is that ``requisitionid``, else the ``referencenumber``.

Dates may be RFC 822 (Indeed's sample feeds) or ISO 8601.  ``<city>Remote</city>`` and
``remotetype`` give the remote rule; ``url`` is the job's page, not a way to apply, and is
kept only as a hint for a person; ``email`` is the apply address.
"""

from __future__ import annotations

from typing import ClassVar

from lxml import etree

from syndicate.errors import InputError
from syndicate.importing.base import Draft, Importer
from syndicate.importing.blocks import html_to_blocks
from syndicate.importing.dates import parse_when
from syndicate.importing.facts import employment_types, remote_rule, salary
from syndicate.importing.places import Place, country_code, region_of
from syndicate.importing.sources import SourceFile

REMOTE_TYPES = {"fully remote": "remote", "hybrid remote": "hybrid"}


class IndeedXmlImporter(Importer):
    """An Indeed XML feed: one posting per ``<job>`` (or per requisition, over locations)."""

    name: ClassVar[str] = "indeed-xml"
    summary: ClassVar[str] = "Indeed XML job feeds (<source><job>…)"

    @classmethod
    def recognises(cls, source: SourceFile) -> bool:
        head = source.data[:65536].lower()
        return head.lstrip().startswith((b"<?xml", b"<!doctype", b"<source", b"<!--")) and (
            b"<source" in head and b"<job" in head
        )

    def read(self, source: SourceFile) -> list[Draft]:
        root = source.xml
        if root.tag != "source":
            raise InputError(
                f"the root element is <{root.tag}>, not Indeed's <source>",
                file=source.shown,
                line=root.sourceline,
            )
        jobs = root.findall("job")
        if not jobs:
            raise InputError("holds no <job> elements", file=source.shown, line=root.sourceline)
        drafts: dict[tuple[str, str], Draft] = {}
        for job in jobs:
            draft = self._job(source, job)
            key = (draft.source_id or f"line {draft.line}", str(draft.fields.get("title", "")))
            if key in drafts:
                _merge_location(drafts[key], draft)
            else:
                drafts[key] = draft
        return list(drafts.values())

    def _job(self, source: SourceFile, job: etree._Element) -> Draft:
        draft = self.draft(source, line=job.sourceline)

        def text(name: str) -> str:
            return " ".join((job.findtext(name) or "").split())

        draft.source_id = text("requisitionid") or text("referencenumber") or None
        draft.set("title", text("title"))
        draft.set("date_posted", parse_when(text("date")))
        draft.set("valid_through", parse_when(text("expirationdate"), end_of_day=True))
        draft.set("company", text("company"))
        draft.set("category", text("category"))
        draft.set("education", text("education"))
        draft.set("experience", text("experience"))
        draft.set("employment_type", employment_types(text("jobtype")))
        email = text("email")
        draft.set("apply", {"email": email} if email else None)
        draft.page_url = text("url") or None
        country = country_code(text("country"), codes=True)
        if text("country") and country is None:
            draft.note(f"<country>{text('country')}</country> is not a country", "locations")
        rule = REMOTE_TYPES.get(text("remotetype").lower()) or remote_rule(text("remotetype"))
        if text("city").lower() == "remote":
            draft.set("remote", "remote")
            draft.set("applicant_locations", [country] if country else None)
        elif country is not None:
            place = Place(
                country=country,
                city=text("city") or None,
                region=region_of(country, text("state")),
                postal_code=text("postalcode") or None,
                street=text("streetaddress") or None,
            )
            draft.set("locations", [place.as_location()])
        draft.fill("remote", rule)
        pay = text("salary")
        if pay:
            found = salary(pay, country=country)
            draft.set("salary", found)
            if found is None:
                draft.note(
                    f"<salary>{pay}</salary> has no amount with a currency and a period; "
                    "add salary yourself",
                    "salary",
                )
        draft.blocks = html_to_blocks(job.findtext("description") or "")
        return draft


def _merge_location(into: Draft, other: Draft) -> None:
    """One posting from the ``<job>`` elements of one requisition: a job in several places is
    one element per place, a remote job one element per country applicants may live in."""
    for name in ("locations", "applicant_locations"):
        merged = list(into.fields.get(name) or [])
        for value in other.fields.get(name) or []:
            if value not in merged:
                merged.append(value)
        if merged:
            into.set(name, merged)
