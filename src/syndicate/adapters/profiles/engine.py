"""The profile engine: a posting's records, each field's written value, its rules, its XML.

A *record* is what a profile's paths and expressions read for one item (docs/profiles.md lists
its names): ``posting`` (the front matter, ``company`` resolved), ``location`` (the item's
place), ``reference`` (the place's stable id), ``url``/``apply_url`` (tagged when the target
turns source tagging on), ``description_html``, ``description_text``, ``organization``,
``board`` (the posting's own options for this target), ``target`` and ``build_time``.
Records are plain dicts, built once per item and thrown away: nothing grows with the number of
postings.

The engine is the profile compiled once (docs/profiles.md, "How a feed is made"): each field's
`Plan`, its `Scope` (a field that reads neither ``location`` nor ``reference`` is written once
per posting for all its items), and the expressions of each scope batched into one template of
the immutable sandbox (`expressions.Batch`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from enum import Enum
from typing import Any

from syndicate import content
from syndicate.adapters.profiles import writing
from syndicate.adapters.profiles.expressions import (
    Batch,
    Expression,
    compile_expression,
    format_date,
    format_number,
    make_environment,
    names_read,
)
from syndicate.adapters.profiles.spec import (
    Empty,
    FieldSpec,
    Header,
    HtmlPolicy,
    OnMissing,
    Per,
    Profile,
    TextMode,
    ValueType,
)
from syndicate.adapters.tagging import tagged
from syndicate.model import Posting, Remote

_SOURCE_IN_EXPR = re.compile(r"\b(posting|location|board|description_html|description_text)\b"
                             r"(\.[a-z_]+)*")  # fmt: skip
Record = dict[str, Any]
Getter = Callable[[Record], Any]


@dataclass(frozen=True, slots=True)
class Written:
    """One field's value for one item: the text written (None: no element) and the values it
    was made of, before they were joined (what ``allowed`` checks)."""

    plan: Plan
    text: str | None
    parts: tuple[str, ...]
    unmapped: tuple[str, ...]  # values the field's map has no entry for

    @property
    def spec(self) -> FieldSpec:
        return self.plan.spec


class Scope(Enum):
    """What a field's value depends on: the posting alone, or the item's place too."""

    POSTING = "posting"
    ITEM = "item"


# The record names that differ between a posting's items; a field reading none of them has
# the same value in all of them, and is made once per posting.
ITEM_NAMES = frozenset({"location", "reference"})
_ABSENT: tuple[None, tuple[str, ...], tuple[str, ...]] = (None, (), ())
MEMO_LINES = 4096  # lines remembered per indent (`_Layout.memo`)
_UNSET = object()


@dataclass(frozen=True, slots=True)
class Plan:
    """A field ready to use: where its value comes from, and how it is written."""

    spec: FieldSpec
    scope: Scope
    const: str | None
    path: tuple[str, ...] | None  # a path's keys
    slot: int | None  # the entry of the scope's `Batch`: the expression, or the ``when`` guard
    guarded: bool  # a path or constant with ``when``: the slot holds the guard
    plain: bool  # text without map or HTML: a string value is written as it is
    empty: Empty
    parts: tuple[str, ...]  # the element path, split
    groups: tuple[str, ...]  # the groups it is nested in (all parts but the last)
    required_when: Expression | None
    html: tuple[tuple[str, ...], tuple[tuple[str, str], ...]] | None
    attribute: bool  # an attribute of the item element (``@id``)
    name: str  # the element's (or attribute's) own name
    cdata: bool  # its text in CDATA sections, else escaped


@dataclass(frozen=True, slots=True)
class _Layout:
    """The profile's item tags at one indent: the item's open and close tags, each field's line
    up to its text (indented to its depth), and a group's line start by depth."""

    item_open: str
    item_close: str
    opens: tuple[str, ...]
    group_indents: tuple[str, ...]
    # Lines already written, by (field, type, value): a date, number or vocabulary value
    # recurs across postings (a line is a pure function of those three); cleared when full.
    memo: dict[tuple[int, type, Any], str | None] = field(default_factory=dict)
    # `_group_steps` by the fields an item writes.
    groupings: dict[tuple[bool, ...], tuple[str | int, ...]] = field(default_factory=dict)


