"""Parsing and rendering spread over the machine's cores, where there is enough work to pay.

Starting a worker costs about a second (each imports syndicate), so a build uses workers only
when at least `MIN_PARALLEL` postings are to be parsed or rendered; below that it works in its
own process.  The pool is started on first use and kept until the process ends, so a daemon
pays for it once.  Workers are spawned, not forked: a fork of the daemon, with its scheduler and
server threads, could inherit a lock some thread held.

The work sent is small (file paths, content hashes, settings); workers read postings from the
files or the build cache themselves and send back only what they made, in order.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from syndicate.errors import SyndicateError

MIN_PARALLEL = 2000  # postings to parse or render before workers are worth starting
_IN_FLIGHT = 3  # tasks per worker queued ahead, so no worker waits for the next one

_Task = TypeVar("_Task")
_Result = TypeVar("_Result")

_pool: ProcessPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def worker_count(configured: int | None, work: int) -> int:
    """How many worker processes ``work`` postings deserve: 0 (work here) when there are too
    few or one core; else ``configured`` (the ``workers`` setting) or one per core."""
    wanted = configured if configured is not None else (os.cpu_count() or 1)
    if wanted <= 1 or work < MIN_PARALLEL:
        return 0
    return wanted


def ordered_map(
    function: Callable[[_Task], _Result], tasks: Iterable[_Task], workers: int
) -> Iterator[_Result]:
    """``function(task)`` for each task, run by ``workers`` processes, yielded in task order.

    Tasks are taken from ``tasks`` only a few at a time, so a long iterable of tasks is never
    held whole.  ``function`` must be a module-level function (it is sent by name).
    """
    executor = _executor(workers)
    pending: deque[Future[_Result]] = deque()
    try:
        for task in tasks:
            if len(pending) >= workers * _IN_FLIGHT:
                yield pending.popleft().result()
            pending.append(executor.submit(function, task))
        while pending:
            yield pending.popleft().result()
    except BrokenProcessPool as error:
        shutdown()  # the next call starts new workers
        raise SyndicateError(
            f"a worker process stopped unexpectedly ({error}); "
            "set `workers: 1` in config.yaml to work in one process"
        ) from error
    finally:
        for future in pending:
            future.cancel()


def _executor(workers: int) -> ProcessPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != workers:
            if _pool is not None:
                _pool.shutdown(cancel_futures=True)
            context = multiprocessing.get_context("spawn")
            _pool, _pool_size = ProcessPoolExecutor(workers, mp_context=context), workers
        return _pool


@atexit.register
def shutdown() -> None:
    """Stop the workers (done at exit; a test may call it to start afresh)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(cancel_futures=True)
            _pool = None
