"""Tables for people: they fit the width (the terminal's, else ``$COLUMNS``, else 80) by
wrapping cells, never by cutting an id or a time short; ``--format json`` is for machines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from rich.table import Table
from rich.text import Text

KIND_STYLES = {"CREATE": "green", "UPDATE": "yellow", "RENEW": "cyan", "CLOSE": "red"}


def table(title: str, *columns: str, caption: str | None = None) -> Table:
    """A table whose cells wrap (long ids fold onto the next line) rather than truncate."""
    made = Table(
        title=title, title_justify="left", caption=caption, caption_justify="left", expand=False
    )
    for column in columns:
        made.add_column(column, overflow="fold")
    return made


def filled(
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[str | Text]],
    *,
    ids: Sequence[str] = (),
    caption: str | None = None,
) -> Table:
    """A table of ``rows`` without the columns that are empty in every row.  Short values
    (states, times) stay on one line; the ``ids`` columns give way, folding an id over lines
    when the width is short, and the last column wraps its words."""
    kept = [i for i, _ in enumerate(header) if i < 2 or any(str(row[i]) for row in rows)]
    made = table(title, caption=caption)
    for i in kept:
        gives_way = header[i] in ids or i == kept[-1]
        made.add_column(header[i], overflow="fold", no_wrap=not gives_way)
    for row in rows:
        made.add_row(*(row[i] for i in kept))
    return made


def short_time(iso: str | None) -> str:
    """``2026-12-01T18:37:14+00:00`` as ``2026-12-01 18:37`` for a table headed "(UTC)"."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def kind(operation: str) -> Text:
    """An operation kind, coloured as Terraform colours its plan (where colour is on)."""
    return Text(operation, style=KIND_STYLES.get(operation, ""))
