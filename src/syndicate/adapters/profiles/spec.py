"""What a board profile says, as pydantic models: the one definition of the format.

A profile is a YAML file (docs/profiles.md explains every key).  The JSON Schema that
``syndicate boards check`` applies (``profile.schema.json`` beside this module) is generated from
these models (`syndicate.adapters.profiles.schema`), so the two never disagree.  What a schema
cannot say (expressions that compile, patterns that compile, HTML never written as entities) is
checked by the validators below.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from syndicate import content

ELEMENT_NAME = r"^[A-Za-z_][A-Za-z0-9_.-]*$"
# An element path: ``title``, a nested ``location/city``, or ``@id`` (an item attribute).
_NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
ELEMENT_PATH = rf"^(@[A-Za-z_][A-Za-z0-9_.:-]*|{_NAME}(/{_NAME})*)$"
VALUE_PATH = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
NAME = r"^[a-z0-9][a-z0-9_-]{0,39}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextMode(StrEnum):
    """How text is written: inside CDATA sections, or with XML's own escapes."""

    CDATA = "cdata"
    ESCAPED = "escaped"


class Empty(StrEnum):
    """What an empty value becomes: ``omit`` writes no element for an absent or empty value;
    ``keep`` writes an empty element for an empty value (``''``) and none for an absent one;
    ``always`` writes the element even for an absent value."""

    OMIT = "omit"
    KEEP = "keep"
    ALWAYS = "always"


class OnMissing(StrEnum):
    """What a value with no entry in a field's ``map`` becomes: left out (``omit``), written
    as it is (``keep``), or a problem of that severity (``error``, ``warning``; the value is
    left out)."""

    OMIT = "omit"
    KEEP = "keep"
    ERROR = "error"
    WARNING = "warning"


class ValueType(StrEnum):
    """How a field's value is written (see docs/profiles.md)."""

    TEXT = "text"
    HTML = "html"
    DATE = "date"
    NUMBER = "number"


class Per(StrEnum):
    """One item per place the job is listed at (a remote job: per country applicants may live
    in), or one item per posting."""

    LOCATION = "location"
    POSTING = "posting"


class Severity(StrEnum):
    """The severity of a field's rules: an error keeps the posting off the board."""

    ERROR = "error"
    WARNING = "warning"


def _check_one_source(spec: BaseModel) -> None:
    given = [name for name in ("path", "const", "expr") if getattr(spec, name) is not None]
    if len(given) != 1:
        raise ValueError(
            f"needs exactly one of path, const or expr (got {', '.join(given) or 'none'})"
        )


class HtmlPolicy(_Strict):
    """A description's HTML: the tags the board renders (others are removed, their text kept),
    and tags renamed first (``ol: ul``).  Entities are never written: the text's are turned
    into the characters they stand for."""

    tags: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*$")]]
    rename: dict[str, Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*$")]] = {}

    @field_validator("tags")
    @classmethod
    def _known_tags(cls, tags: list[str]) -> list[str]:
        unknown = sorted(set(tags) - set(content.ALLOWED_TAGS))
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)} can never be written: descriptions are sanitized to "
                f"{', '.join(sorted(content.ALLOWED_TAGS))} first"
            )
        return tags


class Rules(_Strict):
    """A field's documented rules, checked by ``syndicate validate`` on the written value."""

    required: bool = False
    required_when: str | None = None  # a Jinja2 expression; required when it is true
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=1)
    pattern: str | None = None
    allowed: list[str] | None = None
    severity: Severity = Severity.ERROR
    message: str | None = None  # said instead of the rule's own words (the board's reason)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"is not a regular expression: {error}") from None
        return value


class FieldSpec(_Strict):
    """One element (or attribute) of an item, and where its value comes from: exactly one of
    ``path`` (into the record), ``const`` or ``expr`` (a sandboxed Jinja2 expression)."""

    element: Annotated[str, Field(pattern=ELEMENT_PATH)]
    path: Annotated[str, Field(pattern=VALUE_PATH)] | None = None
    const: str | None = None
    expr: str | None = None
    when: str | None = None  # a Jinja2 expression; the field is written only when it is true
    type: ValueType = ValueType.TEXT
    format: str | None = None  # dates: iso, date, utc, rfc822 or a strftime pattern
    timezone: Literal["local", "utc"] = "local"
    decimals: int | None = Field(default=None, ge=0, le=6)  # numbers: fixed decimals
    map: dict[str, str] | None = None
    on_missing: OnMissing = OnMissing.OMIT
    join: str = ", "
    text: TextMode | None = None
    empty: Empty | None = None
    html: HtmlPolicy | None = None
    rules: Rules = Rules()
    # The posting field a problem of this field is reported at (default: from ``path``).
    source: str | None = None
    verified: bool = True
    note: str | None = None  # why, or what is unverified

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        _check_one_source(self)
        if self.type is ValueType.HTML and self.text is TextMode.ESCAPED:
            raise ValueError(
                "an html field is written in CDATA: escaped markup would reach the board as "
                "entities"
            )
        if self.element.startswith("@") and self.type is ValueType.HTML:
            raise ValueError("an attribute cannot hold HTML")
        return self


