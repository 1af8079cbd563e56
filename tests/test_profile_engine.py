"""The profile engine's compiled plan: expressions batched into one sandboxed template per
scope, and the fields of a posting written once for all of its items.

What must hold however the plan is made: the sandbox refuses an escape or a mutation from any
expression, in either scope and in a ``when:`` guard; a posting's values never reach another
posting's items, and an item's never another item's; and the feed is what the engine gives one
record at a time (`Engine.values`, which `validate` checks), for every built-in profile.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError
from lxml import etree

from syndicate.adapters import RenderContext
from syndicate.adapters.profiles import ProfileOptions, ProfileTarget
from syndicate.adapters.profiles.engine import Scope
from syndicate.adapters.profiles.expressions import Batch, make_environment
from syndicate.adapters.profiles.finding import available
from syndicate.adapters.xmltext import safe
from syndicate.config import Settings
from syndicate.content import xml_safe
from syndicate.model import Posting
from tests.test_profiles import hostile_posting
from tests.test_profiles_format import posting as job

BUILD_TIME = datetime(2026, 11, 23, 9, tzinfo=UTC)

# Both scopes (a posting's field, a location's), and a guard: a profile has them all.
SCOPED = """\
name: scoped
summary: Scoped
spec: https://scoped.example
document: {root: jobs, item: job}
defaults: {text: escaped, empty: omit}
fields:
  - {element: "@ref", path: reference}
  - {element: title, path: posting.title}
  - {element: shout, expr: "posting.title | upper"}
  - {element: here, expr: "location.city ~ '/' ~ posting.id"}
  - {element: bare, expr: "reference"}
  - {element: bid, path: board.bid, when: "board.bid is defined"}
  - {element: far, const: "far away", when: "location.country != 'CH'"}
  - {element: place/city, path: location.city}
  - {element: place/count, expr: "locations | length"}
