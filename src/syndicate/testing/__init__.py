"""Helpers to test syndicate, and to try it without real boards.

`syndicate.testing.board` is a local job board (the LinkedIn-style jobs API, the Google Indexing
API and webhooks) that keeps what it receives and injects faults on request.  Its main names are
importable from here too: ``from syndicate.testing import BoardServer``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syndicate.testing.board import Board, BoardServer, BoardView, create_app

__all__ = ["Board", "BoardServer", "BoardView", "create_app"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so that `python -m syndicate.testing.board` does not find the module
    # already imported by its package (runpy warns about that).
    if name in __all__:
        return getattr(importlib.import_module("syndicate.testing.board"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