class Engine:
    """A profile compiled for one configured timezone: each field's source, its expressions
    batched per scope (one sandboxed template for the posting's, one for the item's), and the
    item's tags (see docs/profiles.md, "How a feed is made")."""

    def __init__(self, profile: Profile, timezone: tzinfo) -> None:
        self.profile = profile
        self.timezone = timezone
        self.environment = make_environment(timezone)
        entries: dict[Scope, list[tuple[str | None, str | None]]] = {s: [] for s in Scope}
        self.plans = [self._plan(spec, entries) for spec in profile.fields]
        self.batches = {scope: Batch(self.environment, entries[scope]) for scope in Scope}
        self.headers = [(header, self._getter(header)) for header in profile.document.header]
        uses = " ".join(
            str(part)
            for spec in profile.fields
            for part in (spec.path, spec.expr, spec.rules.required_when, spec.when)
        )
        self.wants_text = "description_text" in uses
        self.grouped = any(len(plan.parts) > 1 for plan in self.plans)
        self.attributes = [i for i, plan in enumerate(self.plans) if plan.attribute]
        self.elements = [i for i, plan in enumerate(self.plans) if not plan.attribute]
        self.per_item = [i for i, plan in enumerate(self.plans) if plan.scope is Scope.ITEM]
        self._layouts: dict[str, _Layout] = {}

    # ------------------------------------------------------------------------------ compiling

    def _getter(self, spec: Header) -> Getter:
        if spec.const is not None:
            constant = spec.const
            return lambda record: constant
        if spec.expr is not None:
            expression = compile_expression(self.environment, spec.expr)
            return lambda record: expression(**record)
        assert spec.path is not None
        return _path_getter(spec.path)

    def _scope(self, spec: FieldSpec) -> Scope:
        read: set[str] = set()
        if spec.path is not None:
            read.add(spec.path.partition(".")[0])
        for source in (spec.expr, spec.when):
            if source is not None:
                read |= names_read(self.environment, source)
        return Scope.ITEM if read & ITEM_NAMES else Scope.POSTING

    def _plan(
        self, spec: FieldSpec, entries: dict[Scope, list[tuple[str | None, str | None]]]
    ) -> Plan:
        defaults = self.profile.defaults
        when = spec.rules.required_when
        policy = spec.html or (_DEFAULT_HTML if spec.type is ValueType.HTML else None)
        scope = self._scope(spec)
        slot = None
        if spec.expr is not None or spec.when is not None:
            slot = len(entries[scope])
            entries[scope].append((spec.expr, spec.when))
        return Plan(
            spec=spec,
            scope=scope,
            const=spec.const,
            path=tuple(spec.path.split(".")) if spec.path is not None else None,
            slot=slot,
            guarded=spec.expr is None and spec.when is not None,
            plain=spec.type is ValueType.TEXT and spec.map is None and policy is None,
            empty=spec.empty or defaults.empty,
            parts=tuple(spec.element.split("/")),
            groups=tuple(spec.element.split("/")[:-1]),
            required_when=compile_expression(self.environment, when) if when else None,
            html=(tuple(policy.tags), tuple(sorted(policy.rename.items()))) if policy else None,
            attribute=spec.element.startswith("@"),
            name=spec.element.rpartition("/")[2].removeprefix("@"),
            cdata=(spec.text or defaults.text) is TextMode.CDATA,
        )

    def _layout(self, indent: str) -> _Layout:
        layout = self._layouts.get(indent)
        if layout is None:
            item = self.profile.document.item
            depth = max(len(plan.parts) for plan in self.plans) if self.plans else 1
            layout = self._layouts[indent] = _Layout(
                item_open=f"{indent}<{item}",
                item_close=f"{indent}</{item}>",
                opens=tuple(f"{indent}  {'  ' * (len(p.parts) - 1)}<{p.name}>" for p in self.plans),
                group_indents=tuple(f"{indent}  {'  ' * level}" for level in range(depth)),
            )
        return layout

    # -------------------------------------------------------------------------------- records

    def records(
        self,
        posting: Posting,
        *,
        job_url: str,
        company: str,
        organization: Mapping[str, Any],
        numbers: Sequence[str],
        target: str,
        build_time: datetime,
        changed_at: datetime,
        url_params: Mapping[str, str] | None,
    ) -> list[Record]:
        """One record per item the posting becomes (per place, or one for the posting).  They
        differ only in ``location`` and ``reference`` (`ITEM_NAMES`)."""
        places = place_records(posting)
        base: Record = {
            "posting": _posting_record(posting, company),
            "url": tagged(job_url, url_params),
            "apply_url": tagged(posting.apply.url, url_params),
            "description_html": posting.description_html,
            "description_text": posting.description_text if self.wants_text else None,
            "organization": organization,
            "board": dict(posting.boards.get(target) or {}),
            "target": target,
            "build_time": build_time,
            "changed_at": changed_at,
            "locations": places,
        }
        if self.profile.document.per is Per.POSTING:
            return [{**base, "location": places[0] if places else None, "reference": posting.id}]
        return [
            {**base, "location": place, "reference": number}
            for place, number in zip(places, numbers, strict=True)
        ]

    def header_values(self, record: Record) -> list[tuple[Header, str | None]]:
        """The document's header elements, written from ``record`` (organization, time)."""
        values = []
        for header, get in self.headers:
            value = get(record)
            if header.type == "date":
                zone = UTC if header.timezone == "utc" else self.timezone
                value = format_date(value, header.format, zone, self.timezone)
            values.append((header, None if value is None else str(value)))
        return values

    # --------------------------------------------------------------------------------- values

    def values(self, record: Record) -> list[Written]:
        """Every field's written value for one item, in the profile's order."""
        evaluated = {scope: self.batches[scope].evaluate(record) for scope in Scope}
        return [
            Written(plan, *self._text(plan, self._raw(plan, record, evaluated[plan.scope])))
            for plan in self.plans
        ]

    @staticmethod
    def _raw(plan: Plan, record: Record, evaluated: Sequence[Any]) -> Any:
        """The field's value before it is written: its expression's, path's or constant."""
        if plan.guarded:
            assert plan.slot is not None
            if not evaluated[plan.slot]:
                return None
        elif plan.slot is not None:
            return evaluated[plan.slot]
        if plan.path is None:
            return plan.const
        value: Any = record
        for key in plan.path:
            if type(value) is not dict and not isinstance(value, Mapping):
                return None  # (a record's mappings are dicts: the quick test first)
            value = value.get(key)
        return value

    def _text(self, plan: Plan, raw: Any) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
        """One field's text, the values it joins and those its map lacks (docs/profiles.md,
        "A field's value, step by step")."""
        if raw is None:
            return _ABSENT
        if plan.plain and isinstance(raw, str):
            return raw, (raw,), ()
        spec = plan.spec
        if not isinstance(raw, list | tuple):
            if spec.map is None:  # one value: the steps below without their lists
                part = self._formatted(plan, raw)
                if part is None:
                    return ("" if raw == "" else None), (), ()
                return part, (part,), ()
        elif not raw:
            return _ABSENT
        items = list(raw) if isinstance(raw, list | tuple) else [raw]
        unmapped: list[str] = []
        if spec.map is not None:
            items, unmapped = _mapped(items, spec.map, spec.on_missing)
        formatted = (self._formatted(plan, item) for item in items)
        parts = tuple(dict.fromkeys(part for part in formatted if part is not None))
        if not parts:
            empty = "" if raw == "" else None
            return empty, (), tuple(unmapped)
        return spec.join.join(parts), parts, tuple(unmapped)

    def _formatted(self, plan: Plan, item: Any) -> str | None:
        spec = plan.spec
        if spec.type is ValueType.DATE:
            zone = UTC if spec.timezone == "utc" else self.timezone
            return format_date(item, spec.format, zone, self.timezone)
        if spec.type is ValueType.NUMBER:
            return format_number(item, spec.decimals)
        text = _as_text(item)
        if plan.html is not None:
            tags, rename = plan.html
            return writing.board_html(text, tags, rename)
        return text

    # ---------------------------------------------------------------------------------- XML

    def items_xml(self, records: Sequence[Record], indent: str) -> list[str]:
        """The items of one posting's ``records``, each element on its own line (nested groups
        deeper), ``indent`` being where an item's own tag starts.

        A field of the posting's scope is written once, from the first record, for all the
        items: the records share every name but `ITEM_NAMES`.
        """
        if not records:
            return []
        layout = self._layout(indent)
        shared = self.batches[Scope.POSTING].evaluate(records[0])
        item_batch = self.batches[Scope.ITEM]
        lines: list[str | None] = [
            self._line(plan, index, layout, self._raw(plan, records[0], shared))
            if plan.scope is Scope.POSTING
            else None
            for index, plan in enumerate(self.plans)
        ]
        items = []
        for record in records:
            evaluated = item_batch.evaluate(record)
            for index in self.per_item:
                plan = self.plans[index]
                lines[index] = self._line(plan, index, layout, self._raw(plan, record, evaluated))
            items.append(self._item(lines, layout))
        return items

    def item_xml(self, values: Sequence[Written], indent: str) -> str:
        """One item element from its fields' written values (what `items_xml` writes)."""
        layout = self._layout(indent)
        lines = [
            self._written_line(written.plan, index, layout, written.text)
            for index, written in enumerate(values)
        ]
        return self._item(lines, layout)

    def _line(self, plan: Plan, index: int, layout: _Layout, raw: Any) -> str | None:
        if raw is None and plan.empty is not Empty.ALWAYS:
            return None  # the common cases first, without working out the text
        if plan.plain and type(raw) is str:
            return self._written_line(plan, index, layout, raw)
        key = _memo_key(index, raw) if plan.html is None else None
        if key is None:
            return self._written_line(plan, index, layout, self._text(plan, raw)[0])
        memo = layout.memo
        line = memo.get(key, _UNSET)
        if line is _UNSET:
            if len(memo) >= MEMO_LINES:
                memo.clear()
            line = memo[key] = self._written_line(plan, index, layout, self._text(plan, raw)[0])
        return line  # type: ignore[return-value]

    @staticmethod
    def _written_line(plan: Plan, index: int, layout: _Layout, text: str | None) -> str | None:
        """A field's line (an attribute's `` name="value"``), None when it writes nothing."""
        if text is None:
            if plan.empty is not Empty.ALWAYS:
                return None
            text = ""
        elif not text and plan.empty is Empty.OMIT:
            return None
        if plan.attribute:
            return f' {plan.name}="{writing.attribute(text)}"'
        body = writing.cdata(text) if plan.cdata else writing.escaped(text)
        return f"{layout.opens[index]}{body}</{plan.name}>"

    def _item(self, lines: Sequence[str | None], layout: _Layout) -> str:
        attributes = "".join([line for i in self.attributes if (line := lines[i]) is not None])
        out = [f"{layout.item_open}{attributes}>"]
        if not self.grouped:
            out.extend([line for i in self.elements if (line := lines[i]) is not None])
        else:
            steps = self._steps(lines, layout)
            out.extend([step if isinstance(step, str) else lines[step] for step in steps])  # type: ignore[misc]
        out.append(layout.item_close)
        return "\n".join(out)

    def _steps(self, lines: Sequence[str | None], layout: _Layout) -> tuple[str | int, ...]:
        """`_group_steps` for the fields these ``lines`` write, remembered by which they are
        (the same few combinations recur: with or without a salary, a postal code…)."""
        present = tuple([line is not None for line in lines])
        steps = layout.groupings.get(present)
        if steps is None:
            if len(layout.groupings) >= MEMO_LINES:
                layout.groupings.clear()
            steps = _group_steps(self.plans, present, layout.group_indents)
            layout.groupings[present] = steps
        return steps

    def header_xml(self, values: Sequence[tuple[Header, str | None]], indent: str) -> list[str]:
        """The header's elements, one per line."""
        lines = []
        defaults = self.profile.defaults
        for header, value in values:
            empty = header.empty or defaults.empty
            if value is None and empty is not Empty.ALWAYS:
                continue
            if value == "" and empty is Empty.OMIT:
                continue
            body = _body(value or "", header.text or defaults.text)
            lines.append(f"{indent}<{header.element}>{body}</{header.element}>")
        return lines


