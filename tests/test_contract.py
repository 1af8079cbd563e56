"""The contract every registered target keeps, checked over the registry.

A new target is covered by being registered: nothing here names one.  For each target type:
the same postings render the same bytes; a hostile posting leaves no markup in what the target
gives a board; every problem a target finds is tagged with its name; its preview parses; and
every document parses back by the media type it declares.  The functions below also serve a
target defined elsewhere (see tests/test_new_target.py).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree
from lxml import html as lxml_html

from syndicate import content
from syndicate.adapters import REGISTRY, PullTarget, PushTarget, RenderContext, Target, target_class
from syndicate.adapters.profiles import ProfileOptions, ProfileTarget
from syndicate.adapters.profiles.finding import available
from syndicate.config import Settings
from syndicate.model import Posting
from syndicate.operations import OperationKind

BUILD_TIME = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
HOSTILE_DESCRIPTION = """\
Intro <script>alert("script")</script> <span onclick="steal()">span</span>

<iframe src="https://evil.example/frame"></iframe> <img src="x.png" onerror="steal()">

<p onmouseover="steal()" style="color: red">Hover</p> [link](javascript:alert(1))
<a href="&#106;avascript:alert(1)">entity</a> ]]> </script> <!-- comment -->

- a bullet with **bold** text
"""

HOSTILE_CODE = ("alert(", "steal()", "evil.example")


def target_of(type_name: str, settings: Settings) -> Target:
    """A target of ``type_name``: as the repository's config.yaml configures it, else with its
    options' defaults; ``profile:<name>`` is the built-in board profile ``name``."""
    if type_name.startswith("profile:"):
        profile = type_name.partition(":")[2]
        return ProfileTarget(profile, ProfileOptions(profile=profile), settings)
    for name, options in settings.targets.items():
        if options.type == type_name:
            return target_class(type_name)(name, options, settings)
    cls = target_class(type_name)
    return cls(type_name, cls.Options.model_validate({"type": type_name}), settings)


def hostile(posting: Posting) -> Posting:
    """``posting`` with a description that tries every trick, still a valid posting."""
    data = posting.model_dump(mode="json", exclude={"description_html"}, exclude_none=True)
    # The posting's own text follows, so that boards with a minimum length take it still.
    data["description"] = HOSTILE_DESCRIPTION + "\n\n" + posting.description
    data["title"] = posting.title + " & Co"
    return Posting.model_validate(data, context={"timezone": UTC})


def parse(media_type: str, data: bytes) -> Any:
    """``data`` parsed by its media type (XML and HTML as trees, JSON as values)."""
    base = media_type.split(";", 1)[0].strip()
    if base.endswith(("/json", "+json")):
        return json.loads(data)
    if base == "text/html":
        return lxml_html.document_fromstring(data)
    if base.endswith(("/xml", "+xml")):
        return etree.fromstring(data, SAFE_XML)
    if base == "text/css":
        assert data.count(b"{") == data.count(b"}"), "unbalanced CSS"
        return data.decode()
    raise AssertionError(f"the contract does not know how to parse {media_type!r}")


