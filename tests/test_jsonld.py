"""The jsonld target: schema.org JobPosting objects that follow Google's job posting rules."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from syndicate.adapters import RenderContext
from syndicate.adapters.jsonld import JsonLd, JsonLdOptions, dumps, job_posting
from syndicate.config import Settings
from syndicate.errors import Severity
from syndicate.model import COUNTRY_CODES, CURRENCY_CODES, Posting, Remote

EMPLOYMENT_TYPES = {
    "FULL_TIME", "PART_TIME", "CONTRACTOR", "TEMPORARY", "INTERN", "VOLUNTEER", "PER_DIEM", "OTHER",
}  # fmt: skip
UNIT_TEXTS = {"HOUR", "DAY", "WEEK", "MONTH", "YEAR"}


def make_posting(settings: Settings, **fields: Any) -> Posting:
    """A valid posting with ``fields`` replacing the defaults (None removes a field)."""
    data: dict[str, Any] = {
        "id": "acme-engineer",
        "title": "Engineer",
        "date_posted": "2026-11-20",
        "locations": [{"city": "Geneva", "region": "GE", "country": "CH"}],
        "apply": {"url": "https://jobs.example.com/apply/1"},
        "description": "We build **things**.",
    }
    data.update(fields)
    data = {key: value for key, value in data.items() if value is not None}
    return Posting.model_validate(data, context={"timezone": settings.timezone})


def target(settings: Settings, file: str = "jobs.jsonld") -> JsonLd:
    return JsonLd("jsonld", JsonLdOptions(type="jsonld", file=file), settings)


def render_file(settings: Settings, postings: list[Posting], context: RenderContext) -> bytes:
    (document,) = target(settings).render(postings, context)
    return b"".join(document.chunks)


def _is_iso_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return datetime.fromisoformat(text).tzinfo is not None
    return True


def assert_google_job_posting(node: dict[str, Any], posting: Posting, context: RenderContext):
    """Every rule of Google's job posting structured data that applies to ``posting``."""
    company = context.company(posting)
    assert node["@type"] == "JobPosting"
    # Required properties.
    assert node["title"] == posting.title
    assert node["description"] == posting.description_html and node["description"].strip()
    assert _is_iso_date(node["datePosted"])
    organization = node["hiringOrganization"]
    assert organization["@type"] == "Organization" and organization["name"] == company
    if posting.remote is Remote.REMOTE:
        assert node["jobLocationType"] == "TELECOMMUTE"
        countries = node["applicantLocationRequirements"]
        assert len(countries) == len(posting.applicant_locations) > 0
        assert all(c["@type"] == "Country" and c["name"] for c in countries)
    else:
        assert "jobLocationType" not in node, "TELECOMMUTE is only for fully remote jobs"
        assert "applicantLocationRequirements" not in node
        assert node["jobLocation"]
    places = node.get("jobLocation", [])
    # One location is one Place object, as in Google's examples; several are an array.
    assert isinstance(places, dict) is (len(posting.locations) == 1)
    for place, location in zip(
        [places] if isinstance(places, dict) else places, posting.locations, strict=True
    ):
        address = place["address"]
        assert place["@type"] == "Place" and address["@type"] == "PostalAddress"
        assert address["addressCountry"] == location.country in COUNTRY_CODES
        assert address.get("addressLocality") == location.city
        assert address.get("addressRegion") == location.region
        assert address.get("postalCode") == location.postal_code
        assert address.get("streetAddress") == location.street
    # Recommended properties.
    if posting.valid_through is not None:
        assert datetime.fromisoformat(node["validThrough"]).tzinfo is not None
    else:
        assert "validThrough" not in node
    assert node.get("employmentType", []) == [str(kind) for kind in posting.employment_type]
    assert set(node.get("employmentType", [])) <= EMPLOYMENT_TYPES
    if posting.salary is not None:
        salary = node["baseSalary"]
        assert salary["@type"] == "MonetaryAmount" and salary["currency"] in CURRENCY_CODES
        value = salary["value"]
        assert value["@type"] == "QuantitativeValue" and value["unitText"] in UNIT_TEXTS
        assert "value" in value or ("minValue" in value and "maxValue" in value)
    else:
        assert "baseSalary" not in node
    assert node["identifier"] == {"@type": "PropertyValue", "name": company, "value": posting.id}
    assert node["directApply"] is posting.apply.direct
    assert node["url"] == context.job_url(posting)


# -- the file --------------------------------------------------------------------------------


def test_file_of_the_examples_matches_golden(examples, settings, context, golden) -> None:
    golden.check("jsonld/jobs.jsonld", render_file(settings, examples, context))


