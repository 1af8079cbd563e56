"""Round trips: the examples built to Indeed XML and to JSON-LD, imported back, are the same
postings for every field those formats carry."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.adapters import RenderContext, create_targets
from syndicate.adapters.indeed_xml import IndeedXml, indeed_description
from syndicate.adapters.jsonld import JsonLd, dumps, job_posting
from syndicate.config import Settings
from syndicate.importing import ImportOptions, import_sources
from syndicate.importing.places import region_of
from syndicate.loading import load_file
from syndicate.model import Location, Posting, Remote


def built(target_type: type, settings: Settings, examples: list[Posting], context) -> bytes:
    [target] = [t for t in create_targets(settings) if isinstance(t, target_type)]
    [document] = list(target.render(examples, context))
    return b"".join(document.chunks)


def coded(locations: list[Location]) -> list[Location]:
    """Locations as an import gives them back: regions by their ISO 3166-2 code where one
    exists (``Île-de-France`` → ``IDF``)."""
    return [
        location.model_copy(update={"region": region_of(location.country, location.region)})
        if location.region
        else location
        for location in locations
    ]


def with_indeed_email(posting: Posting) -> Posting:
    """``posting`` as Indeed takes it: on the feed, with an apply email of its company's."""
    if posting.apply.email:
        return posting
    domain = (posting.company or "example").split()[0].lower().strip(",")
    apply = posting.apply.model_copy(update={"email": f"jobs@{domain}.example"})
    return posting.model_copy(update={"apply": apply, "boards": {}})


def imported_back(path: Path, out: Path, settings: Settings, source_format: str):
    report = import_sources([path], ImportOptions(out=out, settings=settings))
    [source] = report.sources
    assert source.problem is None, source.problem
    assert source.format == source_format
    return {posting.id: posting for posting in source.postings}


def test_indeed_xml_round_trip(
    tmp_path: Path, settings: Settings, examples: list[Posting], context: RenderContext
) -> None:
    # The Canonical examples opt out of Indeed for want of an email address; given one, their
    # remote jobs go round too.
    examples = [with_indeed_email(example) for example in examples]
    feed = tmp_path / "indeed.xml"
    feed.write_bytes(built(IndeedXml, settings, examples, context))
    back = imported_back(feed, tmp_path / "postings", settings, "indeed-xml")
    assert set(back) == {example.id for example in examples}
    for example in examples:
        # Indeed carries everything a posting file needs, so the import loads as it is.
        posting = load_file(back[example.id].path, settings.timezone).posting
        assert posting.title == example.title
        assert posting.date_posted == example.date_posted
        assert posting.valid_through == example.valid_through
        assert posting.employment_type == example.employment_type
        assert posting.company == example.company
        assert posting.category == example.category
        assert posting.experience == example.experience
        assert posting.education == example.education
        assert posting.salary == example.salary
        assert posting.remote == example.remote
        # <email> is the posting's apply address, else the organization's.
        assert posting.apply.email == (example.apply.email or settings.organization.email)
        if example.remote is Remote.REMOTE:
            # A remote job is one <job> in Remote per country applicants may live in, merged.
            assert posting.locations == []
            assert posting.applicant_locations == example.applicant_locations
        else:
            assert posting.locations == coded(example.locations)  # one <job> per location
        # Indeed's description keeps only its tags (no links): equal as Indeed shows it.
        assert indeed_description(posting) == indeed_description(example)


def test_indeed_xml_round_trip_of_salary_expiry_and_address(
    tmp_path: Path, settings: Settings, examples: list[Posting], context: RenderContext
) -> None:
    """What the examples do not use: salary, expiry, postal code, street, hybrid, datetimes."""
    base = next(p for p in examples if p.id == "8x8-inside-sales-manager").model_dump()
    updates = [
        {
            "id": "paid-hourly",
            "salary": {"min": 18.0, "max": 21.0, "currency": "USD", "period": "HOUR"},
            "valid_through": base["date_posted"].replace(year=2027),
            "remote": Remote.HYBRID,
            "employment_type": ["FULL_TIME", "PART_TIME"],
            "locations": [
                {
                    "city": "Asheville",
                    "region": "NC",
                    "country": "US",
                    "postal_code": "28801",
                    "street": "1 Main Street",
                }
            ],
        },
        {
            "id": "paid-yearly",
            "salary": {"min": 120000.0, "max": 150000.0, "currency": "CHF", "period": "YEAR"},
            "locations": [{"city": "Geneva", "region": "GE", "country": "CH"}],
        },
    ]
    variants = [Posting.model_validate({**base, **update}) for update in updates]
    feed = tmp_path / "indeed.xml"
    feed.write_bytes(built(IndeedXml, settings, variants, context))
    back = imported_back(feed, tmp_path / "postings", settings, "indeed-xml")
    for variant in variants:
        posting = load_file(back[variant.id].path, settings.timezone).posting
        assert posting.salary == variant.salary
        assert posting.valid_through == variant.valid_through
        assert posting.locations == variant.locations
        assert posting.remote == variant.remote
        assert posting.employment_type == variant.employment_type


