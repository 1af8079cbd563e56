"""Indeed's XML job feed (pull).

``<source><publisher/><publisherurl/><lastBuildDate/><job>…</job>…</source>``, written with lxml's
incremental writer, one posting at a time, and streamed in chunks of `CHUNK_JOBS` postings, so the
memory a build needs does not grow with the number of postings.

The rules, from Indeed's own pages (docs/boards.md lists each with its source and test): the
*XML feed reference* (docs.indeed.com/indeed-apply/xml-feed, [I1]), the *XML job feed format*
of the Sponsored Jobs API (docs.indeed.com/sponsored-jobs-api/shared-resources/
xml-job-feed-format, [I2]), the *formatting guidelines* (docs.indeed.com/job-sync-api/
formatting-guidelines, [I4]), and, for the rows of the element table the current pages did not
let us read, Indeed's 2021 feed guide as mirrored in `mikevdberge/docs.qhse-jobs-api`
(``job-feeds/xml-feeds/indeed.md``, [M21]):

- the XML declaration, ``<source>``, one ``<job>`` per job and place [I1];
- "All job content must be wrapped in CDATA" (techdocs.indeedeng.io) and "Use literal characters
  instead of HTML entities (such as < instead of &lt;). HTML entities can cause Indeed to reject
  or incorrectly format the content" [I2]: every text, the feed's own elements too, is CDATA,
  and the description's entities are written as the characters they stand for
  (`syndicate.content.literal_html`); a ``]]>`` is split across two CDATA sections, and
  characters XML 1.0 forbids are removed (`content.xml_safe`);
- ``description``: the tags Indeed renders — b, strong, em, p, br, ul, li, h1-h6 and "simple
  tables" (table, tbody, tr, th, td) [I4]; an ordered list becomes an unordered one, ``<i>``
  becomes ``<em>``, a link keeps its text;
- ``referencenumber`` "unique … for this instance of the job", one per location, "Do not change
  the number after you set it" [I1]: numbers are remembered in the publish state
  (`syndicate.references`, seeded from the feed as written when a state has none yet), pinned
  with a location's ``ref:``, and two postings never give the same one (an error for both);
  ``requisitionid`` is the posting id [I1];
- required for every job [I1][M21]: title, date, referencenumber, requisitionid, url (the job's
  page, never the apply page), company, sourcename, city, state ("If your job is located
  outside the US, use the corresponding geographic designation such as province or region"),
  country, description; a job that misses one is an error, since Indeed "does not accept
  incomplete XML feeds" [I2];
- ``postalcode``: "Yes, if on the job details page" [M21]; a job without one is a warning,
  since "Indeed requires city, state/province, country, and postal code elements. If these
  elements are not provided, the job does not receive organic visibility by default" (the
  same guide's FAQ, [M21]: secondary, like every [M21] rule);
- ``date``: "Date when this job was first published. We recommend the ISO-8601 standard
  format", and "If your site shows the publish date, that date must match the date in the XML"
  [I1]: the local date the careers page shows (``2026-11-20``), or the local date and time with
  its offset for a posting given to the minute; ``expirationdate`` the last day, ISO-8601;
- ``email``: the apply address; never another company's: a posting of a company other than the
  configured organization without its own apply email is an error [M21] (Indeed uses it to
  verify the hiring client);
- a remote job is one ``<job>`` per country its applicants may live in (one country per job
  element [M21]), with ``<city>Remote</city>``, ``state`` and ``postalcode`` present but empty
  ("If you do not leave the <state> and <postalcode> blank, jobs will not post as Remote
  positions" [M21]) and ``remotetype`` ``Fully remote``; a hybrid job has ``Hybrid remote``;
- ``salary`` one string with currency and period (``CHF 120,000 - 150,000 per year``, ``$10 -
  $20 per hour``) [M21]; ``jobtype`` ``fulltime``/``parttime`` are documented, the other values
  we send are not verified.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import ClassVar, Literal

from lxml import etree

from syndicate import content
from syndicate.adapters.base import Document, PullTarget, RenderContext, TargetOptions
from syndicate.adapters.places import Spot, assign, place_slug, remote_countries
from syndicate.adapters.tagging import TaggingOptions, tagged
from syndicate.adapters.xmltext import cdata, cdata_sections
from syndicate.diagnostics import field_path
from syndicate.errors import Problem
from syndicate.model import EmploymentType, Posting, Remote, Salary, SalaryPeriod, amount_text
from syndicate.splice import Piece

MEDIA_TYPE = "application/xml"
REFERENCE_SCHEME = "indeed"
# Postings whose jobs are gathered into one chunk of the streamed feed.
CHUNK_JOBS = 200
INDEED_TAGS: frozenset[str] = frozenset(
    {"b", "strong", "em", "p", "br", "ul", "li", "h1", "h2", "h3", "h4", "h5", "h6",
     "table", "tbody", "tr", "th", "td"}
)  # fmt: skip

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


class IndeedXmlOptions(TaggingOptions):
    """``{type: indeed_xml, file: indeed.xml}``; ``tagging: true`` adds ``source=Indeed`` to
    each job's ``url`` ("Include the source=Indeed token to track clicks from Indeed", [M21])."""

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


