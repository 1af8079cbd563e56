"""The team's careers site: index, job pages with JSON-LD, sitemap and Atom feed (pull).

Every file is rendered by a Jinja2 template with autoescaping on.  The packaged templates live
in ``syndicate/templates/careers/``; a file of the same name in the ``templates`` folder
(``adapters/careers`` beside config.yaml by default) replaces the packaged one, so a team can
restyle its site without touching Python.  Two values reach the templates already marked safe:
the job's JSON-LD (serialized with ``<``, ``>`` and ``&`` escaped, so it cannot close its
``<script>``) and the job's description (sanitized to the allowlist of `syndicate.content`).

The site, under the ``dir`` folder of ``output`` (which this target owns whole):

- ``index.html``: every open job grouped by department, newest first, each card with title,
  place, employment type and salary when known; a filter form (location, department, work
  arrangement) is shown by a small script, so without JavaScript every job is simply listed;
- ``jobs/<id>.html``: one page per open job, at the URL of `Settings.job_url`, with its
  JobPosting JSON-LD and an apply button (the apply URL, or a ``mailto:`` link);
- ``sitemap.xml``: the index and every job page (a sitemap index over ``sitemap-<n>.xml`` files
  once there are more URLs than one sitemap may hold);
- ``feed.atom``: an Atom feed with one entry per job;
- ``style.css``.

Closed and expired jobs have no page; the daemon answers 410 for them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import jinja2
from markupsafe import Markup
from pydantic import field_validator

from syndicate import content
from syndicate.adapters import jsonld
from syndicate.adapters.base import Document, PullTarget, RenderContext, TargetOptions
from syndicate.errors import Problem, RenderError
from syndicate.model import EmploymentType, Location, Posting, Remote, Salary, starts_at

PACKAGED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "careers"
# sitemaps.org: at most 50,000 URLs in one sitemap file.
SITEMAP_LIMIT = 50_000
UNGROUPED = "Other jobs"
CHUNK_SIZE = 1 << 16  # characters of a page per chunk written

EMPLOYMENT_LABELS: dict[EmploymentType, str] = {
    EmploymentType.FULL_TIME: "Full-time",
    EmploymentType.PART_TIME: "Part-time",
    EmploymentType.CONTRACTOR: "Contractor",
    EmploymentType.TEMPORARY: "Temporary",
    EmploymentType.INTERN: "Internship",
    EmploymentType.VOLUNTEER: "Volunteer",
    EmploymentType.PER_DIEM: "Per diem",
    EmploymentType.OTHER: "Other",
}
WORK_LABELS: dict[Remote, str] = {
    Remote.ONSITE: "On site",
    Remote.HYBRID: "Hybrid",
    Remote.REMOTE: "Remote",
}

# Sanitized descriptions carry headings as bare tags: <h2>, </h2>.
_HEADING_TAG = re.compile(r"<(/?)h([1-6])>")


class CareersSiteOptions(TargetOptions):
    """``{type: careers_site, dir: careers, templates: adapters/careers}``"""

    type: Literal["careers_site"]
    dir: str = "careers"
    templates: str = "adapters/careers"

    @field_validator("dir")
    @classmethod
    def _plain_folder(cls, value: str) -> str:
        folder = value.strip().strip("/")
        parts = folder.split("/")
        if not folder or "\\" in folder or any(part in {"", ".", ".."} for part in parts):
            raise ValueError(
                f"{value!r} must be a folder inside output, such as careers or site/careers"
            )
        return folder


@dataclass(frozen=True, slots=True)
class Site:
    """What every page knows about the site: who publishes, and its public URLs."""

    organization: Any
    base_url: str
    index_url: str
    feed_url: str
    sitemap_url: str
    updated: datetime


@dataclass(frozen=True, slots=True)
class Job:
    """One posting as the pages show it."""

    posting: Posting
    url: str
    path: str
    company: str
    places: list[str]
    work: str
    applicants: list[str]
    employment: list[str]
    salary: str | None
    posted: date
    posted_at: datetime
    closes: date | None
    group: str

    @property
    def filters(self) -> str:
        """What the index's filter script matches this job on, as JSON."""
        return json.dumps(
            {"location": self.places, "department": self.group, "work": self.work},
            ensure_ascii=False,
        )


