"""Places: countries, US states and Canadian provinces by name or code, and place phrases.

Everything here answers with ISO codes or nothing.  A place is read only where the text names it
plainly: ``Asheville, NC 28801``, ``Minneapolis MN``, ``Geneva, Switzerland``,
``New York, NY, United States``.  A city alone (``Paris``) has no country and is not a place; a
region (``North America``, ``EMEA``) is not a list of countries.  What is not read is left to a
person, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pycountry

# Names people use for countries that pycountry does not list under that spelling.
COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US", "u.s.": "US", "u.s.a.": "US", "u.s": "US", "united states of america": "US",
    "uk": "GB", "u.k.": "GB", "great britain": "GB", "britain": "GB",
    "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "russia": "RU", "turkey": "TR", "holland": "NL", "the netherlands": "NL",
    "czechia": "CZ", "south korea": "KR", "korea": "KR", "north korea": "KP", "uae": "AE",
    "ivory coast": "CI", "cape verde": "CV", "swaziland": "SZ", "burma": "MM",
    "vatican": "VA", "macedonia": "MK", "the bahamas": "BS", "the gambia": "GM",
}  # fmt: skip
_AMBIGUOUS_NAMES = frozenset({"georgia"})  # a US state and a country
_CITY = r"[A-ZÀ-Ý][\w'’.\-]*(?:[ \-][A-ZÀ-Ý][\w'’.\-]*){0,3}"
_ZIP = r"\d{5}(?:-\d{4})?|[A-Z]\d[A-Z] ?\d[A-Z]\d"
# City, ST 12345 / City ST / City, State Name / City, Country (in running text).
_CITY_AND_AREA = re.compile(
    rf"(?<![\w'’])(?P<city>{_CITY}),?\s+(?P<area>[A-Z][A-Za-z.]*(?:\s+[A-Z][a-z]+){{0,3}})"
    rf"(?:,?\s+(?P<zip>{_ZIP}))?(?![\w'’])"
)
_REMOTE_WORD = re.compile(r"^\s*(?:fully\s+|100%\s+)?remote\b[\s,:;/()–—-]*", re.IGNORECASE)
_HYBRID_WORD = re.compile(r"^\s*hybrid\b[\s,:;/()–—-]*", re.IGNORECASE)
_PLACE_SEPARATORS = re.compile(r"\s*(?:;|\||\s/\s|\bor\b|\band\b)\s*")


@dataclass(frozen=True, slots=True)
class Place:
    """A place as a posting's location mapping (``{city, region, country, postal_code}``)."""

    country: str
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    street: str | None = None

    def as_location(self) -> dict[str, str]:
        """The posting-file form: only the parts that are known, in the model's order."""
        parts = {
            "city": self.city,
            "region": self.region,
            "country": self.country,
            "postal_code": self.postal_code,
            "street": self.street,
        }
        return {key: value for key, value in parts.items() if value}


@dataclass(frozen=True, slots=True)
class PlaceReading:
    """What a location phrase says: places, a remote or hybrid rule, applicant countries."""

    places: tuple[Place, ...] = ()
    remote: str | None = None  # "remote" | "hybrid" | None
    countries: tuple[str, ...] = ()


@cache
def _subdivision_table() -> dict[str, tuple[str, str]]:
    """US states and Canadian provinces by lowercase name and abbreviation → (country, abbr)."""
    table: dict[str, tuple[str, str]] = {}
    for country in ("US", "CA"):
        for subdivision in pycountry.subdivisions.get(country_code=country) or []:
            abbreviation = subdivision.code.split("-", 1)[1]
            table[abbreviation.lower()] = (country, abbreviation)
            table[subdivision.name.lower()] = (country, abbreviation)
    # Common spellings pycountry does not carry.
    table["québec"] = ("CA", "QC")
    table["washington dc"] = table["washington d.c."] = ("US", "DC")
    table["d.c."] = ("US", "DC")
    return table


def subdivision(text: str, *, abbreviations: bool = True) -> tuple[str, str] | None:
    """``(country, abbreviation)`` of a US state or Canadian province (``MN``, ``Ontario``)."""
    key = text.strip().rstrip(".").lower() if len(text.strip()) > 3 else text.strip().lower()
    if key in _AMBIGUOUS_NAMES:
        return None
    if not abbreviations and len(key) <= 2:
        return None
    if len(key) <= 2 and text.strip() != text.strip().upper():
        return None  # "in", "me", "or" are words, not states
    return _subdivision_table().get(key)


