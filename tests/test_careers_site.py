"""The careers_site target: pages, sitemap and feed, parsed back and checked rule by rule.

Also: hostile postings that try to inject markup or script, user templates that override the
packaged ones, the W3C Nu checker on every page and a real headless Chromium on the served site.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from browser import tools
from lxml import etree
from test_jsonld import assert_google_job_posting, make_posting

from syndicate.adapters import RenderContext
from syndicate.adapters.careers import CareersSite, CareersSiteOptions
from syndicate.adapters.careers.templates import (
    PACKAGED_TEMPLATES,
    SiteTemplates,
    careers_environment,
)
from syndicate.adapters.careers.view import nest_headings, place
from syndicate.adapters.jsonld import job_posting
from syndicate.config import Settings
from syndicate.errors import RenderError, Severity
from syndicate.model import Location, Posting, starts_at

GOLDEN_SITE = Path(__file__).resolve().parent / "golden" / "careers"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM_NS = "{http://www.w3.org/2005/Atom}"
HEADINGS = "//*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6]"
PWNED = "document.title='pwned';document.documentElement.setAttribute('data-pwned','1')"
HOSTILE_TITLE = f'</script><script>{PWNED}</script><img src=x onerror="{PWNED}"> & <b>bold</b>'
HOSTILE_DESCRIPTION = f"""\
# A heading one

<script>{PWNED}</script>
<img src="x" onerror="{PWNED}">
<p onclick="{PWNED}">Click <a href="javascript:{PWNED}">here</a> or
<a href=" JaVaScRiPt:alert(1)">there</a>.</p>

[a markdown link](javascript:alert(1)) and </script> in plain text, 5 < 6 & 7 > 3.

<style>body {{ display: none }}</style>
<iframe src="https://evil.example"></iframe>
<form action="https://evil.example"><input name="x"></form>

##### Deep heading
"""


def strict_xml(data: bytes) -> etree._Element:
    """Parse XML strictly: no recovery, no entities resolved, no network."""
    parser = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)
    return etree.fromstring(data, parser)


def parse_html(data: bytes) -> lxml.html.HtmlElement:
    """Parse a page and insist that the parser met no malformed markup."""
    parser = lxml.html.HTMLParser(encoding="utf-8")
    document = lxml.html.document_fromstring(data, parser=parser)
    assert len(parser.error_log) == 0, [str(error) for error in parser.error_log]
    return document


def careers(settings: Settings, **options: Any) -> CareersSite:
    return CareersSite("careers", CareersSiteOptions(type="careers_site", **options), settings)


def render(
    target: CareersSite, postings: list[Posting], context: RenderContext
) -> dict[str, tuple[str, bytes]]:
    """Every document of the site: path → (media type, bytes)."""
    site = {}
    for document in target.render(iter(postings), context):
        assert document.path not in site, f"{document.path} rendered twice"
        site[document.path] = (document.media_type, b"".join(document.chunks))
    return site


def write(site: dict[str, tuple[str, bytes]], folder: Path) -> None:
    for path, (_, data) in site.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)


def page_of(posting: Posting) -> str:
    return f"careers/jobs/{posting.id}.html"


@pytest.fixture
def target(settings: Settings) -> CareersSite:
    """The careers target of the repository's config.yaml."""
    return CareersSite("careers", settings.targets["careers"], settings)


@pytest.fixture
def built(target, examples, context) -> dict[str, tuple[str, bytes]]:
    return render(target, examples, context)


