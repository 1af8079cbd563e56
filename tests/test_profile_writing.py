"""The profile engine's quicker writing gives the bytes of the path it replaced.

Each shortcut of `syndicate.adapters.profiles.writing`, `expressions.RecordSandbox` and the
engine's remembered group layout is compared with what was written before it: `xmltext`'s
text and CDATA, `content.sanitize_html` with its options converted per call, Jinja's own
sandboxed ``getattr``, and the group elements worked out field by field.  (The feeds
themselves are the golden files of tests/test_profiles.py.)
"""

from __future__ import annotations

import random
import re
from datetime import UTC, date
from typing import Any

import pytest
from jinja2 import ChainableUndefined, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from benchmarks.generate import body
from syndicate import content
from syndicate.adapters import xmltext
from syndicate.adapters.profiles import writing
from syndicate.adapters.profiles.engine import _DEFAULT_HTML, Engine, Plan, _group_steps
from syndicate.adapters.profiles.expressions import (
    Batch,
    RecordSandbox,
    compile_expression,
    make_environment,
    quick_add_params,
)
from syndicate.adapters.profiles.finding import available, find
from syndicate.adapters.profiles.loader import load
from syndicate.adapters.tagging import add_params
from syndicate.model import Posting
from tests.test_profiles import HOSTILE, HOSTILE_DESCRIPTION


def texts() -> list[str]:
    """Text of every kind a value can be: every code point (in runs), lines, CDATA ends."""
    points = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    runs = ["".join(points[i : i + 97]) for i in range(0, len(points), 97)]
    lines = ["a\nb", "a\tb\r\nc", "line\n\x0bbell\x07\n", "no-break\u00a0space\n", "\ufffe\n"]
    quoted = ['say "hi"', "a & b", "<tag>", "x > y", "'single'"]
    return [
        *runs,
        *lines,
        *quoted,
        HOSTILE,
        HOSTILE + "\n" + HOSTILE,
        "]]>\n]]>",
        "",
        "\n",
        "plain",
    ]


def test_text_is_written_as_xmltext_writes_it() -> None:
    for text in texts():
        assert writing.safe(text) == xmltext.safe(text), repr(text)
        assert writing.cdata(text) == xmltext.cdata(text), repr(text)
        assert writing.escaped(text) == xmltext.escaped(text), repr(text)
        assert writing.attribute(text) == xmltext.attribute(text), repr(text)


def descriptions(examples: list[Posting]) -> list[str]:
    rng = random.Random(17)
    generated = [content.markdown_to_safe_html(body(rng)) for _ in range(150)]
    hostile = content.markdown_to_safe_html(HOSTILE_DESCRIPTION)
    return [*(p.description_html for p in examples), hostile, *generated]


def policies() -> list[tuple[tuple[str, ...], tuple[tuple[str, str], ...]]]:
    found: set[tuple[tuple[str, ...], tuple[tuple[str, str], ...]]]
    found = {(tuple(_DEFAULT_HTML.tags), ())}
    for name in available(None):
        for spec in load(find(name, None).path).fields:
            if spec.html is not None:
                found.add((tuple(spec.html.tags), tuple(sorted(spec.html.rename.items()))))
    return sorted(found)


@pytest.mark.parametrize("policy", policies(), ids=lambda policy: ",".join(policy[0])[:40])
def test_board_html_is_the_description_cleaned_per_call(
    policy: tuple[tuple[str, ...], tuple[tuple[str, str], ...]], examples: list[Posting]
) -> None:
    tags, rename = policy
    names = dict(rename)  # renamed as the engine did before: a pattern made for each call
    for html in descriptions(examples):
        before = html
        if names:
            pattern = re.compile(r"<(/?)(" + "|".join(map(re.escape, names)) + r")(?=[\s>/])")
            before = pattern.sub(lambda match: f"<{match[1]}{names[match[2]]}", html)
        expected = content.literal_html(content.sanitize_html(before, tags=tags))
        writing.board_html.cache_clear()
        assert writing.board_html(html, tags, rename) == expected


class Thing:
    city = "an attribute"

    def __repr__(self) -> str:  # the test's id: the same in every process (pytest-xdist)
        return "Thing()"


