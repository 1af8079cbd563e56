"""LinkedIn-style ``simpleJobPostings`` elements written as a JSON feed (pull).

`job_element` builds the element of one posting as LinkedIn's Job Posting API documents it; the
push target (`syndicate.adapters.linkedin_api`) sends exactly these elements, in batches of at
most 100, and this target writes them as ``{"elements": [...]}``.

Choices, following the API's field schema:

- ``description`` is the posting's sanitized HTML (LinkedIn ignores the tags it does not render);
  it must be 100 to 25,000 characters long and ``title`` at most 200 (`check_element_rules`);
- ``companyApplyUrl`` is required and must be a URL: the posting's apply URL, or else the job's
  careers page, which shows the email address to apply to (LinkedIn's own example of the field
  is such a page); a ``mailto:`` is never sent.  Postings without an apply URL get a warning;
- ``listedAt`` is the first instant of ``date_posted`` and ``expireAt`` the end of
  ``valid_through`` (omitted without one), both read in the configured timezone and written as
  epoch milliseconds;
- ``location`` is one string, ``City, Region, Country name`` with the parts known, of the first
  location (LinkedIn takes one location per job); a remote job names the country of its first
  applicant location, like LinkedIn's remote example (``India``), with
  ``workRemoteAllowed: true``, which hybrid jobs carry too;
- ``employmentStatus`` maps the first employment type to LinkedIn's names (CONTRACTOR is
  CONTRACT, INTERN is INTERNSHIP, PER_DIEM is OTHER); ``experienceLevel`` is only sent when it is
  certain (INTERNSHIP for an internship), never guessed from the free-text ``experience``;
- ``integrationContext`` (the organization URN, given by the push target) identifies the company
  when the job is the configured organization's; otherwise ``companyName`` names it;
- ``listingType`` is BASIC (a free job), which LinkedIn asks to be explicit;
- control characters (and anything else XML 1.0 forbids) are removed from every text, since the
  description is HTML, where they are parse errors, and a title is shown as it is.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

from syndicate.adapters.base import (
    Document,
    OperationKind,
    PullTarget,
    RenderContext,
    TargetOptions,
)
from syndicate.adapters.jsonld import country_name
from syndicate.content import xml_safe
from syndicate.diagnostics import field_path
from syndicate.errors import Problem
from syndicate.model import EmploymentType, Location, Posting, Remote, expires_at, starts_at

MEDIA_TYPE = "application/json"
TITLE_MAX = 200
DESCRIPTION_MIN = 100
DESCRIPTION_MAX = 25_000
LISTING_TYPE = "BASIC"

Operation = Literal["CREATE", "UPDATE", "RENEW", "CLOSE"]
# (field, message): a rule a posting breaks, located at the posting field at fault.
Rule = tuple[str, str]

EMPLOYMENT_STATUS: dict[EmploymentType, str] = {
    EmploymentType.FULL_TIME: "FULL_TIME",
    EmploymentType.PART_TIME: "PART_TIME",
    EmploymentType.CONTRACTOR: "CONTRACT",
    EmploymentType.TEMPORARY: "TEMPORARY",
    EmploymentType.INTERN: "INTERNSHIP",
    EmploymentType.VOLUNTEER: "VOLUNTEER",
    EmploymentType.PER_DIEM: "OTHER",
    EmploymentType.OTHER: "OTHER",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class LinkedInJsonOptions(TargetOptions):
    """``{type: linkedin_json, file: linkedin.json}``"""

    type: Literal["linkedin_json"]
    file: str = "linkedin.json"


def job_element(
    posting: Posting,
    context: RenderContext,
    operation: OperationKind | Operation | str = OperationKind.CREATE,
    organization_urn: str | None = None,
) -> dict[str, Any]:
    """The ``simpleJobPostings`` element of ``posting`` for ``operation``.

    ``organization_urn`` (``urn:li:organization:123``) becomes ``integrationContext`` when the
    job is the configured organization's own; without it the company is sent by name.
    """
    tz = context.settings.timezone
    company = context.company(posting)
    element: dict[str, Any] = {}
    if organization_urn and company == context.settings.organization.name:
        element["integrationContext"] = organization_urn
    else:
        element["companyName"] = xml_safe(company)
    element |= {
        "companyApplyUrl": apply_url(posting, context),
        "externalJobPostingId": posting.id,
        "jobPostingOperationType": str(OperationKind(operation)),
        "title": title_text(posting),
        "description": description_html(posting),
        "listedAt": epoch_ms(starts_at(posting.date_posted, tz)),
    }
    if posting.valid_through is not None:
        element["expireAt"] = epoch_ms(expires_at(posting.valid_through, tz))
    location = location_text(posting)
    if location is not None:
        element["location"] = location
    element["workRemoteAllowed"] = posting.remote is not Remote.ONSITE
    if posting.employment_type:
        status = EMPLOYMENT_STATUS[posting.employment_type[0]]
        element["employmentStatus"] = status
        if status == "INTERNSHIP":
            element["experienceLevel"] = "INTERNSHIP"
    element["listingType"] = LISTING_TYPE
    return element


def apply_url(posting: Posting, context: RenderContext) -> str:
    """Where LinkedIn sends applicants: the apply URL, or the job's careers page."""
    return posting.apply.url or context.job_url(posting)