def indeed_description(posting: Posting) -> str:
    """The posting's description HTML with only the tags Indeed renders, entities written as
    the characters they stand for."""
    return _indeed_html(posting.description_html)


# A posting's check, and each of its <job>s (one per place), ask for it: made once.
@functools.lru_cache(maxsize=64)
def _indeed_html(description_html: str) -> str:
    html = _RENAMED_TAGS.sub(lambda match: f"<{match[1]}{_RENAMES[match[2]]}>", description_html)
    return content.literal_html(content.sanitize_html(html, tags=INDEED_TAGS))


def spots(posting: Posting) -> list[Spot]:
    """The places Indeed lists the posting at, as reference numbers are made for them."""
    if posting.remote is Remote.REMOTE:
        return [
            Spot(key=place_key("Remote", "", country), slug=f"remote-{country.lower()}")
            for country in remote_countries(posting)
        ]
    made = []
    seen: dict[str, int] = {}
    for location in posting.locations:
        key = place_key(
            location.city or "",
            location.region or "",
            location.country,
            location.postal_code or "",
            location.street or "",
        )
        key = ranked(key, seen)
        name = location.city or location.region or ""
        made.append(Spot(key, place_slug(name, location.country), location.ref))
    return made


def place_key(city: str, state: str, country: str, postal: str = "", street: str = "") -> str:
    """What identifies one ``<job>``'s place: the address fields it is written with."""
    return "|".join(part.casefold() for part in (city, state, country, postal, street))


def ranked(key: str, seen: dict[str, int]) -> str:
    """``key``, or ``key#n`` for the n-th time a posting lists the same place (``seen``
    counts them): how the spots and a feed read back tell repeated places apart alike."""
    seen[key] = seen.get(key, 0) + 1
    return f"{key}#{seen[key]}" if seen[key] > 1 else key


def numbers_in(feed: Path) -> dict[str, dict[str, str]]:
    """The reference numbers an Indeed feed file gives, by posting id and place key (read
    without entities or network; {} when there is no readable file)."""
    found: dict[str, dict[str, str]] = {}
    seen: dict[str, dict[str, int]] = {}  # per posting id: how often each place came
    parser = {"resolve_entities": False, "no_network": True, "huge_tree": True}
    try:
        for _, job in etree.iterparse(str(feed), tag="job", **parser):
            fields = {child.tag: (child.text or "") for child in job}
            key = place_key(
                fields.get("city", ""),
                fields.get("state", ""),
                fields.get("country", ""),
                fields.get("postalcode", ""),
                fields.get("streetaddress", ""),
            )
            posting_id = fields.get("requisitionid", "")
            key = ranked(key, seen.setdefault(posting_id, {}))
            found.setdefault(posting_id, {})[key] = fields.get("referencenumber", "")
            job.clear()
    except (OSError, etree.XMLSyntaxError):
        return {}
    return found


def numbers_of(posting: Posting, context: RenderContext) -> list[str]:
    """The posting's reference numbers: as the build found them (remembered in the state),
    else by the rule."""
    known = context.references.get(posting.id) if context.references else None
    return list(known) if known is not None else assign(posting.id, spots(posting), {})


def places(posting: Posting, numbers: Sequence[str]) -> list[Place]:
    """One `Place` per ``<job>`` the posting becomes, with its reference number."""
    if posting.remote is Remote.REMOTE:
        return [
            Place(number, "Remote", "", country, "", None)
            for number, country in zip(numbers, remote_countries(posting), strict=True)
        ]
    return [
        Place(
            number,
            location.city or "",
            location.region or "",
            location.country,
            location.postal_code,
            location.street,
        )
        for number, location in zip(numbers, posting.locations, strict=True)
    ]