class Header(_Strict):
    """One element of the document before the items (``publisher``, ``lastBuildDate``)."""

    element: Annotated[str, Field(pattern=ELEMENT_NAME)]
    path: Annotated[str, Field(pattern=VALUE_PATH)] | None = None
    const: str | None = None
    expr: str | None = None
    type: Literal["text", "date"] = "text"
    format: str | None = None
    timezone: Literal["local", "utc"] = "local"
    text: TextMode | None = None
    empty: Empty | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        _check_one_source(self)
        return self


class DocumentSpec(_Strict):
    """The document's shape: its declaration, the root (``jobs``, or a path ``feed/postings``
    whose last element holds the items), the root's attributes, the header, the item."""

    declaration: str = '<?xml version="1.0" encoding="UTF-8"?>'
    root: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*(/[A-Za-z_][A-Za-z0-9_.-]*)*$")]
    attributes: dict[str, str] = {}
    header: list[Header] = []
    item: Annotated[str, Field(pattern=ELEMENT_NAME)]
    per: Per = Per.LOCATION


class Defaults(_Strict):
    """What a field that does not say otherwise uses."""

    text: TextMode = TextMode.CDATA
    empty: Empty = Empty.OMIT


class Limits(_Strict):
    """How big one file may get, and whether files are gzipped (``.gz`` added to the name)."""

    items_per_file: int | None = Field(default=None, ge=1)
    gzip: bool = False


class MaxAge(_Strict):
    """A board that lists only recent jobs (Jooble: only jobs "published less than 45 days
    ago"): a posting whose ``date_posted`` is ``days`` or more before today, in the configured
    timezone, breaks the rule.  A warning by default (the job stays in the feed, which should
    hold every open job); ``validate`` checks it anew every day."""

    days: int = Field(ge=1)
    severity: Severity = Severity.WARNING
    message: str | None = None  # said instead of the rule's own words (the board's reason)


class References(_Strict):
    """The board's stable per-place ids (``reference`` in the record): remembered in the
    publish state under ``scheme``; profiles that share a scheme share the numbers."""

    scheme: Annotated[str, Field(pattern=NAME)]


class Override(_Strict):
    """One per-posting option a board takes in front matter (``boards: {adzuna: {cpc: 0.25}}``)."""

    type: Literal["text", "number", "bool"] = "text"
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    description: str | None = None


class Profile(_Strict):
    """A whole profile: one board's feed format and rules."""

    name: Annotated[str, Field(pattern=NAME)]
    summary: str
    spec: str  # the board's own documentation (URL)
    sources: list[str] = []  # mirrors and secondary sources used
    format: Literal["xml"] = "xml"
    file: str | None = None  # default output file name (``<name>.xml``)
    unverified: list[str] = []  # what the board's documentation did not let us confirm
    document: DocumentSpec
    defaults: Defaults = Defaults()
    limits: Limits = Limits()
    max_age: MaxAge | None = None
    references: References | None = None
    url_params: dict[str, str] = {}  # source tagging, when a target turns it on
    overrides: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], Override] = {}
    fields: list[FieldSpec]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        seen: set[str] = set()
        for spec in self.fields:
            if spec.element in seen:
                raise ValueError(f"element {spec.element!r} is given twice")
            seen.add(spec.element)
        if self.references is not None and self.document.per is not Per.LOCATION:
            raise ValueError("references need one item per location (document.per: location)")
        return self

    def file_name(self) -> str:
        """The output file's default name."""
        return self.file or f"{self.name}.xml"

    def field_named(self, element: str) -> FieldSpec | None:
        """The field written as ``element``, if any."""
        return next((spec for spec in self.fields if spec.element == element), None)


def dump_schema() -> dict[str, Any]:
    """The JSON Schema of a profile file."""
    schema = Profile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://syndicate.invalid/profile.schema.json"
    return schema
