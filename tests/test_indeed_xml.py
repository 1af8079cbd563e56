"""Indeed's XML feed: golden files, and every documented rule checked by parsing the feed back.

Sources (named per test): Indeed's *XML feed reference* (docs.indeed.com/indeed-apply/xml-feed,
[I1]), *XML job feed format* (docs.indeed.com/sponsored-jobs-api/shared-resources/
xml-job-feed-format, [I2]), *formatting guidelines* (docs.indeed.com/job-sync-api/
formatting-guidelines, [I4]) and Indeed's 2021 feed guide as mirrored in
`mikevdberge/docs.qhse-jobs-api` ([M21]); docs/boards.md lists every rule with its test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import pytest
from lxml import etree
from lxml import html as lxml_html

from syndicate.adapters import RenderContext
from syndicate.adapters.indeed_xml import (
    CHUNK_JOBS,
    INDEED_TAGS,
    IndeedXml,
    cdata_sections,
    salary_text,
)
from syndicate.config import Settings
from syndicate.errors import Problem, Severity
from syndicate.model import Posting, Salary


class Golden(Protocol):
    """The ``golden`` fixture of conftest.py."""

    def check(self, name: str, actual: str | bytes) -> None: ...


REQUIRED = (
    "title",
    "date",
    "referencenumber",
    "requisitionid",
    "url",
    "company",
    "sourcename",
    "city",
    "state",
    "country",
    "description",
    "email",
)
# Required elements that may be empty: a remote job's state ([M21]: "leave the <state> and
# <postalcode> blank").
MAY_BE_EMPTY = {"state"}
# What XML 1.0 forbids, listed here independently of the code under test.
ILLEGAL = {chr(code) for code in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]} | {
    "\ufffe",
    "\uffff",
}
HOSTILE_TEXT = "<script>alert(1)</script> ]]> A & B < C \x00\x01\x08\x0b\x0c\x0e\x1f\ufffe end"
HOSTILE_DESCRIPTION = """\
Intro <script>alert("x")</script> and ]]> inside, A & B < C, bell\x07 here.

<img src="x.png" onerror="steal()"> <p onclick="steal()">Click me</p>

[plain](javascript:alert(1)) <a href="javascript:alert(2)">raw link</a>
<iframe src="https://evil.example"></iframe><style>p {color: red}</style>

1. first
2. second

| a | b |
|---|---|
| c | d |

