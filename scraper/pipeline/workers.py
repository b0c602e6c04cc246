"""Worker processes for the CPU-bound work (parse, extract, write the text; a scheduled run's
indexes too), shared by re-cleans and scheduled runs.

Workers are forked, all at once, when the pool starts: from the thread that starts it, before a
scheduled run starts its site threads, so that no worker gets a copy of a lock a site thread holds
(the catalog's, a WARC writer's, httpx's).
A worker ends itself when the process that started it is gone (killed, say, by SIGKILL): left
behind, it would wait for work forever. (It holds no archive lock meanwhile: ``limits`` points a
forked child's lock descriptors elsewhere, so the next run can start at once.)
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Generic, ParamSpec, TypeVar

from scraper.errors import WorkerError

P = ParamSpec("P")
R = TypeVar("R")

_ORPHAN_CHECK_S = 0.5  # how often a worker looks whether its parent is still there


def worker_pool(jobs: int) -> ProcessPoolExecutor:
    """``jobs`` forked worker processes, every one started before this returns."""
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_watch_parent,
        initargs=(os.getpid(),),
    )
    # the first task makes the pool fork all its workers, now, from this thread
    pool.submit(os.getpid).result()
    return pool


def _watch_parent(parent: int) -> None:
    # Ctrl-C and systemd's SIGTERM reach every process of the group: the parent decides when to
    # stop, and a worker killed under its page would turn that page into a failure
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, args=(parent,), name="orphan-watch", daemon=True).start()


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_ORPHAN_CHECK_S)
    os._exit(1)


class Extractors:
    """Runs calls in ``jobs`` worker processes, or in the calling thread when ``jobs`` <= 1.

    ``submit`` hands back a ``Pending`` at once, so a site thread can fetch its next page while a
    worker extracts the last one. If a worker dies (the kernel's OOM killer, a crash in a C
    library), the calls it had fail with ``WorkerError`` and the rest of the run extracts in this
    process.
    """

    def __init__(self, jobs: int) -> None:
        self.jobs = max(1, jobs)
        self._pool = worker_pool(jobs) if jobs > 1 else None
        self._lock = threading.Lock()

    def __enter__(self) -> Extractors:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> Pending[R]:
        with self._lock:
            pool = self._pool
        if pool is None:
            done: Future[R] = Future()
            done.set_result(fn(*args, **kwargs))
            return Pending(done, self)
        return Pending(pool.submit(fn, *args, **kwargs), self)

    def _broken(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


class Pending(Generic[R]):
    """A submitted call; ``result()`` waits for it."""

    def __init__(self, future: Future[R], owner: Extractors) -> None:
        self._future, self._owner = future, owner

    def result(self) -> R:
        try:
            return self._future.result()
        except BrokenProcessPool as exc:
            self._owner._broken()
            raise WorkerError("a worker process died") from exc