@pytest.fixture
def hostile(settings: Settings) -> list[Posting]:
    """Postings whose every text tries to become markup or script."""
    return [
        make_posting(
            settings,
            id="hostile-onsite",
            title=HOSTILE_TITLE,
            company='AT&T <Labs> "Quoted" & Sons',
            department="<i>R&D</i> </script>",
            locations=[
                {
                    "city": "Saint-<Denis> & Co",
                    "region": "<b>IDF</b>",
                    "country": "FR",
                    "street": "1 rue </script>",
                    "postal_code": "93200",
                },
            ],
            experience="<img src=x onerror=alert(1)>",
            description=HOSTILE_DESCRIPTION,
            apply={"url": "https://jobs.example.com/apply?a=1&b=2"},
        ),
        make_posting(
            settings,
            id="hostile-remote",
            title="Bell\x07 ]]> <![CDATA[ x ]]> &amp; </title><script>" + PWNED + "</script>",
            remote="remote",
            locations=None,
            applicant_locations=["US"],
            salary={"min": 10, "max": 20, "currency": "USD", "period": "HOUR"},
            apply={"email": "jobs@example.com"},
            description='<a href="javascript:alert(1)">x</a> <svg onload="alert(1)"></svg>Text',
        ),
    ]


# -- golden files and the shape of the site ------------------------------------------------------


def test_site_of_the_examples_matches_golden(built, golden, request) -> None:
    for path, (_, data) in built.items():
        golden.check(path, data)
    on_disk = {
        f"careers/{file.relative_to(GOLDEN_SITE).as_posix()}"
        for file in GOLDEN_SITE.rglob("*")
        if file.is_file()
    }
    stale = on_disk - set(built)
    if request.config.getoption("--update-goldens"):
        for path in stale:
            (GOLDEN_SITE.parent / path).unlink()
    else:
        assert not stale, f"golden files no longer rendered: {sorted(stale)}"


def test_documents_paths_and_media_types(built, examples, target) -> None:
    assert target.folder() == "careers"
    expected = {
        "careers/index.html": "text/html",
        "careers/sitemap.xml": "application/xml",
        "careers/feed.atom": "application/atom+xml",
        "careers/style.css": "text/css",
        "careers/gone.html": "text/html",
        **{page_of(posting): "text/html" for posting in examples},
    }
    assert {path: media for path, (media, _) in built.items()} == expected


def test_job_pages_are_at_their_public_url(built, examples, settings) -> None:
    for posting in examples:
        assert f"{settings.site.base_url}/{page_of(posting)}" == settings.job_url(posting.id)
        assert page_of(posting) in built


def test_preview_is_the_job_page(built, examples, target, context) -> None:
    posting = examples[0]
    assert target.preview(posting, context).encode() == built[page_of(posting)][1]


def test_no_posting_no_job_page(target, context) -> None:
    site = render(target, [], context)
    assert sorted(site) == [
        "careers/feed.atom",
        "careers/gone.html",
        "careers/index.html",
        "careers/sitemap.xml",
        "careers/style.css",
    ]
    index = parse_html(site["careers/index.html"][1])
    assert "no open positions" in index.text_content()
    assert not index.xpath("//form") and not index.xpath("//script")


# -- pages: accessible, valid, and saying what the posting says -----------------------------------


def assert_accessible_page(page: lxml.html.HtmlElement) -> None:
    """lang, viewport, landmarks, skip link, one h1, headings in order, labelled controls."""
    assert re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]+)*", page.get("lang", ""))
    (viewport,) = page.xpath("//meta[@name='viewport']/@content")
    assert "width=device-width" in viewport
    assert page.xpath("/html/head/title")[0].text_content().strip()
    assert len(page.xpath("/html/body/header")) == 1, "one banner"
    assert len(page.xpath("/html/body/footer")) == 1, "one contentinfo"
    assert len(page.xpath("//main")) == 1 and page.xpath("//main/@id") == ["main"]
    assert page.xpath("//nav[@aria-label]"), "the site navigation is a labelled landmark"
    first_link = page.xpath("/html/body//a")[0]
    assert first_link.get("href") == "#main", "the first link skips to the main content"
    levels = [int(heading.tag[1]) for heading in page.xpath(HEADINGS)]
    assert levels.count(1) == 1 and levels[0] == 1, levels
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels
    assert not page.xpath("//main//h1/ancestor::header[parent::body]")
    for control in page.xpath("//select | //input[not(@type='hidden')] | //textarea"):
        labels = page.xpath("//label[@for=$id]", id=control.get("id", ""))
        assert labels and labels[0].text_content().strip(), f"unlabelled {control.tag}"
    for button in page.xpath("//button"):
        assert button.text_content().strip(), "a button without a name"