Some *emphasis*, <i>italic</i>, `code` and **strong** text.
"""


def strict_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, recover=False, strip_cdata=False
    )


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, strict_parser())


def render(target: IndeedXml, postings: list[Posting], context: RenderContext) -> bytes:
    [document] = list(target.render(postings, context))
    return b"".join(document.chunks)


def jobs_of(feed: etree._Element) -> list[etree._Element]:
    return feed.findall("job")


def text(job: etree._Element, name: str) -> str | None:
    element = job.find(name)
    return None if element is None else (element.text or "")


def without_illegal(value: str) -> str:
    return "".join(char for char in value if char not in ILLEGAL)


def description_tree(job: etree._Element) -> lxml_html.HtmlElement:
    return lxml_html.fragment_fromstring(text(job, "description"), create_parent="div")


def make(settings: Settings, **fields: Any) -> Posting:
    data: dict[str, Any] = {
        "id": "test-job",
        "title": "Engineer",
        "date_posted": "2026-11-20",
        "locations": [{"city": "Geneva", "region": "GE", "country": "CH", "postal_code": "1202"}],
        "apply": {"url": "https://example.com/apply", "email": "apply@example.com"},
        "description": "A job description that is long enough to be published. " * 3,
    }
    data.update(fields)
    return Posting.model_validate(data, context={"timezone": settings.timezone})


@pytest.fixture
def target(settings: Settings) -> IndeedXml:
    return IndeedXml("indeed", settings.targets["indeed"], settings)


def for_indeed(examples: list[Posting]) -> list[Posting]:
    """The examples a build gives Indeed: the Canonical jobs opt out (they have no email)."""
    return [posting for posting in examples if not posting.opts_out_of("indeed")]


@pytest.fixture
def feed(target: IndeedXml, examples: list[Posting], context: RenderContext) -> etree._Element:
    return parse(render(target, for_indeed(examples), context))


def errors(target: IndeedXml, posting: Posting) -> list[Problem]:
    return [p for p in target.rules(posting) if p.severity is Severity.ERROR]


def by_id(examples: list[Posting], posting_id: str) -> Posting:
    return next(posting for posting in examples if posting.id == posting_id)


def jobs_for(feed: etree._Element, posting_id: str) -> list[etree._Element]:
    return [job for job in jobs_of(feed) if text(job, "requisitionid") == posting_id]


# ----------------------------------------------------------------------------- golden files


def test_feed_matches_golden(
    target: IndeedXml, examples: list[Posting], context: RenderContext, golden: Golden
) -> None:
    assert len(examples) == 5
    golden.check("indeed/feed.xml", render(target, for_indeed(examples), context))


def test_previews_match_golden(
    target: IndeedXml, examples: list[Posting], context: RenderContext, golden: Golden
) -> None:
    for posting in examples:
        preview = target.preview(posting, context)
        golden.check(f"indeed/{posting.id}.xml", preview)
        # A preview is the posting's <job> elements, well-formed once wrapped in a root.
        wrapped = parse(f"<source>{preview}</source>".encode())
        assert [text(job, "requisitionid") for job in jobs_of(wrapped)] == [posting.id] * len(
            jobs_of(wrapped)
        )


# ------------------------------------------------------------------------- the feed's shape


def test_one_document_at_the_configured_path(
    target: IndeedXml, examples: list[Posting], context: RenderContext
) -> None:
    [document] = list(target.render(examples, context))
    assert document.path == "indeed.xml"
    assert document.media_type == "application/xml"


def test_header_names_the_publisher_and_build_time(
    feed: etree._Element, settings: Settings
) -> None:
    assert feed.tag == "source"
    assert feed.findtext("publisher") == settings.organization.name
    assert feed.findtext("publisherurl") == settings.organization.url
    assert feed.findtext("lastBuildDate") == "2026-11-23T09:00:00+00:00"  # ISO-8601 [I1]


def test_every_job_has_the_required_elements(feed: etree._Element) -> None:
    jobs = jobs_of(feed)
    assert len(jobs) == 5  # 8x8, 3 + 1 SixSq locations
    for job in jobs:
        for name in REQUIRED:
            value = text(job, name)
            assert value is not None, f"{name} missing in {text(job, 'referencenumber')}"
            if name not in MAY_BE_EMPTY:
                assert value.strip(), f"{name} empty in {text(job, 'referencenumber')}"


def test_every_text_is_in_cdata(feed: etree._Element) -> None:
    """ "All job content must be wrapped in <![CDATA[]]> nodes" (techdocs.indeedeng.io), and
    entities anywhere "can affect Indeed's ability to read the XML" [I1]: the feed's own
    elements too."""
    for element in feed:
        if element.tag != "job" and element.text:
            serialized = etree.tostring(element, encoding="unicode", with_tail=False)
            assert serialized.startswith(f"<{element.tag}><![CDATA["), serialized
    for job in jobs_of(feed):
        for element in job:
            if element.text:
                serialized = etree.tostring(element, encoding="unicode", with_tail=False)
                assert serialized.startswith(f"<{element.tag}><![CDATA["), serialized


def test_requisition_id_and_dates(feed: etree._Element, examples: list[Posting]) -> None:
    """[I1]: date "first published", ISO-8601 recommended, and "If your site shows the publish
    date, that date must match the date in the XML": the day the careers page shows."""
    ids = {posting.id for posting in examples}
    for job in jobs_of(feed):
        assert text(job, "requisitionid") in ids
        assert text(job, "date") == "2026-11-20"


def test_url_is_the_careers_page_not_the_apply_page(
    feed: etree._Element, examples: list[Posting], context: RenderContext
) -> None:
    for posting in examples:
        for job in jobs_for(feed, posting.id):
            assert text(job, "url") == context.job_url(posting)
            assert text(job, "url") != posting.apply.url
    posting = by_id(examples, "8x8-inside-sales-manager")
    assert posting.apply.url == "https://www.8x8.com/careers"
    [job] = jobs_for(feed, posting.id)
    assert text(job, "url") == f"{context.settings.site.base_url}/careers/jobs/{posting.id}.html"


