"""Indeed's XML job feed (pull).

``<source><publisher/><publisherurl/><lastBuildDate/><job>…</job>…</source>``, written with lxml's
incremental writer, one posting at a time, and streamed in chunks of `CHUNK_JOBS` postings, so the
memory a build needs does not grow with the number of postings.

What each ``<job>`` holds, following Indeed's feed documentation:

- every text in CDATA; a ``]]>`` in the text is split across two CDATA sections, and characters
  that XML 1.0 forbids are removed from every text (`content.xml_safe`);
- ``description``: the posting's sanitized HTML reduced to the tags Indeed renders (`INDEED_TAGS`;
  ordered lists become unordered ones, ``<i>`` becomes ``<em>``, other markup keeps its text);
- one ``<job>`` per location, each with its own ``referencenumber`` and the posting id as
  ``requisitionid``.  With one location the reference number is the posting id; with several it
  is ``<id>-<city>-<country>`` (`location_slug`), which does not depend on the order of the
  locations, so adding, removing or reordering locations never renumbers the others;
- a fully remote job is one ``<job>`` with ``<city>Remote</city>``, an empty ``<state>`` and
  ``<postalcode>``, and the country of its first applicant location (or of its first location);
  ``remotetype`` is ``Fully remote`` for remote jobs and ``Hybrid remote`` for hybrid ones;
- ``url`` is the job's careers page, never the apply page; ``email`` is the posting's apply
  address, or the organization's;
- dates in the RFC 822 form of Indeed's sample feeds (``Fri, 20 Nov 2026 00:00:00 GMT``): a plain
  date is written as that day (its first second for ``date``, its last for ``expirationdate``), a
  datetime as its instant in GMT;
- ``salary`` as one string: ``CHF 120,000 - 150,000 per year``, ``$10 - $20 per hour``.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from typing import ClassVar, Literal

from lxml import etree

from syndicate import content
from syndicate.adapters.base import Document, PullTarget, RenderContext, TargetOptions
from syndicate.diagnostics import field_path
from syndicate.errors import Problem
from syndicate.model import EmploymentType, Location, Posting, Remote, Salary, SalaryPeriod

MEDIA_TYPE = "application/xml"
# Postings whose jobs are gathered into one chunk of the streamed feed.
CHUNK_JOBS = 200
INDEED_TAGS: frozenset[str] = frozenset(
    {"b", "strong", "em", "p", "br", "ul", "li", "h1", "h2", "h3", "h4", "h5", "h6"}
)
# Countries where Indeed needs a state or province for every job.
STATE_REQUIRED: frozenset[str] = frozenset({"US", "CA"})

JOB_TYPES: dict[EmploymentType, str] = {
    EmploymentType.FULL_TIME: "fulltime",
    EmploymentType.PART_TIME: "parttime",
    EmploymentType.CONTRACTOR: "contract",
    EmploymentType.TEMPORARY: "temporary",
    EmploymentType.INTERN: "internship",
    EmploymentType.VOLUNTEER: "volunteer",
    EmploymentType.PER_DIEM: "per diem",
}
REMOTE_TYPES: dict[Remote, str] = {Remote.REMOTE: "Fully remote", Remote.HYBRID: "Hybrid remote"}
PERIODS: dict[SalaryPeriod, str] = {
    SalaryPeriod.HOUR: "hour",
    SalaryPeriod.DAY: "day",
    SalaryPeriod.WEEK: "week",
    SalaryPeriod.MONTH: "month",
    SalaryPeriod.YEAR: "year",
}
CURRENCY_SYMBOLS: dict[str, str] = {"USD": "$"}

# The sanitized description has these tags bare (no attributes are allowed on them).
_RENAMED_TAGS = re.compile(r"<(/?)(ol|i)>")
_RENAMES = {"ol": "ul", "i": "em"}
_NON_SLUG = re.compile(r"[^a-z0-9]+")


class IndeedXmlOptions(TargetOptions):
    """``{type: indeed_xml, file: indeed.xml}``"""

    type: Literal["indeed_xml"]
    file: str = "indeed.xml"


@dataclass(frozen=True, slots=True)
class Place:
    """Where one ``<job>`` of a posting is: its reference number and address fields."""

    reference: str
    city: str
    state: str
    country: str
    postal_code: str | None
    street: str | None


def cdata_sections(value: str) -> list[str]:
    """The CDATA sections that carry ``value``: split wherever ``]]>`` would end one early."""
    parts = value.split("]]>")
    if len(parts) == 1:
        return parts
    # "a]]>b" becomes "a]]" and ">b": no section contains "]]>", their concatenation is value.
    return [
        (">" if index else "") + part + ("]]" if index < len(parts) - 1 else "")
        for index, part in enumerate(parts)
    ]


def indeed_description(posting: Posting) -> str:
    """The posting's description HTML with only the tags Indeed renders."""
    return _indeed_html(posting.description_html)


