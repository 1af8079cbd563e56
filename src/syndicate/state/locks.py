"""The publish lock: one publish at a time per state store, across processes."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from syndicate.errors import StateLockedError


@contextmanager
def file_lock(path: Path, wait: bool, deadline: float | None) -> Iterator[None]:
    with path.open("a+", encoding="utf-8") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait or (deadline is not None and time.monotonic() >= deadline):
                    holder = _lock_holder(path)
                    raise StateLockedError(
                        f"another publish is running on this state store ({holder}); "
                        "try again once it has finished",
                        file=path,
                    ) from None
                time.sleep(0.1)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(
                f"pid {os.getpid()} since {datetime.now(UTC).isoformat(timespec='seconds')}\n"
            )
            handle.flush()
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _lock_holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    return text or "holder unknown"


@contextmanager
def thread_lock(lock: threading.Lock, wait: bool, timeout: float | None) -> Iterator[None]:
    if not lock.acquire(blocking=wait, timeout=-1 if timeout is None or not wait else timeout):
        raise StateLockedError("another publish is running on this in-memory state store")
    try:
        yield
    finally:
        lock.release()