def test_every_page_is_accessible(built) -> None:
    for _path, (media, data) in built.items():
        if media == "text/html":
            assert_accessible_page(parse_html(data))


def test_job_page_embeds_the_job_posting_and_says_what_it_says(built, examples, context) -> None:
    for posting in examples:
        data = built[page_of(posting)][1]
        page = parse_html(data)
        (script,) = page.xpath("//script")
        assert script.get("type") == "application/ld+json", "no JavaScript on a job page"
        embedded = json.loads(script.text)
        assert embedded == job_posting(posting, context)
        assert_google_job_posting(embedded, posting, context)
        assert page.xpath("//link[@rel='canonical']/@href") == [context.job_url(posting)]
        assert page.xpath("//h1")[0].text_content() == posting.title
        assert nest_headings(posting.description_html, top=3) in data.decode()
        assert page.xpath("//link[@rel='stylesheet']/@href") == ["../style.css"]
        apply = page.xpath("//a[contains(concat(' ', @class, ' '), ' button ')]/@href")[0]
        if posting.apply.url:
            assert apply == posting.apply.url
        else:
            assert apply.startswith(f"mailto:{posting.apply.email}?subject=")


def test_index_lists_every_job_with_its_facts(built, examples) -> None:
    index = parse_html(built["careers/index.html"][1])
    cards = index.xpath("//li[contains(@class, 'job-card')]")
    assert len(cards) == len(examples)
    by_link = {card.xpath(".//h3/a/@href")[0]: card for card in cards}
    assert set(by_link) == {f"jobs/{posting.id}.html" for posting in examples}
    for posting in examples:
        card = by_link[f"jobs/{posting.id}.html"]
        assert card.xpath(".//h3")[0].text_content() == posting.title
        text = card.text_content()
        for location in posting.locations:
            assert location.city is None or location.city in text
        facts = json.loads(card.get("data-filters"))
        assert facts["department"] == (posting.department or "Other jobs")
        assert facts["work"] in {"On site", "Hybrid", "Remote"}
        assert posting.salary is None or "Salary" in text
    # Every choice of the filter form matches at least one card.
    for name in ("location", "department", "work"):
        values = index.xpath(f"//select[@name='{name}']/option/@value")
        assert values[0] == "" and len(values) > 1
        for value in values[1:]:
            assert any(_matches(card, name, value) for card in cards), (name, value)


def _matches(card: lxml.html.HtmlElement, name: str, value: str) -> bool:
    fact = json.loads(card.get("data-filters"))[name]
    return value in fact if isinstance(fact, list) else fact == value


def test_index_works_without_javascript(built) -> None:
    index = parse_html(built["careers/index.html"][1])
    (form,) = index.xpath("//form")
    assert form.get("hidden") is not None, "the filter form only appears when its script runs"
    assert form.get("method") == "get"
    (script,) = index.xpath("//script")
    assert script.text.strip() == (PACKAGED_TEMPLATES / "filters.js").read_text().strip()


def test_sitemap_lists_the_index_and_every_job_page(built, examples, settings, context) -> None:
    root = strict_xml(built["careers/sitemap.xml"][1])
    assert root.tag == f"{SITEMAP_NS}urlset"
    entries = {
        url.findtext(f"{SITEMAP_NS}loc"): url.findtext(f"{SITEMAP_NS}lastmod")
        for url in root.iterfind(f"{SITEMAP_NS}url")
    }
    expected = {f"{settings.site.base_url}/careers/index.html"} | {
        settings.job_url(posting.id) for posting in examples
    }
    assert set(entries) == expected and len(root) == len(expected)
    for posting in examples:
        # Without a publish state, a job last changed when it was posted (local midnight).
        lastmod = datetime.fromisoformat(entries[settings.job_url(posting.id)])
        assert lastmod == starts_at(posting.date_posted, settings.timezone)
    assert datetime.fromisoformat(entries[f"{settings.site.base_url}/careers/index.html"]) == (
        context.build_time
    )