def test_one_job_per_location_with_stable_distinct_reference_numbers(
    feed: etree._Element,
) -> None:
    """[I1]: "Unique identifying number for this instance of the job", one per location."""
    jobs = jobs_for(feed, "sixsq-sales-director")
    assert [(text(job, "city"), text(job, "country")) for job in jobs] == [
        ("Paris", "FR"),
        ("Brussels", "BE"),
        ("Geneva", "CH"),
    ]
    # Without a publish state: the rule (the first place keeps the posting's id).
    assert [text(job, "referencenumber") for job in jobs] == [
        "sixsq-sales-director",
        "sixsq-sales-director-brussels-be",
        "sixsq-sales-director-geneva-ch",
    ]
    references = [text(job, "referencenumber") for job in jobs_of(feed)]
    assert len(set(references)) == len(references)
    [single] = jobs_for(feed, "sixsq-sales-manager")
    assert text(single, "referencenumber") == "sixsq-sales-manager"


def test_an_added_location_never_renumbers_the_others(
    target: IndeedXml, settings: Settings, context: RenderContext
) -> None:
    """[I1]: "Do not change the number after you set it"."""
    geneva = {"city": "Geneva", "region": "GE", "country": "CH"}
    paris = {"city": "Paris", "region": "IDF", "country": "FR"}
    zurich = {"city": "Zürich", "region": "ZH", "country": "CH"}

    def references(posting: Posting) -> dict[str, str]:
        jobs = jobs_of(parse(render(target, [posting], context)))
        return {text(job, "city"): text(job, "referencenumber") for job in jobs}

    before = references(make(settings, locations=[geneva, paris]))
    assert before == {"Geneva": "test-job", "Paris": "test-job-paris-fr"}
    after = references(make(settings, locations=[geneva, paris, zurich]))
    assert after == before | {"Zürich": "test-job-zurich-ch"}


def test_a_location_can_pin_its_reference_number(
    target: IndeedXml, settings: Settings, context: RenderContext
) -> None:
    posting = make(
        settings,
        locations=[
            {"city": "Geneva", "region": "GE", "country": "CH", "ref": "REQ-1042"},
            {"city": "Bern", "region": "BE", "country": "CH"},
        ],
    )
    jobs = jobs_of(parse(render(target, [posting], context)))
    assert [text(job, "referencenumber") for job in jobs] == ["REQ-1042", "test-job-bern-ch"]


def test_reference_numbers_stay_distinct_for_locations_in_one_city(
    target: IndeedXml, settings: Settings, context: RenderContext
) -> None:
    posting = make(
        settings,
        locations=[
            {"city": "Geneva", "country": "CH", "postal_code": "1202"},
            {"city": "Geneva", "country": "CH", "postal_code": "1211"},
            {"city": "東京", "country": "JP"},
            {"city": "大阪", "country": "JP"},
            {"city": "Paris", "country": "FR"},
            {"city": "Paris", "country": "FR"},
        ],
    )
    jobs = jobs_of(parse(render(target, [posting], context)))
    references = [text(job, "referencenumber") for job in jobs]
    assert len(references) == 6 and len(set(references)) == 6
    assert references[:2] == ["test-job", "test-job-geneva-ch"]
    assert references[4:] == ["test-job-paris-fr", "test-job-paris-fr-2"]
    assert all(reference.startswith("test-job") for reference in references)


def test_a_remote_job_is_one_job_per_country_listed_as_remote(
    target: IndeedXml, examples: list[Posting], context: RenderContext
) -> None:
    """[M21]: one country per job element; a remote job has city Remote and "If you do not
    leave the <state> and <postalcode> blank, jobs will not post as Remote positions"."""
    remote = by_id(examples, "canonical-sales-director-iot-devices")
    jobs = jobs_of(parse(render(target, [remote], context)))
    assert [text(job, "country") for job in jobs] == ["US", "CA"]
    for job in jobs:
        assert text(job, "city") == "Remote"
        assert text(job, "state") == "" and text(job, "postalcode") == ""
        assert text(job, "remotetype") == "Fully remote"
    assert [text(job, "referencenumber") for job in jobs] == [
        "canonical-sales-director-iot-devices",
        "canonical-sales-director-iot-devices-remote-ca",
    ]


