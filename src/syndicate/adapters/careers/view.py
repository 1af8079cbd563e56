"""What the careers templates receive: the site, each job as its pages show it, the index's
filters, and the text the pages print (places, salaries, dates, apply links, headings).

Everything here is pure: a posting and the render context in, plain values out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from syndicate.adapters import jsonld
from syndicate.adapters.base import RenderContext
from syndicate.adapters.places import country_name, region_name
from syndicate.model import (
    EmploymentType,
    Location,
    Posting,
    Remote,
    Salary,
    amount_text,
    starts_at,
)
from syndicate.postings import LoadedPosting

UNGROUPED = "Other jobs"
_LAST = "\U0010ffff"  # the sort key of a job without a department: after every department

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


@dataclass(frozen=True, slots=True)
class ApplyLink:
    """One way to apply, as a link."""

    href: str
    label: str


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


def site_view(folder: str, context: RenderContext) -> Site:
    """The site whose pages live in ``folder`` under the site's base URL."""
    base = f"{context.settings.site.base_url}/{folder}"
    return Site(
        organization=context.settings.organization,
        base_url=base,
        index_url=f"{base}/index.html",
        feed_url=f"{base}/feed.atom",
        sitemap_url=f"{base}/sitemap.xml",
        updated=context.build_time,
    )


def job_view(posting: Posting, context: RenderContext) -> Job:
    """``posting`` as the pages show it, its dates in the site's time zone."""
    tz = context.settings.timezone
    posted_at = starts_at(posting.date_posted, tz)
    closes = posting.valid_through
    return Job(
        posting=posting,
        url=context.job_url(posting),
        path=job_path(posting.id),
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


def page_variables(job: Job, site: Site, context: RenderContext) -> dict[str, Any]:
    """What ``job.html`` receives: the job, its JSON-LD and description (both already safe),
    and its apply links."""
    posting = job.posting
    return {
        "site": site,
        "root": "../",
        "job": job,
        "jsonld": Markup(jsonld.dumps(jsonld.job_posting(posting, context), indent=2)),
        "description": Markup(nest_headings(posting.description_html, top=3)),
        "apply": apply_links(posting),
    }


def order_key(posting: Posting, context: RenderContext) -> tuple[Any, ...]:
    """Where ``posting`` sits on the index: by department (none last), newest first, then by
    title and id."""
    posted = starts_at(posting.date_posted, context.settings.timezone)
    return (posting.department or _LAST, -posted.timestamp(), posting.title, posting.id)


def group_name(department: str) -> str:
    """The index group of the first part of an `order_key`."""
    return UNGROUPED if department == _LAST else department


def group_of(job: Job | LazyJob) -> str:
    """The index group ``job`` is listed under."""
    return job.group


def facts(posting: Posting) -> bytes:
    """What the index's filters need of a posting: its place labels and work arrangement."""
    return json.dumps(
        [[place(location) for location in posting.locations], posting.remote.value]
    ).encode()


def filters(groups: Iterable[str], every_facts: Iterable[bytes]) -> Filters:
    """The filter form's choices, from the jobs' groups and their `facts`."""
    locations: set[str] = set()
    works: set[str] = set()
    for fact in every_facts:
        places, work = json.loads(fact)
        locations.update(places)
        works.add(work)
    return Filters(
        locations=sorted(locations),
        departments=sorted(set(groups)),
        work=[WORK_LABELS[kind] for kind in Remote if kind.value in works],
    )


def job_path(posting_id: str) -> str:
    """A job page's path inside the site's folder."""
    return f"jobs/{quote(posting_id)}.html"


def _local_date(when: date, tz: tzinfo) -> date:
    return when.astimezone(tz).date() if isinstance(when, datetime) else when


def place(location: Location) -> str:
    """``Paris, Île-de-France, France`` or ``Geneva, Switzerland``: the known parts of a
    location, the region by its name where it helps (see `region_name`), the country spelled
    out."""
    region = (
        region_name(location.region, location.country, location.city) if location.region else None
    )
    parts = (location.city, region, country_name(location.country))
    return ", ".join(part for part in parts if part)


def salary_text(salary: Salary) -> str:
    """``CHF 120,000–150,000 per year`` or ``USD 25 per hour``."""
    amount = amount_text(salary.min)
    if salary.max is not None and salary.max != salary.min:
        amount = f"{amount}–{amount_text(salary.max)}"
    return f"{salary.currency} {amount} per {salary.period.lower()}"


def long_date(when: date) -> str:
    """``20 November 2026``."""
    return f"{when.day} {when:%B %Y}"


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