@dataclass(frozen=True, slots=True)
class Filters:
    """The choices of the index's filter form."""

    locations: list[str]
    departments: list[str]
    work: list[str]


class CareersSite(PullTarget):
    """Static careers pages rendered from Jinja2 templates users may override."""

    type_name: ClassVar[str] = "careers_site"
    summary: ClassVar[str] = "careers site"
    Options: ClassVar[type[TargetOptions]] = CareersSiteOptions
    options: CareersSiteOptions
    sitemap_limit: ClassVar[int] = SITEMAP_LIMIT

    def folder(self) -> str | None:
        """The careers folder under ``output``: the build replaces it whole."""
        return self.options.dir

    def fingerprint(self) -> str:
        """The options and every template's source: editing a template changes the site."""
        digest = hashlib.sha256(self.options.model_dump_json().encode())
        environment = self._environment
        for name in sorted(environment.list_templates()):
            source, _, _ = environment.loader.get_source(environment, name)  # type: ignore[union-attr]
            digest.update(name.encode() + b"\0" + source.encode() + b"\0")
        return digest.hexdigest()

    def check(self, posting: Posting) -> list[Problem]:
        """A job page needs a description once unsafe HTML is removed."""
        if not posting.description_html:
            return [self.problem(posting, "description", "is empty once unsafe HTML is removed")]
        return []

    def render(self, postings: Iterable[Posting], context: RenderContext) -> Iterator[Document]:
        """The index, one page per job, the sitemap, the feed and the stylesheet, streamed."""
        # Several documents read the postings, so keep them (not their pages) in a list.
        ordered = sorted(postings, key=lambda p: self._order(p, context))
        site = self._site(context)
        yield self._document("index.html", "text/html", self._index(ordered, site, context))
        for posting in ordered:
            job = self._job(posting, context)
            yield self._document(job.path, "text/html", self._page_template(job, site, context))
        yield from self._sitemaps(ordered, site, context)
        feed = ("feed.atom", {"site": site, "jobs": self._jobs(ordered, context)})
        yield self._document("feed.atom", "application/atom+xml", feed)
        yield self._document("style.css", "text/css", ("style.css", {"site": site}))

    def preview(self, posting: Posting, context: RenderContext) -> str:
        """The job's page, as HTML."""
        site = self._site(context)
        job = self._job(posting, context)
        name, variables = self._page_template(job, site, context)
        return "".join(self._generate(name, variables))

    # -- what the templates receive ------------------------------------------------------------

    def _site(self, context: RenderContext) -> Site:
        base = f"{context.settings.site.base_url}/{self.options.dir}"
        return Site(
            organization=context.settings.organization,
            base_url=base,
            index_url=f"{base}/index.html",
            feed_url=f"{base}/feed.atom",
            sitemap_url=f"{base}/sitemap.xml",
            updated=context.build_time,
        )

    def _job(self, posting: Posting, context: RenderContext) -> Job:
        tz = context.settings.timezone
        posted_at = starts_at(posting.date_posted, tz)
        closes = posting.valid_through
        return Job(
            posting=posting,
            url=context.job_url(posting),
            path=f"jobs/{quote(posting.id)}.html",
            company=context.company(posting),
            places=[place(location) for location in posting.locations],
            work=WORK_LABELS[posting.remote],
            applicants=(
                [jsonld.country_name(code) for code in posting.applicant_locations]
                if posting.remote is Remote.REMOTE
                else []
            ),
            employment=[EMPLOYMENT_LABELS[kind] for kind in posting.employment_type],
            salary=salary_text(posting.salary) if posting.salary else None,
            posted=posted_at.astimezone(tz).date(),
            posted_at=posted_at,
            closes=_local_date(closes, tz) if closes is not None else None,
            group=posting.department or UNGROUPED,
        )

    def _jobs(self, postings: Iterable[Posting], context: RenderContext) -> Iterator[Job]:
        return (self._job(posting, context) for posting in postings)

    def _order(self, posting: Posting, context: RenderContext) -> tuple[Any, ...]:
        posted = starts_at(posting.date_posted, context.settings.timezone)
        return (posting.department or "\U0010ffff", -posted.timestamp(), posting.title, posting.id)

    def _index(
        self, postings: Sequence[Posting], site: Site, context: RenderContext
    ) -> tuple[str, dict[str, Any]]:
        jobs = self._jobs(postings, context)
        groups = ((name, list(members)) for name, members in itertools.groupby(jobs, _group))
        filters = Filters(
            locations=sorted({label for p in postings for label in map(place, p.locations)}),
            departments=sorted({p.department or UNGROUPED for p in postings}),
            work=[WORK_LABELS[kind] for kind in Remote if any(p.remote is kind for p in postings)],
        )
        return "index.html", {
            "site": site,
            "root": "",
            "groups": groups,
            "total": len(postings),
            "filters": filters,
        }

    def _page_template(
        self, job: Job, site: Site, context: RenderContext
    ) -> tuple[str, dict[str, Any]]:
        posting = job.posting
        return "job.html", {
            "site": site,
            "root": "../",
            "job": job,
            "jsonld": Markup(jsonld.dumps(jsonld.job_posting(posting, context), indent=2)),
            "description": Markup(nest_headings(posting.description_html, top=3)),
            "apply": apply_links(posting),
        }

    def _sitemaps(
        self, postings: Sequence[Posting], site: Site, context: RenderContext
    ) -> Iterator[Document]:
        count = len(postings) + 1  # the index page, then every job page
        if count <= self.sitemap_limit:
            urls = self._sitemap_urls(postings, site, context, 0, count)
            variables = {"site": site, "urls": urls}
            yield self._document("sitemap.xml", "application/xml", ("sitemap.xml", variables))
            return
        parts = []
        for start in range(0, count, self.sitemap_limit):
            name = f"sitemap-{len(parts) + 1}.xml"
            urls = self._sitemap_urls(postings, site, context, start, start + self.sitemap_limit)
            yield self._document(name, "application/xml", ("sitemap.xml", {"urls": urls}))
            parts.append(f"{site.base_url}/{name}")
        variables = {"site": site, "sitemaps": parts}
        yield self._document("sitemap.xml", "application/xml", ("sitemap-index.xml", variables))

    def _sitemap_urls(
        self, postings: Sequence[Posting], site: Site, context: RenderContext, start: int, stop: int
    ) -> Iterator[tuple[str, str]]:
        """``(loc, lastmod)`` of the site's pages number ``start`` to ``stop`` (0 is the index)."""
        if start == 0:
            yield site.index_url, site.updated.isoformat()
        for posting in itertools.islice(postings, max(start - 1, 0), stop - 1):
            yield context.job_url(posting), _w3c(posting.date_posted)

    # -- templates -----------------------------------------------------------------------------

    def _document(
        self, path: str, media_type: str, template: tuple[str, dict[str, Any]]
    ) -> Document:
        name, variables = template
        chunks = _buffered(self._generate(name, variables))
        return Document(f"{self.options.dir}/{path}", media_type, chunks)

    def _generate(self, name: str, variables: dict[str, Any]) -> Iterator[str]:
        try:
            yield from self._environment.get_template(name).generate(variables)
        except jinja2.TemplateSyntaxError as error:
            raise RenderError(
                f"template error: {error.message}",
                file=error.filename or name,
                line=error.lineno,
                target=self.name,
            ) from error
        except jinja2.TemplateError as error:
            raise RenderError(f"template {name}: {error}", target=self.name) from error

    @cached_property
    def _environment(self) -> jinja2.Environment:
        return careers_environment(self.settings.path(Path(self.options.templates)))


