"""LinkedIn's ``simpleJobPostings`` elements, and the same elements written as a JSON file (pull).

`job_element` builds the element of one posting as LinkedIn's Job Posting API documents it; the
push target (`syndicate.adapters.linkedin_api`) sends exactly these elements, and this target
writes them as ``{"elements": [...]}`` (a file for partners and for review; no LinkedIn product
reads it — LinkedIn's crawled format is its XML job feed, a profile of its own).

Sources (LinkedIn's own): the OpenAPI description of the API, `linkedin-developers/
job-posting-development-tools` ``OpenAPI-specification/job_posting_v2.yaml`` (cited as OAS with
its line numbers); the Microsoft Learn pages *Job Posting API schema* (``…/talent/job-postings/
api/job-posting-api-schema``, also its ``?view=li-lts-2026-03`` view), *Create jobs*
(``…/api/create-jobs``), *Job posting release notes* (``…/job-postings/job-posting-release-notes``)
and LinkedIn's own Java SDK `linkedin/talent-solutions-java-sdk` (cited as SDK).  docs/boards.md
lists each rule with its source and the test that checks it.

The element, field by field:

- required for every operation, CLOSE included (OAS 423-430; every sample of *Close jobs* sends
  the whole element): ``companyApplyUrl``, ``externalJobPostingId``, ``jobPostingOperationType``,
  ``description``, ``title``, ``listedAt``, ``location``;
- ``companyApplyUrl``: the posting's apply URL, or else the job's careers page (which shows the
  email to apply to); a ``mailto:`` is never sent.  Postings without an apply URL get a warning;
- ``title`` at most 200 characters, ``description`` (HTML; LinkedIn ignores tags it does not
  render) 100 to 25,000 (OAS 308-320); ``externalJobPostingId`` at most 75 on the versioned API
  (schema page, li-lts-2026-03 view; SDK), which our ids never exceed;
- ``listedAt``: epoch milliseconds of ``date_posted``, "should not be a future time" (OAS 322-326):
  never later than the moment the element is built (a scheduled posting is not sent at all
  before its date);
- ``expireAt``: epoch milliseconds; "Value greater than 180 days is not allowed" (OAS 409, which
  also still says "a maximum of three years": the 180-day sentence is the one the open revision
  of the file, the SDK and the premium rules agree with, so it is followed) and, per the SDK,
  more than 24 hours from now.  The end of ``valid_through`` when it falls in that window; the
  last day within 180 days when it is later (the job is then renewed before it lapses, see
  `syndicate.adapters.linkedin_api`); omitted when the job ends within 24 hours (it is closed
  then by syndicate itself) or has no end (LinkedIn's default: 180 days);
- ``location``: one of the documented forms "CITY, STATE", "CITY, PROVINCE", "CITY, COUNTRY" or
  "POSTALCODE, COUNTRYCODE" (OAS 328-333): ``City, ST`` in the United States and Canada when the
  region is known, else ``City, Country``.  Further locations go in ``alternateLocations``, at
  most seven (*Create jobs*: "more than seven locations" is refused).  A remote job's location
  "has only COUNTRY value" (*Create jobs*): its one applicant country, or, when it is open to
  several, the country of ``organization.location`` (the headquarters; the OAS's old rule for
  remote jobs); never silently the first of a list;
- ``workplaceTypes``: exactly one of ``On-site``, ``Hybrid``, ``Remote`` (*Create jobs*; the SDK's
  spelling).  ``workRemoteAllowed`` is not sent: "no longer supported from June 30, 2024", like
  ``state``, ``countryCode`` and ``postalCode`` (release notes, Nov 2023 entry);
- ``employmentStatus``: LinkedIn takes one (OAS 368-380); the first employment type, mapped
  (CONTRACTOR is CONTRACT, INTERN is INTERNSHIP, PER_DIEM is OTHER), with a warning when the
  posting lists several; ``experienceLevel`` only when it is certain (INTERNSHIP for an
  internship), never guessed from the free-text ``experience``;
- ``integrationContext`` (the organization URN) for the organization's own jobs, else
  ``companyName`` (OAS 271-280);
- ``posterEmail``: required for every job since June 2025 (release notes, June 2025): the
  target's ``poster_email``, else ``organization.email``;
- ``listingType``: BASIC (a free job; OAS 412-420);
- characters XML 1.0 forbids are removed from every text (the description is HTML, where they
  are parse errors; a title is shown as it is).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, ClassVar, Literal

from syndicate.adapters.base import Document, PullTarget, RenderContext, Target, TargetOptions
from syndicate.adapters.places import country_name, remote_countries
from syndicate.adapters.tagging import TaggingOptions, tagged
from syndicate.content import xml_safe
from syndicate.diagnostics import field_path
from syndicate.errors import Problem
from syndicate.model import EmploymentType, Location, Posting, Remote, expires_at, starts_at
from syndicate.operations import OperationKind

MEDIA_TYPE = "application/json"
HEAD, TAIL = b'{"elements":[', b"\n]}\n"  # around the elements
TITLE_MAX = 200
DESCRIPTION_MIN = 100
DESCRIPTION_MAX = 25_000
EXTERNAL_ID_MAX = 75
ALTERNATE_LOCATIONS_MAX = 7
LISTING_TYPE = "BASIC"
EXPIRY_MAX = timedelta(days=180)
EXPIRY_MIN = timedelta(hours=24)
DEFAULT_EXPIRY = timedelta(days=180)  # when no expireAt is sent
REGION_COUNTRIES = frozenset({"US", "CA"})  # "CITY, STATE" / "CITY, PROVINCE"

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
WORKPLACE_TYPES: dict[Remote, str] = {
    Remote.ONSITE: "On-site",
    Remote.HYBRID: "Hybrid",
    Remote.REMOTE: "Remote",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class LinkedInJsonOptions(TaggingOptions):
    """``{type: linkedin_json, file: linkedin.json}``; ``tagging`` tags ``companyApplyUrl``."""

    type: Literal["linkedin_json"]
    file: str = "linkedin.json"


@dataclass(frozen=True, slots=True)
class ElementSetup:
    """What an element is built from besides the posting: who posts, for which company page."""

    organization_urn: str | None = None
    poster_email: str | None = None
    tags: Mapping[str, str] | None = None  # the target's source tagging of companyApplyUrl


def job_element(
    posting: Posting,
    context: RenderContext,
    operation: OperationKind | Operation | str = OperationKind.CREATE,
    setup: ElementSetup = ElementSetup(),
) -> dict[str, Any]:
    """The ``simpleJobPostings`` element of ``posting`` for ``operation``, built at the
    context's ``build_time`` (``listedAt`` is never later, ``expireAt`` counts from it)."""
    now = context.build_time
    tz = context.settings.timezone
    company = context.company(posting)
    element: dict[str, Any] = {}
    if setup.organization_urn and company == context.settings.organization.name:
        element["integrationContext"] = setup.organization_urn
    else:
        element["companyName"] = xml_safe(company)
    element |= {
        "companyApplyUrl": tagged(apply_url(posting, context), setup.tags),
        "externalJobPostingId": posting.id,
        "jobPostingOperationType": str(OperationKind(operation)),
        "title": title_text(posting),
        "description": description_html(posting),
        "listedAt": min(epoch_ms(starts_at(posting.date_posted, tz)), epoch_ms(now)),
    }
    expiry = expire_at(posting, context)
    if expiry is not None:
        element["expireAt"] = epoch_ms(expiry)
    places = locations(posting, context)
    if places:
        element["location"] = places[0]
    if len(places) > 1:
        element["alternateLocations"] = places[1 : 1 + ALTERNATE_LOCATIONS_MAX]
    element["workplaceTypes"] = [WORKPLACE_TYPES[posting.remote]]
    if posting.employment_type:
        status = EMPLOYMENT_STATUS[posting.employment_type[0]]
        element["employmentStatus"] = status
        if status == "INTERNSHIP":
            element["experienceLevel"] = "INTERNSHIP"
    poster = poster_email(context, setup)
    if poster is not None:
        element["posterEmail"] = poster
    element["listingType"] = LISTING_TYPE
    return element


