"""The careers site's machine-readable indexes: ``sitemap.xml`` and the Atom feed.

One sitemap lists the index page and every job page, up to `SITEMAP_LIMIT` URLs (sitemaps.org:
at most 50,000 URLs in one sitemap file); past that, ``sitemap.xml`` becomes a sitemap index
over ``sitemap-<n>.xml`` files.  The Atom feed has one entry per job.

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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from syndicate.adapters.base import RenderContext
from syndicate.adapters.careers.templates import Template
from syndicate.adapters.careers.view import Site
from syndicate.model import Posting
from syndicate.postings import PostingList

if TYPE_CHECKING:
    from syndicate.config import Settings

# sitemaps.org: at most 50,000 URLs in one sitemap file.
SITEMAP_LIMIT = 50_000

# The ``lastmod`` of each of some postings, in order (from the build's cache when it can).
Dates = Callable[[PostingList], Iterable[bytes]]


def lastmod(posting: Posting, context: RenderContext) -> bytes:
    """A job page's sitemap date: when its content last changed, in the site's time zone."""
    when = context.changed_at(posting).astimezone(context.settings.timezone)
    return when.isoformat(timespec="seconds").encode()


def sitemaps(
    postings: PostingList, site: Site, settings: Settings, dates: Dates, limit: int = SITEMAP_LIMIT
) -> Iterator[tuple[str, Template]]:
    """``(file name, template)`` of each sitemap file: one ``sitemap.xml`` while the index page
    and the job pages fit in ``limit`` URLs, otherwise the parts and then their index."""
    count = len(postings) + 1  # the index page, then every job page
    if count <= limit:
        urls = _urls(postings, site, settings, dates, 0, count)
        yield "sitemap.xml", ("sitemap.xml", {"site": site, "urls": urls})
        return
    parts: list[str] = []
    for start in range(0, count, limit):
        name = f"sitemap-{len(parts) + 1}.xml"
        urls = _urls(postings, site, settings, dates, start, start + limit)
        yield name, ("sitemap.xml", {"urls": urls})
        parts.append(f"{site.base_url}/{name}")
    yield "sitemap.xml", ("sitemap-index.xml", {"site": site, "sitemaps": parts})


def _urls(
    postings: PostingList, site: Site, settings: Settings, dates: Dates, start: int, stop: int
) -> Iterator[tuple[str, str]]:
    """``(loc, lastmod)`` of the site's pages number ``start`` to ``stop`` (0 is the index)."""
    if start == 0:
        yield site.index_url, site.updated.isoformat()
    chosen = PostingList(postings.files[max(start - 1, 0) : stop - 1])
    for ref, day in zip(chosen.files, dates(chosen), strict=True):
        yield settings.job_url(ref.posting_id), day.decode()


def feed(site: Site, jobs: Iterable[Any], entry: Callable[[Any], Any]) -> Template:
    """The Atom feed: the site, its jobs in the index's order, and what renders each entry."""
    return "feed.atom", {"site": site, "jobs": jobs, "entry": entry}
