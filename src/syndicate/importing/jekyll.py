"""Markdown pages with YAML front matter: Jekyll and Hugo sites, and canonical posting files.

A canonical posting file (its front matter has ``id`` and ``date_posted``, or only posting
fields) keeps every field and its Markdown exactly as they are.  Any other page's front
matter belongs to its website: keys that say something about the job are mapped (`KEYS`), the
rest (``layout``, ``class``, Jekyll's own ``category``…) are left out and listed in a note.

A page's teaser (``summary``, ``description``, ``excerpt``, ``product-description``…) opens the
description when it speaks of the job (it names the job's title); otherwise it is a teaser of
the website, left out with a note.

The body is Markdown (kramdown's attribute lists and Liquid tags removed), rendered by cmark-gfm
and brought back to Markdown in the house style, so every import reads the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any, ClassVar

import cmarkgfm
from cmarkgfm.cmark import Options

from syndicate.errors import InputError
from syndicate.importing.base import Draft, Importer
from syndicate.importing.blocks import Block, Paragraph, html_to_blocks, plain, text_inline
from syndicate.importing.dates import parse_when
from syndicate.importing.facts import contact, employment_types, remote_rule, salary
from syndicate.importing.places import Place, country_code, read_place_phrase, region_of
from syndicate.importing.sources import SourceFile
from syndicate.loading import split_front_matter
from syndicate.model import Posting, Status
from syndicate.yamlsource import YamlDocument, parse_yaml

_CMARK_OPTIONS = Options.CMARK_OPT_UNSAFE
# The most values a page's front matter may stand for once its YAML aliases are expanded.
_LIQUID_TAG = re.compile(r"\{%-?.*?-?%\}", re.S)
_LIQUID_OUTPUT = re.compile(r"\{\{.*?\}\}", re.S)
_KRAMDOWN_IAL = re.compile(r"^\s*\{:[^}]*\}\s*$|\{:[^}\n]*\}", re.M)
PLACE_PART_KEYS = frozenset(
    {"city", "country", "region", "state", "province", "postal_code", "zip", "postcode"}
)
TEASER_KEYS = frozenset(
    {"description", "summary", "excerpt", "product_description", "intro", "teaser", "lead",
     "subtitle", "abstract"}
)  # fmt: skip


def _key(name: object) -> str:
    return str(name).strip().lower().replace("-", "_").replace(" ", "_")


class JekyllImporter(Importer):
    """Markdown with front matter: known keys mapped, the body kept as Markdown."""

    name: ClassVar[str] = "jekyll"
    summary: ClassVar[str] = "Markdown pages with YAML front matter (Jekyll, Hugo, posting files)"

    @classmethod
    def recognises(cls, source: SourceFile) -> bool:
        if not source.head.startswith("---"):
            return False
        lines = source.text.lstrip("\ufeff").split("\n")
        return lines[0].rstrip() == "---" and any(
            line.rstrip() in ("---", "...") for line in lines[1:]
        )

    def read(self, source: SourceFile) -> list[Draft]:
        text = source.text.lstrip("\ufeff")
        front, body, offset = split_front_matter(text, source.shown)
        document = parse_yaml(front, file=source.shown, line_offset=offset)
        if not isinstance(document.data, dict):
            raise InputError(
                "the front matter is not a mapping of keys", file=source.shown, line=offset + 1
            )
        draft = self.draft(source, line=1)
        data = {str(key): value for key, value in document.data.items()}
        if _is_canonical(data):
            _read_canonical(draft, data)
            draft.blocks = markdown_blocks(body)
            draft.markdown = body.strip() + "\n"
            return [draft]
        _read_page(draft, data, document)
        draft.blocks = markdown_blocks(_strip_site_syntax(draft, body))
        teaser = _teaser(data)
        if teaser is not None:
            _place_teaser(draft, *teaser, line=document.line_of((teaser[0],)))
        return [draft]


def markdown_blocks(markdown: str) -> list[Block]:
    """Blocks of a Markdown text (through cmark-gfm's HTML)."""
    html = cmarkgfm.markdown_to_html_with_extensions(
        markdown, options=_CMARK_OPTIONS, extensions=["table", "autolink", "strikethrough"]
    )
    return html_to_blocks(html)


def _is_canonical(data: dict[str, Any]) -> bool:
    keys = set(data)
    fields = set(Posting.model_fields) - {"description"}
    return {"id", "date_posted"} <= keys or (bool(keys) and keys <= fields)


def _read_canonical(draft: Draft, data: dict[str, Any]) -> None:
    draft.read_facts = False  # a posting file says what it means to say
    for key, value in data.items():
        if key in Posting.model_fields and key != "description":
            draft.set(key, value)
        elif key not in TEASER_KEYS:
            draft.note(f"{key!r} is not a posting field; left out", key)
    if isinstance(data.get("id"), str):
        draft.source_id = data["id"]


def _read_page(draft: Draft, data: dict[str, Any], document: YamlDocument) -> None:
    left_out: list[str] = []
    place_parts: dict[str, str] = {}
    for raw_key, value in data.items():
        key = _key(raw_key)
        handler = KEYS.get(key)
        if key in TEASER_KEYS:
            continue
        if key in PLACE_PART_KEYS:
            if isinstance(value, str | int) and not isinstance(value, bool):
                place_parts[key] = str(value).strip()
            continue
        if handler is None:
            left_out.append(str(raw_key))
            continue
        if not handler(draft, value):
            draft.note(
                f"{raw_key}: {_shown(value)} was not understood; fill the field yourself",
                line=document.line_of((raw_key,)),
            )
    _place_from_parts(draft, place_parts)
    if left_out:
        draft.note(
            "front matter keys about the website, not the job, were left out: "
            + ", ".join(left_out)
        )


def _shown(value: Any) -> str:
    """A value as a note may quote it: short text, or only its kind (a list may be an alias
    bomb that must never be expanded into text)."""
    if isinstance(value, str | int | float | bool | date):
        text = repr(value)
        return text if len(text) <= 80 else text[:77] + "…"
    return f"a {type(value).__name__}"


def _teaser(data: dict[str, Any]) -> tuple[str, str] | None:
    for raw_key, value in data.items():
        if _key(raw_key) in TEASER_KEYS and isinstance(value, str) and value.strip():
            return str(raw_key), value.strip()
    return None


def _place_teaser(draft: Draft, key: str, teaser: str, *, line: int) -> None:
    # "Backend Engineer (Python)" is spoken of as "a Backend Engineer".
    title = re.sub(r"\s*\([^)]*\)", "", str(draft.fields.get("title") or "")).strip()
    first = draft.blocks[0] if draft.blocks else None
    if isinstance(first, Paragraph) and plain(first.inline) == " ".join(teaser.split()):
        return
    if title and title.lower() in teaser.lower():
        draft.blocks.insert(0, Paragraph(text_inline(teaser)))
        return
    draft.note(
        f"{key}: left out, it does not mention the job ({teaser[:60]!r}…); add it to the "
        "description if it belongs there",
        line=line,
    )


def _strip_site_syntax(draft: Draft, body: str) -> str:
    stripped = _KRAMDOWN_IAL.sub("", _LIQUID_TAG.sub("", body))
    if stripped != body:
        draft.note("Liquid tags and kramdown attribute lists were taken out of the body")
    if _LIQUID_OUTPUT.search(stripped):
        draft.note(
            "the body holds Liquid expressions ({{ … }}) that only the website can fill in; "
            "replace them with their text",
            "description",
        )
    return stripped


# ------------------------------------------------------------------------------ key handlers


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    return text or None


def _set_text(name: str) -> Callable[[Draft, Any], bool]:
    def handler(draft: Draft, value: Any) -> bool:
        text = _text(value)
        draft.fill(name, text)
        return text is not None

    return handler


def _set_id(draft: Draft, value: Any) -> bool:
    text = _text(value)
    if text and draft.source_id is None:
        draft.source_id = text
    return text is not None


def _set_permalink(draft: Draft, value: Any) -> bool:
    text = _text(value)
    if not text:
        return False
    segment = [part for part in re.split(r"[/]+", text) if part]
    if segment and draft.source_id is None:
        draft.source_id = re.sub(r"\.html?$", "", segment[-1])
    return True


def _set_date(name: str, *, end_of_day: bool = False) -> Callable[[Draft, Any], bool]:
    def handler(draft: Draft, value: Any) -> bool:
        when = parse_when(value, end_of_day=end_of_day)
        draft.fill(name, when)
        return isinstance(when, date)

    return handler


def _set_type(draft: Draft, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    kinds: list[str] = []
    for item in values:
        text = _text(item)
        if text:
            kinds.extend(k for k in employment_types(text) if k not in kinds)
    draft.fill("employment_type", kinds)
    return bool(kinds)


def _set_remote(draft: Draft, value: Any) -> bool:
    if isinstance(value, bool):
        draft.fill("remote", "remote" if value else "onsite")
        return True
    text = _text(value)
    rule = remote_rule(text) if text else None
    draft.fill("remote", rule)
    return rule is not None


def _set_location(draft: Draft, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    locations: list[dict[str, str]] = list(draft.fields.get("locations", []))
    understood = True
    for item in values:
        if isinstance(item, dict):
            place = _place_mapping(item)
            if place is None:
                understood = False
            elif place.as_location() not in locations:
                locations.append(place.as_location())
            continue
        text = _text(item)
        if not text:
            understood = False
            continue
        reading = read_place_phrase(text)
        if reading.remote:
            draft.fill("remote", reading.remote)
        if reading.countries:
            draft.fill("applicant_locations", list(reading.countries))
        for place in reading.places:
            if place.as_location() not in locations:
                locations.append(place.as_location())
        understood = understood and bool(reading.places or reading.remote)
    draft.set("locations", locations)
    return understood


def _place_mapping(item: dict[Any, Any]) -> Place | None:
    values = {_key(k): _text(v) for k, v in item.items()}
    country = country_code(values.get("country") or "", codes=True)
    if country is None:
        return None
    return Place(
        country=country,
        city=values.get("city"),
        region=region_of(country, values.get("region") or values.get("state") or ""),
        postal_code=values.get("postal_code") or values.get("zip"),
        street=values.get("street") or values.get("street_address"),
    )


def _place_from_parts(draft: Draft, parts: dict[str, str]) -> None:
    """A place from separate keys (``city: Geneva`` and ``country: Switzerland``)."""
    city = parts.get("city")
    if "country" not in parts:
        if city:
            reading = read_place_phrase(city)
            if reading.places:
                draft.fill("locations", [place.as_location() for place in reading.places])
            else:
                draft.note(f"city: {city!r} is given without a country; add it to locations")
        return
    country = country_code(parts["country"], codes=True)
    if country is None:
        draft.note(f"country: {parts['country']!r} is not a country name or ISO code")
        return
    region = parts.get("region") or parts.get("state") or parts.get("province") or ""
    place = Place(
        country=country,
        city=city,
        region=region_of(country, region),
        postal_code=parts.get("postal_code") or parts.get("zip") or parts.get("postcode"),
    )
    draft.fill("locations", [place.as_location()])


def _set_salary(draft: Draft, value: Any) -> bool:
    if isinstance(value, dict):
        mapping = {_key(k): v for k, v in value.items()}
        period = str(mapping.get("period") or mapping.get("unit") or "").upper()
        currency = str(mapping.get("currency") or "").upper()
        low = mapping.get("min", mapping.get("value"))
        if not (isinstance(low, int | float) and currency and period):
            return False
        found: dict[str, Any] = {"min": low}
        if isinstance(mapping.get("max"), int | float):
            found["max"] = mapping["max"]
        found.update(currency=currency, period=period)
        draft.fill("salary", found)
        return True
    text = _text(value)
    parsed = salary(text) if text else None
    draft.fill("salary", parsed)
    return parsed is not None


def _set_apply(draft: Draft, value: Any) -> bool:
    if isinstance(value, dict):
        route = {k: str(v) for k, v in value.items() if k in ("url", "email") and _text(v)}
    else:
        text = _text(value)
        route = contact(text) if text else {}
        if text and not route and "@" not in text and text.startswith("/"):
            draft.note(f"apply: {text!r} is a path on the website; give the full URL", "apply")
    draft.fill("apply", route)
    return bool(route)


def _set_status(draft: Draft, value: Any) -> bool:
    if isinstance(value, bool):  # Jekyll's "published: false"
        if not value:
            draft.fill("status", str(Status.DRAFT))
        return True
    text = (_text(value) or "").lower()
    if text in {str(s) for s in Status}:
        draft.fill("status", text)
        return True
    return False


def _set_draft(draft: Draft, value: Any) -> bool:
    if value is True:
        draft.fill("status", str(Status.DRAFT))
    return isinstance(value, bool)


def _set_language(draft: Draft, value: Any) -> bool:
    text = _text(value)
    if text and re.match(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$", text):
        primary, _, rest = text.replace("_", "-").partition("-")
        draft.fill("language", primary.lower() + (f"-{rest}" if rest else ""))
        return True
    return False


KEYS: dict[str, Callable[[Draft, Any], bool]] = {
    **dict.fromkeys(("title", "job_title", "position", "role"), _set_text("title")),
    **dict.fromkeys(
        ("id", "ref", "reference", "job_id", "jobid", "requisition_id", "req_id"), _set_id
    ),
    "permalink": _set_permalink,
    **dict.fromkeys(
        ("date", "date_posted", "posted", "posted_on", "published_at", "publish_date"),
        _set_date("date_posted"),
    ),
    **dict.fromkeys(
        (
            "valid_through",
            "expires",
            "expiry",
            "expiry_date",
            "expiration",
            "expiration_date",
            "closing_date",
            "close_date",
            "deadline",
        ),
        _set_date("valid_through", end_of_day=True),
    ),
    **dict.fromkeys(
        ("type", "employment_type", "job_type", "contract", "contract_type", "commitment"),
        _set_type,
    ),
    **dict.fromkeys(("team", "department", "dept"), _set_text("department")),
    **dict.fromkeys(
        ("company", "employer", "organization", "organisation", "hiring_organization"),
        _set_text("company"),
    ),
    **dict.fromkeys(
        ("location", "locations", "office", "place", "job_location", "where"), _set_location
    ),
    **dict.fromkeys(
        ("remote", "workplace", "workplace_type", "remote_type", "work_model"), _set_remote
    ),
    **dict.fromkeys(("salary", "pay", "compensation", "salary_range"), _set_salary),
    **dict.fromkeys(
        (
            "apply",
            "apply_url",
            "application_url",
            "apply_link",
            "apply_to",
            "apply_email",
            "email",
            "contact_email",
        ),
        _set_apply,
    ),
    "experience": _set_text("experience"),
    "education": _set_text("education"),
    **dict.fromkeys(("language", "lang", "locale"), _set_language),
    **dict.fromkeys(("published", "status"), _set_status),
    "draft": _set_draft,
}