def title_text(posting: Posting) -> str:
    """The title as sent: without characters that no text may carry."""
    return xml_safe(posting.title)


def description_html(posting: Posting) -> str:
    """The description as sent: the sanitized HTML without characters HTML forbids."""
    return xml_safe(posting.description_html)


def epoch_ms(when: datetime) -> int:
    """``when`` (timezone-aware) as milliseconds since 1970-01-01T00:00:00Z."""
    return (when - _EPOCH) // timedelta(milliseconds=1)


def place_text(location: Location) -> str:
    """``Geneva, GE, Switzerland``: city, region and country name, as far as they are known."""
    parts = (location.city, location.region, country_name(location.country))
    return xml_safe(", ".join(part for part in parts if part))


def location_text(posting: Posting) -> str | None:
    """The element's one ``location``; None when the posting gives nothing to name."""
    if posting.remote is Remote.REMOTE and posting.applicant_locations:
        return country_name(posting.applicant_locations[0])
    if posting.locations:
        return place_text(posting.locations[0])
    return None


def check_element_rules(posting: Posting) -> list[Rule]:
    """The Job Posting API's rules that ``posting`` breaks, as (field, message) errors."""
    rules: list[Rule] = []
    title = title_text(posting)
    if len(title) > TITLE_MAX:
        rules.append(("title", f"is {len(title)} characters long; LinkedIn allows {TITLE_MAX}"))
    length = len(description_html(posting))
    if not DESCRIPTION_MIN <= length <= DESCRIPTION_MAX:
        rules.append(
            (
                "description",
                f"is {length:,} characters of HTML; LinkedIn needs {DESCRIPTION_MIN} to "
                f"{DESCRIPTION_MAX:,}",
            )
        )
    rules.extend(_location_rules(posting))
    return rules


def element_warnings(posting: Posting) -> list[Rule]:
    """What LinkedIn will receive differently from what the posting says, as warnings."""
    warnings: list[Rule] = []
    if posting.apply.url is None:
        warnings.append(
            (
                "apply",
                "has no url; LinkedIn requires one, so companyApplyUrl is the job's careers "
                "page, which shows the email address",
            )
        )
    if posting.remote is not Remote.REMOTE and len(posting.locations) > 1:
        warnings.append(
            (
                "locations",
                f"LinkedIn takes one location per job; only the first "
                f"({place_text(posting.locations[0])}) is sent",
            )
        )
    return warnings


def _location_rules(posting: Posting) -> list[Rule]:
    if posting.remote is Remote.REMOTE:
        if location_text(posting) is None:
            return [
                (
                    "applicant_locations",
                    "a remote job needs a country for LinkedIn's location: list the countries "
                    "applicants may live in",
                )
            ]
        return []
    if posting.locations and posting.locations[0].city is None:
        return [
            (
                field_path(("locations", 0, "city")),
                "is missing; LinkedIn's location needs a city (City, Region, Country)",
            )
        ]
    return []


class LinkedInJson(PullTarget):
    """The LinkedIn-style job elements of every open posting, as one JSON file."""

    type_name: ClassVar[str] = "linkedin_json"
    summary: ClassVar[str] = "LinkedIn-style JSON feed"
    Options: ClassVar[type[TargetOptions]] = LinkedInJsonOptions
    options: LinkedInJsonOptions

    def check(self, posting: Posting) -> list[Problem]:
        """LinkedIn's rules (errors) and what LinkedIn will receive differently (warnings)."""
        return [
            self.problem(posting, field, message) for field, message in check_element_rules(posting)
        ] + [
            self.problem(posting, field, message, warning=True)
            for field, message in element_warnings(posting)
        ]

    def render(self, postings: Iterable[Posting], context: RenderContext) -> Iterator[Document]:
        """One file, ``{"elements": [...]}``, streamed one element per chunk."""
        yield Document(self.options.file, MEDIA_TYPE, self._chunks(postings, context))

    def preview(self, posting: Posting, context: RenderContext) -> str:
        """The posting's element, as pretty JSON."""
        return json.dumps(job_element(posting, context), indent=2, ensure_ascii=False) + "\n"

    def fragment_makers(self, context: RenderContext) -> dict[str, Callable[[Posting], bytes]]:
        """A posting's element."""
        return {"element": functools.partial(_element, context=context)}

    def _chunks(self, postings: Iterable[Posting], context: RenderContext) -> Iterator[bytes]:
        yield b'{"elements":['
        separator = b"\n"
        make = self.fragment_makers(context)["element"]
        for element in self.each_fragment(postings, "element", make):
            yield separator + element
            separator = b",\n"
        yield b"\n]}\n"


def _element(posting: Posting, context: RenderContext) -> bytes:
    return json.dumps(job_element(posting, context), ensure_ascii=False).encode("utf-8")