def country_code(text: str, *, codes: bool = False) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country name (``Switzerland`` → ``CH``).

    With ``codes``, uppercase alpha-2 and alpha-3 codes (``CH``, ``CHE``) are accepted too; in
    running text they are not, since ``IN`` or ``ME`` are more often words than countries.
    """
    name = text.strip().strip(".,;:()").strip()
    if not name:
        return None
    key = name.lower()
    if key in _AMBIGUOUS_NAMES:
        return None
    if key in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[key]
    if len(name) <= 3:
        if not codes or name != name.upper():
            return None
        country = pycountry.countries.get(alpha_2=name) or pycountry.countries.get(alpha_3=name)
        return country.alpha_2 if country else None
    try:
        return pycountry.countries.lookup(name).alpha_2
    except LookupError:
        return None


def region_of(country: str, text: str) -> str | None:
    """A region of ``country`` as its short code when it has one (``Texas`` → ``TX``,
    ``Genève`` → ``GE``), else the text as written."""
    text = text.strip()
    if not text:
        return None
    found = subdivision(text)
    if found and found[0] == country:
        return found[1]
    for sub in pycountry.subdivisions.get(country_code=country) or []:
        short = sub.code.split("-", 1)[1]
        if text.upper() == short or text.lower() == sub.name.lower():
            return short
    return text


def places_in_text(text: str) -> list[Place]:
    """Places named plainly in running text: a city followed by a state, province or country."""
    found: list[Place] = []
    position = 0
    while match := _CITY_AND_AREA.search(text, position):
        place = _place_of_match(match)
        if place is None:
            # Try again from the next word: "1 Main St, Asheville, NC 28801" first matches
            # "Main St, Asheville", which is no place.
            space = text.find(" ", match.start())
            position = len(text) if space < 0 else space + 1
            continue
        if place not in found:
            found.append(place)
        position = match.end()
    return found


def _place_of_match(match: re.Match[str]) -> Place | None:
    # The area may have swallowed the next sentence's first words ("Paris, France Our team"):
    # try it whole, then shorter.
    words = match["area"].split()
    for count in range(len(words), 0, -1):
        postal = match["zip"] if count == len(words) else None
        place = _city_with_area(match["city"], " ".join(words[:count]), postal, codes=False)
        if place is not None:
            return place
    return None


def _city_with_area(city: str, area: str, postal: str | None, *, codes: bool) -> Place | None:
    area = area.strip().rstrip(".")
    state = subdivision(area)
    if state is not None:
        return Place(country=state[0], city=city.strip(), region=state[1], postal_code=postal)
    country = country_code(area, codes=codes)
    if country is not None and postal is None:
        return Place(country=country, city=city.strip())
    return None


def read_place_phrase(text: str, *, default_country: str | None = None) -> PlaceReading:
    """A location field's value (``Location: ...``, Lever's ``categories.location``).

    Reads ``City, Region, Country``, ``City, ST 12345``, ``City, Country``, ``Country``, several
    places separated by ``;``, ``|``, `` / `` or ``or``, and ``Remote``/``Hybrid`` with the
    countries that follow (``Remote - US``).  ``default_country`` (stated elsewhere by the
    source, e.g. Lever's ``country``) completes a bare city.
    """
    text = text.strip()
    remote: str | None = None
    for rule, pattern in (("remote", _REMOTE_WORD), ("hybrid", _HYBRID_WORD)):
        match = pattern.match(text)
        if match:
            remote = rule
            text = text[match.end() :].strip(" ()")
            break
    if remote == "remote":
        countries = _countries(text)
        if not countries and default_country and not text:
            countries = (default_country,)
        return PlaceReading(remote=remote, countries=countries)
    places = tuple(
        place
        for part in _PLACE_SEPARATORS.split(text)
        if part
        for place in [_one_place(part, default_country)]
        if place is not None
    )
    return PlaceReading(places=places, remote=remote)


def _one_place(text: str, default_country: str | None) -> Place | None:
    parts = [part.strip() for part in text.strip(" ()").split(",") if part.strip()]
    if not parts:
        return None
    if len(parts) >= 3:
        country = country_code(parts[-1], codes=True)
        if country is not None:
            return Place(
                country=country,
                city=parts[0],
                region=region_of(country, ", ".join(parts[1:-1])),
            )
    if len(parts) == 2:
        area, _, rest = parts[1].partition(" ")
        postal = rest.strip() or None
        if postal and re.fullmatch(_ZIP, postal):
            place = _city_with_area(parts[0], area, postal, codes=True)
            if place is not None:
                return place
        place = _city_with_area(parts[0], parts[1], None, codes=True)
        if place is not None:
            return place
    if len(parts) == 1:
        match = _CITY_AND_AREA.fullmatch(parts[0])
        if match:
            place = _city_with_area(match["city"], match["area"], match["zip"], codes=True)
            if place is not None:
                return place
        country = country_code(parts[0], codes=True)
        if country is not None:
            return Place(country=country)
        if default_country and re.fullmatch(_CITY, parts[0]):
            return Place(country=default_country, city=parts[0])
    return None


def _countries(text: str) -> tuple[str, ...]:
    found: list[str] = []
    for part in re.split(r"\s*(?:[,;/|()–—]|\s-\s|\bor\b|\band\b|\bin\b|\bwithin\b)\s*", text):
        code = country_code(part, codes=True) if part else None
        if code and code not in found:
            found.append(code)
    return tuple(found)
