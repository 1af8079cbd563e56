"""The kinds of operation a push sends to a board: shared by adapters, planning and the state."""

from __future__ import annotations

from enum import StrEnum


class OperationKind(StrEnum):
    """What a push asks of a board."""

    CREATE = "CREATE"
    UPDATE = "UPDATE"
    RENEW = "RENEW"
    CLOSE = "CLOSE"
