"""The careers site target: which files it renders, in which order, from which fragments.

Every per-job piece (the page, the index card, the feed entry, the sort key, the filter values,
the sitemap date) is a fragment: given the build's cache, a job whose content and templates are
unchanged is not rendered again, nor even read.  What the templates receive is `.view`; the
templates themselves are `.templates`; the sitemap files and the feed are `.sitemap`.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import unquote

from markupsafe import Markup
from pydantic import field_validator

from syndicate.adapters.base import Document, PullTarget, RenderContext, TargetOptions
from syndicate.adapters.careers import sitemap, view
from syndicate.adapters.careers.templates import (
    SiteTemplates,
    Template,
    XmlSafe,
)
from syndicate.adapters.careers.view import Job, LazyJob, Site
from syndicate.content import xml_safe
from syndicate.errors import Problem, RenderError
from syndicate.model import Posting
from syndicate.postings import LoadedPosting, PostingList
from syndicate.splice import Piece

GONE_PAGE = "gone.html"  # in the site's folder; `Settings.careers_gone_page` names it too


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


class CareersSite(PullTarget):
    """Static careers pages rendered from Jinja2 templates users may override."""

    summary: ClassVar[str] = "careers site"
    spec_url: ClassVar[str | None] = (
        "https://developers.google.com/search/docs/crawling-indexing/sitemaps/large-sitemaps"
    )
    Options: ClassVar[type[TargetOptions]] = CareersSiteOptions
    options: CareersSiteOptions
    sitemap_limit: ClassVar[int] = sitemap.SITEMAP_LIMIT
    # A job's page is a file of the published site already: the cache keeps its digest only.
    filed_parts: ClassVar[frozenset[str]] = frozenset({"page"})

    def folder(self) -> str | None:
        """The careers folder under ``output``: the build replaces it whole."""
        return self.options.dir

    def part_file(self, part: str, posting_id: str) -> str:
        """A job's page, in the careers folder."""
        if part != "page":
            return super().part_file(part, posting_id)
        return view.job_path(posting_id)

    def fingerprint(self) -> str:
        """The options and every template's source: editing a template changes the site."""
        digest = hashlib.sha256(self.options.model_dump_json().encode())
        for name, source in self._templates.sources():
            digest.update(name.encode() + b"\0" + source.encode() + b"\0")
        return digest.hexdigest()

    def check(self, posting: Posting) -> list[Problem]:
        """A job page needs a description once unsafe HTML is removed."""
        if not posting.description_html:
            return [self.problem(posting, "description", "is empty once unsafe HTML is removed")]
        return []

    def render(self, postings: Iterable[Posting], context: RenderContext) -> Iterator[Document]:
        """The index, one page per job, the sitemap, the feed and the stylesheet, streamed."""
        return self._render(postings, context, pages=True)

    def live_paths(self, files: Iterable[str], edited: Collection[str]) -> set[str]:
        """The index, the sitemaps and the feed, and the pages of the edited jobs (the
        stylesheet, the page of closed jobs and the other jobs' pages do not show them)."""
        fixed = {f"{self.options.dir}/{name}" for name in ("style.css", GONE_PAGE)}
        pages = f"{self.options.dir}/{view.job_path('')}".removesuffix(".html")
        shared = {name for name in files if name not in fixed and not name.startswith(pages)}
        return shared | {self._page_path(posting_id) for posting_id in edited}

    def render_document(
        self, postings: Iterable[Posting], context: RenderContext, path: str
    ) -> Document | None:
        """One document, without reading every job's page to reach it: a job's page alone,
        or the others rendered without the pages."""
        listed = PostingList.of(postings)
        ref = self._page_of(listed, path)
        if ref is not None:
            makers = self.fragment_makers(context)
            page = next(self.each_file_fragment(PostingList([ref]), "page", makers["page"]))
            return Document(path, "text/html", page)
        documents = self._render(listed, context, pages=False)
        return next((doc for doc in documents if doc.path == path), None)

    def _page_of(self, listed: PostingList, path: str) -> LoadedPosting | None:
        """The listed posting whose job page is at ``path``, if any: found by the id the
        path names, not by making every job's path (100,000 quotes for one request)."""
        pages = self._page_path("").removesuffix(".html")
        if not (path.startswith(pages) and path.endswith(".html")):
            return None
        wanted = unquote(path.removeprefix(pages).removesuffix(".html"))
        found = next((ref for ref in listed.files if ref.posting_id == wanted), None)
        return found if found is not None and self._page_path(wanted) == path else None

    def _page_path(self, posting_id: str) -> str:
        return f"{self.options.dir}/{view.job_path(posting_id)}"

    def _render(
        self, postings: Iterable[Posting], context: RenderContext, *, pages: bool
    ) -> Iterator[Document]:
        makers = self.fragment_makers(context)
        ordered, groups = self._ordered(PostingList.of(postings), makers["order"])
        site = view.site_view(self.options.dir, context)
        index = functools.partial(self._index, ordered, groups, site, context, makers)
        card = ("card", "job-card.html", makers["card"])
        yield self._pieced("index.html", "text/html", ordered, card, site, index)
        if pages:
            yield from self._pages(ordered, makers["page"])
        dates = functools.partial(self.each_fragment, part="lastmod", make=makers["lastmod"])
        for name, template in sitemap.sitemaps(
            ordered, site, context.settings, dates, self.sitemap_limit
        ):
            yield self._document(name, "application/xml", template)

        def atom(entry: Callable[[Any], Markup]) -> Template:
            return sitemap.feed(site, self._lazy_jobs(ordered, groups, context), entry)

        entry = ("entry", "feed-entry.atom", makers["entry"])
        yield self._pieced("feed.atom", "application/atom+xml", ordered, entry, site, atom)
        gone = (GONE_PAGE, {"site": site, "root": f"{site.base_url}/"})
        yield self._document(GONE_PAGE, "text/html", gone)
        yield self._document("style.css", "text/css", ("style.css", {"site": site}))

    def _pages(self, ordered: PostingList, make: Callable[[Posting], bytes]) -> Iterator[Document]:
        """One document per job page; with the build's fragments, each one named piece that is
        read only when the writer needs its bytes (an unchanged page is not read at all)."""
        named = self.each_piece(ordered, "page", make)
        if named is None:
            made = self.each_fragment(ordered, "page", make)
            for ref, page in zip(ordered.files, made, strict=True):
                yield Document(self._page_path(ref.posting_id), "text/html", (page,))
            return
        for ref, piece in zip(ordered.files, named, strict=True):
            path = self._page_path(ref.posting_id)
            yield self.spliced(path, "text/html", functools.partial(tuple, (piece,)))

    def fragment_makers(self, context: RenderContext) -> dict[str, Callable[[Posting], bytes]]:
        """A job's page, index card and feed entry, and what orders, filters and dates it."""
        site = view.site_view(self.options.dir, context)

        def order(posting: Posting) -> bytes:
            return json.dumps(view.order_key(posting, context)).encode()

        # A build asks for a posting's page, card and entry one after the other: its view is
        # made once for the three (made again if the posting's change time has moved since).
        last: list[tuple[Posting, Any, Job]] = []

        def job(posting: Posting) -> Job:
            changed = context.changed.get(posting.id) if context.changed else None
            if not last or last[0][0] is not posting or last[0][1] != changed:
                last[:] = [(posting, changed, view.job_view(posting, context))]
            return last[0][2]

        def piece(template: str) -> Callable[[Posting], bytes]:
            return lambda posting: self._piece(job(posting), template, site)

        def page(posting: Posting) -> bytes:
            return self._page(posting, site, context, job(posting))

        return {
            "order": order,
            "facts": view.facts,
            "lastmod": functools.partial(sitemap.lastmod, context=context),
            "page": page,
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
        site = view.site_view(self.options.dir, context)
        job = view.job_view(posting, context)
        return self._templates.text(("job.html", view.page_variables(job, site, context)))

    def _ordered(
        self, postings: PostingList, order: Callable[[Posting], bytes]
    ) -> tuple[PostingList, list[str]]:
        """The postings in the order of the index (department, newest first, title, id), and
        the group of each."""
        keys = [json.loads(key) for key in self.each_fragment(postings, "order", order)]
        ranked = sorted(range(len(keys)), key=keys.__getitem__)
        groups = [sys.intern(view.group_name(keys[index][0])) for index in ranked]
        return PostingList([postings.files[index] for index in ranked]), groups

    def _lazy_jobs(
        self, postings: PostingList, groups: Sequence[str], context: RenderContext
    ) -> Iterator[LazyJob]:
        make = functools.partial(view.job_view, context=context)
        for ref, group in zip(postings.files, groups, strict=True):
            yield LazyJob(ref, group, make)

    def _index(
        self,
        postings: PostingList,
        groups: list[str],
        site: Site,
        context: RenderContext,
        makers: dict[str, Callable[[Posting], bytes]],
        card: Callable[[Any], Markup],
    ) -> Template:
        jobs = self._lazy_jobs(postings, groups, context)
        grouped = (
            (name, list(members)) for name, members in itertools.groupby(jobs, view.group_of)
        )
        facts = self.each_fragment(postings, "facts", makers["facts"])
        return "index.html", {
            "site": site,
            "root": "",
            "groups": grouped,
            "total": len(postings),
            "filters": view.filters(groups, facts),
            "card": card,
        }

    def _pieced(
        self,
        name: str,
        media_type: str,
        postings: PostingList,
        part: tuple[str, str, Callable[[Posting], bytes]],
        site: Site,
        template_of: Callable[[Callable[[Any], Markup]], Template],
    ) -> Document:
        """A document that outputs a cached fragment per job (the index's cards, the feed's
        entries: ``part`` is the fragment's part, its template and maker), given the function
        the template calls for it.  With the build's fragments it is made of pieces: each
        fragment the template outputs is marked, and the output cut at the marks into literal
        bytes and the fragments as named pieces, so that a build copies the unchanged ones
        from the file on disk (`syndicate.splice`) rather than read each from the cache."""
        part_name, template, make = part
        if self.each_piece(postings, part_name, make) is None:
            cached = self.each_fragment(postings, part_name, make)
            maker = self._piece_maker(postings, template, site, lambda: next(cached).decode())
            return self._document(name, media_type, template_of(maker))

        def pieces() -> Iterator[bytes | Piece]:
            named = iter(self.each_piece(postings, part_name, make) or ())
            marks: list[Piece] = []

            def mark() -> str:  # the next job's named piece, marked where the template puts it
                marks.append(next(named))
                return f"{_MARK}{len(marks) - 1}{_MARK}"

            texts = self._templates.generate(
                template_of(self._piece_maker(postings, template, site, mark))
            )
            return _cut(texts, marks, self.name, name)

        return self.spliced(f"{self.options.dir}/{name}", media_type, pieces)

    def _piece_maker(
        self, postings: PostingList, template: str, site: Site, in_order: Callable[[], str]
    ) -> Callable[[Any], Markup]:
        """What the index's ``card(job)`` (or the feed's ``entry(job)``) is: ``in_order()`` (the
        job's cached fragment, or a mark standing for it) while the template asks for the jobs
        in the index's order, as the built-in templates do; a job asked for out of that order
        is rendered by ``template`` there and then.
        """
        refs = postings.files
        position = {"next": 0}

        def piece(job: Any) -> Markup:
            index = position["next"]
            if isinstance(job, LazyJob) and index < len(refs) and refs[index] is job.ref:
                position["next"] = index + 1
                return XmlSafe(in_order())
            whole = job.job if isinstance(job, LazyJob) else job
            return XmlSafe(self._piece(whole, template, site).decode())

        return piece

    def _piece(self, job: Job, template: str, site: Site) -> bytes:
        """A job's card or feed entry, stripped of what XML forbids once, here, rather than
        each time the index or the feed outputs it (`XmlSafe`)."""
        text = self._templates.text((template, {"site": site, "root": "", "job": job}))
        return xml_safe(text).encode()

    def _page(self, posting: Posting, site: Site, context: RenderContext, job: Job) -> bytes:
        """The job page of ``posting`` (whose view is ``job``)."""
        variables = view.page_variables(job, site, context)
        return self._templates.text(("job.html", variables)).encode()

    def _document(self, path: str, media_type: str, template: Template) -> Document:
        return Document(f"{self.options.dir}/{path}", media_type, self._templates.chunks(template))

    @cached_property
    def _templates(self) -> SiteTemplates:
        overrides = self.settings.path(Path(self.options.templates))
        return SiteTemplates(overrides, self.name)


_MARK = "\0"  # around a piece's number in a template's output (NUL: never in XML or HTML text)


def _cut(
    texts: Iterable[str], marks: Sequence[Piece], target: str, name: str
) -> Iterator[bytes | Piece]:
    """A template's output as literal bytes and the pieces its marks stand for, in order."""
    literal: list[str] = []
    for text in texts:
        if _MARK not in text:
            literal.append(text)
            continue
        # str's split, not Markup's (which escapes and wraps every part: 4% of a one-edit
        # publish at 100,000 postings); the parts are output as they are.
        for position, part in enumerate(str.split(text, _MARK)):
            if position % 2 == 0:
                literal.append(part)
                continue
            if not part.isdigit() or int(part) >= len(marks):
                raise RenderError(
                    f"template {name} changed what card(job) or entry(job) gave: output it as"
                    " it is ({{ card(job) }})",
                    target=target,
                )
            if literal:
                yield "".join(literal).encode()
                literal = []
            yield marks[int(part)]
    if literal:
        yield "".join(literal).encode()
