"""One fixture per source format, written from the format's public documentation: each is
recognised without --format and mapped field by field; the written files load as postings
once what the source does not state is filled in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from syndicate.config import Settings
from syndicate.importing import FORMATS, ImportOptions, import_sources
from syndicate.importing.report import PostingResult
from syndicate.loading import load_file

FORMATS_DIR = Path(__file__).resolve().parent / "data" / "import" / "formats"


def imported(name: str, tmp_path: Path, settings: Settings, fmt: str) -> list[PostingResult]:
    report = import_sources(
        [FORMATS_DIR / name], ImportOptions(out=tmp_path / "out", settings=settings)
    )
    [source] = report.sources
    assert source.problem is None, str(source.problem)
    assert source.format == fmt
    return source.postings


def without_description(posting: PostingResult) -> dict[str, Any]:
    return {k: v for k, v in posting.fields.items() if k != "description"}


def test_every_format_has_a_fixture() -> None:
    covered = {
        "jekyll-page.md": "jekyll",
        "text-posting.txt": "text",
        "board-page.html": "html",
        "indeed-feed.xml": "indeed-xml",
        "jsonld-page.html": "jsonld",
        "jsonld-remote.json": "jsonld",
        "greenhouse-jobs.json": "greenhouse",
        "lever-postings.json": "lever",
    }
    assert set(covered.values()) == set(FORMATS)
    assert sorted(covered) == sorted(p.name for p in FORMATS_DIR.iterdir())


def test_jekyll_page(tmp_path: Path, settings: Settings) -> None:
    [posting] = imported("jekyll-page.md", tmp_path, settings, "jekyll")
    assert without_description(posting) == {
        "id": "backend-engineer",  # the page's permalink
        "title": "Backend Engineer (Python)",
        "date_posted": datetime(2026, 10, 5, 9, 0, tzinfo=timezone(timedelta(hours=2))),
        "employment_type": ["FULL_TIME"],
        "department": "Platform",
        "locations": [{"city": "Lausanne", "country": "CH"}],
        "salary": {"min": 110000, "max": 130000, "currency": "CHF", "period": "YEAR"},
        "apply": {"url": "https://example.org/careers/backend-engineer/apply"},
    }
    assert posting.fields["description"] == (
        "As a Backend Engineer you will build the APIs our customers rely on.\n\n"
        "## About the team\n\n"
        "We build **APIs** and *internal tools* for {{ site.company }} customers.\n\n"
        "### What you will do\n\n"
        "* Design services\n* Review code\n  * and mentor juniors\n\n"
        "1. Ship\n2. Measure\n\n"
        "| Stack | Level |\n| --- | --- |\n| Python | expert |\n\n"
        "Read more on [our blog](https://example.org/blog) or the team page.\n\n"
        '```python\nprint("hello")\n```\n'
    )
    notes = " ".join(note.message for note in posting.notes)
    assert "layout, tags" in notes  # the website's keys, listed
    assert "Liquid expressions" in notes  # {{ site.company }} is for a person to replace
    assert load_file(posting.path, settings.timezone).posting.id == "backend-engineer"


def test_plain_text_posting(tmp_path: Path, settings: Settings) -> None:
    [posting] = imported("text-posting.txt", tmp_path, settings, "text")
    assert without_description(posting) == {
        "id": "blue-ridge-logistics-warehouse-associate",
        "title": "Warehouse Associate",
        "employment_type": ["FULL_TIME", "PART_TIME"],
        "company": "Blue Ridge Logistics",  # "… is an equal opportunity employer"
        "locations": [
            {"city": "Asheville", "region": "NC", "country": "US", "postal_code": "28801"}
        ],
        "remote": "onsite",  # #LI-Onsite
        "salary": {"min": 18, "max": 21, "currency": "USD", "period": "HOUR"},
        "apply": {"email": "hiring@blueridge-logistics.example"},
    }
    description = posting.fields["description"]
    assert "### Responsibilities\n\n* Receive and check inbound freight\n" in description
    assert "### Requirements\n\n* Forklift certification\n* Able to lift 50 lbs\n" in description
    assert "#LI" not in description
    assert "•" not in description


def test_job_board_page(tmp_path: Path, settings: Settings) -> None:
    [posting] = imported("board-page.html", tmp_path, settings, "html")
    assert without_description(posting) == {
        "id": "northwind-traders-data-analyst",
        "title": "Data Analyst",
        "company": "Northwind Traders",
        "locations": [{"city": "Toronto", "region": "ON", "country": "CA"}],
        "salary": {"min": 70000, "max": 85000, "currency": "CAD", "period": "YEAR"},
        "apply": {"email": "jobs@northwind.example"},  # "send your resume to …"
        "language": "en",
    }
    assert posting.fields["description"] == (
        "Northwind Traders is looking for a **Data Analyst** to join our R&D team in Toronto."
        "\n\n## What you'll do\n\n"
        "* Build *dashboards* for sales & finance\n"
        "* Clean messy data\\\n  and document it\n\n"
        "## Pay\n\nSalary: C$70,000 – C$85,000 per year\n\n"
        "To apply, send your resume to [jobs@northwind.example](mailto:jobs@northwind.example)."
        "\n"
    )
    for chrome in ("cookies", "Share on", "Log in", "Privacy", "tracking", "color"):
        assert chrome not in posting.fields["description"]


def test_indeed_feed(tmp_path: Path, settings: Settings) -> None:
    postings = {p.id: p for p in imported("indeed-feed.xml", tmp_path, settings, "indeed-xml")}
    assert set(postings) == {"req-4411", "support-7"}
    sales = postings["req-4411"]
    assert without_description(sales) == {
        "id": "req-4411",  # requisitionid "REQ 4411", made a valid id
        "title": "Sales Executive",
        "date_posted": datetime(2021, 6, 29, 22, 49, 39, tzinfo=UTC),  # RFC 822
        "valid_through": date(2021, 7, 29),
        "employment_type": ["FULL_TIME", "PART_TIME"],
        "category": "Sales",
        "company": "ABC Hospital",
        "locations": [  # two <job>s of one requisition
            {
                "city": "Phoenix",
                "region": "AZ",
                "country": "US",
                "postal_code": "85003",
                "street": "123 fake street Phoenix AZ, 85003",
            },
            {"city": "Tucson", "region": "AZ", "country": "US", "postal_code": "85701"},
        ],
        "salary": {"min": 50000, "currency": "USD", "period": "YEAR"},  # "$50K per year"
        "apply": {"email": "example@abccorp.com"},
        "experience": "1-3 years",
        "education": "Bachelors",
    }
    assert sales.fields["description"] == (
        "Do you have 1-3 years of sales experience? Are you relentless at closing the deal?\n\n"
        "### We offer\n\n* Competitive compensation\n* Stock options\n"
    )
    assert any("'REQ 4411'" in note.message for note in sales.notes)
    support = postings["support-7"]
    assert support.fields["date_posted"] == datetime(2021, 6, 30, 8, 0, tzinfo=UTC)  # ISO 8601
    assert support.fields["remote"] == "remote"
    assert support.fields["applicant_locations"] == ["CA"]
    assert "locations" not in support.fields
    assert "apply" not in support.fields  # <url> is the job's page, not a way to apply
    assert any("examplesite.com/jobs/support-7" in note.message for note in support.notes)
    assert load_file(sales.path, settings.timezone).posting.salary is not None


def test_jsonld_page(tmp_path: Path, settings: Settings) -> None:
    [posting] = imported("jsonld-page.html", tmp_path, settings, "jsonld")
    assert without_description(posting) == {
        "id": "1234567",
        "title": "Software Engineer",
        "date_posted": date(2017, 1, 18),
        "valid_through": datetime(2017, 3, 18, 0, 0),  # naive: read in config's timezone
        "employment_type": ["CONTRACTOR"],
        "company": "Google",
        "locations": [
            {
                "city": "Mountain View",
                "region": "CA",
                "country": "US",
                "postal_code": "94043",
                "street": "1600 Amphitheatre Pkwy",
            }
        ],
        "salary": {"min": 40.0, "currency": "USD", "period": "HOUR"},
    }
    assert posting.fields["description"].startswith("Google aspires to be an organization")


def test_jsonld_remote_graph(tmp_path: Path, settings: Settings) -> None:
    [posting] = imported("jsonld-remote.json", tmp_path, settings, "jsonld")
    assert without_description(posting) == {
        "id": "tw-2026",
        "title": "Remote Technical Writer",
        "date_posted": datetime(2026, 9, 1, 9, 30, tzinfo=timezone(timedelta(hours=2))),
        "valid_through": date(2026, 12, 31),  # 23:59:59: the whole day
        "employment_type": ["FULL_TIME", "PART_TIME"],
        "category": "Technical Writers",
        "company": "Example Co",
        "remote": "remote",  # TELECOMMUTE
        "applicant_locations": ["US", "CA"],  # "USA", "Canada"
        "salary": {"min": 70000, "max": 90000, "currency": "USD", "period": "YEAR"},
        "apply": {"email": "docs-jobs@example.com"},  # applicationContact
        "experience": "36 months of experience",
        "education": "bachelor degree",
    }
    # The description was entity-encoded HTML.
    assert posting.fields["description"] == "Write the docs our users read.\n\n* APIs\n* Guides\n"
    assert load_file(posting.path, settings.timezone).posting.applicant_locations == ["US", "CA"]


def test_greenhouse_board_api(tmp_path: Path, settings: Settings) -> None:
    postings = {p.id: p for p in imported("greenhouse-jobs.json", tmp_path, settings, "greenhouse")}
    cop = postings["127817"]
    assert without_description(cop) == {
        "id": "127817",
        "title": "Bad Cop",
        "date_posted": datetime(2016, 1, 14, 10, 55, 28, tzinfo=timezone(timedelta(hours=-5))),
        "department": "Rule Enforcement",
        "company": "Vault-Tec",
        # location "NYC" names no country; the office's location does.
        "locations": [{"city": "New York", "region": "NY", "country": "US"}],
        "apply": {"url": "https://boards.greenhouse.io/vaulttec/jobs/127817"},
        "language": "en",
    }
    # content is entity-encoded HTML; &nbsp; is a space; a bold heading is a heading.
    assert cop.fields["description"] == (
        "The Rule Enforcement team is dedicated to keeping all employees in line. Rule "
        "enforcers use various tactics such as physical intimidation, awkward pauses, and "
        "dramatic coffee sips in order to make sure everyone does what they're told.\n\n"
        "## Requirements\n\n* A stern look\n* Coffee\n"
    )
    assistant = postings["127818"]
    assert assistant.fields["remote"] == "remote"  # "Remote - US"
    assert assistant.fields["applicant_locations"] == ["US"]
    assert assistant.fields["employment_type"] == ["PART_TIME"]  # metadata "Employment Type"
    # The pay range has no period: not a salary, passed on as a note.
    assert "salary" not in assistant.fields
    assert any("90,000 - 120,000 USD" in note.message for note in assistant.notes)
    assert load_file(cop.path, settings.timezone).posting.title == "Bad Cop"


def test_lever_postings_api(tmp_path: Path, settings: Settings) -> None:
    postings = {p.title: p for p in imported("lever-postings.json", tmp_path, settings, "lever")}
    executive = postings["Account Executive"]
    assert without_description(executive) == {
        "id": "5ac21346-8e0c-4494-8e7a-3eb92ff77902",
        "title": "Account Executive",
        "date_posted": datetime(2024, 11, 26, 8, 0, tzinfo=UTC),  # createdAt
        "employment_type": ["FULL_TIME"],  # commitment
        "department": "Sales",
        "company": "Leverdemo",  # "… is an equal opportunity employer"
        "locations": [{"city": "San Francisco", "country": "US"}],  # with `country`
        "remote": "hybrid",  # workplaceType
        "salary": {"min": 90000, "max": 120000, "currency": "USD", "period": "YEAR"},
        "apply": {
            "url": "https://jobs.lever.co/leverdemo/5ac21346-8e0c-4494-8e7a-3eb92ff77902/apply"
        },
    }
    assert executive.fields["description"] == (
        "Leverdemo is hiring an Account Executive.\n\n**About the role**\n\n"
        "You will close deals with mid-market customers.\n\n"
        "### What you'll do\n\n* Run demos\n* Negotiate contracts\n\n"  # lists[0]
        "### Requirements\n\n* 3+ years of SaaS sales\n\n"  # lists[1]
        "Plus commission.\n\n"  # salaryDescription
        "Leverdemo is an equal opportunity employer.\n"  # additional
    )
    support = postings["Support Engineer"]
    assert support.fields["remote"] == "remote"
    assert support.fields["applicant_locations"] == ["CA"]
    assert support.fields["salary"] == {"min": 40, "max": 55, "currency": "CAD", "period": "HOUR"}
    assert support.fields["employment_type"] == ["CONTRACTOR"]
    assert load_file(support.path, settings.timezone).posting.remote == "remote"


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("indeed-feed.xml", "text"), ("greenhouse-jobs.json", "lever")],
)
def test_a_forced_format_that_does_not_fit_fails_cleanly(
    name: str, fmt: str, tmp_path: Path, settings: Settings
) -> None:
    report = import_sources(
        [FORMATS_DIR / name], ImportOptions(out=tmp_path, settings=settings, format=fmt)
    )
    [source] = report.sources
    # Forced text, an XML feed is text (a person asked for it); forced Lever, Greenhouse
    # JSON holds no Lever posting and says so.
    if fmt == "lever":
        assert source.problem is not None and "no Lever postings" in source.problem.message
    else:
        assert source.problem is None and source.format == "text"


def test_a_whole_folder_of_formats(tmp_path: Path, settings: Settings) -> None:
    report = import_sources([FORMATS_DIR], ImportOptions(out=tmp_path, settings=settings))
    assert not report.failed
    assert len(report.postings) == 11
    assert len({p.id for p in report.postings}) == 11
    assert len(list(tmp_path.glob("*.md"))) == 11


def test_the_output_folder_is_not_a_source(tmp_path: Path, settings: Settings) -> None:
    """Importing a folder into a folder inside it never reads back its own postings."""
    (tmp_path / "job.txt").write_text("Analyst\n\nLocation: Bern, Switzerland\n", "utf-8")
    options = ImportOptions(out=tmp_path / "postings", settings=settings)
    assert import_sources([tmp_path], options).summary()["written"] == 1
    again = import_sources([tmp_path], options)
    assert [s.path.name for s in again.sources] == ["job.txt"]
