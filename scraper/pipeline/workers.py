"""Worker processes for the CPU-bound work (parse, extract, write the text; a scheduled run's
indexes too), shared by re-cleans and scheduled runs.

Workers are forked when the pool starts, before a scheduled run starts its site threads, so that
no worker gets a copy of a lock a site thread holds (the catalog's, a WARC writer's, httpx's); only
a worker that replaces a killed one is forked later. A worker ends when the process that started
it is gone (killed, say, by SIGKILL): left behind, it would wait for work forever, or write a text
for a run that is over. (It holds no archive lock meanwhile: ``limits`` points a forked child's
lock descriptors elsewhere, so the next run can start at once.)

``Extractors`` bounds each call in time and memory (Linux: /proc, prctl): a page that parses for
minutes or grows past the bound costs its worker, killed and replaced, and fails; the run goes on.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

from scraper.errors import WorkerError
from scraper.pipeline.worker import CLOCK, Call, Clock, Limits, Lost, Worker

__all__ = ["CLOCK", "Clock", "Extractors", "Pending", "Streamed"]

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Streamed(Generic[R]):
    """What a streamed call gave: each item as its worker sent it, and why the call ended before its
    last item (a limit broken, the worker dead, an exception), if it did."""

    items: tuple[R, ...]
    error: Exception | None = None


class Extractors:
    """Runs calls in ``jobs`` worker processes, or in the calling thread when ``jobs`` <= 1 and no
    limit is set.

    ``submit`` hands back a ``Pending`` at once, so a site thread can fetch its next page while a
    worker extracts the last one. A call fails with ``WorkerError`` saying why when it takes longer
    than ``seconds``, needs more than ``memory_mb`` on top of an idle worker's memory, or its worker
    dies (the kernel's OOM killer, a crash in a C library); a new worker takes that one's place.
    """

    def __init__(
        self, jobs: int, seconds: float | None = None, memory_mb: int | None = None, context: object = None
    ) -> None:
        self.jobs = max(1, jobs)
        self._limits = Limits(seconds, memory_mb << 20 if memory_mb else None)
        # what every streamed call is handed first: a forked worker has it from its fork, never pickled
        self._context = context
        self._calls: queue.SimpleQueue[Call | None] = queue.SimpleQueue()
        self._runners: list[threading.Thread] = []
        if jobs > 1 or seconds or memory_mb:
            # A thread per worker forks it (so a worker dies with that thread: see _serve) and
            # waits for its calls; this returns once all are forked.
            forked = threading.Barrier(self.jobs + 1)
            for n in range(self.jobs):
                runner = threading.Thread(target=self._run, args=(forked,), name=f"extract-{n}", daemon=True)
                runner.start()
                self._runners.append(runner)
            forked.wait()

    def __enter__(self) -> Extractors:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(queue.Empty):
            while True:  # calls not started are cancelled, as ProcessPoolExecutor's shutdown does
                if (call := self._calls.get_nowait()) is not None:
                    call.future.cancel()
        for _ in self._runners:
            self._calls.put(None)
        for runner in self._runners:
            runner.join()

    def submit(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> Pending[R]:
        """Call ``fn`` within the time limit and the memory bound."""
        return self._submit(Call(Future(), fn, args, kwargs, timed=True))

    def submit_untimed(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> Pending[R]:
        """Call ``fn`` within the memory bound but with no time limit: for work whose time grows
        with the archive, not with one page (indexing a site's WARC files)."""
        return self._submit(Call(Future(), fn, args, kwargs, timed=False))

    def stream(
        self, fn: Callable[Concatenate[Any, P], Iterable[R | Clock]], *args: P.args, **kwargs: P.kwargs
    ) -> Pending[Streamed[R]]:
        """Call ``fn(context, *args)``, which yields items: each is sent back as it is made. The time
        limit counts from each ``CLOCK`` that ``fn`` yields to the item after it, and not otherwise;
        the memory bound, for the whole call. A limit broken part way ends the call with the items
        made before it."""
        return self._submit(Call(Future(), fn, args, kwargs, timed=True, streamed=True))

    def _submit(self, call: Call) -> Pending[Any]:
        if self._runners:
            self._calls.put(call)
            return Pending(call.future)
        if call.streamed:
            call.future.set_result(_stream_here(call.fn, (self._context, *call.args), call.kwargs))
            return Pending(call.future)
        try:
            call.future.set_result(call.fn(*call.args, **call.kwargs))
        except Exception as exc:
            call.future.set_exception(exc)
        return Pending(call.future)

    def _run(self, forked: threading.Barrier) -> None:
        worker = Worker.start(self._limits, self._context)
        forked.wait()
        while (call := self._calls.get()) is not None:
            if call.future.set_running_or_notify_cancel():
                worker = self._call(worker, call)
        if worker is not None:
            worker.stop()

    def _call(self, worker: Worker | None, call: Call) -> Worker | None:
        """Runs the call; returns the worker for the next one: this one, a new one if this one had
        to go, or None if none could be forked (tried again at the next call)."""
        if worker is None and (worker := Worker.start(self._limits, self._context)) is None:
            _settle(call, WorkerError("no worker process could be started"), [])
            return None
        received: list[Any] = []  # a streamed call's items, as they come
        try:
            value = worker.call(call, self._limits.seconds if call.timed else None, received)
            call.future.set_result(Streamed(tuple(received)) if call.streamed else value)
        except Lost as exc:
            worker.kill()
            _settle(call, exc, received)
            return Worker.start(self._limits, self._context)
        except Exception as exc:  # raised by the call, or its arguments or result cannot be pickled
            _settle(call, exc, received)
        return worker


def _settle(call: Call, exc: Exception, received: list[Any]) -> None:
    """A call that went wrong: a streamed one gives the items it made before, and why it ended."""
    if call.streamed:
        call.future.set_result(Streamed(tuple(received), exc))
    else:
        call.future.set_exception(exc)


def _stream_here(fn: Callable[..., Iterable[Any]], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Streamed[Any]:
    items: list[Any] = []
    try:
        items.extend(item for item in fn(*args, **kwargs) if not isinstance(item, Clock))
    except Exception as exc:
        return Streamed(tuple(items), exc)
    return Streamed(tuple(items))


class Pending(Generic[R]):
    """A submitted call; ``result()`` waits for it."""

    def __init__(self, future: Future[R]) -> None:
        self._future = future

    def result(self) -> R:
        return self._future.result()
