"""LinkedIn's job element (the API's payload, and the JSON feed of them): golden files, and each
rule LinkedIn documents checked by parsing the output back.

Sources (cited per test): the OpenAPI description `linkedin-developers/job-posting-development-
tools` ``OpenAPI-specification/job_posting_v2.yaml`` (OAS, with line numbers), the Microsoft
Learn pages *Create jobs*, *Job Posting API schema* and *Job posting release notes*, and
LinkedIn's Java SDK; docs/boards.md lists each rule with its source and the test that checks it.
Regenerate the golden files with ``.venv/bin/python -m pytest --update-goldens`` and review the
diff of ``tests/golden/linkedin/``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import pytest
from lxml import html as lxml_html

from syndicate.adapters import RenderContext
from syndicate.adapters.base import OperationKind
from syndicate.adapters.linkedin_json import (
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    TITLE_MAX,
    ElementSetup,
    LinkedInJson,
    check_element_rules,
    job_element,
)
from syndicate.config import Settings
from syndicate.errors import Severity
from syndicate.model import Posting
from tests.helpers import ms

ORG_URN = "urn:li:organization:123"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
# LinkedIn's employmentStatus names, written out here independently of the code under test.
EMPLOYMENT_STATUS = {
    "FULL_TIME": "FULL_TIME",
    "PART_TIME": "PART_TIME",
    "CONTRACTOR": "CONTRACT",
    "TEMPORARY": "TEMPORARY",
    "INTERN": "INTERNSHIP",
    "VOLUNTEER": "VOLUNTEER",
    "PER_DIEM": "OTHER",
    "OTHER": "OTHER",
}
# OAS 423-430 (required for every operation), posterEmail (release notes, June 2025),
# workplaceTypes (*Create jobs*) and listingType (OAS 412-420: BASIC, said explicitly).
REQUIRED = (
    "externalJobPostingId",
    "jobPostingOperationType",
    "title",
    "description",
    "companyApplyUrl",
    "listedAt",
    "location",
    "workplaceTypes",
    "posterEmail",
    "listingType",
)
# No longer supported since June 30, 2024 (release notes, Nov 2023 entry).
RETIRED = ("workRemoteAllowed", "state", "countryCode", "postalCode")
HOSTILE_DESCRIPTION = """\
Intro <script>alert("x")</script> and ]]> inside, A & B < C, bell\x07 nul\x00 here.

<img src="x.png" onerror="steal()"> <p onclick="steal()">Click me</p>

[plain](javascript:alert(1)) <a href="javascript:alert(2)">raw link</a>
<a href="JaVaScRiPt:alert(3)" onmouseover="steal()">mixed case</a>
<iframe src="https://evil.example"></iframe><style>p {color: red}</style>
<svg onload="steal()"><circle/></svg> <form action="/x"><input name="q"></form>

