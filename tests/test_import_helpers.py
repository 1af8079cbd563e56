"""The shared pieces of import: places, plain-text facts, dates, ids, HTML → Markdown, the
plain-text shape rules and the posting-file writer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lxml import html as lxml_html

from syndicate.content import markdown_to_safe_html, sanitize_html
from syndicate.importing import facts, ids
from syndicate.importing.base import Draft
from syndicate.importing.blocks import Line, html_to_blocks, to_markdown
from syndicate.importing.dates import from_epoch_millis, parse_when
from syndicate.importing.places import (
    Place,
    country_code,
    places_in_text,
    read_place_phrase,
    subdivision,
)
from syndicate.importing.text import text_blocks
from syndicate.importing.writer import existing_ids, posting_text
from syndicate.loading import load_file

# ------------------------------------------------------------------------------------- places


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MN", ("US", "MN")),
        ("Minnesota", ("US", "MN")),
        ("North Carolina", ("US", "NC")),
        ("District of Columbia", ("US", "DC")),
        ("ON", ("CA", "ON")),
        ("Ontario", ("CA", "ON")),
        ("Québec", ("CA", "QC")),
        ("British Columbia", ("CA", "BC")),
        ("in", None),  # a word, not Indiana
        ("Georgia", None),  # a state and a country: not guessed
        ("Bavaria", None),
    ],
)
def test_us_states_and_canadian_provinces(text: str, expected: tuple[str, str] | None) -> None:
    assert subdivision(text) == expected


@pytest.mark.parametrize(
    ("text", "codes", "expected"),
    [
        ("Switzerland", False, "CH"),
        ("United States", False, "US"),
        ("USA", False, "US"),
        ("UK", False, "GB"),
        ("South Korea", False, "KR"),
        ("Bolivia", False, "BO"),
        ("Russia", False, "RU"),
        ("CH", False, None),  # codes only where a code is expected
        ("CH", True, "CH"),
        ("DEU", True, "DE"),
        ("ch", True, None),
        ("America", False, None),
        ("North America", False, None),  # a region is not a country
        ("Atlantis", True, None),
    ],
)
def test_country_codes(text: str, codes: bool, expected: str | None) -> None:
    assert country_code(text, codes=codes) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Our office is located in downtown Minneapolis MN.", [Place("US", "Minneapolis", "MN")]),
        ("You will be based in our head office in Geneva, Switzerland.", [Place("CH", "Geneva")]),
        ("Visit us at 1 Main St, Asheville, NC 28801.", [Place("US", "Asheville", "NC", "28801")]),
        ("Our office in Paris, France Our team is small.", [Place("FR", "Paris")]),
        ("either in Paris, Brussels or our head office in Geneva.", []),  # no countries
        ("This role will be based remotely in North America", []),
        ("For 8x8 jobs located in the US: 8x8 participates in E-Verify.", []),
    ],
)
def test_places_in_running_text(sentence: str, expected: list[Place]) -> None:
    assert places_in_text(sentence) == expected


@pytest.mark.parametrize(
    ("phrase", "places", "remote", "countries"),
    [
        ("Asheville, NC 28801", [Place("US", "Asheville", "NC", "28801")], None, ()),
        ("New York, NY, United States", [Place("US", "New York", "NY")], None, ()),
        ("Austin, Texas, United States", [Place("US", "Austin", "TX")], None, ()),
        ("Geneva, GE, Switzerland", [Place("CH", "Geneva", "GE")], None, ()),
        ("Toronto, Ontario", [Place("CA", "Toronto", "ON")], None, ()),
        ("London, United Kingdom", [Place("GB", "London")], None, ()),
        ("Paris, France; Berlin, Germany", [Place("FR", "Paris"), Place("DE", "Berlin")], None, ()),
        # Two letters after a city are a US state or Canadian province first: CA is California.
        ("San Jose, CA", [Place("US", "San Jose", "CA")], None, ()),
        ("Switzerland", [Place("CH")], None, ()),
        ("Remote - US", [], "remote", ("US",)),
        ("Remote (United States or Canada)", [], "remote", ("US", "CA")),
        ("Fully remote", [], "remote", ()),
        ("Hybrid - Berlin, Germany", [Place("DE", "Berlin")], "hybrid", ()),
        ("NYC", [], None, ()),
    ],
)
def test_place_phrases(
    phrase: str, places: list[Place], remote: str | None, countries: tuple[str, ...]
) -> None:
    reading = read_place_phrase(phrase)
    assert list(reading.places) == places
    assert reading.remote == remote
    assert reading.countries == countries


def test_a_bare_city_takes_the_country_the_source_states() -> None:
    assert read_place_phrase("San Francisco", default_country="US").places == (
        Place("US", "San Francisco"),
    )
    assert read_place_phrase("San Francisco").places == ()


# -------------------------------------------------------------------------------------- facts


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        ("$78,000 - $92,000 per year", None, (78000, 92000, "USD", "YEAR")),
        ("$18.00 - $21.00 per hour", None, (18, 21, "USD", "HOUR")),
        ("CHF 120,000 - 150,000 per year", None, (120000, 150000, "CHF", "YEAR")),
        ("€45k–55k annually", None, (45000, 55000, "EUR", "YEAR")),
        ("£30,000 a year", None, (30000, None, "GBP", "YEAR")),
        ("$60,000 - $70,000 per year", "CA", (60000, 70000, "CAD", "YEAR")),
        ("C$25 an hour", None, (25, None, "CAD", "HOUR")),
        ("120.000 - 140.000 EUR per year", None, (120000, 140000, "EUR", "YEAR")),
        ("4'500 CHF per month", None, (4500, None, "CHF", "MONTH")),
        ("$50K per year", None, (50000, None, "USD", "YEAR")),
        ("competitive", None, None),
        ("$78,000 - $92,000", None, None),  # no period
        ("78,000 - 92,000 per year", None, None),  # no currency
    ],
)
def test_salary_lines(text: str, country: str | None, expected: tuple | None) -> None:
    found = facts.salary(text, country=country)
    if expected is None:
        assert found is None
        return
    low, high, currency, period = expected
    assert found == {
        "min": low,
        **({"max": high} if high is not None else {}),
        "currency": currency,
        "period": period,
    }


def lines_of(*texts: str, section: str | None = None) -> list[Line]:
    return [Line("paragraph", text, section) for text in texts]


def test_apply_routes_only_where_the_text_says_so() -> None:
    items = facts.labelled(lines_of("Apply: careers@example.com"))
    assert facts.apply_route([], items) == {"email": "careers@example.com"}
    items = facts.labelled(lines_of("To apply: https://example.com/jobs/1/apply."))
    assert facts.apply_route([], items) == {"url": "https://example.com/jobs/1/apply"}
    section = lines_of("Write to hr@example.com.", section="How to apply")
    assert facts.apply_route(section, []) == {"email": "hr@example.com"}
    sentence = lines_of("Please send your CV and cover letter to jobs@example.org.")
    assert facts.apply_route(sentence, []) == {"email": "jobs@example.org"}
    # An address given for something else is not an apply route.
    other = lines_of("For accommodation requests, email us at careers@8x8.com.")
    assert facts.apply_route(other, []) == {}
    assert facts.emails(other) == ["careers@8x8.com"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Full-time", ["FULL_TIME"]),
        ("Full Time, Part-time", ["FULL_TIME", "PART_TIME"]),
        ("fulltime, parttime", ["FULL_TIME", "PART_TIME"]),
        ("Contract", ["CONTRACTOR"]),
        ("Internship", ["INTERN"]),
        ("Temporary", ["TEMPORARY"]),
        ("per diem", ["PER_DIEM"]),
        ("Permanent", []),
    ],
)
def test_employment_types(text: str, expected: list[str]) -> None:
    assert facts.employment_types(text) == expected


def test_remote_rules() -> None:
    assert facts.linkedin_rule("We are hiring. #LI-Remote") == "remote"
    assert facts.linkedin_rule("LI-hybrid") == "hybrid"
    assert facts.linkedin_rule("#LI-DNI #LI-AB1") is None
    assert facts.remote_rule("on-site") == "onsite"
    assert facts.remote_rule("Remote") == "remote"
    assert facts.remote_rule("unspecified") is None
    rule, _ = facts.sentence_rule(lines_of("No Remote. Our office is in Minneapolis MN."))
    assert rule == "onsite"
    rule, _ = facts.sentence_rule(lines_of("This role will be based remotely in Europe."))
    assert rule == "remote"
    # A remote-first culture is not a remote job.
    rule, _ = facts.sentence_rule(lines_of("Canonical has been a remote-first company."))
    assert rule is None


def test_employer_as_the_text_names_it() -> None:
    text = "8x8, Inc. (NYSE:EGHT) helps businesses.\n8x8 is proud to provide equal employment"
    eeo = lines_of("8x8 is proud to provide equal employment opportunities (EEO) to all.")
    assert facts.company_name(eeo, [], text) == "8x8, Inc."
    about = [Line("heading", "About Canonical", "About Canonical")]
    assert facts.company_name(about, [], "") == "Canonical"
    assert facts.company_name([Line("heading", "About us", "About us")], [], "") is None
    assert facts.company_name(lines_of("We are an equal opportunity employer."), [], "") is None
    assert facts.name_from_domain("jobs@sixsq.com", "Join SixSq. SixSq’s team…") == "SixSq"
    assert facts.strip_legal_form("8x8, Inc.") == "8x8"
    assert facts.strip_legal_form("Acme Holding AG") == "Acme Holding"


def test_complete_fills_only_empty_fields() -> None:
    draft = Draft(source=Path("x.txt"), format="text")
    draft.set("salary", {"min": 1, "currency": "USD", "period": "HOUR"})
    draft.blocks = text_blocks(
        ["Salary: $78,000 - $92,000 per year", "Location: Asheville, NC 28801"]
    )
    facts.complete(draft)
    assert draft.fields["salary"] == {"min": 1, "currency": "USD", "period": "HOUR"}
    assert draft.fields["locations"] == [
        {"city": "Asheville", "region": "NC", "country": "US", "postal_code": "28801"}
    ]


def test_an_unreadable_salary_line_is_a_note_not_a_guess() -> None:
    draft = Draft(source=Path("x.txt"), format="text")
    draft.blocks = text_blocks(["Salary: competitive, depending on experience"])
    facts.complete(draft)
    assert "salary" not in draft.fields
    assert [n.field for n in draft.notes] == ["salary"]


# -------------------------------------------------------------------------------- dates, ids


def test_dates() -> None:
    assert parse_when("Fri, 20 Nov 2026 00:00:00 GMT") == date(2026, 11, 20)
    assert parse_when("Fri, 20 Nov 2026 09:30:00 GMT") == datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    assert parse_when("2026-11-20") == date(2026, 11, 20)
    assert parse_when("2027-01-31T23:59:59+01:00", end_of_day=True) == date(2027, 1, 31)
    assert parse_when("2027-01-31T23:59:59+01:00").isoformat() == "2027-01-31T23:59:59+01:00"
    assert parse_when("2021-03-01 10:00:00 +0100").isoformat() == "2021-03-01T10:00:00+01:00"
    assert parse_when("soon") is None
    assert from_epoch_millis(1732608000000) == datetime(2024, 11, 26, 8, 0, tzinfo=UTC)
    assert from_epoch_millis("1732608000000") is None


def test_ids() -> None:
    assert ids.from_title("8x8, Inc.", "Inside Sales Manager (Team Manager)") == (
        "8x8-inside-sales-manager"
    )
    assert ids.from_title("8x8, Inc.", "Inside Sales Manager (Team Manager)", qualified=True) == (
        "8x8-inside-sales-manager-team-manager"
    )
    assert (
        ids.from_title("Zürich Versicherungs AG", "Aktuar/in") == "zurich-versicherungs-aktuar-in"
    )
    assert ids.from_title(None, "Engineer") == "engineer"
    assert ids.from_source("5ac21346-8e0c") == "5ac21346-8e0c"
    assert ids.from_source("REQ 4411") == "req-4411"
    long = ids.from_title("Company", "word " * 40)
    assert len(long) <= 75 and not long.endswith("-")


# ---------------------------------------------------------------------------- HTML → Markdown


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("<p>a <i>b </i><i>c</i> d</p>", "a *b c* d\n"),
        ("<p>x<i> y </i>z</p>", "x *y* z\n"),
        ("<i>(Include “</i><b><i>R A</i></b><i>” here)</i>", "*(Include “**R A**” here)*\n"),
        ("<h3 class=h><b>Skills</b></h3>", "### Skills\n"),
        ("<p>1. not a list * star _under_ [x] a_b</p>",
         "1\\. not a list \\* star \\_under\\_ \\[x\\] a_b\n"),
        ("<p># not a heading</p>", "\\# not a heading\n"),
        ("<p><a href='jobs@x.com'>jobs@x.com</a></p>", "[jobs@x.com](mailto:jobs@x.com)\n"),
        ("<p><a href='/relative'>here</a></p>", "here\n"),
        ("<p><a href='http://www.x.com'>www.x.com</a></p>", "www.x.com\n"),
        ("<p><a href='https://x.com/a b'>t</a></p>", "[t](<https://x.com/a%20b>)\n"),
        ("<ul><li>a</li></ul><ul><li>b</li></ul>", "* a\n\n- b\n"),
        ("<ol><li>one<ul><li>sub</li></ul></li></ol>", "1. one\n   * sub\n"),
        ("<div>a<br><br>b</div>", "a\n\nb\n"),
        ("<p>&amp; &lt;tag&gt; &nbsp;</p>", "& \\<tag> \n".replace(" \n", "\n")),
        ("<p><code>a`b</code></p>", "``a`b``\n"),
        ("<blockquote><p>q</p></blockquote>", "> q\n"),
        ("<table><tr><th>A</th><th>B</th></tr><tr><td>1|2</td><td>3</td></tr></table>",
         "| A | B |\n| --- | --- |\n| 1\\|2 | 3 |\n"),
        ("<p>a</p><hr><p>b</p>", "a\n\n---\n\nb\n"),
    ],
)  # fmt: skip
def test_html_to_markdown(html: str, markdown: str) -> None:
    assert to_markdown(html_to_blocks(html)) == markdown


@pytest.mark.parametrize(
    "html",
    [
        "<p>Hello <b>bold <i>both</i></b> <i>it</i> <a href='https://x.com'>link <b>b</b></a></p>",
        "<h2>Title</h2><ul><li>one</li><li>two <em>2</em></li></ul><p>after * star</p>",
        "<ol><li>a<ul><li>b</li></ul></li><li>c</li></ol><blockquote><p>q</p></blockquote>",
        "<p>1. x</p><p>- y</p><p>+ z</p><p># h</p><p>&lt;div&gt;</p><p>a_b _c_ `d`</p>",
    ],
)
def test_markdown_renders_back_to_the_same_html(html: str) -> None:
    """What the converter writes, cmark-gfm reads back as the HTML it came from."""
    markdown = to_markdown(html_to_blocks(html))

    def canonical(fragment: str) -> str:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
        for element in root.iter():
            element.tag = {"b": "strong", "i": "em"}.get(element.tag, element.tag)
            element.attrib.pop("rel", None)
            element.text = " ".join(element.text.split()) if element.text else None
            element.tail = " ".join(element.tail.split()) if element.tail else None
        return lxml_html.tostring(root, encoding="unicode")

    assert canonical(markdown_to_safe_html(markdown)) == canonical(sanitize_html(html))


# ------------------------------------------------------------------------------ text shapes


def test_text_shapes() -> None:
    blocks = to_markdown(
        text_blocks(
            [
                "A paragraph that runs long enough to be a sentence of its own, and ends.",
                "Location: Geneva, Switzerland",
                "What you will do",
                "",
                "Build things",
                "Fix things",
                "",
                "Benefits:",
                "- Lunch",
                "- Trains",
                "",
                "Requirements",
                "Python",
                "SQL",
                "",
                "A single short line",
            ]
        )
    )
    assert blocks == (
        "A paragraph that runs long enough to be a sentence of its own, and ends.\n\n"
        "Location: Geneva, Switzerland\n\n"
        "### What you will do\n\n"
        "* Build things\n* Fix things\n\n"
        "### Benefits\n\n* Lunch\n* Trains\n\n"
        "### Requirements\n\n* Python\n* SQL\n\n"
        "### A single short line\n"
    )


# ----------------------------------------------------------------------------------- writer


def test_written_files_round_trip_tricky_values(tmp_path: Path) -> None:
    draft = Draft(source=Path("x.txt"), format="text")
    values = {
        "id": "tricky",
        "title": "Engineer: Backend # 1 & 'friends' *",
        "date_posted": date(2026, 11, 20),
        "valid_through": datetime(2027, 1, 31, 18, 0, tzinfo=UTC),
        "employment_type": ["FULL_TIME"],
        "company": "yes",
        "locations": [{"city": "Oslo", "country": "NO", "postal_code": "0150"}],
        "salary": {"min": 1.5, "max": 2, "currency": "NOK", "period": "HOUR"},
        "apply": {"email": "a@b.no"},
        "experience": "- five years",
        "description": "Body\n\n---\n\nafter a rule\n",
    }
    for name, value in values.items():
        draft.set(name, value)
    draft.note("a note about the salary\nwith a line break", "salary")
    written = posting_text(draft, ["header"])
    path = tmp_path / "tricky.md"
    path.write_text(written.text, encoding="utf-8")
    posting = load_file(path, UTC).posting
    assert posting.title == values["title"]
    assert posting.company == "yes"
    assert posting.locations[0].country == "NO"
    assert posting.locations[0].postal_code == "0150"
    assert posting.valid_through == values["valid_through"]
    assert posting.experience == "- five years"
    assert posting.description == values["description"].strip()
    lines = written.text.splitlines()
    assert (
        lines[written.lines["salary"] - 2] == "# salary: a note about the salary with a line break"
    )
    assert lines[written.lines["title"] - 1].startswith("title: ")
    order = [name for name in values if name != "description"]
    assert sorted(order, key=written.lines.__getitem__) == order  # the model's order


def test_existing_ids_are_found_under_any_name(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\nid: some-job\ntitle: T\n---\nx\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("---\ntitle: T\n---\nid: not-front-matter\n", encoding="utf-8")
    assert existing_ids(tmp_path) == {"some-job": tmp_path / "a.md"}


def test_employers_are_not_pronouns_or_roles() -> None:
    for heading in ("About the role", "About Our Client", "About This Position", "About You"):
        assert facts.company_name([Line("heading", heading, heading)], [], "") is None
