"""The profile engine: a posting's records, each field's written value, its rules, its XML.

A *record* is what a profile's paths and expressions read for one item (docs/profiles.md lists
its names): ``posting`` (the front matter, ``company`` resolved), ``location`` (the item's
place), ``reference`` (the place's stable id), ``url``/``apply_url`` (tagged when the target
turns source tagging on), ``description_html``, ``description_text``, ``organization``,
``board`` (the posting's own options for this target), ``target`` and ``build_time``.
Records are plain dicts, built once per item and thrown away: nothing grows with the number of
postings.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from enum import Enum
from typing import Any

from syndicate import content
from syndicate.adapters import xmltext
from syndicate.adapters.profiles.expressions import (
    Expression,
    compile_expression,
    format_date,
    format_number,
    make_environment,
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


@dataclass(frozen=True, slots=True)
class Plan:
    """A field ready to use: where its value comes from, and how it is written."""

    spec: FieldSpec
    get: Getter
    text_mode: TextMode
    empty: Empty
    parts: tuple[str, ...]  # the element path, split
    required_when: Expression | None
    when: Expression | None
    html: tuple[tuple[str, ...], tuple[tuple[str, str], ...]] | None


class Engine:
    """A profile compiled for one configured timezone: its fields' getters and expressions."""

    def __init__(self, profile: Profile, timezone: tzinfo) -> None:
        self.profile = profile
        self.timezone = timezone
        self.environment = make_environment(timezone)
        self.plans = [self._plan(spec) for spec in profile.fields]
        self.headers = [(header, self._getter(header)) for header in profile.document.header]
        uses = " ".join(
            str(part)
            for spec in profile.fields
            for part in (spec.path, spec.expr, spec.rules.required_when, spec.when)
        )
        self.wants_text = "description_text" in uses

    # ------------------------------------------------------------------------------ compiling

    def _getter(self, spec: FieldSpec | Header) -> Getter:
        if spec.const is not None:
            constant = spec.const
            return lambda record: constant
        if spec.expr is not None:
            expression = compile_expression(self.environment, spec.expr)
            return lambda record: expression(**record)
        assert spec.path is not None
        return _path_getter(spec.path)

    def _plan(self, spec: FieldSpec) -> Plan:
        defaults = self.profile.defaults
        when = spec.rules.required_when
        policy = spec.html or (_DEFAULT_HTML if spec.type is ValueType.HTML else None)
        return Plan(
            spec=spec,
            get=self._getter(spec),
            text_mode=spec.text or defaults.text,
            empty=spec.empty or defaults.empty,
            parts=tuple(spec.element.split("/")),
            required_when=compile_expression(self.environment, when) if when else None,
            when=compile_expression(self.environment, spec.when) if spec.when else None,
            html=(tuple(policy.tags), tuple(sorted(policy.rename.items()))) if policy else None,
        )

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
    ) -> Iterator[Record]:
        """One record per item the posting becomes (per place, or one for the posting)."""
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
            yield {**base, "location": places[0] if places else None, "reference": posting.id}
            return
        for place, number in zip(places, numbers, strict=True):
            yield {**base, "location": place, "reference": number}

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
        return [self.value(plan, record) for plan in self.plans]

    def value(self, plan: Plan, record: Record) -> Written:
        """One field's written value (see docs/profiles.md for the steps)."""
        spec = plan.spec
        if plan.when is not None and not plan.when(**record):
            return Written(plan, None, (), ())
        raw = plan.get(record)
        if raw is None or (isinstance(raw, list | tuple) and not raw):
            return Written(plan, None, (), ())
        items = list(raw) if isinstance(raw, list | tuple) else [raw]
        unmapped: list[str] = []
        if spec.map is not None:
            items, unmapped = _mapped(items, spec.map, spec.on_missing)
        formatted = (self._formatted(plan, item) for item in items)
        parts = tuple(dict.fromkeys(part for part in formatted if part is not None))
        if not parts:
            empty = "" if raw == "" else None
            return Written(plan, empty, (), tuple(unmapped))
        return Written(plan, spec.join.join(parts), parts, tuple(unmapped))

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
            return board_html(text, tags, rename)
        return text

    # ---------------------------------------------------------------------------------- XML

    def item_xml(self, values: Sequence[Written], indent: str) -> str:
        """One item element, its fields one per line (nested groups deeper), ``indent`` being
        where the item's own tag starts."""
        item = self.profile.document.item
        attributes = "".join(
            f' {w.spec.element[1:]}="{xmltext.attribute(w.text or "")}"'
            for w in values
            if w.spec.element.startswith("@") and self._writes(w)
        )
        lines = [f"{indent}<{item}{attributes}>"]
        open_groups: list[str] = []
        for written in values:
            plan = written.plan
            if plan.spec.element.startswith("@") or not self._writes(written):
                continue
            *groups, name = plan.parts
            common = 0
            while (
                common < min(len(groups), len(open_groups))
                and groups[common] == open_groups[common]
            ):
                common += 1
            while len(open_groups) > common:
                closing = open_groups.pop()
                lines.append(f"{indent}  {'  ' * len(open_groups)}</{closing}>")
            for group in groups[common:]:
                lines.append(f"{indent}  {'  ' * len(open_groups)}<{group}>")
                open_groups.append(group)
            text = written.text or ""
            body = _body(text, plan.text_mode)
            lines.append(f"{indent}  {'  ' * len(open_groups)}<{name}>{body}</{name}>")
        while open_groups:
            closing = open_groups.pop()
            lines.append(f"{indent}  {'  ' * len(open_groups)}</{closing}>")
        lines.append(f"{indent}</{item}>")
        return "\n".join(lines)

    @staticmethod
    def _writes(written: Written) -> bool:
        empty = written.plan.empty
        if written.text is None:
            return empty is Empty.ALWAYS
        return bool(written.text) or empty is not Empty.OMIT

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


def _body(text: str, mode: TextMode) -> str:
    return xmltext.cdata(text) if mode is TextMode.CDATA else xmltext.escaped(text)


_DEFAULT_HTML = HtmlPolicy(tags=sorted(content.ALLOWED_TAGS - {"a"}))


@functools.lru_cache(maxsize=256)
def board_html(html: str, tags: tuple[str, ...], rename: tuple[tuple[str, str], ...]) -> str:
    """Sanitized description HTML as a board takes it: tags renamed, reduced to ``tags``, and
    no entities (their characters instead)."""
    if rename:
        names = dict(rename)
        pattern = re.compile(r"<(/?)(" + "|".join(map(re.escape, names)) + r")(?=[\s>/])")
        html = pattern.sub(lambda match: f"<{match[1]}{names[match[2]]}", html)
    return content.literal_html(content.sanitize_html(html, tags=tags))


@functools.lru_cache(maxsize=256)
def visible_text(html: str) -> str:
    """What a reader sees of ``html`` (what length rules of an html field count)."""
    return content.html_to_text(html)


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