def test_remote_job_without_applicant_locations_takes_its_office_countries(
    target: IndeedXml, settings: Settings, context: RenderContext
) -> None:
    posting = make(
        settings,
        remote="remote",
        locations=[{"city": "Toronto", "region": "ON", "country": "CA"}, {"country": "US"}],
    )
    jobs = jobs_of(parse(render(target, [posting], context)))
    assert [(text(job, "city"), text(job, "country")) for job in jobs] == [
        ("Remote", "CA"),
        ("Remote", "US"),
    ]


def test_remotetype_for_hybrid_and_none_for_onsite(
    target: IndeedXml, settings: Settings, context: RenderContext, feed: etree._Element
) -> None:
    hybrid = make(
        settings,
        remote="hybrid",
        locations=[{"city": "Geneva", "country": "CH"}, {"city": "Bern", "country": "CH"}],
    )
    jobs = jobs_of(parse(render(target, [hybrid], context)))
    assert [text(job, "remotetype") for job in jobs] == ["Hybrid remote", "Hybrid remote"]
    assert [text(job, "city") for job in jobs] == ["Geneva", "Bern"]
    [onsite] = jobs_for(feed, "8x8-inside-sales-manager")
    assert onsite.find("remotetype") is None


@pytest.mark.parametrize(
    ("salary", "expected"),
    [
        (
            {"min": 120000, "max": 150000, "currency": "CHF", "period": "YEAR"},
            "CHF 120,000 - 150,000 per year",
        ),
        ({"min": 10, "max": 20, "currency": "USD", "period": "HOUR"}, "$10 - $20 per hour"),
        (
            {"min": 10.5, "max": 12.75, "currency": "USD", "period": "HOUR"},
            "$10.50 - $12.75 per hour",
        ),
        ({"min": 4500, "currency": "EUR", "period": "MONTH"}, "EUR 4,500 per month"),
        ({"min": 300, "max": 300, "currency": "GBP", "period": "DAY"}, "GBP 300 per day"),
        ({"min": 900, "max": 1000, "currency": "USD", "period": "WEEK"}, "$900 - $1,000 per week"),
    ],
)
def test_salary_is_one_string_with_currency_and_period(
    salary: dict[str, Any],
    expected: str,
    target: IndeedXml,
    settings: Settings,
    context: RenderContext,
) -> None:
    assert salary_text(Salary.model_validate(salary)) == expected
    [job] = jobs_of(parse(render(target, [make(settings, salary=salary)], context)))
    assert text(job, "salary") == expected


def test_conditional_elements_are_absent_when_unknown(
    target: IndeedXml, settings: Settings, context: RenderContext
) -> None:
    bare = make(settings, locations=[{"city": "Geneva", "region": "GE", "country": "CH"}])
    [job] = jobs_of(parse(render(target, [bare], context)))
    for name in ("salary", "education", "jobtype", "experience", "expirationdate", "postalcode"):
        assert job.find(name) is None, name


def test_optional_fields_are_written(
    target: IndeedXml, settings: Settings, context: RenderContext
) -> None:
    posting = make(
        settings,
        locations=[{"city": "Austin", "region": "TX", "country": "US", "postal_code": "78701",
                    "street": "1 Congress Ave"}],
        education="Bachelor's degree",
        experience="5+ years",
        category="Engineering",
    )  # fmt: skip
    [job] = jobs_of(parse(render(target, [posting], context)))
    assert text(job, "postalcode") == "78701"
    assert text(job, "streetaddress") == "1 Congress Ave"
    assert text(job, "state") == "TX"
    assert text(job, "education") == "Bachelor's degree"
    assert text(job, "experience") == "5+ years"
    assert text(job, "category") == "Engineering"


@pytest.mark.parametrize(
    ("valid_through", "expected"),
    [
        ("2027-01-31", "2027-01-31"),
        ("2027-01-31T18:00:00+01:00", "2027-01-31"),
        # The last day as the careers page shows it, in the configured timezone.
        ("2027-01-31T23:30:00-05:00", "2027-02-01"),
    ],
)
def test_expirationdate_from_valid_through(
    valid_through: str,
    expected: str,
    target: IndeedXml,
    settings: Settings,
    context: RenderContext,
) -> None:
    posting = make(settings, valid_through=valid_through)
    [job] = jobs_of(parse(render(target, [posting], context)))
    assert text(job, "expirationdate") == expected