def test_lastmod_and_atom_updated_are_when_the_content_last_changed(
    target, examples, settings
) -> None:
    """sitemaps.org: lastmod is the last modification; RFC 4287: atom:updated the last
    significant change.  Both follow the state's change times, and published stays put."""
    edited = examples[0]
    changed_at = datetime(2026, 11, 22, 14, 30, tzinfo=UTC)
    context = RenderContext(
        settings=settings,
        build_time=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        changed={edited.id: changed_at},
    )
    site = render(target, examples, context)
    urlset = strict_xml(site["careers/sitemap.xml"][1])
    lastmods = {
        url.findtext(f"{SITEMAP_NS}loc"): url.findtext(f"{SITEMAP_NS}lastmod")
        for url in urlset.iterfind(f"{SITEMAP_NS}url")
    }
    feed = strict_xml(site["careers/feed.atom"][1])
    entries = {e.findtext(f"{ATOM_NS}id"): e for e in feed.findall(f"{ATOM_NS}entry")}
    for posting in examples:
        url = settings.job_url(posting.id)
        posted = starts_at(posting.date_posted, settings.timezone)
        expected = changed_at if posting.id == edited.id else posted
        assert datetime.fromisoformat(lastmods[url]) == expected, posting.id
        entry = entries[url]
        assert datetime.fromisoformat(entry.findtext(f"{ATOM_NS}updated")) == expected
        assert datetime.fromisoformat(entry.findtext(f"{ATOM_NS}published")) == posted
    assert datetime.fromisoformat(feed.findtext(f"{ATOM_NS}updated")) >= changed_at


def test_a_change_time_before_the_posting_date_is_the_posting_date(target, settings) -> None:
    posting = make_posting(settings, date_posted="2026-11-20")
    early = datetime(2026, 11, 1, tzinfo=UTC)
    context = RenderContext(settings=settings, build_time=early, changed={posting.id: early})
    assert context.changed_at(posting) == starts_at(posting.date_posted, settings.timezone)


def test_the_gone_page_points_job_seekers_to_the_open_jobs(built, settings) -> None:
    page = parse_html(built["careers/gone.html"][1])
    assert_accessible_page(page)
    assert page.xpath("//meta[@name='robots']/@content") == ["noindex"]
    assert "no longer open" in page.xpath("//h1")[0].text_content()
    index = f"{settings.site.base_url}/careers/index.html"
    # Shown at every closed job's address: its links are absolute.
    assert index in page.xpath("//main//a/@href")
    assert all(
        href.startswith(("http://", "https://", "mailto:", "#")) for href in page.xpath("//@href")
    )


def test_large_sitemap_is_split_under_a_sitemap_index(settings, context) -> None:
    class SmallSitemaps(CareersSite):
        sitemap_limit = 2

    target = SmallSitemaps("careers", CareersSiteOptions(type="careers_site"), settings)
    postings = [make_posting(settings, id=f"job-{number}") for number in range(5)]
    site = render(target, postings, context)
    index = strict_xml(site["careers/sitemap.xml"][1])
    assert index.tag == f"{SITEMAP_NS}sitemapindex"
    parts = [loc.text for loc in index.iter(f"{SITEMAP_NS}loc")]
    base = f"{settings.site.base_url}/careers"
    assert parts == [f"{base}/sitemap-1.xml", f"{base}/sitemap-2.xml", f"{base}/sitemap-3.xml"]
    listed = []
    for number in (1, 2, 3):
        part = strict_xml(site[f"careers/sitemap-{number}.xml"][1])
        assert part.tag == f"{SITEMAP_NS}urlset" and len(part) <= 2
        listed += [loc.text for loc in part.iter(f"{SITEMAP_NS}loc")]
    assert listed == [f"{base}/index.html", *(settings.job_url(p.id) for p in postings)]