def salary_text(salary: Salary) -> str:
    """``CHF 120,000 - 150,000 per year``; ``$10 - $20 per hour`` for US dollars."""
    symbol = CURRENCY_SYMBOLS.get(salary.currency)
    figures = [salary.min]
    if salary.max is not None and salary.max != salary.min:
        figures.append(salary.max)
    if symbol:
        amount = " - ".join(symbol + amount_text(figure) for figure in figures)
    else:
        amount = salary.currency + " " + " - ".join(amount_text(figure) for figure in figures)
    return f"{amount} per {PERIODS[salary.period]}"


def local_date(when: date, context: RenderContext) -> str:
    """A date as the careers page shows it, ISO-8601: the day itself for a plain date, the
    local date and time with its offset for a datetime (``2026-11-30T00:30:00+01:00``)."""
    if isinstance(when, datetime):
        return when.astimezone(context.settings.timezone).isoformat(timespec="seconds")
    return when.isoformat()


def apply_email(posting: Posting, context: RenderContext) -> str | None:
    """Where Indeed sends applications: the posting's apply email, or the organization's for
    the organization's own jobs; never another company's address."""
    if posting.apply.email:
        return posting.apply.email
    organization = context.settings.organization
    if context.company(posting) == organization.name:
        return organization.email
    return None


def job_fields(
    posting: Posting,
    place: Place,
    context: RenderContext,
    tags: Mapping[str, str] | None = None,
) -> list[tuple[str, str]]:
    """The elements of one ``<job>``, in order, as (name, text) pairs; empty text stays empty
    (``tags``: the target's source tagging of ``url``)."""
    organization = context.settings.organization
    fields: list[tuple[str, str | None]] = [
        ("title", posting.title),
        ("date", local_date(posting.date_posted, context)),
        ("referencenumber", place.reference),
        ("requisitionid", posting.id),
        ("url", tagged(context.job_url(posting), tags)),
        ("company", context.company(posting)),
        ("sourcename", organization.name),
        ("city", place.city),
        ("state", place.state),
        ("country", place.country),
        ("postalcode", place.postal_code),
        ("streetaddress", place.street),
        ("email", apply_email(posting, context) or ""),
        ("description", indeed_description(posting)),
        ("salary", salary_text(posting.salary) if posting.salary else None),
        ("education", posting.education),
        ("jobtype", _job_type(posting.employment_type)),
        ("category", posting.category),
        ("experience", posting.experience),
        ("expirationdate", _expiration(posting, context)),
        ("remotetype", REMOTE_TYPES.get(posting.remote)),
    ]
    return [(name, value) for name, value in fields if value is not None]


def job_xml(fields: Sequence[tuple[str, str]], *, indent: str = "") -> str:
    """One ``<job>`` element (its fields one per line, ``indent`` deeper than ``<job>``
    itself): each field's text cleaned and wrapped in CDATA, an empty one as ``<name></name>``.

    Written as text rather than with lxml's incremental writer, element by element, which cost
    a third of the feed's rendering: the element names are this module's own and every text is
    CDATA (`syndicate.adapters.xmltext.cdata`), so nothing else needs escaping; the bytes are
    those lxml wrote (``tests/golden``).
    """
    inner = "\n" + indent + "  "
    elements = "".join(f"{inner}<{name}>{cdata(value)}</{name}>" for name, value in fields)
    return f"<job>{elements}\n{indent}</job>"


