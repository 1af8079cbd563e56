"""XML text as feeds write it: CDATA sections or escaped text, never a forbidden character."""

from __future__ import annotations

from syndicate import content

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def cdata_sections(value: str) -> list[str]:
    """The CDATA sections that carry ``value``: split wherever ``]]>`` would end one early."""
    parts = value.split("]]>")
    if len(parts) == 1:
        return parts
    # "a]]>b" becomes "a]]" and ">b": no section contains "]]>", their concatenation is value.
    return [
        (">" if index else "") + part + ("]]" if index < len(parts) - 1 else "")
        for index, part in enumerate(parts)
    ]


def safe(value: str) -> str:
    """`syndicate.content.xml_safe`, with a quick test first: a printable text holds no
    character XML forbids (those are all controls, surrogates or non-characters)."""
    return value if value.isprintable() else content.xml_safe(value)


def cdata(value: str) -> str:
    """``value`` as CDATA sections (nothing for an empty value)."""
    text = safe(value)
    if not text:
        return ""
    if "]]>" not in text:
        return f"<![CDATA[{text}]]>"
    return "".join(f"<![CDATA[{section}]]>" for section in cdata_sections(text))


def escaped(value: str) -> str:
    """``value`` as element text with ``&``, ``<`` and ``>`` escaped."""
    return safe(value).translate(_ESCAPES)


def attribute(value: str) -> str:
    """``value`` as a double-quoted attribute's text."""
    return safe(value).translate(_ATTRIBUTE_ESCAPES)