def test_atom_feed_has_one_entry_per_job(built, examples, settings, context) -> None:
    feed = strict_xml(built["careers/feed.atom"][1])
    assert feed.tag == f"{ATOM_NS}feed"
    feed_url = f"{settings.site.base_url}/careers/feed.atom"
    assert feed.findtext(f"{ATOM_NS}id") == feed_url
    assert feed.findtext(f"{ATOM_NS}title")
    assert datetime.fromisoformat(feed.findtext(f"{ATOM_NS}updated")) == context.build_time
    (self_link,) = feed.xpath("a:link[@rel='self']", namespaces={"a": ATOM_NS[1:-1]})
    assert self_link.get("href") == feed_url
    assert feed.findtext(f"{ATOM_NS}author/{ATOM_NS}name") == settings.organization.name
    entries = feed.findall(f"{ATOM_NS}entry")
    assert len(entries) == len(examples)
    by_id = {entry.findtext(f"{ATOM_NS}id"): entry for entry in entries}
    for posting in examples:
        entry = by_id[settings.job_url(posting.id)]
        assert entry.findtext(f"{ATOM_NS}title") == posting.title
        updated = datetime.fromisoformat(entry.findtext(f"{ATOM_NS}updated"))
        assert updated.tzinfo is not None
        (link,) = entry.findall(f"{ATOM_NS}link")
        assert link.get("href") == settings.job_url(posting.id)
        content = entry.find(f"{ATOM_NS}content")
        assert content.get("type") == "html" and content.text == posting.description_html
        assert entry.findtext(f"{ATOM_NS}summary").startswith(context.company(posting))


# -- the stylesheet ------------------------------------------------------------------------------


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_helper_matches_wcag() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_colours_contrast_enough_and_focus_is_visible(built) -> None:
    css = built["careers/style.css"][1].decode()
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})\s*;", css))
    text_pairs = [
        ("text", "background"), ("muted", "background"), ("link", "background"),
        ("text", "surface"), ("muted", "surface"), ("link", "surface"),
        ("accent-text", "accent"),
    ]  # fmt: skip
    for foreground, background in text_pairs:
        ratio = contrast(colours[foreground], colours[background])
        assert ratio >= 4.5, f"{foreground} on {background}: {ratio:.2f}:1"
    # The focus ring is drawn outside the element (outline-offset), on the page or a card:
    # as a non-text indicator it needs 3:1 against both.
    for background in ("background", "surface"):
        assert contrast(colours["focus"], colours[background]) >= 3
    focus = re.search(r":focus-visible\s*{([^}]*)}", css)
    assert focus and re.search(r"outline:\s*[2-9]px solid var\(--focus\)", focus.group(1))
    assert "@media (max-width:" in css, "the layout adapts to narrow screens"


def test_header_shows_the_configured_logo(built, settings, target, examples, context) -> None:
    logo = str(settings.organization.logo)
    for path in ("careers/index.html", page_of(examples[0]), "careers/gone.html"):
        page = parse_html(built[path][1])
        (img,) = page.xpath("//header[@class='site-header']//p[@class='brand']/a/img")
        assert img.get("src") == logo
        # The name beside it says who it is: the image is decorative.
        assert img.get("alt") == ""
        assert "SixSq careers" in img.getparent().text_content()
    without = settings.model_copy(
        update={"organization": settings.organization.model_copy(update={"logo": None})}
    )
    site = render(careers(without), examples, dataclasses.replace(context, settings=without))
    assert not parse_html(site["careers/index.html"][1]).xpath("//img")


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ({"city": "Berlin", "region": "BE", "country": "DE"}, "Berlin, Germany"),
        ({"city": "Geneva", "region": "GE", "country": "CH"}, "Geneva, Switzerland"),
        ({"city": "Brussels", "region": "Brussels-Capital", "country": "BE"}, "Brussels, Belgium"),
        ({"city": "Munich", "region": "BY", "country": "DE"}, "Munich, Bayern, Germany"),
        ({"city": "Paris", "region": "IDF", "country": "FR"}, "Paris, Île-de-France, France"),
        (
            {"city": "Minneapolis", "region": "MN", "country": "US"},
            "Minneapolis, Minnesota, United States",
        ),
        ({"city": "Springfield", "region": "ZZ", "country": "US"}, "Springfield, United States"),
        ({"region": "Île-de-France", "country": "FR"}, "Île-de-France, France"),
    ],
)
def test_places_name_regions_or_leave_out_codes_that_confuse(location, shown) -> None:
    assert place(Location(**location)) == shown