def _memo_key(index: int, raw: Any) -> tuple[int, type, Any] | None:
    """The key a field's line is remembered under, for a value whose text depends only on
    what the key holds (None: not remembered).  The type is part of it: 1 and True are equal
    keys with different texts; a float's repr tells 0.0 from -0.0; a datetime is left out (two
    equal instants can be written with different offsets)."""
    kind = type(raw)
    if kind is str or kind is int or kind is bool or kind is date:
        return (index, kind, raw)
    if kind is float:
        return (index, kind, repr(raw))
    if kind is list and all(type(item) is str for item in raw):
        return (index, kind, tuple(raw))
    return None


def _group_steps(
    plans: Sequence[Plan], present: Sequence[bool], indents: Sequence[str]
) -> tuple[str | int, ...]:
    """An item's lines with the group elements around them, for the fields ``present``: a
    field's index stands for its line, a string is a group's tag line.  A group opens before
    its first written field and closes before the next field outside it (a group with nothing
    written is not written)."""
    steps: list[str | int] = []
    opened: tuple[str, ...] = ()
    for index, (plan, written) in enumerate(zip(plans, present, strict=True)):
        if not written or plan.attribute:
            continue
        groups = plan.groups
        if groups != opened:
            common = 0
            limit = min(len(groups), len(opened))
            while common < limit and groups[common] == opened[common]:
                common += 1
            for depth in range(len(opened) - 1, common - 1, -1):
                steps.append(f"{indents[depth]}</{opened[depth]}>")
            for depth in range(common, len(groups)):
                steps.append(f"{indents[depth]}<{groups[depth]}>")
            opened = groups
        steps.append(index)
    for depth in range(len(opened) - 1, -1, -1):
        steps.append(f"{indents[depth]}</{opened[depth]}>")
    return tuple(steps)


