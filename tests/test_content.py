"""Descriptions: Markdown to sanitized HTML (checked by parsing it back) and plain text."""

from __future__ import annotations

import sys

import pytest
from lxml import html as lxml_html

from syndicate import content
from syndicate.model import Posting

HOSTILE = """\
Intro <script>alert("script")</script> text <span onclick="steal()">span</span>

<style>p { color: red }</style>

<iframe src="https://evil.example/frame"></iframe>

<form action="https://evil.example/form"><input name="q"><button>Go</button></form>

<p onmouseover="steal()" style="color: red">Hover</p>

<img src="x.png" onerror="steal()">

[plain](javascript:alert(1)) [mixed case](JaVaScRiPt:alert(1))
<a href="&#106;avascript:alert(1)">entity</a> <a href="data:text/html,hi">data</a>
[site](https://example.com/jobs) [mail](mailto:jobs@example.com)
"""

FORBIDDEN_TAGS = {"script", "style", "iframe", "form", "input", "button", "img", "span"}


def parse(html: str) -> lxml_html.HtmlElement:
    """The fragment as a tree under one <div>, as a browser would build it."""
    return lxml_html.fragment_fromstring(html, create_parent="div")


def all_elements(root: lxml_html.HtmlElement) -> list[lxml_html.HtmlElement]:
    return [element for element in root.iter() if isinstance(element.tag, str)]


@pytest.fixture(scope="module")
def hostile_html() -> str:
    return content.markdown_to_safe_html(HOSTILE)


def test_only_allowed_tags_survive(hostile_html: str) -> None:
    tags = {element.tag for element in all_elements(parse(hostile_html))} - {"div"}
    assert tags, "nothing was rendered"
    assert tags <= content.ALLOWED_TAGS
    assert not tags & FORBIDDEN_TAGS


def test_script_and_style_lose_their_content_too(hostile_html: str) -> None:
    text = parse(hostile_html).text_content()
    assert 'alert("script")' not in text
    assert "color: red" not in text
    assert "Intro" in text and "Hover" in text


def test_no_event_handler_or_style_attribute_survives(hostile_html: str) -> None:
    for element in all_elements(parse(hostile_html)):
        for name in element.attrib:
            assert not name.startswith("on"), (element.tag, name)
            assert name != "style", element.tag
            assert name in content.ALLOWED_ATTRIBUTES.get(element.tag, set()) | {"rel"}, (
                element.tag,
                name,
            )


def test_links_keep_only_https_and_mailto(hostile_html: str) -> None:
    anchors = {a.text_content(): a.get("href") for a in parse(hostile_html).iter("a")}
    assert anchors["site"] == "https://example.com/jobs"
    assert anchors["mail"] == "mailto:jobs@example.com"
    # A link whose URL is refused is no link at all; its text stays.
    assert set(anchors) == {"site", "mail"}
    text = parse(hostile_html).text_content()
    for label in ("plain", "mixed case", "entity", "data"):
        assert label in text


def test_markdown_tables_are_rendered() -> None:
    html = content.markdown_to_safe_html(
        "| Role | Place |\n| --- | :---: |\n| Sales | Geneva |\n| Support | Paris |\n"
    )
    table = parse(html).find("table")
    assert table is not None
    assert [th.text_content() for th in table.iter("th")] == ["Role", "Place"]
    rows = [[td.text_content() for td in tr.iter("td")] for tr in table.find("tbody")]
    assert rows == [["Sales", "Geneva"], ["Support", "Paris"]]
    assert table.find("thead/tr/th[2]").get("align") == "center"


def test_headings_lists_and_emphasis_are_rendered() -> None:
    root = parse(content.markdown_to_safe_html("### The Role\n\n* one\n* two **bold**\n"))
    assert root.find("h3").text_content() == "The Role"
    assert [li.text_content() for li in root.iter("li")] == ["one", "two bold"]
    assert root.find("ul/li/strong").text == "bold"


def test_plain_text_has_one_list_item_per_line_and_paragraphs_apart() -> None:
    html = content.markdown_to_safe_html(
        "First paragraph\nwrapped.\n\n### Heading\n\n* one\n* two **bold**\n\nLast line.\n"
    )
    assert content.html_to_text(html) == (
        "First paragraph wrapped.\n\nHeading\n\n- one\n- two bold\n\nLast line."
    )


def test_plain_text_of_a_table_has_one_row_per_line() -> None:
    html = content.markdown_to_safe_html("| A | B |\n| --- | --- |\n| 1 | 2 |\n")
    lines = content.html_to_text(html).splitlines()
    assert [line for line in lines if line] == ["A B", "1 2"]


def test_sanitize_html_narrows_to_a_subset() -> None:
    narrowed = content.sanitize_html(
        '<h3>Role</h3><p>Go <a href="https://example.com">here</a></p>', tags={"p", "h3"}
    )
    root = parse(narrowed)
    assert {element.tag for element in all_elements(root)} == {"div", "p", "h3"}
    assert root.text_content() == "RoleGo here"


def test_example_descriptions_are_clean_and_keep_their_sections(examples: list[Posting]) -> None:
    for posting in examples:
        root = parse(posting.description_html)
        assert {element.tag for element in all_elements(root)} - {"div"} <= content.ALLOWED_TAGS
        assert root.findall("ul"), posting.id
        text_lines = posting.description_text.splitlines()
        items = [li.text_content().strip() for li in root.iter("li")]
        # Every list item is one line of the plain text.
        assert [line for line in text_lines if line.startswith("- ")] == [
            f"- {' '.join(item.split())}" for item in items
        ], posting.id


def test_xml_safe_takes_printable_text_as_it_is_and_drops_every_forbidden_character() -> None:
    # The fast path (printable text is returned as is) is right only if no printable
    # character is one XML 1.0 forbids: checked over every code point.
    forbidden = [chr(c) for c in range(sys.maxunicode + 1) if content.xml_safe(chr(c)) == ""]
    assert not any(character.isprintable() for character in forbidden)
    assert {"\x00", "\x1f", "\ud800", "\ufffe", "\uffff"} <= set(forbidden)
    assert not {"\t", "\n", "\r", " ", "é", "\U0001f600"} & set(forbidden)
    assert content.xml_safe("a\x00b\tc\ufffed") == "ab\tcd"