def careers_environment(overrides: Path | None) -> jinja2.Environment:
    """Jinja2 with the packaged templates, each replaced by a same-named file in ``overrides``."""
    loaders: list[jinja2.BaseLoader] = []
    if overrides is not None:
        loaders.append(jinja2.FileSystemLoader(overrides))
    loaders.append(jinja2.FileSystemLoader(PACKAGED_TEMPLATES))
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=_autoescape,
        finalize=_xml_safe,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(
        {"isodate": _w3c, "longdate": long_date, "country": jsonld.country_name}
    )
    return environment


def _buffered(pieces: Iterable[str], size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The template's output in chunks of about ``size`` characters, encoded: Jinja yields a
    piece per tag and text run, and writing each one by itself would cost a call apiece."""
    buffer: list[str] = []
    length = 0
    for piece in pieces:
        buffer.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(buffer).encode()
            buffer.clear()
            length = 0
    if buffer:
        yield "".join(buffer).encode()


def _autoescape(name: str | None) -> bool:
    return name is None or not name.endswith((".css", ".js"))


def _xml_safe(value: Any) -> Any:
    if isinstance(value, Markup):
        return Markup(content.xml_safe(str(value)))
    if isinstance(value, str):
        return content.xml_safe(value)
    return value


def _group(job: Job) -> str:
    return job.group


def _local_date(when: date, tz: tzinfo) -> date:
    return when.astimezone(tz).date() if isinstance(when, datetime) else when


def _w3c(when: date) -> str:
    return when.isoformat()


def place(location: Location) -> str:
    """``Geneva, GE, Switzerland``: the known parts of a location, country spelled out."""
    parts = (location.city, location.region, jsonld.country_name(location.country))
    return ", ".join(part for part in parts if part)


def salary_text(salary: Salary) -> str:
    """``CHF 120,000–150,000 per year`` or ``USD 25 per hour``."""
    amount = _amount(salary.min)
    if salary.max is not None and salary.max != salary.min:
        amount = f"{amount}–{_amount(salary.max)}"
    return f"{salary.currency} {amount} per {salary.period.lower()}"


def _amount(value: float) -> str:
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"


def long_date(when: date) -> str:
    """``20 November 2026``."""
    return f"{when.day} {when:%B %Y}"


@dataclass(frozen=True, slots=True)
class ApplyLink:
    """One way to apply, as a link."""

    href: str
    label: str


def apply_links(posting: Posting) -> list[ApplyLink]:
    """The apply URL first when there is one, then a ``mailto:`` link with a subject."""
    links = []
    if posting.apply.url:
        links.append(ApplyLink(posting.apply.url, "Apply now"))
    if posting.apply.email:
        subject = quote(f"Application: {posting.title} ({posting.id})")
        label = "Apply by email" if not links else f"Or apply by email to {posting.apply.email}"
        links.append(ApplyLink(f"mailto:{posting.apply.email}?subject={subject}", label))
    return links


def nest_headings(html: str, top: int) -> str:
    """Renumber a sanitized description's headings to start at ``h<top>`` without skipping.

    A description may use any heading levels; on a page that already has its h1 and h2 they must
    continue the outline: each heading keeps its rank among the levels used, and never goes more
    than one level deeper than the heading before it.
    """
    levels = sorted({int(level) for _, level in _HEADING_TAG.findall(html)})
    rank = {level: min(top + index, 6) for index, level in enumerate(levels)}
    state = {"previous": top - 1, "open": top}

    def renumber(match: re.Match[str]) -> str:
        closing, level = match.group(1), int(match.group(2))
        if closing:
            return f"</h{state['open']}>"
        state["open"] = min(rank[level], state["previous"] + 1)
        state["previous"] = state["open"]
        return f"<h{state['open']}>"

    return _HEADING_TAG.sub(renumber, html)
