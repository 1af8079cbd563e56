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

A job's sitemap ``lastmod`` and its Atom entry's ``updated`` are when its content last changed,
as the publish state remembers it (`RenderContext.changed_at`; the posting date without a
state), never the build time: sitemaps.org defines lastmod as the date the page was last
modified, Google uses it only when it is "consistently and verifiably accurate" (its 2023
post: the last *significant* change), and RFC 4287 §4.2.15 makes ``atom:updated`` "the most
recent instant in time when an entry or feed was modified in a way the publisher considers
significant".  The entry's ``published`` stays the posting date; the feed's own ``updated``
(and the index page's lastmod) is the last time the site's content changed.  Sources:
sitemaps.org/protocol.php and its XSD (the XSD verified, the protocol's sentence secondary),
developers.google.com/search/blog/2023/06/
sitemaps-lastmod-ping (secondary), RFC 4287 (secondary quote); see docs/boards.md.
- ``gone.html``: what the feed server answers, with status 410, at the address of a job that
  is no longer open (a page for job seekers, linking to the open jobs; not in the sitemap);
- ``style.css``.

Closed and expired jobs have no page of their own; the daemon answers 410 with ``gone.html``.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
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
from syndicate.adapters.places import country_name
from syndicate.errors import Problem, RenderError
from syndicate.model import EmploymentType, Location, Posting, Remote, Salary, starts_at
from syndicate.postings import LoadedPosting, PostingList

PACKAGED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "careers"
# sitemaps.org: at most 50,000 URLs in one sitemap file.
SITEMAP_LIMIT = 50_000
UNGROUPED = "Other jobs"
GONE_PAGE = "gone.html"  # in the site's folder; `Settings.careers_gone_page` names it too
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
    updated: datetime  # its content last changed (Atom updated, sitemap lastmod)
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

    summary: ClassVar[str] = "careers site"
    spec_url: ClassVar[str | None] = (
        "https://developers.google.com/search/docs/crawling-indexing/sitemaps/large-sitemaps"
    )
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
            # list_templates() has already needed the loader, so it is not None here.
            source, _, _ = environment.loader.get_source(environment, name)  # type: ignore[union-attr]
            digest.update(name.encode() + b"\0" + source.encode() + b"\0")
        return digest.hexdigest()

    def check(self, posting: Posting) -> list[Problem]:
        """A job page needs a description once unsafe HTML is removed."""
        if not posting.description_html:
            return [self.problem(posting, "description", "is empty once unsafe HTML is removed")]
        return []

    def render(self, postings: Iterable[Posting], context: RenderContext) -> Iterator[Document]:
        """The index, one page per job, the sitemap, the feed and the stylesheet, streamed.

        Every per-job piece (the page, the index card, the feed entry, the sort key, the filter
        values, the sitemap date) is a fragment: given the build's cache, a job whose content
        and templates are unchanged is not rendered again, nor even read.
        """
        makers = self.fragment_makers(context)
        ordered, groups = self._ordered(PostingList.of(postings), makers["order"])
        site = self._site(context)
        index = self._index(ordered, groups, site, context, makers)
        yield self._document("index.html", "text/html", index)
        pages = self.each_fragment(ordered, "page", makers["page"])
        for ref, page in zip(ordered.files, pages, strict=True):
            path = f"{self.options.dir}/{_job_path(ref.posting_id)}"
            yield Document(path, "text/html", (page,))
        yield from self._sitemaps(ordered, site, context, makers["lastmod"])
        entry = self._piece_maker(ordered, "entry", "feed-entry.atom", site, makers["entry"])
        jobs = self._lazy_jobs(ordered, groups, context)
        feed = ("feed.atom", {"site": site, "jobs": jobs, "entry": entry})
        yield self._document("feed.atom", "application/atom+xml", feed)
        gone = (GONE_PAGE, {"site": site, "root": f"{site.base_url}/"})
        yield self._document(GONE_PAGE, "text/html", gone)
        yield self._document("style.css", "text/css", ("style.css", {"site": site}))

    def fragment_makers(self, context: RenderContext) -> dict[str, Callable[[Posting], bytes]]:
        """A job's page, index card and feed entry, and what orders, filters and dates it."""
        site = self._site(context)

        def order(posting: Posting) -> bytes:
            return json.dumps(self._order(posting, context)).encode()

        def lastmod(posting: Posting) -> bytes:
            when = context.changed_at(posting).astimezone(context.settings.timezone)
            return when.isoformat(timespec="seconds").encode()

        def piece(template: str) -> Callable[[Posting], bytes]:
            return lambda posting: self._piece(self._job(posting, context), template, site)

        return {
            "order": order,
            "facts": _facts,
            "lastmod": lastmod,
            "page": lambda posting: self._page(posting, site, context),
            "card": piece("job-card.html"),
            "entry": piece("feed-entry.atom"),
        }

    def fragment_variant(self, posting_id: str, context: RenderContext) -> str:
        """A job's sitemap date and feed entry carry when its content last changed, which the
        publish state remembers."""
        known = context.changed.get(posting_id) if context.changed else None
        return known.isoformat() if known is not None else ""

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
            path=_job_path(posting.id),
            company=context.company(posting),
            places=[place(location) for location in posting.locations],
            work=WORK_LABELS[posting.remote],
            applicants=(
                [country_name(code) for code in posting.applicant_locations]
                if posting.remote is Remote.REMOTE
                else []
            ),
            employment=[EMPLOYMENT_LABELS[kind] for kind in posting.employment_type],
            salary=salary_text(posting.salary) if posting.salary else None,
            posted=posted_at.astimezone(tz).date(),
            posted_at=posted_at,
            updated=context.changed_at(posting).astimezone(tz),
            closes=_local_date(closes, tz) if closes is not None else None,
            group=posting.department or UNGROUPED,
        )

    def _order(self, posting: Posting, context: RenderContext) -> tuple[Any, ...]:
        posted = starts_at(posting.date_posted, context.settings.timezone)
        return (posting.department or "\U0010ffff", -posted.timestamp(), posting.title, posting.id)

    def _ordered(
        self, postings: PostingList, order: Callable[[Posting], bytes]
    ) -> tuple[PostingList, list[str]]:
        """The postings in the order of the index (department, newest first, title, id), and
        the group of each."""
        keys = [json.loads(key) for key in self.each_fragment(postings, "order", order)]
        ranked = sorted(range(len(keys)), key=keys.__getitem__)
        groups = [sys.intern(_group_name(keys[index][0])) for index in ranked]
        return PostingList([postings.files[index] for index in ranked]), groups

    def _lazy_jobs(
        self, postings: PostingList, groups: Sequence[str], context: RenderContext
    ) -> Iterator[LazyJob]:
        for ref, group in zip(postings.files, groups, strict=True):
            yield LazyJob(ref, group, functools.partial(self._job, context=context))

    def _index(
        self,
        postings: PostingList,
        groups: list[str],
        site: Site,
        context: RenderContext,
        makers: dict[str, Callable[[Posting], bytes]],
    ) -> tuple[str, dict[str, Any]]:
        jobs = self._lazy_jobs(postings, groups, context)
        grouped = ((name, list(members)) for name, members in itertools.groupby(jobs, _group))
        locations: set[str] = set()
        works: set[str] = set()
        for facts in self.each_fragment(postings, "facts", makers["facts"]):
            places, work = json.loads(facts)
            locations.update(places)
            works.add(work)
        filters = Filters(
            locations=sorted(locations),
            departments=sorted(set(groups)),
            work=[WORK_LABELS[kind] for kind in Remote if kind.value in works],
        )
        return "index.html", {
            "site": site,
            "root": "",
            "groups": grouped,
            "total": len(postings),
            "filters": filters,
            "card": self._piece_maker(postings, "card", "job-card.html", site, makers["card"]),
        }

    def _piece_maker(
        self,
        postings: PostingList,
        part: str,
        template: str,
        site: Site,
        make: Callable[[Posting], bytes],
    ) -> Callable[[Any], Markup]:
        """What the index's ``card(job)`` (or the feed's ``entry(job)``) is: the job rendered by
        ``template``, taken from the cache when the job's content is unchanged.

        The pieces are read from the cache in order, a batch at a time, as the template asks
        for them; a template that asks in another order gets each one rendered.
        """
        refs = postings.files
        position = {"next": 0}
        pieces = self.each_fragment(postings, part, make)

        def piece(job: Any) -> Markup:
            index = position["next"]
            if isinstance(job, LazyJob) and index < len(refs) and refs[index] is job.ref:
                position["next"] = index + 1
                return Markup(next(pieces).decode())
            whole = job.job if isinstance(job, LazyJob) else job
            return Markup(self._piece(whole, template, site).decode())

        return piece

    def _piece(self, job: Job, template: str, site: Site) -> bytes:
        variables = {"site": site, "root": "", "job": job}
        return "".join(self._generate(template, variables)).encode()

    def _page(self, posting: Posting, site: Site, context: RenderContext) -> bytes:
        name, variables = self._page_template(self._job(posting, context), site, context)
        return "".join(self._generate(name, variables)).encode()

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
        self,
        postings: PostingList,
        site: Site,
        context: RenderContext,
        lastmod: Callable[[Posting], bytes],
    ) -> Iterator[Document]:
        count = len(postings) + 1  # the index page, then every job page
        if count <= self.sitemap_limit:
            urls = self._sitemap_urls(postings, site, context, lastmod, 0, count)
            variables = {"site": site, "urls": urls}
            yield self._document("sitemap.xml", "application/xml", ("sitemap.xml", variables))
            return
        parts: list[str] = []
        for start in range(0, count, self.sitemap_limit):
            name = f"sitemap-{len(parts) + 1}.xml"
            stop = start + self.sitemap_limit
            urls = self._sitemap_urls(postings, site, context, lastmod, start, stop)
            yield self._document(name, "application/xml", ("sitemap.xml", {"urls": urls}))
            parts.append(f"{site.base_url}/{name}")
        variables = {"site": site, "sitemaps": parts}
        yield self._document("sitemap.xml", "application/xml", ("sitemap-index.xml", variables))

    def _sitemap_urls(
        self,
        postings: PostingList,
        site: Site,
        context: RenderContext,
        lastmod: Callable[[Posting], bytes],
        start: int,
        stop: int,
    ) -> Iterator[tuple[str, str]]:
        """``(loc, lastmod)`` of the site's pages number ``start`` to ``stop`` (0 is the index)."""
        if start == 0:
            yield site.index_url, site.updated.isoformat()
        chosen = PostingList(postings.files[max(start - 1, 0) : stop - 1])
        dates = self.each_fragment(chosen, "lastmod", lastmod)
        for ref, day in zip(chosen.files, dates, strict=True):
            yield context.settings.job_url(ref.posting_id), day.decode()

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
        auto_reload=False,  # a build never sees a template change: no stat per page
        autoescape=_autoescape,
        finalize=_xml_safe,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(
        {"isodate": date.isoformat, "longdate": long_date, "country": country_name}
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


def _group(job: Job | LazyJob) -> str:
    return job.group


def _group_name(department: str) -> str:
    return UNGROUPED if department == "\U0010ffff" else department


def _job_path(posting_id: str) -> str:
    return f"jobs/{quote(posting_id)}.html"


def _facts(posting: Posting) -> bytes:
    """What the index's filters need of a posting: its place labels and work arrangement."""
    return json.dumps(
        [[place(location) for location in posting.locations], posting.remote.value]
    ).encode()


class LazyJob:
    """A job of the index or the feed before its posting is read: its group and its loaded
    posting; asking for anything else reads the posting and builds its `Job`."""

    __slots__ = ("_job", "_make", "group", "ref")

    def __init__(self, ref: LoadedPosting, group: str, make: Callable[[Posting], Job]) -> None:
        self.ref = ref
        self.group = group
        self._make = make
        self._job: Job | None = None

    @property
    def job(self) -> Job:
        """The whole `Job`."""
        if self._job is None:
            self._job = self._make(self.ref.posting)
        return self._job

    def __getattr__(self, name: str) -> Any:
        return getattr(self.job, name)


def _local_date(when: date, tz: tzinfo) -> date:
    return when.astimezone(tz).date() if isinstance(when, datetime) else when


def place(location: Location) -> str:
    """``Geneva, GE, Switzerland``: the known parts of a location, country spelled out."""
    parts = (location.city, location.region, country_name(location.country))
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
