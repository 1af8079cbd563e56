"""Pacing requests to a board's ``rate_limit``: never more than that many in any one second.

Requests take turns spaced `turn_spacing` apart.  In one process the turns are kept here
(`RateLimiter`); across every process sharing a state they are kept in the state
(`syndicate.state.coordination.SharedRateLimiter`), with the same spacing and the same rule for a
sender that wakes too late.
"""

from __future__ import annotations

import threading
import time

SEND_MARGIN = 0.2
"""Seconds a request may leave after its turn.  Turns are `turn_spacing` apart, so that no
window of one second holds more than ``rate_limit`` requests even when each leaves up to this
late; a request whose sender woke later than that gives its turn up and takes the next."""


def turn_spacing(rate: float) -> float:
    """Seconds between two turns for at most ``rate`` requests in any one second, each
    leaving at most `SEND_MARGIN` after its turn: ``rate + 1`` turns span ``1 + SEND_MARGIN``
    seconds, so ``rate + 1`` requests span at least one second."""
    return (1.0 + SEND_MARGIN) / rate


class RateLimiter:
    """Spaces requests so that no window of one second holds more than ``rate`` of them, across
    threads, and holds every thread back after the board answers ``Retry-After``."""

    def __init__(self, rate: float | None) -> None:
        self._interval = turn_spacing(rate) if rate else 0.0
        self._lock = threading.Lock()
        self._next = 0.0  # monotonic time the next request may start

    def acquire(self) -> None:
        """Wait for this request's turn (without a rate, only a `hold` makes it wait)."""
        while True:
            with self._lock:
                now = time.monotonic()
                turn = max(now, self._next)
                self._next = turn + self._interval
            if turn > now:
                time.sleep(turn - now)
            if time.monotonic() - turn <= SEND_MARGIN:
                return

    def hold(self, seconds: float) -> None:
        """No request starts for ``seconds`` from now."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)
