"""HTTP validators and content coding, as RFC 9110 defines them for GET and HEAD.

``If-None-Match`` takes precedence over ``If-Modified-Since`` (the latter is ignored whenever
the former is present); ``If-None-Match`` uses the weak comparison, so ``W/"x"`` matches ``"x"``.
"""

from __future__ import annotations

from email.utils import formatdate, parsedate_to_datetime

GZIP_SUFFIX = "-gzip"


def entity_tag(sha256: str, gzipped: bool) -> str:
    """The strong ETag of a file's bytes, distinct for the gzip representation."""
    return f'"{sha256}{GZIP_SUFFIX if gzipped else ""}"'


def http_date(timestamp: float) -> str:
    """``timestamp`` as an IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``)."""
    return formatdate(timestamp, usegmt=True)


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def none_match(header: str, etag: str) -> bool:
    """True when an ``If-None-Match`` header matches ``etag`` (the client's copy is current)."""
    if header.strip() == "*":
        return True
    return any(_opaque(tag) == etag for tag in header.split(","))


def not_modified_since(header: str, mtime: float) -> bool:
    """True when the file, modified at ``mtime``, is no newer than an ``If-Modified-Since``.

    An unparseable date is ignored, as RFC 9110 requires.
    """
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        return False
    # HTTP dates have whole seconds: compare at that resolution.
    return int(mtime) <= since.timestamp()


def not_modified(
    if_none_match: str | None, if_modified_since: str | None, etag: str, mtime: float
) -> bool:
    """Whether a GET or HEAD with these validators answers ``304 Not Modified``."""
    if if_none_match is not None:
        return none_match(if_none_match, etag)
    if if_modified_since is not None:
        return not_modified_since(if_modified_since, mtime)
    return False


def accepts_gzip(header: str | None) -> bool:
    """True when an ``Accept-Encoding`` header allows gzip (``gzip`` or ``*``, with q > 0)."""
    if not header:
        return False
    explicit: float | None = None
    wildcard: float | None = None
    for item in header.split(","):
        name, _, params = item.partition(";")
        quality = _quality(params)
        coding = name.strip().lower()
        if coding in ("gzip", "x-gzip"):
            explicit = quality
        elif coding == "*":
            wildcard = quality
    if explicit is not None:
        return explicit > 0
    return wildcard is not None and wildcard > 0


def _quality(params: str) -> float:
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0