def test_date_of_a_datetime_is_the_local_date_and_time_the_page_shows(
    target: IndeedXml, settings: Settings, context: RenderContext
) -> None:
    """[I1]: the date must match the site's; a posting just after midnight in Zurich is dated
    the Zurich day, not the previous GMT one."""
    posting = make(settings, date_posted="2026-11-30T00:30:00+01:00")
    [job] = jobs_of(parse(render(target, [posting], context)))
    assert text(job, "date") == "2026-11-30T00:30:00+01:00"
    posting = make(settings, date_posted="2026-11-29T23:30:00+00:00")
    [job] = jobs_of(parse(render(target, [posting], context)))
    assert text(job, "date") == "2026-11-30T00:30:00+01:00"


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        (["FULL_TIME"], "fulltime"),
        (["PART_TIME"], "parttime"),
        (["CONTRACTOR"], "contract"),
        (["TEMPORARY"], "temporary"),
        (["INTERN"], "internship"),
        (["VOLUNTEER"], "volunteer"),
        (["PER_DIEM"], "per diem"),
        (["FULL_TIME", "PART_TIME"], "fulltime, parttime"),
        (["OTHER", "CONTRACTOR"], "contract"),
        (["OTHER"], None),
    ],
)
def test_jobtype_from_employment_type(
    types: list[str],
    expected: str | None,
    target: IndeedXml,
    settings: Settings,
    context: RenderContext,
) -> None:
    [job] = jobs_of(parse(render(target, [make(settings, employment_type=types)], context)))
    assert text(job, "jobtype") == expected


def test_email_is_the_apply_email_or_the_organizations_for_its_own_jobs(
    feed: etree._Element, target: IndeedXml, settings: Settings, examples: list[Posting]
) -> None:
    """[M21]: an email for every job, the hiring client's: never the publisher's inbox for
    another company's job."""
    [sixsq] = jobs_for(feed, "sixsq-sales-manager")
    assert text(sixsq, "email") == by_id(examples, "sixsq-sales-manager").apply.email
    [eight] = jobs_for(feed, "8x8-inside-sales-manager")
    assert text(eight, "email") == "careers@8x8.com"
    own = make(settings, apply={"url": "https://example.com/apply"})
    assert errors(target, own) == []
    other = make(settings, company="Acme", apply={"url": "https://example.com/apply"})
    [problem] = errors(target, other)
    assert problem.field == "apply" and "Acme" in problem.message


def test_company_and_sourcename(feed: etree._Element, settings: Settings) -> None:
    [eight] = jobs_for(feed, "8x8-inside-sales-manager")
    assert text(eight, "company") == "8x8, Inc."
    assert text(eight, "sourcename") == settings.organization.name


def test_descriptions_hold_only_indeed_tags(
    feed: etree._Element, target: IndeedXml, settings: Settings, context: RenderContext
) -> None:
    rich = make(settings, description=HOSTILE_DESCRIPTION)
    jobs = [*jobs_of(feed), *jobs_of(parse(render(target, [rich], context)))]
    for job in jobs:
        tree = description_tree(job)
        tags = {element.tag for element in tree.iter() if isinstance(element.tag, str)} - {"div"}
        assert tags, text(job, "referencenumber")
        assert tags <= INDEED_TAGS, tags - INDEED_TAGS
    rich_tree = description_tree(jobs[-1])
    # An ordered list stays a list, <i> becomes <em>, and the text of dropped tags is kept.
    assert [li.text_content() for li in rich_tree.iter("li")] == ["first", "second"]
    assert "italic" in [em.text_content() for em in rich_tree.iter("em")]
    assert "raw link" in rich_tree.text_content() and "code" in rich_tree.text_content()
    # [I4]: "Simple tables" are rendered: a Markdown table stays one.
    assert [cell.text_content() for cell in rich_tree.iter("td")] == ["c", "d"]
    assert [cell.text_content() for cell in rich_tree.iter("th")] == ["a", "b"]