def test_jsonld_round_trip(
    tmp_path: Path, settings: Settings, examples: list[Posting], context: RenderContext
) -> None:
    feed = tmp_path / "jobs.jsonld"
    feed.write_bytes(built(JsonLd, settings, examples, context))
    back = imported_back(feed, tmp_path / "postings", settings, "jsonld")
    assert set(back) == {example.id for example in examples}
    for example in examples:
        fields = back[example.id].fields
        # JSON-LD has no apply route (directApply only says whether there is a URL); the text
        # of the one example that says how to apply gives it back.
        if example.id == "sixsq-sales-manager":
            assert fields["apply"] == {"email": "jobs@sixsq.com"}
        else:
            assert "apply" not in fields
        posting = Posting.model_validate(
            {**fields, "apply": example.apply.model_dump(exclude_none=True)},
            context={"timezone": settings.timezone},
        )
        assert posting.description_html == example.description_html
        assert posting.title == example.title
        assert posting.date_posted == example.date_posted
        assert posting.valid_through == example.valid_through
        assert posting.employment_type == example.employment_type
        assert posting.company == example.company
        assert posting.locations == coded(example.locations)
        assert posting.salary == example.salary
        # TELECOMMUTE is remote; a hybrid job is published as its locations only.
        assert (posting.remote is Remote.REMOTE) == (example.remote is Remote.REMOTE)
        assert posting.applicant_locations == example.applicant_locations


def test_jsonld_round_trip_through_a_page(
    tmp_path: Path, settings: Settings, examples: list[Posting], context: RenderContext
) -> None:
    """A careers page embedding the JobPosting (as the careers site does) imports the same."""
    pages = tmp_path / "pages"
    pages.mkdir()
    for example in examples:
        script = dumps(job_posting(example, context), indent=2)
        (pages / f"{example.id}.html").write_text(
            "<!DOCTYPE html>\n<html lang=en><head><title>Job</title>\n"
            f'<script type="application/ld+json">\n{script}\n</script></head>\n'
            "<body><nav>Home</nav><h1>Ignored</h1></body></html>\n",
            encoding="utf-8",
        )
    report = import_sources([pages], ImportOptions(out=tmp_path / "postings", settings=settings))
    assert {s.format for s in report.sources} == {"jsonld"}
    by_id = {posting.id: posting.fields for posting in report.postings}
    for example in examples:
        fields = by_id[example.id]
        assert fields["title"] == example.title
        assert fields["company"] == example.company
        posting = Posting.model_validate(
            {**fields, "apply": example.apply.model_dump(exclude_none=True)},
            context={"timezone": settings.timezone},
        )
        assert posting.description_html == example.description_html
        assert posting.locations == coded(example.locations)


@pytest.mark.parametrize("source_format", ["indeed-xml", "jsonld"])
def test_importing_twice_gives_the_same_files(
    source_format: str,
    tmp_path: Path,
    settings: Settings,
    examples: list[Posting],
    context: RenderContext,
) -> None:
    target = IndeedXml if source_format == "indeed-xml" else JsonLd
    feed = tmp_path / "feed"
    feed.write_bytes(built(target, settings, examples, context))
    first = import_sources([feed], ImportOptions(out=tmp_path / "out", settings=settings))
    texts = {p.id: p.path.read_bytes() for p in first.postings}
    again = import_sources([feed], ImportOptions(out=tmp_path / "out", force=True))
    assert {p.action for p in again.postings} == {"unchanged"}
    assert {p.id: p.path.read_bytes() for p in again.postings} == texts


def test_posting_files_import_as_themselves(
    tmp_path: Path, settings: Settings, examples: list[Posting]
) -> None:
    """Canonical posting files are Markdown with front matter too: every field comes back."""
    report = import_sources([settings.postings_dir], ImportOptions(out=tmp_path, settings=settings))
    assert {s.format for s in report.sources} == {"jekyll"}
    for example in examples:
        [result] = [p for p in report.postings if p.id == example.id]
        assert not [n for n in result.needs if n.severity == "error"], result.needs
        assert load_file(result.path, settings.timezone).posting == example


def test_a_title_with_line_breaks_stays_on_one_line(tmp_path: Path, settings: Settings) -> None:
    source = tmp_path / "job.json"
    source.write_text(
        '{"@type": "JobPosting", "title": "Nurse\\n---\\nid: evil", "datePosted": "2026-01-05",'
        ' "description": "<p>Care.</p>", "hiringOrganization": "Clinic\\nX",'
        ' "applicationContact": {"email": "a@b.ch"}, "jobLocation": {"address": {'
        '"addressLocality": "Bern", "addressCountry": "CH"}}}',
        encoding="utf-8",
    )
    [result] = import_sources([source], ImportOptions(out=tmp_path / "out")).postings
    posting = load_file(result.path, settings.timezone).posting
    assert posting.title == "Nurse --- id: evil"
    assert posting.company == "Clinic X"
    assert posting.id == "clinic-x-nurse-id-evil"