"""

# What the sandbox does with an escape: a call or a mutation is a SecurityError; reading a
# Python internal gives an undefined value, so the field writes nothing.
RAISING = [
    "''.__class__.__subclasses__()",
    "location.__class__.__base__.__subclasses__()",
    "posting.update({'title': 'changed'})",
    "location.__setitem__('city', 'changed')",
    "locations.append(1)",
    "locations.pop()",
    "board.clear()",
]
UNDEFINED = [
    "posting.__class__.__mro__",
    "cycler.__init__.__globals__",
    "lipsum.__globals__",
    "range.__self__",
    "posting.title.__class__",
]


def write_profile(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / "adapters").mkdir(exist_ok=True)
    (tmp_path / "adapters" / f"{name}.yaml").write_text(text)


def project_target(tmp_path: Path, settings: Settings, name: str) -> ProfileTarget:
    return ProfileTarget(
        name,
        ProfileOptions(type="profile", profile=name),
        settings.model_copy(update={"root": tmp_path}),
    )


def feed(target: ProfileTarget, postings: list[Posting], settings: Settings) -> etree._Element:
    context = RenderContext(settings=settings, build_time=BUILD_TIME)
    [data] = [b"".join(d.chunks) for d in target.render(postings, context)]
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


# ---------------------------------------------------------------------------------- sandbox


@pytest.mark.parametrize("escape", RAISING + UNDEFINED)
@pytest.mark.parametrize("where", ["posting", "location", "when"])
def test_batched_expressions_refuse_escapes_and_mutation(
    tmp_path: Path, settings: Settings, escape: str, where: str
) -> None:
    # The escape sits among harmless expressions of the same batch, in the scope asked for:
    # an item's when it also reads the location, or the guard of a constant field.
    field = {
        "posting": f'{{element: x, expr: "{escape}"}}',
        "location": f'{{element: x, expr: "location.city and {escape}"}}',
        "when": f'{{element: x, const: "c", when: "{escape}"}}',
    }[where]
    write_profile(
        tmp_path,
        "evil",
        "name: evil\nsummary: E\nspec: https://e.example\ndocument: {root: jobs, item: job}\n"
        "fields:\n"
        '  - {element: before, expr: "posting.title"}\n'
        '  - {element: city, expr: "location.city"}\n'
        f"  - {field}\n",
    )
    target = project_target(tmp_path, settings, "evil")
    context = RenderContext(settings=settings, build_time=BUILD_TIME)
    posting = job(settings, boards={"evil": {"bid": 1}})
    records = target._records(posting, context)
    kept = repr(records)
    if escape in RAISING:
        with pytest.raises(SecurityError, match="unsafe"):
            target.engine.items_xml(records, "")
    else:
        [item] = target.engine.items_xml(records, "")
        assert "<x>" not in item and "<city><![CDATA[Geneva]]></city>" in item
    assert repr(records) == kept  # nothing was changed, refused or not


def test_batched_entries_cannot_read_one_another() -> None:
    environment = make_environment(UTC)
    batch = Batch(environment, [("'secret'", None), ("_value0", None), ("_value_0", None)])
    assert batch.evaluate({}) == ["secret", None, None]


def test_a_guard_keeps_its_expression_from_being_evaluated() -> None:
    batch = Batch(make_environment(UTC), [("''.__class__.__mro__", "false"), (None, "ok")])
    assert batch.evaluate({"ok": 0}) == [None, 0]


# ------------------------------------------------------------------------- scopes and leaks


def test_fields_are_scoped_by_what_they_read(tmp_path: Path, settings: Settings) -> None:
    write_profile(tmp_path, "scoped", SCOPED)
    engine = project_target(tmp_path, settings, "scoped").engine
    plans = {plan.spec.element: plan.scope for plan in engine.plans}
    assert plans == {
        "@ref": Scope.ITEM,
        "title": Scope.POSTING,
        "shout": Scope.POSTING,
        "here": Scope.ITEM,
        "bare": Scope.ITEM,  # an expression that is only a name still reads it
        "bid": Scope.POSTING,
        "far": Scope.ITEM,  # its guard reads the location
        "place/city": Scope.ITEM,
        "place/count": Scope.POSTING,
    }


def test_no_value_leaks_between_postings_or_locations(tmp_path: Path, settings: Settings) -> None:
    write_profile(tmp_path, "scoped", SCOPED)
    target = project_target(tmp_path, settings, "scoped")
    postings = [
        job(
            settings,
            id="first",
            title="First title",
            boards={"scoped": {"bid": "7"}},
            locations=[
                {"city": "Geneva", "region": "GE", "country": "CH"},
                {"city": "Lyon", "country": "FR"},
            ],
        ),
        job(
            settings,
            id="second",
            title="Second title",
            locations=[
                {"city": "Paris", "country": "FR"},
                {"city": "Bern", "country": "CH"},
                {"city": "Zug", "country": "CH"},
            ],
        ),
    ]
    jobs = feed(target, postings, settings).findall("job")
    seen = [
        (j.findtext("title"), j.findtext("shout"), j.findtext("here"), j.findtext("bid"),
         j.findtext("far"), j.findtext("place/city"), j.findtext("place/count"))
        for j in jobs
    ]  # fmt: skip
    assert seen == [
        ("First title", "FIRST TITLE", "Geneva/first", "7", None, "Geneva", "2"),
        ("First title", "FIRST TITLE", "Lyon/first", "7", "far away", "Lyon", "2"),
        ("Second title", "SECOND TITLE", "Paris/second", None, "far away", "Paris", "3"),
        ("Second title", "SECOND TITLE", "Bern/second", None, None, "Bern", "3"),
        ("Second title", "SECOND TITLE", "Zug/second", None, None, "Zug", "3"),
    ]
    refs = [j.get("ref") for j in jobs]
    assert len(set(refs)) == 5 and [j.findtext("bare") for j in jobs] == refs


@pytest.mark.parametrize("name", sorted(available(None)))
def test_items_are_what_each_record_gives_alone(
    name: str, settings: Settings, examples: list[Posting]
) -> None:
    # A posting's fields are written once for all its items: each item is still exactly what
    # its own record gives when every field is worked out for it alone (as validate does).
    target = ProfileTarget(name, ProfileOptions(type="profile", profile=name), settings)
    engine = target.engine
    context = RenderContext(settings=settings, build_time=BUILD_TIME)
    postings = [*examples, hostile_posting(settings), hostile_posting(settings, salary=None)]
    for posting in postings:
        records = target._records(posting, context)
        alone = [engine.item_xml(engine.values(record), "  ") for record in records]
        assert engine.items_xml(records, "  ") == alone


def test_the_quick_xml_test_passes_no_forbidden_character() -> None:
    # xmltext.safe skips the regular expression for printable text: every printable code
    # point must be one XML allows, else a forbidden one would reach a feed.
    every = "".join(map(chr, range(0x110000)))
    printable = "".join(c for c in every if c.isprintable())
    assert xml_safe(printable) == printable
    assert safe(every) == xml_safe(every) != every


def test_remembered_lines_tell_equal_values_of_other_types_apart(
    tmp_path: Path, settings: Settings
) -> None:
    # Recurring values' lines are remembered: 1, True and 1.0 are equal keys in Python, and
    # 0.0 == -0.0, but each is written its own way, whichever came first.
    write_profile(
        tmp_path,
        "typed",
        "name: typed\nsummary: T\nspec: https://t.example\ndocument: {root: jobs, item: job}\n"
        "fields:\n  - {element: v, path: board.v, type: number}\n"
        "  - {element: t, path: board.v}\n",
    )
    target = project_target(tmp_path, settings, "typed")
    given = [1, True, 1.0, 0.0, -0.0, 2.5, "1"]
    postings = [
        job(settings, id=f"job-{n}", boards={"typed": {"v": value}})
        for n, value in enumerate(given)
    ]
    jobs = feed(target, postings, settings).findall("job")
    assert [(j.findtext("v"), j.findtext("t")) for j in jobs] == [
        ("1", "1"),
        (None, "true"),  # a boolean is no number
        ("1", "1"),
        ("0", "0"),
        ("-0", "-0"),
        ("2.5", "2.5"),
        ("1", "1"),
    ]
