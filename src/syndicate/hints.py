"""Suggestions for the common mistakes in posting files, each with its fix.

- a country or currency written by name (``France`` → ``FR``, ``EURO`` → ``EUR``);
- an enum value spelt another way (``Hybrid`` → ``hybrid``, ``full-time`` → ``FULL_TIME``,
  ``yearly`` → ``YEAR``);
- a date that does not exist (``2026-02-30``: February has 28 days in 2026);
- a YAML value holding ``": "`` without quotes (``title: Senior: Backend Engineer``).
"""

from __future__ import annotations

import calendar
import re

import pycountry

# Salary periods as people write them (schema.org's unitText and the feeds' own words).
_PERIOD_WORDS = {
    "hourly": "HOUR", "hour": "HOUR", "per hour": "HOUR",
    "daily": "DAY", "day": "DAY", "per day": "DAY",
    "weekly": "WEEK", "week": "WEEK", "per week": "WEEK",
    "monthly": "MONTH", "month": "MONTH", "per month": "MONTH",
    "yearly": "YEAR", "year": "YEAR", "annual": "YEAR", "annually": "YEAR", "per year": "YEAR",
    "per annum": "YEAR",
}  # fmt: skip
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})")


def country_code(name: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country written by name or alpha-3 code."""
    try:
        return str(pycountry.countries.lookup(name.strip()).alpha_2)
    except LookupError:
        return None


def currency_code(name: str) -> str | None:
    """The ISO 4217 code of a currency written by name (``Euro``, ``EURO``)."""
    try:
        return str(pycountry.currencies.lookup(name.strip()).alpha_3)
    except LookupError:
        return None


def enum_value(given: object, expected: list[str]) -> str | None:
    """The member of ``expected`` that ``given`` spells another way, if one does."""
    if not isinstance(given, str):
        return None
    text = given.strip()
    squashed = re.sub(r"[\s-]+", "_", text)
    for candidate in expected:
        if squashed.lower() == candidate.lower():
            return candidate
    period = _PERIOD_WORDS.get(text.lower())
    return period if period in expected else None


def impossible_date(text: str) -> str | None:
    """Why a date of the ISO form does not exist (``February has 28 days in 2026``)."""
    match = _ISO_DATE.match(text.strip())
    if not match:
        return None
    year, month, day = (int(part) for part in match.groups())
    if not 1 <= month <= 12:
        return f"there is no month {month} (months are 01 to 12)"
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        return f"{calendar.month_name[month]} has {days} days in {year}"
    return None


def unquoted_colon(line: str) -> str | None:
    """For a YAML line ``key: value: more``, the fix: quote the value."""
    match = re.match(r"^(\s*-?\s*)([\w.-]+):\s+(.*:\s.*?)\s*$", line)
    if not match or match.group(3)[:1] in "\"'{[|>":
        return None
    value = match.group(3).replace('"', '\\"')
    return f'a value holding ": " must be quoted: {match.group(2)}: "{value}"'