class IndeedXml(PullTarget):
    """Indeed's XML feed: one ``<job>`` per place of every open posting."""

    summary: ClassVar[str] = "Indeed XML feed"
    spec_url: ClassVar[str | None] = "https://docs.indeed.com/indeed-apply/xml-feed"
    Options: ClassVar[type[TargetOptions]] = IndeedXmlOptions
    reference_scheme: str | None = REFERENCE_SCHEME
    options: IndeedXmlOptions
    # "Include the source=Indeed token to track clicks from Indeed" ([M21], the url row).
    documented_tags: ClassVar[Mapping[str, str] | None] = {"source": "Indeed"}

    def check(self, posting: Posting) -> list[Problem]:
        """What Indeed requires of every job that the posting model leaves optional."""
        context = RenderContext(settings=self.settings, build_time=datetime.min)
        problems = self._place_problems(posting)
        if apply_email(posting, context) is None:
            problems.append(self.problem(posting, "apply", self._email_message(posting, context)))
        if not indeed_description(posting):
            problems.append(
                self.problem(posting, "description", "is empty once reduced to Indeed's HTML tags")
            )
        return problems

    def spots(self, posting: Posting) -> list[Spot]:
        """The places Indeed lists the posting at (for its reference numbers)."""
        return spots(posting)

    def reference_seed(self, output: Path) -> dict[str, dict[str, str]]:
        """The numbers the feed as written gives (for a state that has none yet)."""
        return numbers_in(output / self.options.file)

    def render(self, postings: Iterable[Posting], context: RenderContext) -> Iterator[Document]:
        """The feed as one document, streamed in chunks of `CHUNK_JOBS` postings."""
        make = self.fragment_makers(context)["jobs"]
        if self.each_piece(postings, "jobs", make) is None:
            yield Document(self.options.file, MEDIA_TYPE, self._chunks(postings, context))
            return

        def pieces() -> Iterator[bytes | Piece]:
            head, tail = self._frame(context)
            yield head
            yield from self.each_piece(postings, "jobs", make) or ()
            yield tail

        yield self.spliced(self.options.file, MEDIA_TYPE, pieces)

    def preview(self, posting: Posting, context: RenderContext) -> str:
        """The posting's ``<job>`` elements, indented, one after the other."""
        jobs = places(posting, numbers_of(posting, context))
        tags = self.url_tags()
        return (
            "\n".join(job_xml(job_fields(posting, place, context, tags)) for place in jobs) + "\n"
        )

    def fragment_variant(self, posting_id: str, context: RenderContext) -> str:
        """A posting's ``<job>``s carry its reference numbers, which the state decides."""
        known = context.references.get(posting_id) if context.references else None
        return hashlib.sha256("\n".join(known).encode()).hexdigest()[:16] if known else ""

    def _email_message(self, posting: Posting, context: RenderContext) -> str:
        company = context.company(posting)
        if company != self.settings.organization.name:
            return (
                f"has no email; Indeed requires one for every job, and {company}'s "
                f"applications must not go to {self.settings.organization.name}'s address "
                "(add apply.email)"
            )
        return (
            "has no email and organization.email is not set; Indeed requires an email for "
            "every job (add apply.email or organization.email)"
        )

    def _place_problems(self, posting: Posting) -> list[Problem]:
        if posting.remote is Remote.REMOTE:
            if remote_countries(posting):
                return []
            message = (
                "a remote job needs a country for Indeed: list the countries applicants may "
                "live in (or an office location)"
            )
            return [self.problem(posting, "applicant_locations", message)]
        needs = (
            ("city", f"is missing; Indeed requires a city for every {posting.remote} job", False),
            (
                "region",
                "is missing; Indeed requires a state, province or region for every job "
                "(e.g. GE, Île-de-France)",
                False,
            ),
            (
                "postal_code",
                "is missing; Indeed gives jobs without a postal code no organic visibility by "
                "default",
                True,
            ),
        )
        return [
            self.problem(posting, field_path(("locations", index, name)), message, warning=warning)
            for index, location in enumerate(posting.locations)
            for name, message, warning in needs
            if getattr(location, name) is None
        ]

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
                header.append(("lastBuildDate", context.build_time.isoformat(timespec="seconds")))
                for name, value in header:
                    writer.write("\n  ")
                    _write_text_element(writer, name, value)
                writer.flush()
                head = _drain(buffer)
                writer.write("\n")
        buffer.write(b"\n")
        return head, buffer.getvalue()

    def _jobs_xml(self, posting: Posting, context: RenderContext) -> bytes:
        """The ``<job>`` elements of one posting, each on its own line inside ``<source>``."""
        jobs = places(posting, numbers_of(posting, context))
        tags = self.url_tags()
        return "".join(
            "\n  " + job_xml(job_fields(posting, place, context, tags), indent="  ")
            for place in jobs
        ).encode()


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


def _expiration(posting: Posting, context: RenderContext) -> str | None:
    # The last day the job is listed, as the careers page shows it.
    end = posting.valid_through
    if end is None:
        return None
    if isinstance(end, datetime):
        return end.astimezone(context.settings.timezone).date().isoformat()
    return end.isoformat()


def _job_type(kinds: Sequence[EmploymentType]) -> str | None:
    names = [JOB_TYPES[kind] for kind in kinds if kind in JOB_TYPES]
    return ", ".join(dict.fromkeys(names)) or None
