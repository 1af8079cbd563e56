"""Places as targets write them: country names, slugs, the countries of a remote job, and the
reference numbers of boards that list a job once per place (the rule; `syndicate.references`
remembers them)."""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import pycountry

from syndicate.model import Posting

_NON_SLUG = re.compile(r"[^a-z0-9]+")


@functools.cache
def country_name(code: str) -> str:
    """The common English name of an ISO 3166-1 alpha-2 country code (``US`` → United States)."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


_CODE = re.compile(r"^[A-Z0-9]{1,3}$")


@functools.cache
def region_name(region: str, country: str, city: str | None = None) -> str | None:
    """How a page names ``region`` of ``country``: its ISO 3166-2 subdivision name (``FR``,
    ``IDF`` → Île-de-France), or None where a region would only confuse: a code that names no
    subdivision of the country (``BE`` alone reads as Belgium) and a subdivision named after
    its city (``Berlin``, ``BE`` → Berlin; ``Geneva``, ``GE`` → Genève). A region written out
    (``Brussels-Capital``) is kept as written, unless it is the city's own name."""
    subdivision = pycountry.subdivisions.get(code=f"{country}-{region}".upper())
    if subdivision is not None:
        name = str(subdivision.name)
    elif _CODE.match(region):
        return None
    else:
        name = region
    if city and same_place(name, city):
        return None
    return name


def same_place(one: str, other: str) -> bool:
    """Whether two names spell one place (``Genève`` and ``Geneva``, ``Basel-Stadt`` and
    ``Basel``): one slug starts the other, or they differ by a letter or two."""
    first, second = slug(one), slug(other)
    if not first or not second:
        return False
    if first.startswith(second) or second.startswith(first):
        return True
    return difflib.SequenceMatcher(None, first, second).ratio() >= 0.8


def remote_countries(posting: Posting) -> list[str]:
    """The countries a remote job is in, each once, in order: where applicants may live, else
    its offices' countries."""
    countries = posting.applicant_locations or [loc.country for loc in posting.locations]
    return list(dict.fromkeys(countries))


@dataclass(frozen=True, slots=True)
class Spot:
    """One place a board lists a job at: what identifies it, the slug its number is made
    from, and the number the posting pins for it, if any."""

    key: str
    slug: str
    pin: str | None = None


def slug(text: str) -> str:
    """Lowercase ASCII words joined by ``-`` (``Zürich`` → ``zurich``)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_SLUG.sub("-", ascii_text.lower()).strip("-")


def place_slug(name: str, country: str) -> str:
    """``<name>-<country>`` in lowercase ASCII; a name with no Latin letters becomes a short
    digest of itself, so that two such places in one country never share a slug."""
    made = slug(name)
    if name and not made:
        made = "x" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return "-".join(part for part in (made, country.lower()) if part)


def assign(posting_id: str, spots: Sequence[Spot], assigned: dict[str, str]) -> list[str]:
    """The number of each spot (see the module docstring); new numbers are added to
    ``assigned`` (a spot's key → its number)."""
    taken = set(assigned.values()) | {spot.pin for spot in spots if spot.pin}
    numbers: list[str] = []
    for index, spot in enumerate(spots):
        if spot.pin:
            numbers.append(spot.pin)
            continue
        number = assigned.get(spot.key)
        if number is None:
            number = _new_number(posting_id, spot, first=index == 0, taken=taken)
            assigned[spot.key] = number
            taken.add(number)
        numbers.append(number)
    return numbers


def _new_number(posting_id: str, spot: Spot, *, first: bool, taken: set[str]) -> str:
    """The posting's id for its first place when it is free, else ``<id>-<slug>`` (then
    ``-2``, ``-3``…)."""
    if first and posting_id not in taken:
        return posting_id
    wanted = f"{posting_id}-{spot.slug}"
    number, count = wanted, 1
    while number in taken:
        count += 1
        number = f"{wanted}-{count}"
    return number