# -- hostile postings -----------------------------------------------------------------------------


def assert_inert(page: lxml.html.HtmlElement, scripts: int) -> None:
    """No markup from a posting survived: only the page's own scripts, no handler, no js: URL."""
    assert len(page.xpath("//script")) == scripts
    for element in page.iter(etree.Element):
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name)
            if name in {"href", "src", "action", "formaction"}:
                assert not value.strip().lower().startswith("javascript:"), value
    for tag in ("img", "iframe", "style", "svg", "object", "embed", "input"):
        # The one image of the page's own is the configured logo in the header.
        found = page.xpath(f"//{tag}[not(ancestor::header[@class='site-header'])]")
        assert not found, f"a <{tag}> survived"
    assert len(page.xpath("//header//img")) <= 1
    assert not page.xpath("//body//b | //body//i"), "markup from a title or name survived"


def test_hostile_postings_render_as_text(target, hostile, context) -> None:
    onsite, remote = hostile
    site = render(target, hostile, context)
    index = parse_html(site["careers/index.html"][1])
    assert_inert(index, scripts=1)
    assert_accessible_page(index)
    titles = {card.text_content() for card in index.xpath("//li[@data-filters]//h3")}
    assert titles == {onsite.title, remote.title.replace("\x07", "")}
    for posting in hostile:
        data = site[page_of(posting)][1]
        page = parse_html(data)
        assert_inert(page, scripts=1)
        assert_accessible_page(page)
        assert page.xpath("//h1")[0].text_content() == posting.title.replace("\x07", "")
        (script,) = page.xpath("//script")
        assert json.loads(script.text) == job_posting(posting, context)
        assert "</script" not in script.text and "<" not in script.text
    page = parse_html(site[page_of(onsite)][1])
    text = page.text_content()
    for shown in ('AT&T <Labs> "Quoted" & Sons', "Saint-<Denis> & Co, <b>IDF</b>, France"):
        assert shown in text
    description = page.xpath("//section[contains(@class, 'description')]")[0]
    assert "5 < 6 & 7 > 3" in description.text_content()
    assert list(description.iter("a")) == []
    assert "Click here or there" in " ".join(description.text_content().split())
    apply_button = "//p[@class='apply']/a[@class='button']/@href"
    assert page.xpath(apply_button) == ["https://jobs.example.com/apply?a=1&b=2"]


def test_hostile_postings_keep_the_sitemap_and_feed_well_formed(target, hostile, context) -> None:
    site = render(target, hostile, context)
    sitemap = strict_xml(site["careers/sitemap.xml"][1])
    assert len(sitemap) == 3
    feed = strict_xml(site["careers/feed.atom"][1])
    titles = [entry.findtext(f"{ATOM_NS}title") for entry in feed.iter(f"{ATOM_NS}entry")]
    assert sorted(titles) == sorted(p.title.replace("\x07", "") for p in hostile)
    for entry in feed.iter(f"{ATOM_NS}entry"):
        assert len(entry.find(f"{ATOM_NS}content")) == 0, "HTML content stays escaped text"


