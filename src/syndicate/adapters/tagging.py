"""Source tagging: query parameters added to the job and apply URLs a target sends a board.

Boards ask to be named in the URLs they send job seekers to, so that the careers site's
analytics count their visits: Indeed's feed guide asks for "the source=Indeed token" on ``url``,
Talent.com for "your own tracking token, e.g. source=talent" (docs/boards.md, *Source tagging*,
has every board's parameter with its source).  Tagging is off by default and turned on per
target in config.yaml:

- ``tagging: true``: the parameters the board documents (`Target.tag_params`), else our own
  default ``utm_source=<target name>`` (no board rule: a common analytics convention);
- ``tagging: {utm_source: partner, utm_medium: feed}``: exactly these parameters.

Turning it on changes that target's payloads and feeds only (its options are part of the
target's fingerprint), and the plan names the change (`syndicate.plan.Reason.TAGGING`).  A
parameter the URL already has is kept as it is.

Not every target takes the option: Google's Indexing API is told the URL of our own page ("The
fully-qualified location of the item", developers.google.com/search/apis/indexing-api/v3/
using-api), and a tagged URL is another URL to Google, so ``google_indexing`` refuses it; the
careers site is the page the tags lead to, so it has nothing to tag.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field, StrictBool, StringConstraints

from syndicate.registry import TargetOptions

ParamName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.~-]{1,64}$")]
ParamValue = Annotated[str, StringConstraints(min_length=1, max_length=200)]
# ``true``/``false``, or the parameters themselves (at least one).
Tagging = StrictBool | Annotated[dict[ParamName, ParamValue], Field(min_length=1)]


class TaggingOptions(TargetOptions):
    """The ``tagging`` option, for the targets that send a board job or apply URLs."""

    tagging: Tagging = False


def add_params(url: str | None, **params: Any) -> str | None:
    """``url`` with ``params`` added at the end of its query; a parameter it already has is
    kept, and its query is kept as written."""
    if not url:
        return url
    parts = urlsplit(url)
    present = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    added = urlencode([(key, str(value)) for key, value in params.items() if key not in present])
    if not added:
        return url
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit(parts._replace(query=query))


def tagged(url: str | None, params: Mapping[str, str] | None) -> str | None:
    """``url`` with the tagging ``params`` (unchanged without them)."""
    return add_params(url, **params) if params and url else url


def our_default(target_name: str) -> dict[str, str]:
    """Our own tagging for a board that documents none: ``utm_source=<target name>``."""
    return {"utm_source": target_name}


def params_for(
    option: Tagging, documented: Mapping[str, str] | None, target_name: str
) -> dict[str, str] | None:
    """The parameters a target tags its URLs with: None when ``tagging`` is off; the given
    ones; or, for ``true``, the board's ``documented`` ones, else `our_default`."""
    if option is False:
        return None
    if isinstance(option, dict):
        return dict(option)
    return dict(documented) if documented else our_default(target_name)