def _body(text: str, mode: TextMode) -> str:
    return writing.cdata(text) if mode is TextMode.CDATA else writing.escaped(text)


_DEFAULT_HTML = HtmlPolicy(tags=sorted(content.ALLOWED_TAGS - {"a"}))


def place_records(posting: Posting) -> list[Record]:
    """The places a job is listed at, as records: a remote job's are the countries its
    applicants may live in (else its offices' countries), ``remote`` true and no city."""
    if posting.remote is Remote.REMOTE:
        countries = posting.applicant_locations or [loc.country for loc in posting.locations]
        return [
            {"city": None, "region": None, "country": country, "postal_code": None,
             "street": None, "remote": True, "index": None}
            for country in dict.fromkeys(countries)
        ]  # fmt: skip
    return [
        {
            "city": location.city,
            "region": location.region,
            "country": location.country,
            "postal_code": location.postal_code,
            "street": location.street,
            "remote": False,
            "index": index,
        }
        for index, location in enumerate(posting.locations)
    ]


def _posting_record(posting: Posting, company: str) -> Record:
    record = {
        "id": posting.id,
        "title": posting.title,
        "status": str(posting.status),
        "date_posted": posting.date_posted,
        "valid_through": posting.valid_through,
        "employment_type": [str(kind) for kind in posting.employment_type],
        "department": posting.department,
        "category": posting.category,
        "company": company,
        "remote": str(posting.remote),
        "applicant_locations": list(posting.applicant_locations),
        "salary": posting.salary.model_dump(mode="json") if posting.salary else None,
        "apply": posting.apply.model_dump(mode="json"),
        "experience": posting.experience,
        "education": posting.education,
        "language": posting.language,
    }
    return record


