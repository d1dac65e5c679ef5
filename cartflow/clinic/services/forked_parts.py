"""Read-only work split into parts that run side by side in forked worker processes.

A pass over the whole record (``cartflow audit verify``) is bound by one core: Python hashes
and decodes every row. Its parts (the ledger, the audit trail, ranges of cases) need nothing
from one another until the end, so they can run in processes of their own, each with its own
database connection, and their results be put together in the parent. The parts must see the
same moment of the record: each reads it first (``moment``) inside its own read snapshot,
and the caller compares what they saw.

Processes are forked, so each inherits the parent's code and settings and whatever the parent
prepared for the parts; the parent takes parts too, and each process takes the next part not
yet taken (a counter they share). No database connection is inherited: the parent's are
closed before the fork, and each process opens its own, a child's closed again when it ends.
A child writes its results to a file of its own and ends at once; the parent reads them when
its own parts are done.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import signal
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import IO, Any, TypeVar

from django.db import connection, connections

T = TypeVar("T")

MAX_WORKERS = 8
"""More processes than this only queue on the database's own cores."""


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
    """``part(0)`` ... ``part(count - 1)``, in this process and ``workers - 1`` forked ones
    (here alone, in order, when ``workers`` is 1); the results in the parts' order. Each
    process takes the next part not yet taken, so they finish close together. An exception in
    a part is raised here."""
    if workers <= 1 or count <= 1:
        return [part(index) for index in range(count)]
    connections.close_all()  # a forked child must not share the parent's sockets or files
    # The objects the parent holds (Django, the models, the code) are moved out of the
    # garbage collector's sight before the fork: a child's full collection would otherwise
    # walk all of them, tens of milliseconds each time, and copy every page it touched.
    gc.freeze()
    taken = multiprocessing.get_context("fork").Value("i", 0)
    children: list[tuple[int, IO[bytes]]] = []
    try:
        with ExitStack() as files:
            for _ in range(min(workers, count) - 1):
                # A file, not a pipe: a child writes its results and ends without waiting
                # for this process to read them.
                results_file = files.enter_context(tempfile.TemporaryFile())
                pid = os.fork()
                if pid == 0:
                    _child(part, count, taken, results_file)  # never returns
                children.append((pid, results_file))
            results = dict(_take_parts(part, count, taken))
            for child, written in children:
                results.update(_child_results(child, written))
        return [results[index] for index in range(count)]
    finally:
        for pid, _ in children:
            _end(pid)
        gc.unfreeze()


def _take_parts(part: Callable[[int], T], count: int, taken: Any) -> Iterator[tuple[int, T]]:
    while True:
        with taken.get_lock():
            index = taken.value
            taken.value = index + 1
        if index >= count:
            return
        yield index, part(index)


def _child(part: Callable[[int], Any], count: int, taken: Any, results_file: IO[bytes]) -> None:
    """A forked child: parts until none is left, its results (or its exception) written to
    ``results_file``; it ends without the parent's exit handlers or buffered output."""
    status = 1
    try:
        try:
            outcome: tuple[bool, Any] = (True, list(_take_parts(part, count, taken)))
        except BaseException as exc:  # the parent raises it
            outcome = (False, exc)
        finally:
            connections.close_all()
        try:
            data = pickle.dumps(outcome)
        except Exception:  # an exception that cannot cross: its text does
            data = pickle.dumps((False, RuntimeError(traceback.format_exc())))
        results_file.write(data)
        results_file.flush()
        status = 0
    finally:
        os._exit(status)


def _child_results(pid: int, results_file: IO[bytes]) -> list[tuple[int, Any]]:
    _end(pid, wait=True)
    results_file.seek(0)
    data = results_file.read()
    if not data:
        raise RuntimeError(f"a forked process ({pid}) ended without its results")
    done, value = pickle.loads(data)
    if not done:
        raise value
    return list(value)


def _end(pid: int, wait: bool = False) -> None:
    """Reaps a child: waits for it (``wait``), or stops it first if it still runs (this
    process is leaving on an exception)."""
    try:
        if not wait and os.waitpid(pid, os.WNOHANG) == (0, 0):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except ChildProcessError:  # reaped already
        pass
