"""Descriptions: Markdown to sanitized HTML, HTML to plain text, and narrower tag sets.

Markdown is rendered by cmark-gfm (CommonMark plus tables, autolinks and strikethrough), raw
HTML in the Markdown is allowed through cmark and then everything is cleaned by nh3 (ammonia)
to `ALLOWED_TAGS`: no script, style, iframe, form, event handler or ``javascript:`` URL ever
reaches a target or a page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options
from lxml import html as lxml_html

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p", "br", "hr", "strong", "b", "em", "i", "u", "s", "del", "code", "pre",
        "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "a",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})

_CMARK_OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_VALIDATE_UTF8
_CMARK_EXTENSIONS = ("table", "autolink", "strikethrough")
_BLOCKS = frozenset(
    {"p", "div", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote",
     "table", "tr", "hr"}
)  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def markdown_to_safe_html(markdown: str) -> str:
    """Render Markdown to HTML and sanitize it to `ALLOWED_TAGS`."""
    rendered = cmarkgfm.markdown_to_html_with_extensions(
        markdown, options=_CMARK_OPTIONS, extensions=list(_CMARK_EXTENSIONS)
    )
    return sanitize_html(rendered)


def sanitize_html(html: str, tags: Iterable[str] = ALLOWED_TAGS) -> str:
    """Clean HTML to ``tags`` (a subset of `ALLOWED_TAGS`); the text of other tags is kept."""
    allowed = set(tags)
    return nh3.clean(
        html,
        tags=allowed,
        attributes={tag: attrs for tag, attrs in ALLOWED_ATTRIBUTES.items() if tag in allowed},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: paragraphs apart, one list item per line with a dash."""
    if not html.strip():
        return ""
    root = lxml_html.fragment_fromstring(html, create_parent="div")
    pieces: list[str] = []
    _collect_text(root, pieces)
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(pieces).split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _collect_text(element: lxml_html.HtmlElement, pieces: list[str]) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag == "br":
        pieces.append("\n")
    elif tag == "li":
        pieces.append("\n- ")
    elif tag in _BLOCKS:
        pieces.append("\n\n")
    if element.text and tag not in {"ul", "ol", "table", "tr"}:
        pieces.append(element.text.replace("\n", " "))
    for child in element:
        _collect_text(child, pieces)
        if child.tail:
            pieces.append(child.tail.replace("\n", " "))
    if tag in _BLOCKS and tag != "li":
        pieces.append("\n\n")
    elif tag in {"td", "th"}:
        pieces.append(" ")