# A posting's check, and each of its <job>s (one per location), ask for it: sanitized once.
@functools.lru_cache(maxsize=64)
def _indeed_html(description_html: str) -> str:
    html = _RENAMED_TAGS.sub(lambda match: f"<{match[1]}{_RENAMES[match[2]]}>", description_html)
    # Indeed reads no HTML entities beyond XML's own; a no-break space is written as itself.
    return content.sanitize_html(html, tags=INDEED_TAGS).replace("&nbsp;", "\u00a0")


def location_slug(location: Location) -> str:
    """``<city>-<country>`` in lowercase ASCII (``zurich-ch``), or ``<region>-<country>``.

    A city name with no Latin letters is replaced by a short digest of it, so that two such
    cities in one country never share a slug.
    """
    name = location.city or location.region or ""
    slug = _slug(name)
    if name and not slug:
        slug = "x" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return "-".join(part for part in (slug, location.country.lower()) if part)


def references(posting: Posting) -> list[str]:
    """The reference number of each of the posting's locations, in the same order.

    Locations that share a city and country are told apart by postal code and street; exact
    duplicates by their rank among themselves.
    """
    if len(posting.locations) <= 1:
        return [posting.id]
    slugs = [location_slug(location) for location in posting.locations]
    if len(set(slugs)) < len(slugs):
        counts = Counter(slugs)
        slugs = [
            "-".join(filter(None, (slug, _slug(loc.postal_code or ""), _slug(loc.street or ""))))
            if counts[slug] > 1
            else slug
            for slug, loc in zip(slugs, posting.locations, strict=True)
        ]
    seen: Counter[str] = Counter()
    result: list[str] = []
    for slug in slugs:
        seen[slug] += 1
        suffix = f"-{seen[slug]}" if seen[slug] > 1 else ""
        result.append(f"{posting.id}-{slug}{suffix}")
    return result


def places(posting: Posting) -> list[Place]:
    """One `Place` per ``<job>`` the posting becomes."""
    if posting.remote is Remote.REMOTE:
        countries = [*posting.applicant_locations, *(loc.country for loc in posting.locations)]
        country = countries[0] if countries else ""
        return [Place(posting.id, "Remote", "", country, "", None)]
    return [
        Place(
            reference,
            location.city or "",
            location.region or "",
            location.country,
            location.postal_code,
            location.street,
        )
        for reference, location in zip(references(posting), posting.locations, strict=True)
    ]


def salary_text(salary: Salary) -> str:
    """``CHF 120,000 - 150,000 per year``; ``$10 - $20 per hour`` for US dollars."""
    symbol = CURRENCY_SYMBOLS.get(salary.currency)
    figures = [salary.min]
    if salary.max is not None and salary.max != salary.min:
        figures.append(salary.max)
    if symbol:
        amount = " - ".join(symbol + _amount(figure) for figure in figures)
    else:
        amount = salary.currency + " " + " - ".join(_amount(figure) for figure in figures)
    return f"{amount} per {PERIODS[salary.period]}"


