"""The contract every built-in board profile keeps, whatever the board.

Each profile (`syndicate.adapters.profiles.loader.available`) renders the example postings into
a golden feed (tests/golden/profiles/<name>.xml; regenerate with
``.venv/bin/python -m pytest tests/test_profiles.py --update-goldens`` and review the diff), the
same bytes every time; its output parses back with a safe XML parser (no entities resolved, no
network, no recovery) into exactly the elements the profile declares; a hostile posting leaves
no markup in it; and every problem it reports names the target and a posting field.
"""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from lxml import etree
from lxml import html as lxml_html

from syndicate.adapters import RenderContext
from syndicate.adapters.profiles import ProfileOptions, ProfileTarget
from syndicate.adapters.profiles.finding import available
from syndicate.adapters.profiles.spec import ValueType
from syndicate.config import Settings
from syndicate.errors import Severity
from syndicate.model import Posting

PROFILES = sorted(available(None))
HOSTILE = "<script>alert(1)</script> ]]> A & B < C \x00\x01\x0b\ufffe <b onclick='x'>end</b>"
HOSTILE_DESCRIPTION = (
    'Intro <script>alert("x")</script> and ]]> inside, A & B < C, bell\x07 here. ' * 4
    + '\n\n<img src="x.png" onerror="steal()"> <p onclick="steal()">Click me</p>\n\n'
    + '[plain](javascript:alert(1)) <a href="javascript:alert(2)">raw</a>'
    + '<iframe src="https://evil.example"></iframe><style>p {color: red}</style>\n\n'
    + "1. first\n2. second\n\nSome *emphasis*, <i>italic</i> and **strong** text.\n"
)


def target_for(name: str, settings: Settings, **options: Any) -> ProfileTarget:
    return ProfileTarget(name, ProfileOptions(type="profile", profile=name, **options), settings)


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, recover=False, strip_cdata=False
    )


def feed_bytes(target: ProfileTarget, postings: list[Posting], context: RenderContext) -> bytes:
    files = [b"".join(document.chunks) for document in target.render(postings, context)]
    assert len(files) == 1
    data = files[0]
    return gzip.decompress(data) if target.gzip else data


def accepted(target: ProfileTarget, postings: list[Posting]) -> list[Posting]:
    return [
        posting
        for posting in postings
        if not any(p.severity in (Severity.ERROR, Severity.OMIT) for p in target.rules(posting))
    ]


def parse(data: bytes) -> etree._Element:
    """The feed's tree with namespaces taken off the tags (JobLookup's root has a default one)."""
    root = etree.fromstring(data, safe_parser())
    for element in root.iter():
        if isinstance(element.tag, str):
            element.tag = etree.QName(element).localname
    return root


def items_of(target: ProfileTarget, root: etree._Element) -> list[etree._Element]:
    path = [*target.profile.document.root.split("/")[1:], target.profile.document.item]
    return root.findall("/".join(path))


def declared_tags(target: ProfileTarget) -> set[str]:
    tags = {target.profile.document.item}
    for spec in target.profile.fields:
        if not spec.element.startswith("@"):
            tags.update(spec.element.split("/"))
    return tags


def hostile_posting(settings: Settings, **fields: Any) -> Posting:
    data: dict[str, Any] = {
        "id": "hostile",
        "title": f"Engineer {HOSTILE}",
        "date_posted": "2026-11-20",
        "valid_through": "2027-01-31",
        "employment_type": ["FULL_TIME", "CONTRACTOR"],
        "company": f"ACME {HOSTILE}",
        "category": f"Cat {HOSTILE}",
        "experience": f"Years {HOSTILE}",
        "education": f"School {HOSTILE}",
        "locations": [
            {
                "city": "Ville <&> ]]> d'Été",
                "region": "A&B",
                "country": "US",
                "postal_code": "1<2",
                "street": "1 rue <b>&</b>",
            },
            {"city": "Saint-<script>", "region": "GE", "country": "CH"},
        ],
        "salary": {"min": 100, "max": 200.5, "currency": "USD", "period": "HOUR"},
        "apply": {"url": "https://example.com/apply?a=1&b=]]2", "email": "apply@example.com"},
        "description": HOSTILE_DESCRIPTION,
    }
    data.update(fields)
    return Posting.model_validate(data, context={"timezone": settings.timezone})


# ------------------------------------------------------------------------------ the contract


def test_there_are_at_least_twelve_boards_besides_indeed() -> None:
    assert len(set(PROFILES) - {"indeed"}) >= 12


@pytest.mark.parametrize("name", PROFILES)
def test_feed_matches_golden_and_is_deterministic(
    name: str, settings: Settings, examples: list[Posting], context: RenderContext, golden: Any
) -> None:
    target = target_for(name, settings)
    postings = accepted(target, examples)
    assert postings, "no example posting is accepted: the golden feed would prove nothing"
    data = feed_bytes(target, postings, context)
    assert data == feed_bytes(target_for(name, settings), postings, context)
    golden.check(f"profiles/{name}.xml", data)