def expire_at(posting: Posting, context: RenderContext) -> datetime | None:
    """The element's ``expireAt`` (see the module docstring), or None to send none."""
    if posting.valid_through is None:
        return None
    now = context.build_time
    end = expires_at(posting.valid_through, context.settings.timezone)
    if end <= now + EXPIRY_MIN:
        return None
    if end <= now + EXPIRY_MAX:
        return end
    return latest_expiry(now)


def latest_expiry(now: datetime) -> datetime:
    """The latest ``expireAt`` LinkedIn accepts from ``now``, kept the same all day (the
    start of the UTC day 180 days on), so that a plan made twice in a day builds one payload."""
    day = (now + EXPIRY_MAX).astimezone(UTC).date()
    return datetime.combine(day, time.min, tzinfo=UTC)


def apply_url(posting: Posting, context: RenderContext) -> str:
    """Where LinkedIn sends applicants: the apply URL, or the job's careers page."""
    return posting.apply.url or context.job_url(posting)


def poster_email(context: RenderContext, setup: ElementSetup) -> str | None:
    """Whose job posting it is on LinkedIn: the configured poster, else the organization's."""
    return setup.poster_email or context.settings.organization.email


def title_text(posting: Posting) -> str:
    """The title as sent: without characters that no text may carry."""
    return xml_safe(posting.title)


