"""The canonical posting: the one definition of a job that every target renders from.

A posting file's YAML front matter validates into `Posting`; its Markdown body becomes
``description``.  Validation is strict about what matters to the boards (identity, countries,
currencies, dates, apply routes) and forbids unknown keys so that a typo never goes unnoticed.

Naive datetimes are read in the configured timezone, passed as validation context:
``Posting.model_validate(data, context={"timezone": ZoneInfo("Europe/Zurich")})``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Literal, NamedTuple, Self

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from syndicate import content, hints

ID_PATTERN = r"^[a-z0-9_.-]{1,75}$"
REF_PATTERN = r"^[A-Za-z0-9_.-]{1,100}$"
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_HTTP_URL = re.compile(r"^https?://[^\s/$.?#][^\s<>\"]*$", re.IGNORECASE)
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")

COUNTRY_CODES: frozenset[str] = frozenset(c.alpha_2 for c in pycountry.countries)
CURRENCY_CODES: frozenset[str] = frozenset(c.alpha_3 for c in pycountry.currencies)


class Status(StrEnum):
    """Where a posting stands: only ``open`` postings are published."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class EmploymentType(StrEnum):
    """Google's and LinkedIn's employment types."""

    FULL_TIME = "FULL_TIME"
    PART_TIME = "PART_TIME"
    CONTRACTOR = "CONTRACTOR"
    TEMPORARY = "TEMPORARY"
    INTERN = "INTERN"
    VOLUNTEER = "VOLUNTEER"
    PER_DIEM = "PER_DIEM"
    OTHER = "OTHER"


class Remote(StrEnum):
    """Where the work is done."""

    ONSITE = "onsite"
    HYBRID = "hybrid"
    REMOTE = "remote"