def test_descriptions_carry_no_html_entities(
    target: IndeedXml, settings: Settings, context: RenderContext
) -> None:
    """[I2]: "Use literal characters instead of HTML entities (such as < instead of &lt;)"."""
    posting = make(
        settings,
        description="Rates: 45 EUR per hour & up; invoices < 30 days; \\<b> is bold; "
        "caf\u00e9 and a\u00a0no-break space. " * 2,
    )
    [job] = jobs_of(parse(render(target, [posting], context)))
    raw = render(target, [posting], context).decode()
    description = text(job, "description")
    assert "&amp;" not in raw and "&lt;" not in raw and "&nbsp;" not in raw and "&#" not in raw
    assert "45 EUR per hour & up; invoices < 30 days" in description
    # A "<" that would open a tag once written as itself stays text.
    assert "\u2039b> is bold" in description and "<b> is bold" not in description


# --------------------------------------------------------------------------- hostile input


@pytest.fixture
def hostile(settings: Settings) -> Posting:
    return make(
        settings,
        id="hostile",
        title=f"Engineer {HOSTILE_TEXT}",
        company="Smith & <Sons> ]]> Ltd\x01",
        department="R&D <b>",
        category="Ops & <script>x</script>",
        experience="]]>]]> twice",
        education="A\x0bB\x0cC",
        locations=[
            {"city": "Ville <&> ]]> d'\x00Été", "region": "A&B", "country": "FR"},
            {"city": "Saint-<script>", "country": "FR", "street": "1 rue <b>&</b>\ufffe"},
        ],
        description=HOSTILE_DESCRIPTION,
        apply={"email": "jobs@example.com"},
    )


def test_hostile_feed_is_well_formed_and_text_round_trips(
    target: IndeedXml, hostile: Posting, context: RenderContext
) -> None:
    data = render(target, [hostile], context)
    feed = parse(data)  # raises on any well-formedness error
    jobs = jobs_of(feed)
    assert len(jobs) == 2
    expectations = {
        "title": hostile.title,
        "company": hostile.company,
        "category": hostile.category,
        "experience": hostile.experience,
        "education": hostile.education,
    }
    for job in jobs:
        for name, original in expectations.items():
            assert text(job, name) == without_illegal(original), name
        for element in job:
            # Text stays text: no markup from the posting became an XML element.
            assert len(element) == 0, element.tag
            assert not (set(element.text or "") & ILLEGAL), element.tag
    assert text(jobs[0], "city") == "Ville <&> ]]> d'Été"
    assert text(jobs[0], "state") == "A&B"
    assert text(jobs[1], "city") == "Saint-<script>"
    assert text(jobs[1], "streetaddress") == "1 rue <b>&</b>"
    assert b"\x00" not in data and b"\x01" not in data


def test_hostile_description_keeps_no_markup(
    target: IndeedXml, hostile: Posting, context: RenderContext
) -> None:
    for job in jobs_of(parse(render(target, [hostile], context))):
        tree = description_tree(job)
        elements = [element for element in tree.iter() if isinstance(element.tag, str)]
        assert not [element for element in elements if element.tag in {"script", "img", "a"}]
        for element in elements:
            assert not [name for name in element.attrib if name.lower().startswith("on")]
            assert all("javascript:" not in value.lower() for value in element.attrib.values())
        content = tree.text_content()
        assert 'alert("x")' not in content
        assert "]]>" in content  # the text survives, split across CDATA sections
        assert "Click me" in content and "A & B < C" in content


def test_hostile_preview_is_well_formed(
    target: IndeedXml, hostile: Posting, context: RenderContext
) -> None:
    preview = target.preview(hostile, context)
    jobs = jobs_of(parse(f"<source>{preview}</source>".encode()))
    assert [text(job, "title") for job in jobs] == [without_illegal(hostile.title)] * 2


@pytest.mark.parametrize(
    "value", ["]]>", "a]]>b", "]]>]]>", "x]]]>y", "]]", ">", "plain", "", "a]]>"]
)
def test_cdata_sections_never_hold_the_terminator(value: str) -> None:
    sections = cdata_sections(value)
    assert "".join(sections) == value
    assert all("]]>" not in section for section in sections)


# ------------------------------------------------------------------------------- streaming