def test_file_is_one_graph_of_every_posting_following_googles_rules(
    examples, settings, context
) -> None:
    (document,) = target(settings, file="sub/jobs.jsonld").render(examples, context)
    assert (document.path, document.media_type) == ("sub/jobs.jsonld", "application/ld+json")
    data = json.loads(b"".join(document.chunks))
    assert data["@context"] == "https://schema.org"
    assert len(data["@graph"]) == len(examples)
    for node, posting in zip(data["@graph"], examples, strict=True):
        assert "@context" not in node, "the graph's context covers every node"
        assert_google_job_posting(node, posting, context)
        assert {"@context": "https://schema.org", **node} == job_posting(posting, context)


def test_examples_cover_remote_and_on_site_jobs(examples) -> None:
    # The rule checks above only prove something if both kinds are among the examples.
    assert {posting.remote for posting in examples} >= {Remote.REMOTE, Remote.ONSITE}


def test_file_is_streamed_without_reading_postings_ahead(settings, context) -> None:
    read: list[str] = []

    def postings() -> Iterator[Posting]:
        for number in range(3):
            read.append(f"job-{number}")
            yield make_posting(settings, id=f"job-{number}")

    (document,) = target(settings).render(postings(), context)
    assert read == [], "rendering must wait until the file is written"
    chunks = iter(document.chunks)
    next(chunks), next(chunks)
    assert read == ["job-0"], "one posting at a time"
    rest = b"".join(chunks)
    assert read == ["job-0", "job-1", "job-2"] and rest.endswith(b"]}\n")


def test_empty_file_is_valid_json(settings, context) -> None:
    assert json.loads(render_file(settings, [], context)) == {
        "@context": "https://schema.org",
        "@graph": [],
    }


def test_preview_is_the_embedded_object(examples, settings, context) -> None:
    posting = examples[0]
    assert json.loads(target(settings).preview(posting, context)) == job_posting(posting, context)


# -- one JobPosting ----------------------------------------------------------------------------


def test_on_site_job_has_every_address_part(settings, context) -> None:
    posting = make_posting(
        settings,
        locations=[
            {"street": "Route 1", "city": "Geneva", "region": "GE", "postal_code": "1202",
             "country": "CH"},
            {"city": "Paris", "country": "FR"},
        ],
        employment_type=["FULL_TIME", "CONTRACTOR"],
    )  # fmt: skip
    node = job_posting(posting, context)
    assert_google_job_posting(node, posting, context)
    assert node["jobLocation"][0]["address"] == {
        "@type": "PostalAddress",
        "streetAddress": "Route 1",
        "addressLocality": "Geneva",
        "addressRegion": "GE",
        "postalCode": "1202",
        "addressCountry": "CH",
    }
    assert node["jobLocation"][1]["address"] == {
        "@type": "PostalAddress",
        "addressLocality": "Paris",
        "addressCountry": "FR",
    }
    assert node["employmentType"] == ["FULL_TIME", "CONTRACTOR"]


def test_remote_job_is_telecommute_with_applicant_countries(settings, context) -> None:
    posting = make_posting(
        settings, remote="remote", locations=None, applicant_locations=["US", "CA"]
    )
    node = job_posting(posting, context)
    assert_google_job_posting(node, posting, context)
    assert node["applicantLocationRequirements"] == [
        {"@type": "Country", "name": "United States"},
        {"@type": "Country", "name": "Canada"},
    ]
    assert "jobLocation" not in node


def test_remote_job_with_an_office_keeps_its_job_location(settings, context) -> None:
    posting = make_posting(settings, remote="remote", applicant_locations=["CH"])
    node = job_posting(posting, context)
    assert node["jobLocationType"] == "TELECOMMUTE"
    assert node["jobLocation"]["address"]["addressLocality"] == "Geneva"


def test_hybrid_job_is_not_telecommute(settings, context) -> None:
    node = job_posting(make_posting(settings, remote="hybrid"), context)
    assert "jobLocationType" not in node and node["jobLocation"]


@pytest.mark.parametrize(
    ("salary", "expected"),
    [
        (
            {"min": 120000, "max": 150000, "currency": "CHF", "period": "YEAR"},
            {"@type": "QuantitativeValue", "minValue": 120000, "maxValue": 150000,
             "unitText": "YEAR"},
        ),
        (
            {"min": 42.5, "currency": "USD", "period": "HOUR"},
            {"@type": "QuantitativeValue", "value": 42.5, "unitText": "HOUR"},
        ),
        (
            {"min": 5000, "max": 5000, "currency": "EUR", "period": "MONTH"},
            {"@type": "QuantitativeValue", "value": 5000, "unitText": "MONTH"},
        ),
    ],
)  # fmt: skip
def test_salary_is_a_monetary_amount(settings, context, salary, expected) -> None:
    node = job_posting(make_posting(settings, salary=salary), context)
    assert node["baseSalary"] == {
        "@type": "MonetaryAmount",
        "currency": salary["currency"],
        "value": expected,
    }


