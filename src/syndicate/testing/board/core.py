"""`Board`: what the local board holds and its faults, shared by its APIs; thread-safe."""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from syndicate.testing.board.config import BoardConfig
from syndicate.testing.board.faults import FAULTS, Fault
from syndicate.testing.board.records import BoardView, IssuedToken, RequestRecord


def now() -> datetime:
    return datetime.now(UTC)


class Board:
    """The board's state and rules, without HTTP.

    Each API keeps its own part of the state in the shared `BoardView` under ``lock``: the
    jobs API (`syndicate.testing.board.linkedin`), the indexing API (`…indexing`) and webhooks
    (`…hooks`).
    """

    def __init__(self, config: BoardConfig | None = None, **options: Any) -> None:
        self.config = config or BoardConfig.of(**options)
        self.lock = threading.Lock()
        self.reset()

    # Read by the APIs; kept as attributes for the tests and tools that set them directly.
    @property
    def token(self) -> str:
        return self.config.token

    @property
    def hook_secret(self) -> str:
        return self.config.hook_secret

    @property
    def latency(self) -> float:
        return self.config.latency

    def now(self) -> datetime:
        """The board's clock: the real time, moved on by `shift_clock`."""
        return now() + self.clock_shift

    def shift_clock(self, seconds: float) -> None:
        """Move the board's clock (tokens expire, tasks lapse) without waiting."""
        with self.lock:
            self.clock_shift += timedelta(seconds=seconds)

    def reset(self) -> None:
        """Forget every job, task, notification, delivery, request and fault."""
        with self.lock:
            self.clock_shift = timedelta(0)
            self.tokens: dict[str, IssuedToken] = {}
            self.state = BoardView()
            self.index_metadata: dict[str, dict[str, Any]] = {}
            self.access_tokens: dict[str, datetime] = {}  # issued by the indexing token endpoint
            self.seen_keys: set[str] = set()
            self.task_numbers = itertools.count(1)
            self.job_numbers = itertools.count(1)
            self.arrivals: dict[str, deque[float]] = {}  # per rate-limited prefix, monotonic

    def view(self) -> BoardView:
        """A copy of everything the board holds."""
        with self.lock:
            return self.state.model_copy(deep=True)

    def add_faults(self, faults: Iterable[Fault | dict[str, Any]]) -> list[Fault]:
        """Queue faults (models or their JSON form); the faults now waiting."""
        parsed = FAULTS.validate_python(list(faults))
        with self.lock:
            self.state.faults.extend(parsed)
            return list(self.state.faults)

    def clear_faults(self) -> None:
        """Drop every fault still waiting."""
        with self.lock:
            self.state.faults.clear()

    def take_fault(self, kind: str, path: str) -> Fault | None:
        """The first waiting fault of ``kind`` for a request to ``path``, used up once."""
        with self.lock:
            return self.take(lambda f: f.kind == kind and f.matches(path))

    def take(self, wanted: Callable[[Any], bool]) -> Fault | None:
        """The first waiting fault ``wanted`` accepts, used up once (hold ``lock``)."""
        for index, fault in enumerate(self.state.faults):
            if wanted(fault):
                fault.times -= 1
                if fault.times == 0:
                    del self.state.faults[index]
                return fault
        return None

    def admit(self, path: str) -> bool:
        """Whether a request to ``path`` arriving now is within the board's ``rate_limits``:
        fewer than the limit arrived in the second before it (a sliding window).  A request
        refused is not counted, as it was not served."""
        limits = [(p, rate) for p, rate in self.config.rate_limits.items() if path.startswith(p)]
        if not limits:
            return True
        arrived = time.monotonic()
        with self.lock:
            windows = [self.arrivals.setdefault(prefix, deque()) for prefix, _ in limits]
            for window in windows:
                while window and arrived - window[0] >= 1.0:
                    window.popleft()
            if any(len(window) >= rate for window, (_, rate) in zip(windows, limits, strict=True)):
                return False
            for window in windows:
                window.append(arrived)
        return True

    def record(self, entry: RequestRecord) -> None:
        """Keep one API request in the log."""
        with self.lock:
            self.state.requests.append(entry)