def rfc822(when: datetime) -> str:
    """``Fri, 20 Nov 2026 09:00:00 GMT``: ``when`` (naive means UTC) as an instant in GMT."""
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    return format_datetime(aware.astimezone(UTC), usegmt=True)


def job_fields(posting: Posting, place: Place, context: RenderContext) -> list[tuple[str, str]]:
    """The elements of one ``<job>``, in order, as (name, text) pairs; empty text stays empty."""
    organization = context.settings.organization
    fields: list[tuple[str, str | None]] = [
        ("title", posting.title),
        ("date", _day_or_instant(posting.date_posted, time.min)),
        ("referencenumber", place.reference),
        ("requisitionid", posting.id),
        ("url", context.job_url(posting)),
        ("company", context.company(posting)),
        ("sourcename", organization.name),
        ("city", place.city),
        ("state", place.state),
        ("country", place.country),
        ("postalcode", place.postal_code),
        ("streetaddress", place.street),
        ("email", posting.apply.email or organization.email or ""),
        ("description", indeed_description(posting)),
        ("salary", salary_text(posting.salary) if posting.salary else None),
        ("education", posting.education),
        ("jobtype", _job_type(posting.employment_type)),
        ("category", posting.category),
        ("experience", posting.experience),
        ("expirationdate", _expiration(posting)),
        ("remotetype", REMOTE_TYPES.get(posting.remote)),
    ]
    return [(name, value) for name, value in fields if value is not None]


def write_job(
    writer: etree._IncrementalFileWriter,
    fields: Sequence[tuple[str, str]],
    *,
    indent: str = "",
) -> None:
    """Write one ``<job>`` element (its fields one per line, ``indent`` deeper than ``<job>``
    itself): each field's text cleaned and wrapped in CDATA."""
    with writer.element("job"):
        for name, value in fields:
            writer.write("\n" + indent + "  ")
            _write_text_element(writer, name, value)
        writer.write("\n" + indent)