def description_html(posting: Posting) -> str:
    """The description as sent: the sanitized HTML without characters HTML forbids."""
    return xml_safe(posting.description_html)


def epoch_ms(when: datetime) -> int:
    """``when`` (timezone-aware) as milliseconds since 1970-01-01T00:00:00Z."""
    return (when - _EPOCH) // timedelta(milliseconds=1)


def place_text(location: Location) -> str | None:
    """One location in a form LinkedIn documents: ``City, ST`` (United States, Canada),
    ``City, Country``, or ``POSTALCODE, CC``; None without a city or postal code."""
    if location.city:
        if location.region and location.country in REGION_COUNTRIES:
            return xml_safe(f"{location.city}, {location.region}")
        return xml_safe(f"{location.city}, {country_name(location.country)}")
    if location.postal_code:
        return xml_safe(f"{location.postal_code}, {location.country}")
    return None


def remote_country(posting: Posting, context: RenderContext) -> str | None:
    """The one country a remote job is located in for LinkedIn: its only applicant country, or
    the headquarters' (``organization.location``) when it is open to several."""
    countries = remote_countries(posting)
    if len(countries) == 1:
        return countries[0]
    headquarters = context.settings.organization.location
    return headquarters.country if headquarters is not None else None


def locations(posting: Posting, context: RenderContext) -> list[str]:
    """The element's ``location`` then its ``alternateLocations``, as LinkedIn writes them."""
    if posting.remote is Remote.REMOTE:
        country = remote_country(posting, context)
        return [country_name(country)] if country else []
    return [text for text in map(place_text, posting.locations) if text]


def check_element_rules(
    posting: Posting, context: RenderContext, setup: ElementSetup = ElementSetup()
) -> list[Rule]:
    """The Job Posting API's rules that ``posting`` breaks, as (field, message) errors, for a
    target set up as ``setup`` (its poster email counts)."""
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
    if len(posting.id) > EXTERNAL_ID_MAX:
        rules.append(("id", f"is longer than the {EXTERNAL_ID_MAX} characters LinkedIn takes"))
    rules.extend(_location_rules(posting, context))
    if poster_email(context, setup) is None:
        rules.append(
            (
                "apply",
                "LinkedIn requires a job poster email for every job: set organization.email "
                "(or the target's poster_email) in config.yaml",
            )
        )
    return rules


def element_problems(target: Target, posting: Posting, setup: ElementSetup) -> list[Problem]:
    """What a target sending LinkedIn elements (the file or the API) has against ``posting``:
    LinkedIn's rules as errors, what LinkedIn will receive differently as warnings."""
    # The rules read the settings only; the time is not part of them.
    context = RenderContext(settings=target.settings, build_time=datetime.now(UTC))
    return [
        target.problem(posting, field, message)
        for field, message in check_element_rules(posting, context, setup)
    ] + [
        target.problem(posting, field, message, warning=True)
        for field, message in element_warnings(posting, context)
    ]


