"""Dates as sources write them: ISO 8601, RFC 822 (Indeed's feeds), epoch milliseconds (Lever).

A date that stands for a whole day comes back as a plain `date`, so that a posting says
``2026-11-20`` rather than an instant: midnight for a start (``date_posted``), 23:59:59 for an
end (``valid_through``), which is how syndicate's own feeds write plain dates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from email.utils import parsedate_to_datetime

_END_OF_DAY = time(23, 59, 59)


def parse_when(value: object, *, end_of_day: bool = False) -> date | None:
    """A date or an aware datetime from ISO 8601 or RFC 822 text (or a YAML date/datetime).

    ``end_of_day`` reads 23:59:59 as the whole day (an expiry); otherwise midnight is.
    """
    if isinstance(value, datetime):
        return _day_or_instant(value, end_of_day)
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace(" +", "+").replace(" -", "-"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return _day_or_instant(parsed, end_of_day) if parsed else None


def from_epoch_millis(value: object) -> datetime | None:
    """An aware UTC datetime from milliseconds since the epoch (whole seconds)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(int(value) // 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _day_or_instant(when: datetime, end_of_day: bool) -> date:
    boundary = _END_OF_DAY if end_of_day else time.min
    if when.time().replace(microsecond=0) == boundary:
        return when.date()
    # A naive time stays naive: a posting reads it in the configured timezone.
    return when.replace(microsecond=0)
