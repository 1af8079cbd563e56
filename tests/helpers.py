"""Helpers shared by the test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

import httpx

from syndicate.testing import BoardServer

# The credentials of the module's local board (conftest's ``server``), distinctive enough that a
# test can tell when one of them shows in output.
BOARD_TOKEN = "tok-board-7c1eZq8v"
BOARD_HOOK_SECRET = "hook-board-5b2dJb4n"
# The Rest.li version header LinkedIn's jobs API requires.
LINKEDIN_VERSION = {"LinkedIn-Version": "202603"}

T = TypeVar("T")


@contextmanager
def jobs_api(board: BoardServer, token: str) -> Iterator[httpx.Client]:
    """A client of the board's LinkedIn jobs API, sending ``token`` and the version header."""
    headers = {"Authorization": f"Bearer {token}", **LINKEDIN_VERSION}
    with httpx.Client(base_url=board.url, headers=headers, timeout=5) as client:
        yield client


def wait_for(
    condition: Callable[[], T], timeout: float = 10, what: str = "the expected state"
) -> T:
    """What ``condition`` returns once it is true (a connection refused counts as not yet),
    asked every 50 ms; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result: T | None = condition()
        except httpx.TransportError:
            result = None
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def ms(when: datetime) -> int:
    """``when`` (aware) in epoch milliseconds, as LinkedIn's ``listedAt`` and ``expireAt``."""
    return round(when.timestamp() * 1000)