def test_dates_are_iso_8601_and_a_plain_valid_through_lasts_the_whole_day(
    settings, context
) -> None:
    posting = make_posting(settings, date_posted="2026-11-20", valid_through="2027-01-31")
    node = job_posting(posting, context)
    assert node["datePosted"] == "2026-11-20"
    assert settings.timezone == ZoneInfo("Europe/Zurich")
    assert node["validThrough"] == "2027-01-31T23:59:59+01:00"

    timed = make_posting(
        settings, date_posted="2026-11-20T09:30:00", valid_through="2027-01-31T18:00:00Z"
    )
    node = job_posting(timed, context)
    assert node["datePosted"] == "2026-11-20T09:30:00+01:00"
    assert node["validThrough"] == "2027-01-31T18:00:00+00:00"


def test_direct_apply_only_when_the_posting_says_its_url_is_the_application(
    settings, context
) -> None:
    by_email = make_posting(settings, apply={"email": "jobs@example.com"})
    landing = make_posting(settings, apply={"url": "https://x.example/careers"})
    form = make_posting(settings, apply={"url": "https://x.example/apply/42", "direct": True})
    assert job_posting(by_email, context)["directApply"] is False
    assert job_posting(landing, context)["directApply"] is False  # a careers landing page
    assert job_posting(form, context)["directApply"] is True


def test_the_site_may_say_every_apply_url_is_a_direct_application(settings) -> None:
    site = settings.site.model_copy(update={"direct_apply": True})
    context = RenderContext(
        settings=settings.model_copy(update={"site": site}), build_time=datetime(2026, 11, 23)
    )
    landing = make_posting(settings, apply={"url": "https://x.example/apply/42"})
    by_email = make_posting(settings, apply={"email": "jobs@example.com"})
    assert job_posting(landing, context)["directApply"] is True
    assert job_posting(by_email, context)["directApply"] is False  # no page to apply on


def test_direct_apply_without_a_url_is_refused(settings) -> None:
    with pytest.raises(ValidationError, match="direct: true needs a url"):
        make_posting(settings, apply={"email": "jobs@example.com", "direct": True})


def test_hiring_organization_links_only_the_configured_organization(settings, context) -> None:
    own = job_posting(make_posting(settings), context)["hiringOrganization"]
    assert own == {
        "@type": "Organization",
        "name": settings.organization.name,
        "sameAs": settings.organization.url,
        "logo": settings.organization.logo,
    }
    other = job_posting(make_posting(settings, company="Canonical"), context)
    assert other["hiringOrganization"] == {"@type": "Organization", "name": "Canonical"}
    assert other["identifier"]["name"] == "Canonical"


# -- safe in a script element ------------------------------------------------------------------


def test_serialized_json_cannot_leave_a_script_element(settings, context) -> None:
    posting = make_posting(
        settings,
        title="</script><script>alert(1)</script> & <!-- \u2028",
        company="AT&T <Labs>",
        locations=[{"city": "Saint-<Denis> & Co", "country": "FR"}],
    )
    node = job_posting(posting, context)
    for text in (dumps(node), dumps(node, indent=2), render_file(settings, [posting], context)):
        text = text.decode() if isinstance(text, bytes) else text
        assert not re.search("[<>&\u2028\u2029]", text)
        assert "\\u003c/script\\u003e" in text
    assert json.loads(dumps(node)) == node
    assert json.loads(render_file(settings, [posting], context))["@graph"][0]["title"] == (
        posting.title
    )


# -- check -------------------------------------------------------------------------------------


def _found(problems) -> set[tuple[str | None, Severity]]:
    return {(problem.field, problem.severity) for problem in problems}


def test_complete_posting_has_no_problem(settings) -> None:
    assert target(settings).check(make_posting(settings)) == []


def test_remote_job_without_applicant_locations_is_an_error(settings) -> None:
    posting = make_posting(settings, remote="remote", locations=None)
    (problem,) = target(settings).check(posting)
    assert (problem.field, problem.severity) == ("applicant_locations", Severity.ERROR)
    assert problem.target == "jsonld" and problem.posting_id == posting.id
    assert "applicantLocationRequirements" in problem.message


def test_location_without_city_or_region_is_a_warning(settings) -> None:
    posting = make_posting(
        settings,
        locations=[{"city": "Geneva", "region": "GE", "country": "CH"}, {"country": "FR"}],
    )
    assert _found(target(settings).check(posting)) == {
        ("locations[1].city", Severity.WARNING),
        ("locations[1].region", Severity.WARNING),
    }


def test_remote_job_needs_no_city(settings) -> None:
    posting = make_posting(
        settings, remote="remote", locations=[{"country": "US"}], applicant_locations=["US"]
    )
    assert target(settings).check(posting) == []


def test_applicant_locations_of_an_on_site_job_are_a_warning(settings) -> None:
    posting = make_posting(settings, applicant_locations=["US"])
    assert _found(target(settings).check(posting)) == {("applicant_locations", Severity.WARNING)}


def test_description_left_empty_by_sanitizing_is_an_error(settings) -> None:
    posting = make_posting(settings, description="<script>alert(1)</script>")
    assert posting.description_html == ""
    assert _found(target(settings).check(posting)) == {("description", Severity.ERROR)}