A [real link](https://example.com/about) stays.
"""
# C0 controls other than tab, newline and carriage return, which no text should carry.
CONTROLS = {chr(code) for code in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]}


class Golden(Protocol):
    """The ``golden`` fixture of conftest.py."""

    def check(self, name: str, actual: str | bytes) -> None: ...


def make(settings: Settings, **fields: Any) -> Posting:
    """A valid posting with ``fields`` replacing the defaults (None removes a field)."""
    data: dict[str, Any] = {
        "id": "test-job",
        "title": "Engineer",
        "date_posted": "2026-11-20",
        "employment_type": "FULL_TIME",
        "locations": [{"city": "Geneva", "region": "GE", "country": "CH"}],
        "apply": {"url": "https://example.com/apply", "email": "apply@example.com"},
        "description": "A job description that is long enough to be published. " * 3,
    }
    data.update(fields)
    data = {key: value for key, value in data.items() if value is not None}
    return Posting.model_validate(data, context={"timezone": settings.timezone})


def with_html_length(settings: Settings, length: int) -> Posting:
    """A posting whose description is exactly ``length`` characters of HTML."""
    probe = make(settings, description="a" * 200)
    overhead = len(probe.description_html) - 200
    posting = make(settings, description="a" * (length - overhead))
    assert len(posting.description_html) == length
    return posting


@pytest.fixture
def target(settings: Settings) -> LinkedInJson:
    return LinkedInJson("linkedin_feed", settings.targets["linkedin_feed"], settings)


def render(target: LinkedInJson, postings: list[Posting], context: RenderContext) -> bytes:
    [document] = list(target.render(postings, context))
    return b"".join(document.chunks)


def elements(data: bytes) -> list[dict[str, Any]]:
    """The feed's elements, parsed strictly (no NaN, no raw control characters)."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    feed = json.loads(data.decode("utf-8"), strict=True, parse_constant=refuse)
    assert list(feed) == ["elements"]
    return feed["elements"]


def one(target: LinkedInJson, posting: Posting, context: RenderContext) -> dict[str, Any]:
    [element] = elements(render(target, [posting], context))
    return element


@pytest.fixture
def feed(
    target: LinkedInJson, examples: list[Posting], context: RenderContext
) -> dict[str, dict[str, Any]]:
    return {e["externalJobPostingId"]: e for e in elements(render(target, examples, context))}


# ----------------------------------------------------------------------------- golden files


def test_feed_matches_golden(
    target: LinkedInJson, examples: list[Posting], context: RenderContext, golden: Golden
) -> None:
    assert len(examples) == 5
    golden.check("linkedin/feed.json", render(target, examples, context))


def test_previews_match_golden(
    target: LinkedInJson, examples: list[Posting], context: RenderContext, golden: Golden
) -> None:
    for posting in examples:
        preview = target.preview(posting, context)
        golden.check(f"linkedin/{posting.id}.json", preview)
        assert json.loads(preview) == job_element(posting, context)


# ------------------------------------------------------------------------- the feed's shape


def test_one_json_document_at_the_configured_path(
    target: LinkedInJson, examples: list[Posting], context: RenderContext
) -> None:
    [document] = list(target.render(examples, context))
    assert document.path == "linkedin.json"
    assert document.media_type == "application/json"
    assert elements(render(target, [], context)) == []


def test_one_element_per_posting_in_order_with_required_fields(
    target: LinkedInJson, examples: list[Posting], context: RenderContext
) -> None:
    found = elements(render(target, examples, context))
    assert [e["externalJobPostingId"] for e in found] == [p.id for p in examples]
    for element, posting in zip(found, examples, strict=True):
        for name in REQUIRED:
            assert name in element, f"{name} missing for {posting.id}"
        for name in RETIRED:
            assert name not in element, f"{name} sent for {posting.id}"
        assert element["title"] == posting.title
        assert element["jobPostingOperationType"] == "CREATE"
        assert element["listingType"] == "BASIC"
        assert ("companyName" in element) != ("integrationContext" in element)


def test_every_example_passes_the_rules(examples: list[Posting], context: RenderContext) -> None:
    for posting in examples:
        assert check_element_rules(posting, context) == [], posting.id


# ---------------------------------------------------------------------------------- rules


def test_title_at_most_200_characters(settings: Settings, target: LinkedInJson) -> None:
    assert TITLE_MAX == 200  # OAS 308-312
    context = RenderContext(settings=settings, build_time=datetime.now(UTC))
    assert check_element_rules(make(settings, title="T" * 200), context) == []
    [problem] = target.check(make(settings, title="T" * 201))
    assert problem.field == "title"
    assert problem.severity is Severity.ERROR
    assert problem.target == "linkedin_feed"
    assert "201" in problem.message and "200" in problem.message


@pytest.mark.parametrize(
    ("length", "ok"), [(99, False), (100, True), (25_000, True), (25_001, False)]
)
def test_description_is_100_to_25000_characters(
    length: int, ok: bool, settings: Settings, target: LinkedInJson
) -> None:
    assert (DESCRIPTION_MIN, DESCRIPTION_MAX) == (100, 25_000)
    posting = with_html_length(settings, length)
    errors = [p for p in target.check(posting) if p.severity is Severity.ERROR]
    if ok:
        assert errors == []
    else:
        [problem] = errors
        assert problem.field == "description"
        assert problem.posting_id == posting.id
        assert f"{length:,}" in problem.message and "25,000" in problem.message
        assert str(problem).endswith("[linkedin_feed]")


def test_description_is_the_sanitized_html(
    feed: dict[str, dict[str, Any]], examples: list[Posting]
) -> None:
    for posting in examples:
        description = feed[posting.id]["description"]
        assert description == posting.description_html
        tree = lxml_html.fragment_fromstring(description, create_parent="div")
        assert {e.tag for e in tree.iter() if isinstance(e.tag, str)} > {"div", "p"}


def test_company_apply_url_is_the_apply_url_or_the_careers_page(
    feed: dict[str, dict[str, Any]],
    examples: list[Posting],
    context: RenderContext,
    settings: Settings,
    target: LinkedInJson,
) -> None:
    for posting in examples:
        url = feed[posting.id]["companyApplyUrl"]
        assert url.startswith(("https://", "http://")) and not url.startswith("mailto:")
        assert url == (posting.apply.url or context.job_url(posting))
    assert feed["8x8-inside-sales-manager"]["companyApplyUrl"] == "https://www.8x8.com/careers"
    assert feed["sixsq-sales-manager"]["companyApplyUrl"] == (
        f"{settings.site.base_url}/careers/jobs/sixsq-sales-manager.html"
    )
    email_only = make(settings, apply={"email": "jobs@example.com"})
    [warning] = [p for p in target.check(email_only) if p.field == "apply"]
    assert warning.severity is Severity.WARNING and warning.field == "apply"
    assert "mailto" not in json.dumps(one(target, email_only, context))


def test_listed_and_expire_at_are_epoch_ms_in_the_configured_timezone(
    target: LinkedInJson, settings: Settings, context: RenderContext
) -> None:
    """OAS 322-326 and 406-410: epoch milliseconds (UTC)."""
    assert settings.timezone == ZoneInfo("Europe/Zurich")
    element = one(target, make(settings, valid_through="2027-01-31"), context)
    # Midnight in Zurich (UTC+1 in winter); valid through the whole last day.
    assert element["listedAt"] == ms(datetime(2026, 11, 19, 23, 0, tzinfo=UTC)) == 1795129200000
    assert element["expireAt"] == ms(datetime(2027, 1, 31, 23, 0, tzinfo=UTC))
    assert isinstance(element["listedAt"], int) and isinstance(element["expireAt"], int)
    summer = one(target, make(settings, date_posted="2026-07-01"), context)
    assert summer["listedAt"] == ms(datetime(2026, 6, 30, 22, 0, tzinfo=UTC))


def test_listed_at_is_never_in_the_future(settings: Settings) -> None:
    """OAS 322-326: listedAt "should not be a future time"."""
    built = datetime(2026, 11, 19, 22, 0, tzinfo=UTC)  # an hour before 20 Nov in Zurich
    context = RenderContext(settings=settings, build_time=built)
    element = job_element(make(settings, date_posted="2026-11-20"), context)
    assert element["listedAt"] == ms(built)


@pytest.mark.parametrize(
    ("valid_through", "expected"),
    [
        # Within 24 hours: no expireAt (syndicate closes the job itself when it ends).
        ("2026-11-23T20:00:00+01:00", None),
        # Within the window: the end of valid_through.
        ("2027-05-01", datetime(2027, 5, 1, 22, 0, tzinfo=UTC)),
        # Beyond 180 days: the latest day LinkedIn accepts (the job is renewed before then).
        ("2027-12-31", datetime(2027, 5, 22, 0, 0, tzinfo=UTC)),
    ],
)
def test_expire_at_stays_within_the_documented_window(
    valid_through: str,
    expected: datetime | None,
    settings: Settings,
    context: RenderContext,
) -> None:
    """OAS 409: "Value greater than 180 days is not allowed" (the same line's "three years"
    is contradicted by it, by the file's open revision and by the SDK); SDK: "greater than the
    current timestamp + 24 hours"."""
    element = job_element(make(settings, valid_through=valid_through), context)
    if expected is None:
        assert "expireAt" not in element
        return
    assert element["expireAt"] == ms(expected)
    now = ms(context.build_time)
    assert now + 24 * 3600_000 < element["expireAt"] <= now + 180 * 86400_000


@pytest.mark.parametrize(
    ("date_posted", "valid_through", "listed", "expires"),
    [
        # Aware datetimes are their own instants; naive ones are in Europe/Zurich.
        (
            "2026-11-20T09:30:00+01:00",
            "2027-01-31T18:00:00-05:00",
            datetime(2026, 11, 20, 8, 30, tzinfo=UTC),
            datetime(2027, 1, 31, 23, 0, tzinfo=UTC),
        ),
        (
            "2026-11-20T09:30:00",
            "2027-03-30T18:00:00",
            datetime(2026, 11, 20, 8, 30, tzinfo=UTC),
            datetime(2027, 3, 30, 16, 0, tzinfo=UTC),
        ),
    ],
)
def test_datetimes_become_their_instants(
    date_posted: str,
    valid_through: str,
    listed: datetime,
    expires: datetime,
    target: LinkedInJson,
    settings: Settings,
    context: RenderContext,
) -> None:
    element = one(
        target, make(settings, date_posted=date_posted, valid_through=valid_through), context
    )
    assert (element["listedAt"], element["expireAt"]) == (ms(listed), ms(expires))


def test_dates_follow_another_configured_timezone(target: LinkedInJson, settings: Settings) -> None:
    new_york = settings.model_copy(update={"timezone": ZoneInfo("America/New_York")})
    context = RenderContext(settings=new_york, build_time=datetime(2026, 11, 23, tzinfo=UTC))
    posting = make(new_york, valid_through="2027-01-31")
    element = job_element(posting, context)
    assert element["listedAt"] == ms(datetime(2026, 11, 20, 5, 0, tzinfo=UTC))
    assert element["expireAt"] == ms(datetime(2027, 2, 1, 5, 0, tzinfo=UTC))


def test_no_expire_at_without_valid_through(feed: dict[str, dict[str, Any]]) -> None:
    assert all("expireAt" not in element for element in feed.values())


@pytest.mark.parametrize(("employment_type", "status"), list(EMPLOYMENT_STATUS.items()))
def test_employment_status_mapping(
    employment_type: str,
    status: str,
    target: LinkedInJson,
    settings: Settings,
    context: RenderContext,
) -> None:
    element = one(target, make(settings, employment_type=employment_type), context)
    assert element["employmentStatus"] == status
    # experienceLevel only when certain: an internship.
    if employment_type == "INTERN":
        assert element["experienceLevel"] == "INTERNSHIP"
    else:
        assert "experienceLevel" not in element


def test_employment_status_takes_the_first_type_with_a_warning_or_is_absent(
    target: LinkedInJson, settings: Settings, context: RenderContext
) -> None:
    """OAS 368-380: employmentStatus is one value."""
    several = make(settings, employment_type=["PART_TIME", "CONTRACTOR"])
    assert one(target, several, context)["employmentStatus"] == "PART_TIME"
    [warning] = [p for p in target.check(several) if p.field == "employment_type"]
    assert warning.severity is Severity.WARNING and "PART_TIME" in warning.message
    none = one(target, make(settings, employment_type=[]), context)
    assert "employmentStatus" not in none


def test_locations_take_the_documented_forms(
    feed: dict[str, dict[str, Any]],
    target: LinkedInJson,
    settings: Settings,
    context: RenderContext,
) -> None:
    """OAS 328-333: "CITY, STATE", "CITY, PROVINCE", "CITY, COUNTRY" or "POSTALCODE,
    COUNTRYCODE"; further locations in alternateLocations (*Create jobs*)."""
    assert feed["8x8-inside-sales-manager"]["location"] == "Minneapolis, MN"
    assert feed["sixsq-sales-manager"]["location"] == "Geneva, Switzerland"
    director = feed["sixsq-sales-director"]
    assert director["location"] == "Paris, France"
    assert director["alternateLocations"] == ["Brussels, Belgium", "Geneva, Switzerland"]
    no_region = one(target, make(settings, locations=[{"city": "Lyon", "country": "FR"}]), context)
    assert no_region["location"] == "Lyon, France"
    toronto = make(settings, locations=[{"city": "Toronto", "region": "ON", "country": "CA"}])
    assert one(target, toronto, context)["location"] == "Toronto, ON"
    postal = make(settings, locations=[{"postal_code": "1202", "country": "CH"}])
    assert one(target, postal, context)["location"] == "1202, CH"


def test_at_most_seven_alternate_locations_with_a_warning_beyond(
    target: LinkedInJson, settings: Settings, context: RenderContext
) -> None:
    """*Create jobs*: "more than seven locations" in alternateLocations is refused (422)."""
    cities = [{"city": f"Town {n}", "country": "FR"} for n in range(10)]
    posting = make(settings, locations=cities)
    element = one(target, posting, context)
    assert element["location"] == "Town 0, France"
    assert len(element["alternateLocations"]) == 7
    [warning] = [p for p in target.check(posting) if p.field == "locations"]
    assert warning.severity is Severity.WARNING and "8 of 10" in warning.message


def test_a_remote_job_is_located_in_one_country(
    feed: dict[str, dict[str, Any]],
    target: LinkedInJson,
    settings: Settings,
    context: RenderContext,
) -> None:
    """*Create jobs*: a remote job's location "has only COUNTRY value"; the OAS asked for the
    company headquarters (OAS 353-358): one applicant country, else organization.location."""
    one_country = make(settings, remote="remote", locations=[], applicant_locations=["DE"])
    assert one(target, one_country, context)["location"] == "Germany"
    # Canonical's North America role (US, CA): the headquarters' country, with a warning.
    assert settings.organization.location is not None
    assert feed["canonical-sales-director-iot-devices"]["location"] == "Switzerland"
    several = make(settings, remote="remote", locations=[], applicant_locations=["US", "CA"])
    [warning] = [p for p in target.check(several) if p.field == "applicant_locations"]
    assert warning.severity is Severity.WARNING and "Switzerland" in warning.message
    without = settings.model_copy(
        update={"organization": settings.organization.model_copy(update={"location": None})}
    )
    other = LinkedInJson("linkedin_feed", without.targets["linkedin_feed"], without)
    [problem] = [p for p in other.check(several) if p.field == "applicant_locations"]
    assert problem.severity is Severity.ERROR and "organization.location" in problem.message


def test_location_rules(target: LinkedInJson, settings: Settings, context: RenderContext) -> None:
    no_city = make(settings, locations=[{"country": "US"}])
    [problem] = target.check(no_city)
    assert (problem.field, problem.severity) == ("locations[0].city", Severity.ERROR)
    nowhere = make(settings, remote="remote", locations=[], applicant_locations=[])
    assert one(target, nowhere, context)["location"] == "Switzerland"  # the headquarters
    office = make(settings, remote="remote", locations=[{"city": "Toronto", "country": "CA"}])
    assert target.check(office) == []
    assert one(target, office, context)["location"] == "Canada"


@pytest.mark.parametrize(("remote", "workplace"), [("remote", "Remote"), ("hybrid", "Hybrid"),
                                                   ("onsite", "On-site")])  # fmt: skip
def test_workplace_types_say_on_site_hybrid_or_remote(
    remote: str, workplace: str, target: LinkedInJson, settings: Settings, context: RenderContext
) -> None:
    """*Create jobs*: workplaceTypes, exactly one value; workRemoteAllowed is no longer
    supported (release notes, Nov 2023), and a hybrid job is not a remote one."""
    posting = make(
        settings, remote=remote, applicant_locations=["US"] if remote == "remote" else []
    )
    element = one(target, posting, context)
    assert element["workplaceTypes"] == [workplace]
    assert "workRemoteAllowed" not in element
    expected = "United States" if remote == "remote" else "Geneva, Switzerland"
    assert element["location"] == expected


def test_every_job_names_its_poster(settings: Settings, context: RenderContext) -> None:
    """Release notes, June 2025: a job poster email is required for each job."""
    assert job_element(make(settings), context)["posterEmail"] == settings.organization.email
    chosen = ElementSetup(poster_email="recruiter@example.com")
    assert job_element(make(settings), context, setup=chosen)["posterEmail"] == (
        "recruiter@example.com"
    )
    nobody = settings.model_copy(
        update={"organization": settings.organization.model_copy(update={"email": None})}
    )
    rules = check_element_rules(make(nobody), RenderContext(settings=nobody, build_time=NOW))
    assert [field for field, _ in rules] == ["apply"]


def test_company_name_or_integration_context(
    settings: Settings, context: RenderContext, examples: list[Posting]
) -> None:
    own = make(settings)  # no company: the configured organization's job
    other = make(settings, company="Acme Corp")
    named_own = make(settings, company=settings.organization.name)
    # The push target gives the organization URN: the organization's own jobs use it.
    urn = ElementSetup(organization_urn=ORG_URN)
    for posting in (own, named_own):
        element = job_element(posting, context, setup=urn)
        assert element["integrationContext"] == ORG_URN
        assert "companyName" not in element
    element = job_element(other, context, setup=urn)
    assert element["companyName"] == "Acme Corp" and "integrationContext" not in element
    # Without a URN (the feed file) the company is always named.
    assert job_element(own, context)["companyName"] == settings.organization.name
    assert "integrationContext" not in job_element(own, context)
    by_id = {p.id: p for p in examples}
    assert job_element(by_id["8x8-inside-sales-manager"], context)["companyName"] == "8x8, Inc."


@pytest.mark.parametrize("operation", ["CREATE", "UPDATE", "RENEW", "CLOSE"])
def test_job_posting_operation_type(
    operation: str, settings: Settings, context: RenderContext
) -> None:
    posting = make(settings)
    for given in (operation, OperationKind(operation)):
        element = job_element(posting, context, operation=given)
        assert element["jobPostingOperationType"] == operation
        assert element["externalJobPostingId"] == posting.id
        json.loads(json.dumps(element))


def test_unknown_operation_is_refused(settings: Settings, context: RenderContext) -> None:
    with pytest.raises(ValueError, match="DELETE"):
        job_element(make(settings), context, operation="DELETE")


# --------------------------------------------------------------------------- hostile input


@pytest.fixture
def hostile(settings: Settings) -> Posting:
    return make(
        settings,
        id="hostile",
        title='Engineer\x01 <script>alert(1)</script> <img src=x onerror="steal()"> &\x0b co',
        company='Smith & <Sons> "Ltd" \\ </script>\x00',
        locations=[{"city": "Ville <&> d'\x00Été", "region": "A&B", "country": "FR"}],
        description=HOSTILE_DESCRIPTION,
        apply={"email": "jobs@example.com"},
    )


def test_hostile_feed_is_valid_json_and_names_round_trip(
    target: LinkedInJson, hostile: Posting, context: RenderContext
) -> None:
    data = render(target, [hostile], context)
    data.decode("utf-8")  # valid UTF-8
    [element] = elements(data)
    assert element["companyName"] == 'Smith & <Sons> "Ltd" \\ </script>'
    assert element["location"] == "Ville <&> d'Été, France"
    assert element["title"] == (
        'Engineer <script>alert(1)</script> <img src=x onerror="steal()"> & co'
    )
    for name, value in element.items():
        if isinstance(value, str):
            assert not set(value) & CONTROLS, name


def test_hostile_description_carries_no_active_markup(
    target: LinkedInJson, hostile: Posting, context: RenderContext
) -> None:
    [element] = elements(render(target, [hostile], context))
    tree = lxml_html.fragment_fromstring(element["description"], create_parent="div")
    tags = {e.tag for e in tree.iter() if isinstance(e.tag, str)}
    assert not tags & {"script", "img", "iframe", "style", "svg", "form", "input"}, tags
    for node in tree.iter():
        if not isinstance(node.tag, str):
            continue
        assert not [name for name in node.attrib if name.lower().startswith("on")], node.tag
        for value in node.attrib.values():
            assert "javascript:" not in value.lower()
    assert [a.get("href") for a in tree.iter("a")] == ["https://example.com/about"]
    text = tree.text_content()
    assert 'alert("x")' not in text and "p {color" not in text
    assert "Click me" in text and "raw link" in text and "A & B < C" in text
    assert "bell" in text


def test_hostile_preview_is_valid_json(
    target: LinkedInJson, hostile: Posting, context: RenderContext
) -> None:
    preview = target.preview(hostile, context)
    assert json.loads(preview, strict=True) == job_element(hostile, context)