@pytest.mark.parametrize(
    "obj",
    [{}, {"city": "Geneva", "items": 1, "get": None}, {"a": {"b": 1}}, None, Thing(), "text",
     [1, 2], date(2026, 12, 2), ChainableUndefined(name="gone")],
    ids=repr,
)  # fmt: skip
def test_the_record_sandbox_reads_what_jinja_sandbox_reads(obj: Any) -> None:
    stock = ImmutableSandboxedEnvironment(undefined=ChainableUndefined)
    quick = RecordSandbox(undefined=ChainableUndefined)
    names = ["city", "items", "get", "keys", "a", "missing", "__class__", "__doc__", "year",
             "upper", "mro", "__init__", "format"]  # fmt: skip
    for name in names:
        old, new = stock.getattr(obj, name), quick.getattr(obj, name)
        assert type(old) is type(new), name
        if isinstance(old, Undefined):
            assert (old._undefined_name, old._undefined_obj) == (
                new._undefined_name,
                new._undefined_obj,
            )
        elif not callable(old):
            assert old == new, name


def grouped_lines(
    plans: list[Plan], lines: list[str | None], indents: tuple[str, ...]
) -> list[str]:
    """The group elements worked out field by field, as the engine did before (the reference)."""
    out: list[str] = []
    opened: tuple[str, ...] = ()
    for plan, line in zip(plans, lines, strict=True):
        if line is None or plan.attribute:
            continue
        groups = plan.groups
        if groups != opened:
            common = 0
            while common < min(len(groups), len(opened)) and groups[common] == opened[common]:
                common += 1
            out.extend(
                f"{indents[d]}</{opened[d]}>" for d in range(len(opened) - 1, common - 1, -1)
            )
            out.extend(f"{indents[d]}<{groups[d]}>" for d in range(common, len(groups)))
            opened = groups
        out.append(line)
    out.extend(f"{indents[d]}</{opened[d]}>" for d in range(len(opened) - 1, -1, -1))
    return out


@pytest.mark.parametrize("name", sorted(available(None)))
def test_remembered_group_steps_give_the_lines_worked_out_field_by_field(name: str) -> None:
    engine = Engine(load(find(name, None).path), UTC)
    indents = engine._layout("    ").group_indents
    rng = random.Random(name)
    for _ in range(300):
        lines = [f"line {i}" if rng.random() < 0.7 else None for i in range(len(engine.plans))]
        present = [line is not None for line in lines]
        steps = _group_steps(engine.plans, present, indents)
        written = [step if isinstance(step, str) else lines[step] for step in steps]
        assert written == grouped_lines(engine.plans, lines, indents)


URLS = [
    "https://jobs.example.com/jobs/sales-director/", "https://jobs.example.com",
    "https://jobs.example.com:8443/a/b", "HTTPS://jobs.example.com/a", "https:/jobs.example.com",
    "https://jobs.example.com/a?ref=x", "https://jobs.example.com/a?", "https://jobs.example.com/a#top",
    "https://user@jobs.example.com/a", "https://[::1]/a", "https://jobs.example.com/a b",
    "https://jobs.example.com/caf\u00e9", "mailto:jobs@example.com", "//jobs.example.com/a",
    "jobs.example.com/a", " https://jobs.example.com/a", "", None,
]  # fmt: skip


@pytest.mark.parametrize("url", URLS)
def test_quick_add_params_gives_what_add_params_gives(url: str | None) -> None:
    cases: list[dict[str, Any]] = [
        {"loc": "2-3"},
        {},
        {"utm_source": "a b&c=d", "n": 1},
        {"ref": "y"},
    ]
    for params in cases:
        assert quick_add_params(url, **params) == add_params(url, **params)


@pytest.mark.parametrize(
    "expression",
    ["[a, b, c] | select | join(', ')", "[a, b, c] | select('none') | list", "[] | select | list",
     "none | select | list", "[a, b, c] | select(x=1) | join(',')", "[a, zero, c] | select | list"],
)  # fmt: skip
def test_select_without_a_test_gives_what_jinja_gives(expression: str) -> None:
    names = {"a": "Geneva", "b": None, "c": "GE", "zero": 0}
    stock = ImmutableSandboxedEnvironment(undefined=ChainableUndefined)
    expected = stock.compile_expression(expression, undefined_to_none=True)(**names)
    assert compile_expression(make_environment(UTC), expression)(**names) == expected


def test_a_batch_gives_each_expression_its_value_alone_with_or_without_globals() -> None:
    environment = make_environment(UTC)
    record = {"location": {"city": "Geneva"}, "n": 3}
    for sources in (["location.city", "n * 2"], ["range(n) | list", "dict(a=n)", "location.city"]):
        batch = Batch(environment, [(source, None) for source in sources])
        alone = [compile_expression(environment, source)(**record) for source in sources]
        assert batch.evaluate(record) == alone