def amount_text(value: float) -> str:
    """A salary figure as boards and pages show it: ``120,000``, or ``25.50`` with cents."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


class SalaryPeriod(StrEnum):
    """schema.org ``unitText`` values for a salary."""

    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"


def _country(value: Any) -> str:
    if value is False:
        # YAML 1.1 reads a bare NO (Norway) as false.
        raise ValueError("got false: write Norway's code in quotes, 'NO'")
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO 3166-1 alpha-2 code such as CH or US, got {value!r}")
    code = value.strip().upper()
    if code not in COUNTRY_CODES:
        named = hints.country_code(value)
        fix = f"; write {named}" if named else " (e.g. CH, US, FR)"
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code{fix}")
    return code


def _currency(value: str) -> str:
    code = value.strip().upper()
    if code not in CURRENCY_CODES:
        named = hints.currency_code(value)
        fix = f"; write {named}" if named else " (e.g. CHF, USD, EUR)"
        raise ValueError(f"{value!r} is not an ISO 4217 currency code{fix}")
    return code


def _email(value: str) -> str:
    value = value.strip()
    if value.lower().startswith("mailto:"):
        value = value[len("mailto:") :]
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def _http_url(value: str) -> str:
    value = value.strip()
    if not _HTTP_URL.match(value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _non_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


CountryCode = Annotated[str, BeforeValidator(_country)]
CurrencyCode = Annotated[str, AfterValidator(_currency)]
Email = Annotated[str, AfterValidator(_email)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
Text = Annotated[str, AfterValidator(_non_blank)]
# A date, or a timezone-aware datetime (naive ones take the configured timezone).
When = date | datetime


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Location(_Strict):
    """One place where the job is done.

    ``ref`` pins the reference number boards that list a job once per location give this
    place (Indeed's ``referencenumber``): set it to keep a number a board already knows.
    """

    model_config = ConfigDict(coerce_numbers_to_str=True)

    city: Text | None = None
    region: Text | None = None
    country: CountryCode
    postal_code: Text | None = None
    street: Text | None = None
    ref: Annotated[str, Field(pattern=REF_PATTERN)] | None = None

    def label(self) -> str:
        """``City, Region, CC`` with whatever parts are known."""
        return ", ".join(part for part in (self.city, self.region, self.country) if part)


class Salary(_Strict):
    """A pay range (or a single figure in ``min``) per period."""

    min: float = Field(ge=0)
    max: float | None = Field(default=None, ge=0)
    currency: CurrencyCode
    period: SalaryPeriod

    @model_validator(mode="after")
    def _range_in_order(self) -> Self:
        if self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is greater than max ({self.max:g})")
        return self


class Apply(_Strict):
    """How to apply: a URL, an email address, or both.

    ``direct: true`` says that ``url`` is this job's own short application form, not a careers
    landing page: what Google calls a direct apply experience (``directApply``).
    """

    url: HttpUrl | None = None
    email: Email | None = None
    direct: bool = False

    @model_validator(mode="after")
    def _has_a_route(self) -> Self:
        if self.url is None and self.email is None:
            raise ValueError("needs a url or an email")
        if self.direct and self.url is None:
            raise ValueError("direct: true needs a url (the job's own application form)")
        return self


class Posting(_Strict):
    """One job, as the recruiting team wrote it; every target renders from this."""

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    title: Text
    status: Status = Status.OPEN
    date_posted: When
    valid_through: When | None = None
    employment_type: Annotated[list[EmploymentType], BeforeValidator(_one_or_many)] = []
    department: Text | None = None
    category: Text | None = None
    company: Text | None = None
    locations: list[Location] = []
    remote: Remote = Remote.ONSITE
    applicant_locations: list[CountryCode] = []
    salary: Salary | None = None
    apply: Apply
    experience: Text | None = None
    education: Text | None = None
    language: str | None = None
    # Per target: false to leave the job off it, or the target's own options for this job.
    boards: dict[str, Annotated[Literal[False] | dict[str, Any], Field()]] = {}
    description: Text

    @field_validator("id", mode="before")
    @classmethod
    def _explain_id(cls, value: Any) -> Any:
        if isinstance(value, str) and not re.match(ID_PATTERN, value):
            if len(value) > 75:
                raise ValueError(f"is {len(value)} characters long; at most 75 are allowed")
            raise ValueError(f"{value!r} may hold only lowercase letters, digits, '-', '_' and '.'")
        return value

    @field_validator("date_posted", "valid_through", mode="before")
    @classmethod
    def _parse_when(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            text = value.strip()
            try:
                return date.fromisoformat(text)
            except ValueError:
                try:
                    value = datetime.fromisoformat(text)
                except ValueError:
                    impossible = hints.impossible_date(text)
                    if impossible:
                        raise ValueError(f"{value!r} does not exist: {impossible}") from None
                    raise ValueError(
                        f"{value!r} is not an ISO date (2026-11-20) or datetime "
                        "(2026-11-20T09:00:00+01:00)"
                    ) from None
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=_context_timezone(info))
        return value

    @field_validator("language")
    @classmethod
    def _language_tag(cls, value: str | None) -> str | None:
        if value is not None and not _LANGUAGE.match(value):
            raise ValueError(f"{value!r} is not a language code such as en, fr or pt-BR")
        return value

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Self:
        errors: list[InitErrorDetails] = []
        if self.remote is not Remote.REMOTE and not self.locations:
            message = f"{self.remote} jobs need at least one location (or set remote: remote)"
            errors.append(_error_at("locations", message, self.locations))
        if self.valid_through is not None:
            tz = _context_timezone(info)
            if expires_at(self.valid_through, tz) <= starts_at(self.date_posted, tz):
                message = f"must be after date_posted ({self.date_posted.isoformat()})"
                errors.append(_error_at("valid_through", message, self.valid_through))
        if errors:
            # Raised as a ValidationError so that each error keeps its field (and so its line);
            # a ValueError from a model validator would be located at the posting as a whole.
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    @cached_property
    def content_hash(self) -> str:
        """A digest of everything the posting says: equal hashes mean nothing changed."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()

    @cached_property
    def description_html(self) -> str:
        """The description rendered from Markdown and sanitized to the allowlist."""
        return content.markdown_to_safe_html(self.description)

    @cached_property
    def description_text(self) -> str:
        """The description as plain text, with paragraphs and list items on their own lines."""
        return content.html_to_text(self.description_html)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy whose hash and description forms are worked out afresh, never carried over
        (pydantic copies the instance dict, where the cached values live)."""
        copied = super().model_copy(update=update, deep=deep)
        for name in ("content_hash", "description_html", "description_text"):
            copied.__dict__.pop(name, None)
        return copied

    @property
    def window(self) -> Window:
        """When the posting is listed: its status, start and end."""
        return Window(self.status, self.date_posted, self.valid_through)

    def opts_out_of(self, target: str) -> bool:
        """Whether the posting asks to be left off ``target`` (``boards: {target: false}``)."""
        return self.boards.get(target) is False

    def is_listed(self, now: datetime, tz: tzinfo) -> bool:
        """True when the job should appear on the boards at ``now``: open, started (a
        ``date_posted`` in the future means scheduled) and not expired."""
        return self.window.is_listed(now, tz)


class Phase(StrEnum):
    """Where a posting stands at a moment, as the boards see it."""

    LISTED = "listed"
    SCHEDULED = "scheduled"  # open, its date_posted still to come
    EXPIRED = "expired"
    DRAFT = "draft"
    CLOSED = "closed"


class Window(NamedTuple):
    """What decides whether a posting is listed at a moment: its status, start and end."""

    status: Status
    date_posted: date
    valid_through: date | None

    def phase(self, now: datetime, tz: tzinfo) -> Phase:
        """The posting's `Phase` at ``now``."""
        if self.status is Status.DRAFT:
            return Phase.DRAFT
        if self.status is Status.CLOSED:
            return Phase.CLOSED
        if self.valid_through is not None and expires_at(self.valid_through, tz) <= now:
            return Phase.EXPIRED
        if starts_at(self.date_posted, tz) > now:
            return Phase.SCHEDULED
        return Phase.LISTED

    def is_listed(self, now: datetime, tz: tzinfo) -> bool:
        """True when the posting is open, started and not expired at ``now``."""
        return self.phase(now, tz) is Phase.LISTED

    def starts(self, tz: tzinfo) -> datetime:
        """The instant the posting is first listed."""
        return starts_at(self.date_posted, tz)


def _error_at(field: str, message: str, value: Any) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError("value_error", message),
        loc=(field,),
        input=value,
    )


def _context_timezone(info: ValidationInfo) -> tzinfo:
    context = info.context or {}
    return context.get("timezone") or UTC


def starts_at(when: date, tz: tzinfo) -> datetime:
    """The instant a date or datetime begins: midnight in ``tz`` for a plain date."""
    if isinstance(when, datetime):
        return when if when.tzinfo else when.replace(tzinfo=tz)
    return datetime.combine(when, time.min, tzinfo=tz)


def expires_at(when: date, tz: tzinfo) -> datetime:
    """The instant a ``valid_through`` ends: a plain date is valid through the whole day."""
    if isinstance(when, datetime):
        return when if when.tzinfo else when.replace(tzinfo=tz)
    return datetime.combine(when + timedelta(days=1), time.min, tzinfo=tz)