# -- templates users override ---------------------------------------------------------------------


def test_user_templates_override_packaged_ones(settings, examples, context, tmp_path) -> None:
    overrides = tmp_path / "site-templates"
    overrides.mkdir()
    (overrides / "style.css").write_text("body { color: #000000; }\n")
    (overrides / "index.html").write_text(
        '{% extends "base.html" %}{% block main %}<h1>{{ total }} roles</h1>{% endblock %}\n'
    )
    target = careers(settings.model_copy(update={"root": tmp_path}), templates="site-templates")
    site = render(target, examples, context)
    assert site["careers/style.css"][1] == b"body { color: #000000; }\n"
    index = parse_html(site["careers/index.html"][1])
    assert index.xpath("//h1")[0].text == f"{len(examples)} roles"
    assert index.xpath("//nav"), "the packaged base.html is still used"
    packaged = render(careers(settings, templates="no-such-folder"), examples, context)
    assert site[page_of(examples[0])] == packaged[page_of(examples[0])]


def test_overridden_template_changes_the_fingerprint(settings, tmp_path) -> None:
    target = careers(settings.model_copy(update={"root": tmp_path}), templates="t")
    before = target.fingerprint()
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "style.css").write_text("body { color: #000000; }\n")
    after = careers(settings.model_copy(update={"root": tmp_path}), templates="t").fingerprint()
    assert before != after


def test_template_sources_are_those_jinja_loads_without_loading_jinja(tmp_path) -> None:
    # The fingerprint reads the sources without Jinja2 (validate and plans render no page):
    # they must be exactly what the environment's loader gives, overrides and subfolders too.
    overrides = tmp_path / "t"
    (overrides / "partials").mkdir(parents=True)
    (overrides / "job.html").write_bytes(b"<p>{{ job.title }}</p>\r\n")
    (overrides / "partials" / "card.html").write_text("<li>card</li>\n")
    templates = SiteTemplates(overrides, "careers")
    sources = list(templates.sources())
    environment = careers_environment(overrides)
    loader = environment.loader
    assert loader is not None
    assert [name for name, _ in sources] == sorted(environment.list_templates())
    assert sources == [(name, loader.get_source(environment, name)[0]) for name, _ in sources]
    assert dict(sources)["job.html"] == "<p>{{ job.title }}</p>\n"  # text mode, as Jinja2
    assert "partials/card.html" in dict(sources) and "index.html" in dict(sources)
    assert "environment" not in templates.__dict__  # sources() made no environment


@pytest.mark.parametrize(
    ("source", "line"), [("<p>\n{% if %}\n", 2), ("<p>{{ no_such_variable }}</p>", None)]
)
def test_broken_template_is_a_render_error(settings, examples, context, tmp_path, source, line):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "job.html").write_text(source)
    target = careers(settings.model_copy(update={"root": tmp_path}), templates="t")
    with pytest.raises(RenderError) as raised:
        render(target, examples, context)
    assert raised.value.target == "careers" and raised.value.line == line


# -- options and rules ----------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["", "/", "../up", "a/../../b", "a\\b", "./x"])
def test_dir_must_be_a_folder_inside_output(folder) -> None:
    with pytest.raises(ValueError, match="folder inside output"):
        CareersSiteOptions(type="careers_site", dir=folder)


def test_dir_is_normalized() -> None:
    assert CareersSiteOptions(type="careers_site", dir="/site/careers/").dir == "site/careers"


