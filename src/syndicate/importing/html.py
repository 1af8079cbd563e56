"""Job-board HTML pages and fragments (the 8x8 seed), read with libxml2's HTML parser.

- The title is the element a board marks as the job's title (`TITLE_CLASSES`,
  ``itemprop="title"``), else the page's first ``<h1>``, else a heading that comes before any
  text (a fragment's ``<h2>``).
- The description is the element a board marks as the description (`DESCRIPTION_MARKERS`:
  Indeed's ``jobDescriptionText``, ``itemprop="description"``, Greenhouse's ``#content``…), else
  the whole body.  Site chrome is ignored: navigation, headers, footers, forms and elements whose
  classes say boilerplate (`BOILERPLATE_CLASSES`: cookie banners, share buttons, breadcrumbs…).
- Headings, paragraphs and lists are kept as Markdown, ``<i>``/``<b>`` as emphasis, entities
  decoded.
- A board's location and company elements (``class="location"``, ``class="company-name"``)
  are read as such when they sit outside the description.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from lxml import etree
from lxml import html as lxml_html

from syndicate.importing.base import Draft, Importer
from syndicate.importing.blocks import element_to_blocks, parse_html
from syndicate.importing.places import read_place_phrase
from syndicate.importing.sources import SourceFile

TITLE_CLASSES = frozenset(
    {"jobsearch-jobinfoheader-title", "app-title", "posting-headline", "job-title", "jobtitle",
     "job-title-header", "position-title", "job-header-title", "job__title"}
)  # fmt: skip
DESCRIPTION_MARKERS = frozenset(
    {"jobdescriptiontext", "jobsearch-jobdescriptiontext", "job-description", "jobdescription",
     "job_description", "job-description-content", "description__text", "job__description",
     "posting-description", "content"}
)  # fmt: skip
BOILERPLATE_CLASSES = frozenset(
    {"cookie", "cookies", "cookie-banner", "cookie-consent", "share", "sharing", "social",
     "social-share", "share-buttons", "breadcrumb", "breadcrumbs", "navbar", "nav", "menu",
     "site-header", "site-footer", "footer", "header", "sidebar", "related-jobs",
     "similar-jobs", "apply-button", "apply-btn", "advert", "advertisement", "ads",
     "newsletter", "skip-link", "sr-only", "visually-hidden"}
)  # fmt: skip
_CHROME_TAGS = ("header", "footer", "aside", "nav")
LOCATION_CLASSES = frozenset({"location", "job-location", "joblocation", "company-location"})
COMPANY_CLASSES = frozenset({"company", "company-name", "companyname", "employer"})
_HTML_TAG = re.compile(
    r"<(?:!doctype\s+html|html|body|p|div|h[1-6]|ul|ol|li|br|section|article|span|table)\b"
)
_SPACES = re.compile(r"\s+")


class HtmlImporter(Importer):
    """Job-board HTML: headings, paragraphs and lists kept as Markdown."""

    name: ClassVar[str] = "html"
    summary: ClassVar[str] = "job-board HTML pages or fragments"

    @classmethod
    def recognises(cls, source: SourceFile) -> bool:
        return source.head.startswith("<") and _HTML_TAG.search(source.head) is not None

    def read(self, source: SourceFile) -> list[Draft]:
        root = parse_html(source.text)
        body = root.find("body")
        body = body if body is not None else root
        title = _title_element(body)
        container = _description_element(body)
        draft = self.draft(source, line=title.sourceline if title is not None else 1)
        if title is not None:
            draft.set("title", _text_of(title))
        _read_marked_facts(draft, body, container)
        language = root.get("lang")
        if language and re.match(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", language):
            draft.set("language", language.split("-")[0].lower())
        if title is not None and _is_inside(title, container):
            _drop(title)
        _drop_boilerplate(container, whole_page=container is body)
        draft.blocks = element_to_blocks(container)
        return [draft]


def _classes(element: etree._Element) -> set[str]:
    return {token.lower() for token in (element.get("class") or "").split()}


def _marked(element: etree._Element, markers: frozenset[str]) -> bool:
    return bool(_classes(element) & markers) or (element.get("id") or "").lower() in markers


def _elements(body: etree._Element) -> Iterator[etree._Element]:
    return (element for element in body.iter() if isinstance(element.tag, str))


def _text_of(element: etree._Element) -> str:
    return _SPACES.sub(" ", element.text_content()).strip()


def _title_element(body: etree._Element) -> etree._Element | None:
    for element in _elements(body):
        if _marked(element, TITLE_CLASSES) or element.get("itemprop") == "title":
            headings = [e for e in element.iter("h1", "h2", "h3") if _text_of(e)]
            chosen = headings[0] if headings else element
            if _text_of(chosen):
                return chosen
    first_h1 = next((e for e in body.iter("h1") if _text_of(e)), None)
    if first_h1 is not None:
        return first_h1
    # A fragment's heading that comes before any text is its title.
    for element in _elements(body):
        if element.tag in ("h2", "h3") and _text_of(element):
            return element
        if (element.text or "").strip() and element.tag not in ("html", "body"):
            return None
    return None


def _description_element(body: etree._Element) -> etree._Element:
    for element in _elements(body):
        if element is not body and (
            _marked(element, DESCRIPTION_MARKERS) or element.get("itemprop") == "description"
        ):
            return element
    return body


def _is_inside(element: etree._Element, container: etree._Element) -> bool:
    return any(ancestor is container for ancestor in element.iterancestors()) or (
        element is container
    )


def _drop(element: etree._Element) -> None:
    if isinstance(element, lxml_html.HtmlElement) and element.getparent() is not None:
        element.drop_tree()  # keeps the text that follows it


def _drop_boilerplate(container: etree._Element, *, whole_page: bool) -> None:
    doomed = [
        element
        for element in _elements(container)
        if element is not container
        and (
            bool(_classes(element) & BOILERPLATE_CLASSES)
            or any(token.startswith("cookie") for token in _classes(element))
            or (whole_page and element.tag in _CHROME_TAGS)
        )
    ]
    for element in doomed:
        _drop(element)


def _read_marked_facts(draft: Draft, body: etree._Element, container: etree._Element) -> None:
    for element in _elements(body):
        if _is_inside(element, container):
            continue
        text = _text_of(element)
        if not text or len(text) > 120:
            continue
        if _marked(element, LOCATION_CLASSES):
            reading = read_place_phrase(text)
            draft.fill("locations", [place.as_location() for place in reading.places])
            draft.fill("remote", reading.remote)
            draft.fill("applicant_locations", list(reading.countries))
        elif _marked(element, COMPANY_CLASSES):
            draft.fill("company", re.sub(r"^at\s+", "", text, flags=re.I))