def test_render_streams_in_chunks_and_reads_postings_lazily(
    target: IndeedXml, settings: Settings, context: RenderContext
) -> None:
    base = make(settings)
    count = 2000
    consumed = 0

    def postings() -> Iterator[Posting]:
        nonlocal consumed
        for index in range(count):
            consumed += 1
            yield base.model_copy(update={"id": f"job-{index:04d}"})

    [document] = list(target.render(postings(), context))
    chunks = iter(document.chunks)
    first = next(chunks)
    # The first chunk is out before the postings have all been read: nothing is held back.
    assert consumed <= CHUNK_JOBS + 1
    rest = list(chunks)
    assert len(rest) >= count // CHUNK_JOBS - 1
    assert all(isinstance(chunk, bytes) and chunk for chunk in [first, *rest])
    data = first + b"".join(rest)
    assert max(len(chunk) for chunk in [first, *rest]) < len(data) / 5
    jobs = jobs_of(parse(data))
    assert [text(job, "referencenumber") for job in jobs] == [
        f"job-{index:04d}" for index in range(count)
    ]


def test_empty_feed_is_well_formed(target: IndeedXml, context: RenderContext) -> None:
    feed = parse(render(target, [], context))
    assert feed.tag == "source" and jobs_of(feed) == []
    assert feed.findtext("lastBuildDate") == "2026-11-23T09:00:00+00:00"


# ----------------------------------------------------------------------------------- check


def test_examples_pass_indeed_rules(target: IndeedXml, examples: list[Posting]) -> None:
    for posting in examples:
        assert errors(target, posting) == [], posting.id


def test_missing_conditional_fields_are_not_errors(target: IndeedXml, settings: Settings) -> None:
    posting = make(settings, locations=[{"city": "Oslo", "region": "Oslo", "country": "NO"}])
    assert posting.salary is None and posting.education is None and not posting.employment_type
    assert errors(target, posting) == []


def test_check_reports_a_location_without_city(target: IndeedXml, settings: Settings) -> None:
    posting = make(
        settings,
        locations=[{"city": "Geneva", "region": "GE", "country": "CH"},
                   {"region": "VD", "country": "CH"}],
    )  # fmt: skip
    [problem] = errors(target, posting)
    assert problem.field == "locations[1].city"
    assert problem.target == "indeed" and problem.posting_id == posting.id
    assert "city" in problem.message and problem.severity == "error"


@pytest.mark.parametrize("country", ["US", "CA", "CH", "DE"])
def test_check_reports_a_location_without_state_province_or_region(
    country: str, target: IndeedXml, settings: Settings
) -> None:
    """[M21]: state is required; "If your job is located outside the US, use the
    corresponding geographic designation such as province or region"."""
    posting = make(settings, locations=[{"city": "Springfield", "country": country}])
    [problem] = errors(target, posting)
    assert problem.field == "locations[0].region"
    assert problem.target == "indeed" and "region" in problem.message


def test_a_missing_postal_code_is_a_warning(target: IndeedXml, settings: Settings) -> None:
    """[M21]: "Indeed requires city, state/province, country, and postal code elements. If
    these elements are not provided, the job does not receive organic visibility by default"."""
    posting = make(settings, locations=[{"city": "Geneva", "region": "GE", "country": "CH"}])
    [warning] = target.check(posting)
    assert warning.severity is Severity.WARNING and warning.field == "locations[0].postal_code"


def test_check_reports_a_remote_job_without_any_country(
    target: IndeedXml, settings: Settings, context: RenderContext
) -> None:
    posting = make(settings, remote="remote", locations=[])
    [problem] = errors(target, posting)
    assert problem.field == "applicant_locations" and problem.target == "indeed"
    # Render does not filter, and does not crash on it either: it has no place to list.
    assert jobs_of(parse(render(target, [posting], context))) == []


def test_check_reports_no_email_anywhere(settings: Settings) -> None:
    no_email = settings.model_copy(
        update={"organization": settings.organization.model_copy(update={"email": None})}
    )
    target = IndeedXml("feed-for-indeed", no_email.targets["indeed"], no_email)
    posting = make(no_email, apply={"url": "https://example.com/apply"})
    [problem] = errors(target, posting)
    assert problem.field == "apply" and problem.target == "feed-for-indeed"
    assert "email" in problem.message
    assert errors(target, make(no_email, apply={"email": "a@example.com"})) == []


def test_check_reports_an_empty_description(target: IndeedXml, settings: Settings) -> None:
    posting = make(settings, description="<script>alert(1)</script>")
    [problem] = errors(target, posting)
    assert problem.field == "description" and problem.target == "indeed"