def strings_in(tree: Any) -> Iterator[str]:
    """Every text a reader of the parsed document gets: XML/HTML text and attribute values,
    JSON strings."""
    if isinstance(tree, str):
        yield tree
    elif isinstance(tree, dict):
        for value in tree.values():
            yield from strings_in(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from strings_in(value)
    elif isinstance(tree, etree._Element):
        for element in tree.iter():
            yield from (element.text or "", element.tail or "", *element.attrib.values())


def assert_no_markup(tree: Any, clean: Any = None) -> None:
    """Nothing of the hostile description survives as markup: an HTML page gains over the
    same page of the ``clean`` posting only allowed tags, and runs no script of the posting's
    and no handler; every text, read as HTML (as a board may), holds only the allowed tags, no
    handler attribute and no script URL.  The tricks may remain as visible text: text is not
    markup."""
    if isinstance(tree, lxml_html.HtmlElement):
        gained = _tag_counts(tree) - _tag_counts(clean)
        assert set(gained) <= content.ALLOWED_TAGS, set(gained) - content.ALLOWED_TAGS
        for script in tree.iter("script"):
            if script.get("type") == "application/ld+json":
                json.loads(script.text or "null")
            else:  # the site's own script, from its templates: nothing of the posting's
                assert not any(mark in (script.text or "") for mark in HOSTILE_CODE), "a script"
        _assert_harmless(tree)
    for text in strings_in(tree):
        if "<" in text:
            fragment = lxml_html.fragment_fromstring(text, create_parent="div")
            tags = {e.tag for e in fragment.iter() if isinstance(e.tag, str)} - {"div"}
            assert tags <= content.ALLOWED_TAGS, tags - content.ALLOWED_TAGS
            _assert_harmless(fragment)


def _tag_counts(tree: Any) -> Counter[str]:
    if not isinstance(tree, lxml_html.HtmlElement):
        return Counter()
    return Counter(e.tag for e in tree.iter() if isinstance(e.tag, str))


def _assert_harmless(tree: lxml_html.HtmlElement) -> None:
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            assert not name.startswith("on"), f"<{element.tag} {name}>"
            assert not value.strip().lower().startswith(("javascript:", "data:")), value
            assert "evil.example" not in value, value


def rendered(target: PullTarget, postings: list[Posting], context: RenderContext) -> dict:
    """Path → (media type, bytes) of every document ``target`` renders."""
    return {
        document.path: (document.media_type, b"".join(document.chunks))
        for document in target.render(postings, context)
    }


def listed(target: Target, postings: list[Posting]) -> list[Posting]:
    return [posting for posting in postings if not any(
        problem.severity != "warning" for problem in target.rules(posting)
    )]  # fmt: skip


def check_contract(target: Target, examples: list[Posting], settings: Settings) -> None:
    """Every clause of the contract for one target (the tests below split them by name)."""
    check_problems_are_tagged(target, examples)
    check_preview_parses(target, examples, settings)
    check_deterministic_and_parsed_back(target, examples, settings)
    check_hostile_posting(target, examples, settings)


def check_problems_are_tagged(target: Target, examples: list[Posting]) -> None:
    broken = examples[0].model_copy(update={"locations": [], "apply": examples[0].apply})
    for posting in [*examples, broken]:
        for problem in target.rules(posting):
            assert problem.target == target.name, str(problem)
            assert problem.posting_id == posting.id, str(problem)
            assert problem.message, str(problem)


def check_preview_parses(target: Target, examples: list[Posting], settings: Settings) -> None:
    context = RenderContext(settings=settings, build_time=BUILD_TIME)
    for posting in listed(target, examples):
        text = target.preview(posting, context)
        assert text.strip(), "an empty preview"
        if text.lstrip().startswith(("{", "[")):
            json.loads(text)
        elif text.lstrip().lower().startswith(("<!doctype html", "<html")):
            lxml_html.document_fromstring(text)
        else:  # XML elements, one or more
            etree.fromstring(f"<preview>{text}</preview>".encode(), SAFE_XML)


def check_deterministic_and_parsed_back(
    target: Target, examples: list[Posting], settings: Settings
) -> None:
    context = RenderContext(settings=settings, build_time=BUILD_TIME)
    postings = listed(target, examples)
    assert postings, "the target takes none of the example postings"
    if isinstance(target, PullTarget):
        first = rendered(target, postings, context)
        assert first, "no documents"
        assert rendered(target, postings, context) == first, "a second render differs"
        for path, (media_type, data) in first.items():
            assert not path.startswith(("/", "..")), path
            parse(media_type, data)
    else:
        assert isinstance(target, PushTarget)
        for posting in postings:
            once = target.payload(OperationKind.CREATE, posting.id, posting, context)
            again = target.payload(OperationKind.CREATE, posting.id, posting, context)
            assert once == again, "a second payload differs"
            json.loads(json.dumps(once))


def check_hostile_posting(target: Target, examples: list[Posting], settings: Settings) -> None:
    context = RenderContext(settings=settings, build_time=BUILD_TIME)
    postings = [hostile(posting) for posting in listed(target, examples)]
    postings = listed(target, postings)
    assert postings, "a hostile description kept every posting off the target"
    if isinstance(target, PullTarget):
        clean = rendered(target, listed(target, examples), context)
        for path, (media_type, data) in rendered(target, postings, context).items():
            before = parse(*clean[path]) if path in clean else None
            assert_no_markup(parse(media_type, data), before)
    else:
        assert isinstance(target, PushTarget)
        for posting in postings:
            assert_no_markup(target.payload(OperationKind.CREATE, posting.id, posting, context))


# Every registered type; the profile type once per built-in board profile.
TYPES = [name for name in REGISTRY.names() if name != "profile"] + [
    f"profile:{name}" for name in sorted(available(None))
]


@pytest.mark.parametrize("type_name", TYPES)
def test_every_problem_is_tagged_with_the_target(
    type_name: str, settings: Settings, examples: list[Posting]
) -> None:
    check_problems_are_tagged(target_of(type_name, settings), examples)


@pytest.mark.parametrize("type_name", TYPES)
def test_the_preview_parses(type_name: str, settings: Settings, examples: list[Posting]) -> None:
    check_preview_parses(target_of(type_name, settings), examples, settings)


@pytest.mark.parametrize("type_name", TYPES)
def test_output_is_deterministic_and_parses_back(
    type_name: str, settings: Settings, examples: list[Posting]
) -> None:
    check_deterministic_and_parsed_back(target_of(type_name, settings), examples, settings)


@pytest.mark.parametrize("type_name", TYPES)
def test_a_hostile_posting_leaves_no_markup(
    type_name: str, settings: Settings, examples: list[Posting]
) -> None:
    check_hostile_posting(target_of(type_name, settings), examples, settings)


def test_the_registry_holds_the_built_in_targets() -> None:
    assert {"indeed_xml", "jsonld", "linkedin_json", "careers_site", "linkedin_api",
            "google_indexing", "webhook"} <= set(TYPES)  # fmt: skip


@pytest.mark.parametrize("type_name", TYPES)
def test_how_a_board_is_reached_changes_nothing_it_receives(
    type_name: str, settings: Settings
) -> None:
    target = target_of(type_name, settings)
    if not isinstance(target, PushTarget):
        pytest.skip("a pull target is fetched, not reached")
    transport = target.transport_options()
    assert {"enabled", "timeout", "concurrency", "rate_limit"} <= transport
    secret = target.secret_option()
    assert secret is None or secret in transport
    for name in transport - {"enabled"}:
        changed = type(target)(
            target.name, target.options.model_copy(update={name: None}), settings
        )
        assert changed.fingerprint() == target.fingerprint(), name
    content_fields = set(type(target.options).model_fields) - transport - {"type"}
    for name in content_fields:
        changed = type(target)(
            target.name, target.options.model_copy(update={name: "changed"}), settings
        )
        assert changed.fingerprint() != target.fingerprint(), name