class IndeedXml(PullTarget):
    """Indeed's XML feed: one ``<job>`` per location of every open posting."""

    type_name: ClassVar[str] = "indeed_xml"
    summary: ClassVar[str] = "Indeed XML feed"
    Options: ClassVar[type[TargetOptions]] = IndeedXmlOptions
    options: IndeedXmlOptions

    def check(self, posting: Posting) -> list[Problem]:
        """What Indeed requires of every job that the posting model leaves optional."""
        problems = self._place_problems(posting)
        if posting.apply.email is None and self.settings.organization.email is None:
            problems.append(
                self.problem(
                    posting,
                    "apply",
                    "has no email and organization.email is not set; Indeed requires an email "
                    "for every job (add apply.email or organization.email)",
                )
            )
        if not indeed_description(posting):
            problems.append(
                self.problem(posting, "description", "is empty once reduced to Indeed's HTML tags")
            )
        return problems

    def render(self, postings: Iterable[Posting], context: RenderContext) -> Iterator[Document]:
        """The feed as one document, streamed in chunks of `CHUNK_JOBS` postings."""
        yield Document(self.options.file, MEDIA_TYPE, self._chunks(postings, context))

    def preview(self, posting: Posting, context: RenderContext) -> str:
        """The posting's ``<job>`` elements, indented, one after the other."""
        pieces: list[str] = []
        for place in places(posting):
            buffer = io.BytesIO()
            with etree.xmlfile(buffer, encoding="utf-8") as writer:
                write_job(writer, job_fields(posting, place, context))
            pieces.append(buffer.getvalue().decode("utf-8").strip())
        return "\n".join(pieces) + "\n"

    def _place_problems(self, posting: Posting) -> list[Problem]:
        if posting.remote is Remote.REMOTE:
            if posting.applicant_locations or posting.locations:
                return []
            message = (
                "a remote job needs a country for Indeed: list the countries applicants may "
                "live in (or an office location)"
            )
            return [self.problem(posting, "applicant_locations", message)]
        problems: list[Problem] = []
        for index, location in enumerate(posting.locations):
            if location.city is None:
                problems.append(
                    self.problem(
                        posting,
                        field_path(("locations", index, "city")),
                        f"is missing; Indeed requires a city for every {posting.remote} job",
                    )
                )
            if location.region is None and location.country in STATE_REQUIRED:
                problems.append(
                    self.problem(
                        posting,
                        field_path(("locations", index, "region")),
                        f"is missing; Indeed requires the state or province of jobs in "
                        f"{location.country}",
                    )
                )
        return problems

    def _chunks(self, postings: Iterable[Posting], context: RenderContext) -> Iterator[bytes]:
        head, tail = self._frame(context)
        pieces = [head]
        make = self.fragment_makers(context)["jobs"]
        for count, piece in enumerate(self.each_fragment(postings, "jobs", make), start=1):
            pieces.append(piece)
            if count % CHUNK_JOBS == 0:
                yield b"".join(pieces)
                pieces = []
        pieces.append(tail)
        yield b"".join(pieces)

    def fragment_makers(self, context: RenderContext) -> dict[str, Callable[[Posting], bytes]]:
        """A posting's ``<job>`` elements."""
        return {"jobs": functools.partial(self._jobs_xml, context=context)}

    def _frame(self, context: RenderContext) -> tuple[bytes, bytes]:
        """The feed without its jobs, cut where they go: the declaration and ``<source>`` with
        its own elements, and the end of ``</source>``."""
        organization = context.settings.organization
        buffer = io.BytesIO()
        with etree.xmlfile(buffer, encoding="utf-8") as writer:
            writer.write_declaration()
            with writer.element("source"):
                header = [("publisher", organization.name)]
                if organization.url:
                    header.append(("publisherurl", organization.url))
                header.append(("lastBuildDate", rfc822(context.build_time)))
                for name, value in header:
                    writer.write("\n  ")
                    # The feed's own elements are plain text, as in Indeed's sample feed.
                    with writer.element(name):
                        writer.write(content.xml_safe(value))
                writer.flush()
                head = _drain(buffer)
                writer.write("\n")
        buffer.write(b"\n")
        return head, buffer.getvalue()

    def _jobs_xml(self, posting: Posting, context: RenderContext) -> bytes:
        """The ``<job>`` elements of one posting, each on its own line inside ``<source>``."""
        buffer = io.BytesIO()
        # Written inside a stand-in for <source> (text may not stand outside an element), whose
        # tags are then cut off.
        with etree.xmlfile(buffer, encoding="utf-8") as writer, writer.element("source"):
            writer.write("")
            for place in places(posting):
                writer.write("\n  ")
                write_job(writer, job_fields(posting, place, context), indent="  ")
        return buffer.getvalue().removeprefix(b"<source>").removesuffix(b"</source>")


def _write_text_element(writer: etree._IncrementalFileWriter, name: str, value: str) -> None:
    with writer.element(name):
        text = content.xml_safe(value)
        if text:
            writer.write(*(etree.CDATA(section) for section in cdata_sections(text)))


def _drain(buffer: io.BytesIO) -> bytes:
    data = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return data


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_SLUG.sub("-", ascii_text.lower()).strip("-")


def _amount(value: float) -> str:
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"


def _day_or_instant(when: date, at: time) -> str:
    # A plain date is a calendar day, written as that day so that Indeed shows the date the
    # careers page shows; a datetime is an instant.
    if isinstance(when, datetime):
        return rfc822(when)
    return rfc822(datetime.combine(when, at, tzinfo=UTC))


def _expiration(posting: Posting) -> str | None:
    if posting.valid_through is None:
        return None
    return _day_or_instant(posting.valid_through, time(23, 59, 59))


def _job_type(kinds: Sequence[EmploymentType]) -> str | None:
    names = [JOB_TYPES[kind] for kind in kinds if kind in JOB_TYPES]
    return ", ".join(dict.fromkeys(names)) or None