def _path_getter(path: str) -> Getter:
    keys = path.split(".")

    def get(record: Record) -> Any:
        value: Any = record
        for key in keys:
            if not isinstance(value, Mapping):
                return None
            value = value.get(key)
        return value

    return get


def _as_text(item: Any) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, Enum):
        return str(item.value)
    if isinstance(item, float):
        return format_number(item) or ""
    if isinstance(item, date):
        return item.isoformat()
    return str(item)


def _mapped(
    items: list[Any], mapping: Mapping[str, str], on_missing: OnMissing
) -> tuple[list[Any], list[str]]:
    mapped: list[Any] = []
    unmapped: list[str] = []
    for item in items:
        key = _as_text(item)
        if key in mapping:
            mapped.append(mapping[key])
        elif on_missing is OnMissing.KEEP:
            mapped.append(item)
        elif on_missing in (OnMissing.ERROR, OnMissing.WARNING):
            unmapped.append(key)
    return mapped, unmapped


def source_field(spec: FieldSpec, record: Record, target: str) -> str | None:
    """The posting field a problem of ``spec`` is about (located at its line by validate):
    from ``source`` (a record path such as ``location.city``, or a posting field), else the
    field's ``path``, else the first record path its expression reads."""
    found = spec.source or spec.path or ""
    if not found and spec.expr is not None:
        match = _SOURCE_IN_EXPR.search(spec.expr)
        found = match[0] if match else ""
    head, _, rest = found.partition(".")
    if head == "posting":
        return rest or None
    if head == "location":
        place = record.get("location") or {}
        if place.get("remote"):
            return "applicant_locations"
        index = place.get("index")
        return f"locations[{index}]" + (f".{rest}" if rest else "") if index is not None else None
    if head in ("description_html", "description_text"):
        return "description"
    if head == "board":
        return f"boards.{target}" + (f".{rest}" if rest else "")
    if head == "apply_url":
        return "apply.url"
    if head in ("reference", "locations"):
        return "locations"
    if head in ("url", "organization", "build_time", "target"):
        return None
    return found or None
