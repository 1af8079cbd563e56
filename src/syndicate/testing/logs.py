"""Reading a daemon's JSON log (``--log-format json``) back, in tests and benchmarks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def log_events(log: Path, message: str) -> list[dict[str, Any]]:
    """The events of the JSON log file ``log`` whose message is ``message``, in order; lines
    that are not events (a library's own print) are skipped."""
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("message") == message:
            found.append(entry)
    return found
