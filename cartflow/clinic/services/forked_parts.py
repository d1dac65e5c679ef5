"""Read-only work split into parts that run side by side in forked worker processes.

A pass over the whole record (``cartflow audit verify``) is bound by one core: Python hashes
and decodes every row. Its parts (the ledger, the audit trail, ranges of cases) need nothing
from one another until the end, so they can run in processes of their own, each with its own
database connection, and their results be put together in the parent. The parts must see the
same moment of the record: each reads it first (``moment``) inside its own read snapshot,
and the caller compares what they saw.

Processes are forked, so each inherits the parent's code and settings and whatever the parent
prepared for the parts (:func:`run_parts` keeps the callable in a module global for them); no
database connection is inherited: the parent's are closed before the fork and each worker
opens its own, closed again when the worker ends.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Callable
from multiprocessing.util import Finalize
from typing import Any, TypeVar

from django.db import connection, connections

T = TypeVar("T")

MAX_WORKERS = 8
"""More processes than this only queue on the database's own cores."""

_PART: Callable[[int], Any] | None = None


def can_fork_readers() -> bool:
    """Whether this process may fork readers that see what it sees: not inside a transaction
    (its own writes are not committed) nor on an in-memory SQLite database (this process's
    alone); and only where ``fork`` exists and no other thread runs (a forked child would
    inherit the locks another thread holds, such as a server's)."""
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return False
    if connection.in_atomic_block:
        return False
    in_memory = getattr(connection, "is_in_memory_db", lambda: False)
    return not (connection.vendor == "sqlite" and in_memory())


def default_workers() -> int:
    """The processes a pass may use here: every core (up to :data:`MAX_WORKERS`), or 1 where
    the parts could not see what this process sees (:func:`can_fork_readers`)."""
    if not can_fork_readers():
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def run_parts(part: Callable[[int], T], count: int, workers: int) -> list[T]:
    """``part(0)`` ... ``part(count - 1)``, in ``workers`` forked processes (here, in order,
    when ``workers`` is 1); the results in the parts' order. An exception in a part is
    raised here."""
    if workers <= 1 or count <= 1:
        return [part(index) for index in range(count)]
    global _PART
    connections.close_all()  # a forked child must not share the parent's sockets or files
    _PART = part
    # The objects the parent holds (Django, the models, the code) are moved out of the
    # garbage collector's sight before the fork: a worker's full collection would otherwise
    # walk all of them, tens of milliseconds each time, and copy every page it touched.
    gc.freeze()
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(min(workers, count), initializer=_start_worker) as pool:
            results = pool.map(_run_part, range(count), chunksize=1)
            pool.close()
            pool.join()
        return results
    finally:
        gc.unfreeze()
        _PART = None


def _start_worker() -> None:
    # Each worker opens its own connections as its parts need them; they are closed when it
    # ends (a pool's worker exits without running atexit handlers, but runs these).
    Finalize(None, connections.close_all, exitpriority=10)


def _run_part(index: int) -> Any:
    assert _PART is not None, "a worker runs only the parts run_parts was given"
    return _PART(index)
