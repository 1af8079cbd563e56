"""How the profile engine writes a value: a board's description HTML, XML text and CDATA.

The same bytes as `syndicate.adapters.xmltext` and `syndicate.content.sanitize_html` write
(tests/test_profile_writing.py compares them over generated and hostile text), made with less
work for the values a profile writes once per posting, the description above all:

- the forbidden-character test passes multi-line text without the regular expression: a
  printable text holds no character XML 1.0 forbids (`xmltext.safe`), and neither does one
  that is printable once its newlines, tabs and carriage returns (which XML allows) are taken
  out; only text failing both goes through `content.xml_safe`;
- a profile's HTML policy is cleaned by one ``nh3.Cleaner`` built once per tag set
  (`content.sanitizer`), not by options converted for every call.
"""

from __future__ import annotations

import functools
import re

from syndicate import content
from syndicate.adapters import xmltext

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def safe(value: str) -> str:
    """``value`` without the characters XML forbids: `xmltext.safe`, tested more quickly."""
    if value.isprintable():
        return value
    if value.replace("\n", "").replace("\t", "").replace("\r", "").isprintable():
        return value
    return content.xml_safe(value)


def cdata(value: str) -> str:
    """``value`` as CDATA sections, as `xmltext.cdata` writes it."""
    text = safe(value)
    if "]]>" in text:
        return "".join([f"<![CDATA[{section}]]>" for section in xmltext.cdata_sections(text)])
    return f"<![CDATA[{text}]]>" if text else ""


def escaped(value: str) -> str:
    """``value`` as element text, as `xmltext.escaped` writes it (most values, an id or a
    number, have nothing to escape: three searches cost less than a translation)."""
    text = safe(value)
    if "&" in text or "<" in text or ">" in text:
        return text.translate(_ESCAPES)
    return text


def attribute(value: str) -> str:
    """``value`` as a double-quoted attribute's text, as `xmltext.attribute` writes it."""
    text = safe(value)
    if "&" in text or "<" in text or ">" in text or '"' in text:
        return text.translate(_ATTRIBUTE_ESCAPES)
    return text


@functools.lru_cache(maxsize=256)
def board_html(html: str, tags: tuple[str, ...], rename: tuple[tuple[str, str], ...]) -> str:
    """Sanitized description HTML as a board takes it: tags renamed, reduced to ``tags``, and
    no entities (their characters instead)."""
    if rename:
        html = _renamer(rename)(html)
    return content.literal_html(content.sanitizer(frozenset(tags))(html))


@functools.lru_cache(maxsize=32)
def _renamer(rename: tuple[tuple[str, str], ...]) -> functools.partial[str]:
    names = dict(rename)
    pattern = re.compile(r"<(/?)(" + "|".join(map(re.escape, names)) + r")(?=[\s>/])")
    return functools.partial(pattern.sub, lambda match: f"<{match[1]}{names[match[2]]}")


@functools.lru_cache(maxsize=256)
def visible_text(html: str) -> str:
    """What a reader sees of ``html`` (what length rules of an html field count)."""
    return content.html_to_text(html)