@pytest.mark.parametrize("name", PROFILES)
def test_feed_parses_back_into_the_declared_shape(
    name: str, settings: Settings, examples: list[Posting], context: RenderContext
) -> None:
    target = target_for(name, settings)
    postings = accepted(target, examples)
    root = parse(feed_bytes(target, postings, context))
    assert root.tag == target.profile.document.root.split("/")[0]
    items = items_of(target, root)
    expected = sum(len(list(target._records(p, context))) for p in postings)
    assert len(items) == expected
    tags = declared_tags(target)
    for item in items:
        assert {element.tag for element in item.iter()} <= tags
    required = [
        spec.element
        for spec in target.profile.fields
        if spec.rules.required
        and spec.rules.severity == "error"
        and not spec.element.startswith("@")
        and "/" not in spec.element
    ]
    for item in items:
        for element in required:
            found = item.find(element)
            assert found is not None and (found.text or "").strip(), (element, item)
    ids = [spec for spec in target.profile.fields if spec.path == "reference"]
    for spec in ids:
        values = [
            item.get(spec.element[1:])
            if spec.element.startswith("@")
            else item.findtext(spec.element)
            for item in items
        ]
        assert len(values) == len(set(values)), f"{spec.element} repeats"


@pytest.mark.parametrize("name", PROFILES)
def test_hostile_posting_leaves_no_markup(
    name: str, settings: Settings, context: RenderContext
) -> None:
    target = target_for(name, settings)
    posting = hostile_posting(settings)
    data = feed_bytes(target, [posting], context)
    assert b"\x00" not in data and b"\x01" not in data and b"\x0b" not in data
    root = parse(data)
    tags = declared_tags(target)
    items = items_of(target, root)
    assert items
    for item in items:
        # Text stays text: nothing from the posting became an element or an attribute.
        assert {element.tag for element in item.iter()} <= tags
        declared_attributes = {s.element[1:] for s in target.profile.fields if s.element[0] == "@"}
        assert set(item.attrib) <= declared_attributes
        for element in item.iter():
            if element.tag == "title" or element.tag in ("name", "job_title"):
                assert "<script>alert(1)</script>" in (element.text or "")
    html_fields = [s.element for s in target.profile.fields if s.type is ValueType.HTML]
    for item in items:
        for element in html_fields:
            text = item.findtext(element) or ""
            tree = lxml_html.fragment_fromstring(text, create_parent="div")
            elements = [e for e in tree.iter() if isinstance(e.tag, str)]
            assert not [e for e in elements if e.tag in {"script", "img", "iframe", "style"}]
            for each in elements:
                assert not [a for a in each.attrib if a.lower().startswith("on")]
                assert all("javascript:" not in v.lower() for v in each.attrib.values())
            assert 'alert("x")' not in tree.text_content()
            assert "&amp;" not in text and "&lt;" not in text, "entities in the description"
            assert "Click me" in tree.text_content()


@pytest.mark.parametrize("name", PROFILES)
def test_preview_is_the_posting_items(
    name: str, settings: Settings, context: RenderContext
) -> None:
    target = target_for(name, settings)
    posting = hostile_posting(settings)
    preview = target.preview(posting, context)
    item = target.profile.document.item
    wrapped = etree.fromstring(f"<r>{preview}</r>".encode(), safe_parser())
    assert [child.tag for child in wrapped] == [item] * len(list(target._records(posting, context)))


@pytest.mark.parametrize("name", PROFILES)
def test_every_problem_is_tagged_and_located(name: str, settings: Settings) -> None:
    target = target_for(name, settings)
    bare = Posting.model_validate(
        {"id": "bare", "title": "X", "date_posted": "2026-11-20", "remote": "remote",
         "apply": {"email": "a@example.com"}, "description": "Short.",
         "boards": {name: {"not_an_option": 1}}},
        context={"timezone": settings.timezone},
    )  # fmt: skip
    problems = target.rules(bare)
    assert problems, "a remote job with no country and a short description breaks some rule"
    for problem in problems:
        assert problem.target == name
        assert problem.posting_id == "bare"
        assert problem.field, problem
    assert any(p.field == f"boards.{name}.not_an_option" for p in problems)


@pytest.mark.parametrize("name", PROFILES)
def test_profile_names_its_spec_and_what_is_unverified(name: str, settings: Settings) -> None:
    profile = target_for(name, settings).profile
    assert profile.spec.startswith("https://")
    if name != "indeed":
        flagged = profile.unverified or [s for s in profile.fields if not s.verified]
        assert flagged, "every board here has details its documentation did not confirm"
