"""Places as targets write them: country names (several boards spell the country out)."""

from __future__ import annotations

import functools

import pycountry


@functools.cache
def country_name(code: str) -> str:
    """The common English name of an ISO 3166-1 alpha-2 country code (``US`` → United States)."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name