def element_warnings(posting: Posting, context: RenderContext) -> list[Rule]:
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
    places = len(posting.locations)
    if posting.remote is not Remote.REMOTE and places > 1 + ALTERNATE_LOCATIONS_MAX:
        warnings.append(
            (
                "locations",
                f"LinkedIn takes {1 + ALTERNATE_LOCATIONS_MAX} locations per job; only the "
                f"first {1 + ALTERNATE_LOCATIONS_MAX} of {places} are sent",
            )
        )
    if posting.remote is Remote.REMOTE and len(set(posting.applicant_locations)) > 1:
        headquarters = context.settings.organization.location
        if headquarters is not None and headquarters.country not in posting.applicant_locations:
            where = country_name(headquarters.country)
            warnings.append(
                (
                    "applicant_locations",
                    f"LinkedIn locates a remote job in one country: this one is shown in {where} "
                    "(organization.location, the headquarters), which is not among the "
                    "countries applicants may live in",
                )
            )
    if len(posting.employment_type) > 1:
        sent = EMPLOYMENT_STATUS[posting.employment_type[0]]
        warnings.append(
            (
                "employment_type",
                f"LinkedIn takes one employment status per job; only the first ({sent}) is sent",
            )
        )
    return warnings


def _location_rules(posting: Posting, context: RenderContext) -> list[Rule]:
    if posting.remote is Remote.REMOTE:
        if remote_country(posting, context) is not None:
            return []
        countries = len(set(posting.applicant_locations))
        if countries > 1:
            message = (
                f"a remote job open to {countries} countries is located in one country on "
                "LinkedIn: set organization.location (the headquarters) in config.yaml"
            )
        else:
            message = (
                "a remote job needs a country for LinkedIn's location: list the countries "
                "applicants may live in"
            )
        return [("applicant_locations", message)]
    for index, location in enumerate(posting.locations):
        if place_text(location) is None:
            return [
                (
                    field_path(("locations", index, "city")),
                    "is missing; LinkedIn's location needs a city (or a postal code)",
                )
            ]
    return []


class LinkedInJson(PullTarget):
    """The LinkedIn job elements of every open posting, as one JSON file."""

    summary: ClassVar[str] = "LinkedIn job elements as JSON"
    spec_url: ClassVar[str | None] = (
        "https://learn.microsoft.com/en-us/linkedin/talent/job-postings/api/job-posting-api-schema"
    )
    Options: ClassVar[type[TargetOptions]] = LinkedInJsonOptions
    options: LinkedInJsonOptions

    def check(self, posting: Posting) -> list[Problem]:
        """LinkedIn's rules (errors) and what LinkedIn will receive differently (warnings)."""
        return element_problems(self, posting, ElementSetup())

    def setup(self) -> ElementSetup:
        """What its elements are built with besides the posting: its source tagging."""
        return ElementSetup(tags=self.url_tags())

    def render(self, postings: Iterable[Posting], context: RenderContext) -> Iterator[Document]:
        """One file, ``{"elements": [...]}``, streamed one element per chunk."""
        make = self.fragment_makers(context)["element"]
        yield self.framed_document(
            self.options.file, MEDIA_TYPE, postings, ("element", make), (HEAD, TAIL)
        )

    def preview(self, posting: Posting, context: RenderContext) -> str:
        """The posting's element, as pretty JSON."""
        element = job_element(posting, context, setup=self.setup())
        return json.dumps(element, indent=2, ensure_ascii=False) + "\n"

    def fragment_makers(self, context: RenderContext) -> dict[str, Callable[[Posting], bytes]]:
        """A posting's element."""
        return {"element": functools.partial(_element, context=context, setup=self.setup())}


def _element(posting: Posting, context: RenderContext, setup: ElementSetup) -> bytes:
    element = job_element(posting, context, setup=setup)
    return json.dumps(element, ensure_ascii=False).encode("utf-8")
