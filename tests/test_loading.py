"""Loading posting files: every defect located at ``file:line: field``, none hiding another.

tests/data/broken/ holds one file per defect and one valid file; `CORPUS` says exactly what
each broken file must report.  A file added to the folder without an entry here fails
`test_the_corpus_table_matches_the_folder`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lxml import html as lxml_html

from syndicate.errors import InputError
from syndicate.loading import load_file, load_files, load_postings
from syndicate.model import Posting, Remote

ROOT = Path(__file__).resolve().parent.parent
BROKEN = Path(__file__).resolve().parent / "data" / "broken"
SEEDS = ROOT.parent / "shared" / "seeds"
VALID = "valid.md"
ZURICH = ZoneInfo("Europe/Zurich")

# file name -> every problem it must report, as (line, field, a fragment of the message).
CORPUS: dict[str, list[tuple[int, str | None, str]]] = {
    "missing-id.md": [(1, "id", "is required")],
    "id-bad-characters.md": [(2, "id", "may hold only lowercase letters, digits")],
    "id-too-long.md": [(2, "id", "is 76 characters long; at most 75 are allowed")],
    "missing-title.md": [(1, "title", "is required")],
    # The misspelt key is reported with a suggestion, and the field it should have been as
    # missing (a missing field is reported at the opening --- of the front matter).
    "unknown-field-typo.md": [
        (1, "title", "is required"),
        (3, "tittle", "is not a known field; did you mean 'title'?"),
    ],
    "unknown-nested-field.md": [
        (6, "locations[0].cty", "is not a known field; did you mean 'city'?")
    ],
    "bad-country.md": [(7, "locations[0].country", "'XX' is not an ISO 3166-1 alpha-2")],
    "norway-unquoted.md": [(7, "locations[0].country", "write Norway's code in quotes, 'NO'")],
    "bad-currency.md": [(11, "salary.currency", "'EURO' is not an ISO 4217 currency code")],
    "salary-min-above-max.md": [(8, "salary", "min (150000) is greater than max (120000)")],
    "bad-salary-period.md": [(12, "salary.period", "'YEARLY' is not one of 'HOUR', 'DAY'")],
    "negative-salary.md": [(9, "salary.min", "must not be negative")],
    "bad-employment-type.md": [(5, "employment_type[0]", "'FULLTIME' is not one of 'FULL_TIME'")],
    "bad-status.md": [(4, "status", "'published' is not one of 'draft', 'open' or 'closed'")],
    "valid-through-before-date-posted.md": [
        (5, "valid_through", "must be after date_posted (2026-11-20)")
    ],
    "onsite-without-locations.md": [(1, "locations", "onsite jobs need at least one location")],
    "hybrid-with-empty-locations.md": [(6, "locations", "hybrid jobs need at least one location")],
    "bad-applicant-location.md": [(8, "applicant_locations[1]", "'USA' is not an ISO 3166-1")],
    "apply-without-route.md": [(8, "apply", "needs a url or an email")],
    "bad-apply-email.md": [(9, "apply.email", "'jobs-at-example.com' is not an email address")],
    "bad-apply-url.md": [(9, "apply.url", "'javascript:alert(1)' is not an http(s) URL")],
    "bad-date.md": [(4, "date_posted", "'20 November 2026' is not an ISO date")],
    "impossible-date.md": [
        (4, "date_posted", "'2026-02-30' does not exist: February has 28 days in 2026")
    ],
    "yaml-syntax-error.md": [(8, None, "YAML syntax error")],
    "yaml-alias-bomb.md": [(2, None, "YAML aliases expand to more than 10000 values")],
    "not-utf8.md": [(6, None, "is not UTF-8 text (byte 0xfc)")],
    "empty.md": [(1, None, "the file is empty")],
    "no-front-matter.md": [(1, None, "no front matter")],
    "unclosed-front-matter.md": [(1, None, "the front matter is not closed")],
    "front-matter-not-a-mapping.md": [(2, None, "the front matter must be a mapping")],
    "duplicate-key.md": [(8, "title", "is given twice")],
    "description-in-front-matter.md": [
        (5, "description", "write the description as the Markdown body")
    ],
    "empty-body.md": [(11, "description", "must not be empty")],
    "duplicate-id-a.md": [(2, "id", "'shared-id' is also the id of ")],
    "duplicate-id-b.md": [(2, "id", "'shared-id' is also the id of ")],
}
# Files whose defect only shows together with another file.
PARTNERS = {"duplicate-id-a.md": "duplicate-id-b.md", "duplicate-id-b.md": "duplicate-id-a.md"}


def test_the_corpus_table_matches_the_folder() -> None:
    on_disk = {path.name for path in BROKEN.glob("*.md")}
    assert on_disk == set(CORPUS) | {VALID}
    assert len(CORPUS) >= 20


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_each_defect_is_reported_at_its_file_line_and_field(name: str) -> None:
    paths = [BROKEN / name, BROKEN / VALID]
    if name in PARTNERS:
        paths.append(BROKEN / PARTNERS[name])
    result = load_files(paths, ZURICH)

    mine = [p for p in result.problems if Path(str(p.file)).resolve() == BROKEN / name]
    got = sorted(((p.line, p.field, p.message) for p in mine), key=lambda p: (p[0], p[1] or ""))
    expected = sorted(CORPUS[name], key=lambda p: (p[0], p[1] or ""))
    assert [(line, field) for line, field, _ in got] == [(ln, fd) for ln, fd, _ in expected]
    for (_, _, message), (_, _, fragment) in zip(got, expected, strict=True):
        assert fragment in message
    assert BROKEN / name in result.failed
    # The valid file beside it is still loaded, and is the only file that is.
    assert [loaded.path.name for loaded in result.files] == [VALID]
    assert not [p for p in result.problems if Path(str(p.file)).name == VALID]


def test_duplicate_ids_name_both_files() -> None:
    result = load_files([BROKEN / "duplicate-id-a.md", BROKEN / "duplicate-id-b.md"], ZURICH)
    by_file = {Path(str(p.file)).name: p.message for p in result.problems}
    assert set(by_file) == {"duplicate-id-a.md", "duplicate-id-b.md"}
    assert by_file["duplicate-id-a.md"].endswith(
        "duplicate-id-b.md; every posting needs its own id"
    )
    assert "duplicate-id-a.md" in by_file["duplicate-id-b.md"]
    assert result.files == []
    assert result.failed == {
        BROKEN / "duplicate-id-a.md": "shared-id",
        BROKEN / "duplicate-id-b.md": "shared-id",
    }


def test_an_id_shared_with_a_broken_file_is_reported_not_dropped(tmp_path: Path) -> None:
    valid = (BROKEN / VALID).read_text()
    broken = valid.replace("country: CH", "country: XX")
    (tmp_path / "a.md").write_text(valid)
    (tmp_path / "b.md").write_text(broken)
    result = load_postings(tmp_path, ZURICH)
    by_file = {Path(str(p.file)).name: (p.line, p.field, p.message) for p in result.problems}
    assert by_file["b.md"][:2] == (8, "locations[0].country")
    assert by_file["a.md"][:2] == (2, "id")
    assert "'valid-posting' is also the id of " in by_file["a.md"][2]
    assert "b.md" in by_file["a.md"][2]
    assert result.files == []
    assert result.failed == {tmp_path / "a.md": "valid-posting", tmp_path / "b.md": "valid-posting"}


def test_the_whole_folder_reports_every_file_and_keeps_the_valid_one() -> None:
    result = load_postings(BROKEN, ZURICH)
    assert [loaded.path.name for loaded in result.files] == [VALID]
    reported = sorted(Path(str(p.file)).name for p in result.problems)
    assert reported == sorted(name for name, problems in CORPUS.items() for _ in problems)
    assert set(result.failed) == {BROKEN / name for name in CORPUS}
    # The id of a file that failed is remembered when it could be read, so that publishing
    # can leave that posting alone rather than withdraw it.
    assert result.failed[BROKEN / "bad-country.md"] == "bad-country"
    assert result.failed[BROKEN / "empty.md"] is None


def test_a_valid_file_loads_with_its_fields() -> None:
    loaded = load_file(BROKEN / VALID, ZURICH)
    posting = loaded.posting
    assert posting.id == "valid-posting"
    assert posting.locations[0].label() == "Geneva, CH"
    assert posting.description == "The Sales Manager sells."
    assert loaded.line_of("apply") == 9
    assert loaded.line_of("locations[0].city") == 6


def test_load_file_raises_every_problem_of_one_file(tmp_path: Path) -> None:
    path = tmp_path / "two.md"
    path.write_text("---\nid: Two Problems\ntitle: x\ndate_posted: soon\n---\nBody\n")
    with pytest.raises(InputError) as caught:
        load_file(path, ZURICH)
    fields = sorted(p.field for p in caught.value.problems)
    assert fields == ["apply", "date_posted", "id"]


def test_a_problem_reads_path_line_field_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "postings"
    folder.mkdir()
    (folder / "typo.md").write_bytes((BROKEN / "unknown-nested-field.md").read_bytes())
    monkeypatch.chdir(tmp_path)
    [problem] = load_postings(tmp_path / "postings", ZURICH).problems
    assert str(problem) == (
        "postings/typo.md:6: locations[0].cty: is not a known field; did you mean 'city'?"
    )


def test_a_problem_without_a_field_reads_path_line_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty.md").write_text("")
    monkeypatch.chdir(tmp_path)
    [problem] = load_postings(tmp_path, ZURICH).problems
    assert str(problem) == (
        "empty.md:1: the file is empty; a posting needs front matter and a description"
    )


def test_nested_folders_are_searched_and_hidden_ones_skipped(tmp_path: Path) -> None:
    valid = (BROKEN / VALID).read_text()
    (tmp_path / "sales" / "europe").mkdir(parents=True)
    (tmp_path / "sales" / "europe" / "one.md").write_text(valid)
    (tmp_path / ".drafts").mkdir()
    (tmp_path / ".drafts" / "broken.md").write_text("not a posting")
    (tmp_path / "notes.txt").write_text("not a posting either")
    result = load_postings(tmp_path, ZURICH)
    assert result.problems == []
    assert [loaded.path for loaded in result.files] == [tmp_path / "sales" / "europe" / "one.md"]


def test_a_missing_postings_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_postings(tmp_path / "nowhere", ZURICH)


def write_posting(folder: Path, date_posted: str) -> Path:
    path = folder / "when.md"
    text = (BROKEN / VALID).read_text().replace("date_posted: 2026-11-20", date_posted)
    assert date_posted in text
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "line", ["date_posted: 2026-11-20 09:30", "date_posted: '2026-11-20T09:30:00'"]
)
def test_a_naive_datetime_takes_the_configured_timezone(tmp_path: Path, line: str) -> None:
    new_york = ZoneInfo("America/New_York")
    posting = load_file(write_posting(tmp_path, line), new_york).posting
    assert posting.date_posted == datetime(2026, 11, 20, 9, 30, tzinfo=new_york)
    assert posting.date_posted.utcoffset() == timedelta(hours=-5)


def test_an_aware_datetime_keeps_its_offset(tmp_path: Path) -> None:
    path = write_posting(tmp_path, "date_posted: 2026-11-20T09:30:00+01:00")
    posting = load_file(path, ZoneInfo("America/New_York")).posting
    assert posting.date_posted.utcoffset() == timedelta(hours=1)
    assert posting.date_posted.hour == 9


def test_a_plain_date_stays_a_date(tmp_path: Path) -> None:
    posting = load_file(write_posting(tmp_path, "date_posted: 2026-11-20"), ZURICH).posting
    assert type(posting.date_posted) is date


# The example postings in postings/.

EXPECTED_EXAMPLES = {
    "sixsq-sales-manager": ("SixSq", Remote.ONSITE, ["Geneva, GE, CH"]),
    "sixsq-sales-director": (
        "SixSq",
        Remote.ONSITE,
        ["Paris, Île-de-France, FR", "Brussels, Brussels-Capital, BE", "Geneva, GE, CH"],
    ),
    "canonical-sales-director-iot-devices": ("Canonical", Remote.REMOTE, []),
    "canonical-channel-sales-manager": ("Canonical", Remote.REMOTE, []),
    "8x8-inside-sales-manager": ("8x8, Inc.", Remote.ONSITE, ["Minneapolis, MN, US"]),
}


def test_the_examples_are_the_five_seeds(examples: list[Posting]) -> None:
    by_id = {posting.id: posting for posting in examples}
    assert set(by_id) == set(EXPECTED_EXAMPLES)
    for posting_id, (company, remote, places) in EXPECTED_EXAMPLES.items():
        posting = by_id[posting_id]
        assert (posting.company, posting.remote) == (company, remote), posting_id
        assert [location.label() for location in posting.locations] == places, posting_id
        assert posting.apply.url or posting.apply.email, posting_id
        assert posting.salary is None, posting_id  # no seed states one
    assert by_id["canonical-sales-director-iot-devices"].applicant_locations == ["US", "CA"]
    americas = by_id["canonical-channel-sales-manager"].applicant_locations
    assert {"US", "CA", "MX", "BR", "AR"} <= set(americas)
    assert len(americas) == len(set(americas)) == 35


def _seed(name: str) -> str:
    path = SEEDS / name
    if not path.exists():
        pytest.skip(f"the seeds are not here ({SEEDS})")
    return path.read_text(encoding="utf-8")


def _words(text: str) -> str:
    return " ".join(text.split())


def _html_items(posting: Posting) -> tuple[list[str], list[str]]:
    root = lxml_html.fragment_fromstring(posting.description_html, create_parent="div")
    items = [_words(li.text_content()) for li in root.iter("li")]
    headings = [_words(h.text_content()) for h in root.iter("h3")]
    return headings, items


@pytest.mark.parametrize(
    ("seed", "posting_id"),
    [
        ("000_785fe47230d0b51f.txt", "sixsq-sales-manager"),
        ("001_316dce672cc90916.txt", "sixsq-sales-director"),
    ],
)
def test_markdown_seeds_keep_every_section_and_list_item(
    examples: list[Posting], seed: str, posting_id: str
) -> None:
    lines = _seed(seed).splitlines()
    seed_headings = [_words(line.removeprefix("###")) for line in lines if line.startswith("###")]
    seed_items = [
        _words(line.strip().removeprefix("* ")) for line in lines if line.strip().startswith("* ")
    ]
    [posting] = [p for p in examples if p.id == posting_id]
    headings, items = _html_items(posting)
    assert headings == seed_headings
    assert items == seed_items


def test_the_html_seed_keeps_every_section_and_list_item(examples: list[Posting]) -> None:
    root = lxml_html.fragment_fromstring(_seed("004_9a816553b10fdb87.txt"), create_parent="div")
    [posting] = [p for p in examples if p.id == "8x8-inside-sales-manager"]
    assert posting.title == _words(root.find(".//h2").text_content())
    headings, items = _html_items(posting)
    assert headings == [_words(h.text_content()) for h in root.iter("h3")]
    assert items == [_words(li.text_content()) for li in root.iter("li")]


@pytest.mark.parametrize(
    ("seed", "posting_id"),
    [
        ("002_6aebdd235807e1b9.txt", "canonical-sales-director-iot-devices"),
        ("003_1deb29971fc945f4.txt", "canonical-channel-sales-manager"),
    ],
)
def test_text_seeds_keep_every_line(examples: list[Posting], seed: str, posting_id: str) -> None:
    # Each non-blank line of the export is one heading, paragraph or list item of the posting,
    # apart from the stray leading "f" and the LI-remote tag; compared without punctuation,
    # which the export lost and the posting restores.
    def bare(text: str) -> str:
        return "".join(ch for ch in text.lower() if ch.isalnum())

    lines = [line.strip() for line in _seed(seed).splitlines() if line.strip()]
    lines = [
        line.removeprefix("f") if index == 0 and line.startswith("fThe") else line
        for index, line in enumerate(lines)
    ]
    assert lines[-1] == "LI-remote"
    [posting] = [p for p in examples if p.id == posting_id]
    root = lxml_html.fragment_fromstring(posting.description_html, create_parent="div")
    blocks = [bare(el.text_content()) for el in root if el.tag in {"h3", "p"}]
    blocks += [bare(li.text_content()) for li in root.iter("li")]
    assert sorted(blocks) == sorted(bare(line) for line in lines[:-1])
    assert posting.remote is Remote.REMOTE