def test_description_left_empty_by_sanitizing_is_an_error(settings) -> None:
    posting = make_posting(settings, description="<script>alert(1)</script>")
    (problem,) = careers(settings).check(posting)
    assert (problem.field, problem.severity, problem.target) == (
        "description",
        Severity.ERROR,
        "careers",
    )
    assert careers(settings).check(make_posting(settings)) == []


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>x</p>", "<p>x</p>"),
        ("<h1>A</h1><p>x</p><h2>B</h2>", "<h3>A</h3><p>x</p><h4>B</h4>"),
        ("<h4>A</h4><h6>B</h6><h4>C</h4>", "<h3>A</h3><h4>B</h4><h3>C</h3>"),
        ("<h5>A</h5><h1>B</h1><h2>C</h2>", "<h3>A</h3><h3>B</h3><h4>C</h4>"),
        ("<h2>A</h2><h3>B</h3><h4>C</h4><h5>D</h5><h6>E</h6>",
         "<h3>A</h3><h4>B</h4><h5>C</h5><h6>D</h6><h6>E</h6>"),
    ],
)  # fmt: skip
def test_description_headings_continue_the_page_outline(html, expected) -> None:
    assert nest_headings(html, top=3) == expected


# -- real tools: the Nu HTML checker and headless Chromium ----------------------------------------


def test_every_page_is_valid_html(built, examples, target, hostile, context, tmp_path) -> None:
    write(built, tmp_path / "examples")
    write(render(target, hostile, context), tmp_path / "hostile")
    pages = sorted(tmp_path.rglob("*.html")) + sorted(tmp_path.rglob("*.css"))
    # Each site's index, job pages and gone page, and each site's stylesheet.
    assert len(pages) == (2 + len(examples)) + (2 + len(hostile)) + 2
    errors = tools.html_errors(pages)
    assert errors == [], json.dumps(errors, indent=2)


@pytest.mark.browser
def test_site_in_a_real_browser(target, examples, hostile, context, tmp_path) -> None:
    browser = tools.chromium()
    write(render(target, [*examples, *hostile], context), tmp_path / "site")
    profile = tmp_path / "profile"
    with tools.serve(tmp_path / "site") as base:
        index = lxml.html.document_fromstring(
            tools.dump_dom(browser, f"{base}/careers/index.html", profile)
        )
        job = lxml.html.document_fromstring(
            tools.dump_dom(browser, f"{base}/{page_of(examples[0])}", profile)
        )
        attacked = [
            lxml.html.document_fromstring(
                tools.dump_dom(browser, f"{base}/{page_of(posting)}", profile)
            )
            for posting in hostile
        ]
        remote_only = lxml.html.document_fromstring(
            tools.dump_dom(browser, f"{base}/careers/index.html?work=Remote", profile)
        )

    # The index lists every job, and its own script ran: the filter form is shown.
    cards = index.xpath("//li[@data-filters]")
    titles = {card.xpath(".//h3")[0].text_content() for card in cards}
    expected = {p.title.replace("\x07", "") for p in [*examples, *hostile]}
    assert titles == expected
    assert index.xpath("//form[@id='job-filters']")[0].get("hidden") is None
    total = len(examples) + len(hostile)
    assert index.xpath("//*[@id='filter-status']")[0].text == f"Showing all {total} jobs."
    # The filter, driven by the address, hides the jobs that are not remote.
    shown = [c for c in remote_only.xpath("//li[@data-filters]") if c.get("hidden") is None]
    remote = {p.title.replace("\x07", "") for p in [*examples, *hostile] if p.remote == "remote"}
    assert {card.xpath(".//h3")[0].text_content() for card in shown} == remote
    # A job page carries its JobPosting.
    (script,) = job.xpath("//script[@type='application/ld+json']")
    assert json.loads(script.text) == job_posting(examples[0], context)
    # Nothing a posting tried to run did run, on any page.
    for page in [index, remote_only, *attacked]:
        assert page.get("data-pwned") is None
        assert page.xpath("//title")[0].text_content() != "pwned"
        # The header's logo is the one image of the page's own.
        assert not page.xpath("//main//img | //iframe | //svg")
        assert [img.get("src") for img in page.xpath("//img")] == [
            str(context.settings.organization.logo)
        ]
    for page, posting in zip(attacked, hostile, strict=True):
        assert page.xpath("//h1")[0].text_content() == posting.title.replace("\x07", "")
