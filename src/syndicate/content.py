"""Descriptions: Markdown to sanitized HTML, HTML to plain text, and narrower tag sets.

Markdown is rendered by cmark-gfm (CommonMark plus tables, autolinks and strikethrough), raw
HTML in the Markdown is allowed through cmark and then everything is cleaned by nh3 (ammonia)
to `ALLOWED_TAGS`: no script, style, iframe, form, event handler or ``javascript:`` URL ever
reaches a target or a page.
"""

from __future__ import annotations

import ctypes
import functools
import html as html_lib
import re
from collections.abc import Callable, Iterable
from typing import Any

import nh3
from cmarkgfm import _cmark, cmark
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
# Everything outside XML 1.0's Char production: #x9 | #xA | #xD | [#x20-#xD7FF] |
# [#xE000-#xFFFD] | [#x10000-#x10FFFF]. One stray control character makes a whole feed unreadable.
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# A link whose URL the allowlist removed: kept as its text, since <a> without href is no link.
_DEAD_LINK = re.compile(r'<a(?: title="[^"]*")? rel="noopener noreferrer nofollow">(.*?)</a>', re.S)
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (C0 controls, lone surrogates, U+FFFE…)."""
    # Every printable character is one XML allows (the forbidden ones are controls, surrogates
    # and noncharacters, none printable), and str.isprintable is many times faster than the
    # search: most values (a title, a city) are printable throughout.
    if text.isprintable():
        return text
    return _NOT_XML_CHAR.sub("", text)


def markdown_to_safe_html(markdown: str) -> str:
    """Render Markdown to HTML and sanitize it to `ALLOWED_TAGS`."""
    return sanitize_html(markdown_to_html(markdown))


def markdown_to_html(markdown: str) -> str:
    """Markdown to HTML with cmark-gfm's table, autolink and strikethrough extensions.

    What ``cmarkgfm.markdown_to_html_with_extensions`` does, but freeing the document and the
    rendered text, which that function leaves allocated (about 30 KB a description: a hundred
    thousand postings would keep gigabytes).
    """
    lib, ffi = _cmark.lib, _cmark.ffi
    parser = lib.cmark_parser_new(_CMARK_OPTIONS)
    try:
        for extension in _extensions():
            lib.cmark_parser_attach_syntax_extension(parser, extension)
        encoded = markdown.encode("utf-8")
        lib.cmark_parser_feed(parser, encoded, len(encoded))
        root = lib.cmark_parser_finish(parser)
        try:
            extensions = lib.cmark_parser_get_syntax_extensions(parser)
            raw = lib.cmark_render_html(root, _CMARK_OPTIONS, extensions)
            try:
                return ffi.string(raw).decode("utf-8")
            finally:
                _C_FREE(_address(raw))
        finally:
            _CMARK_NODE_FREE(_address(root))
    finally:
        lib.cmark_parser_free(parser)


@functools.cache
def _extensions() -> tuple[Any, ...]:
    cmark.core_extensions_ensure_registered()
    return tuple(cmark.find_syntax_extension(name) for name in _CMARK_EXTENSIONS)


def _address(pointer: Any) -> int:
    return int(_cmark.ffi.cast("uintptr_t", pointer))


# cmark's own functions, called with ctypes: cmarkgfm's FFI does not declare cmark_node_free.
# The rendered text comes from cmark's default allocator, which is the C library's.
_CMARK_NODE_FREE = ctypes.CDLL(_cmark.__file__).cmark_node_free
_CMARK_NODE_FREE.argtypes = [ctypes.c_void_p]
_CMARK_NODE_FREE.restype = None
_C_FREE = ctypes.CDLL(None).free
_C_FREE.argtypes = [ctypes.c_void_p]
_C_FREE.restype = None


def sanitize_html(html: str, tags: Iterable[str] = ALLOWED_TAGS) -> str:
    """Clean HTML to ``tags`` (a subset of `ALLOWED_TAGS`); the text of other tags is kept."""
    return _without_dead_links(nh3.clean(html, **_clean_options(tags)))


@functools.lru_cache(maxsize=32)
def sanitizer(tags: frozenset[str]) -> Callable[[str], str]:
    """`sanitize_html` to ``tags`` with its cleaner built once (an ``nh3.Cleaner``, the same
    options): for a caller that cleans many descriptions to one tag set."""
    clean = nh3.Cleaner(**_clean_options(tags)).clean
    return lambda html: _without_dead_links(clean(html))


def _clean_options(tags: Iterable[str]) -> dict[str, Any]:
    allowed = set(tags)
    return {
        "tags": allowed,
        "attributes": {tag: attrs for tag, attrs in ALLOWED_ATTRIBUTES.items() if tag in allowed},
        "url_schemes": set(URL_SCHEMES),
        "link_rel": "noopener noreferrer nofollow",
        "strip_comments": True,
    }


def _without_dead_links(cleaned: str) -> str:
    # Links cannot nest, so the first </a> after a dead link's start tag is its own.
    return _DEAD_LINK.sub(r"\1", cleaned).strip()


_TAG_OR_TEXT = re.compile(r"(<[^>]*>)")
# A "<" before a letter, "/", "!" or "?" would open a tag once written as itself.
_OPENS_A_TAG = re.compile(r"<(?=[A-Za-z/!?])")
LOOKALIKE_LT = "\u2039"  # ‹ stands for a "<" that would otherwise open a tag


def literal_html(html: str) -> str:
    """Sanitized HTML with its text's entities written as literal characters (``&amp;`` as
    ``&``, ``&nbsp;`` as a no-break space), for boards that read no HTML entities.

    A ``<`` in the text is written as itself, except where it would open a tag (before a
    letter, ``/``, ``!`` or ``?``): there it becomes ``‹``, so the text never turns into
    markup the sanitizer removed.
    """
    pieces = _TAG_OR_TEXT.split(html)
    for index in range(0, len(pieces), 2):  # the even pieces are text between tags
        text = pieces[index]
        if "&" in text:
            pieces[index] = _OPENS_A_TAG.sub(LOOKALIKE_LT, html_lib.unescape(text))
    return "".join(pieces)


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
