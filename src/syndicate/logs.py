"""Logging set-up: readable lines for people, one JSON object per line for machines.

Code logs events with `event`: a short message plus named fields (``target``, ``posting``,
``operation``, ``outcome``, ``attempt``, ``duration_ms``…).  The text format appends the fields
as ``key=value``; the JSON format writes them as keys.  Every record passes through
`syndicate.secret.mask` first, so no secret value reaches a log.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from syndicate.secret import mask

LogFormat = Literal["text", "json"]
_FIELDS = "syndicate_fields"  # the LogRecord attribute that carries an event's fields


def event(
    logger: logging.Logger, message: str, /, level: int = logging.INFO, **fields: Any
) -> None:
    """Log ``message`` with structured ``fields`` (None values are left out)."""
    kept = {key: value for key, value in fields.items() if value is not None}
    logger.log(level, message, extra={_FIELDS: kept})


def configure_logging(verbosity: int, log_format: LogFormat = "text") -> None:
    """Send syndicate's logs to stderr: warnings by default, info with ``-v``, debug with ``-vv``.

    Events (`event`) are info: a daemon, which should log one line per sync and push, runs
    with verbosity ≥ 1.
    """
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler: logging.Handler
    if log_format == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(TextFormatter())
    handler.addFilter(MaskSecrets())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Libraries log requests at info; ours say what matters.
    for noisy in ("httpx", "httpcore", "apscheduler", "uvicorn.access", "watchfiles"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


class MaskSecrets(logging.Filter):
    """Replaces every secret value in a record (message and fields) with ``****``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.getMessage())
        record.args = ()
        fields = getattr(record, _FIELDS, None)
        if fields:
            setattr(
                record,
                _FIELDS,
                {k: mask(v) if isinstance(v, str) else v for k, v in fields.items()},
            )
        return True


class TextFormatter(logging.Formatter):
    """``2026-12-01T18:37:14.120+01:00 INFO message key=value key=value``: one line per event
    (never wrapped, whatever the width; a line break inside a value is written ``\n``), the
    time in ISO 8601 with the local offset."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created).astimezone()
        text = f"{moment.isoformat(timespec='milliseconds')} {record.levelname:<7} "
        text += record.getMessage()
        fields = getattr(record, _FIELDS, None)
        if fields:
            text += " " + " ".join(f"{key}={_text(value)}" for key, value in fields.items())
        if record.exc_info:
            text += "\n" + mask(self.formatException(record.exc_info))
            return text
        return text.replace("\n", "\\n")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, _FIELDS, {}),
        }
        if record.exc_info:
            entry["error"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


def _text(value: Any) -> str:
    text = str(value)
    return (
        json.dumps(text, ensure_ascii=False) if (" " in text or "\n" in text or not text) else text
    )
