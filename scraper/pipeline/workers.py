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
import ctypes
import multiprocessing
import os
import queue
import resource
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Generic, ParamSpec, TypeVar

from scraper.errors import WorkerError

P = ParamSpec("P")
R = TypeVar("R")

_FORK = multiprocessing.get_context("fork")
_ORPHAN_CHECK_S = 0.5  # where prctl is missing: how often a worker looks whether its parent is still there


def _ignore_stop_signals() -> None:
    # Ctrl-C and systemd's SIGTERM reach every process of the group: the parent decides when to
    # stop, and a worker killed under its page would turn that page into a failure
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_ORPHAN_CHECK_S)
    os._exit(1)


class _Lost(WorkerError):
    """A call broke a limit or its worker died: the worker goes."""


@dataclass(frozen=True, slots=True)
class _Limits:
    seconds: float | None
    memory: int | None  # bytes a call may use on top of an idle worker's


@dataclass(frozen=True, slots=True)
class _Call:
    future: Future[Any]
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    timed: bool


class Extractors:
    """Runs calls in ``jobs`` worker processes, or in the calling thread when ``jobs`` <= 1 and no
    limit is set.

    ``submit`` hands back a ``Pending`` at once, so a site thread can fetch its next page while a
    worker extracts the last one. A call fails with ``WorkerError`` saying why when it takes longer
    than ``seconds``, needs more than ``memory_mb`` on top of an idle worker's memory, or its worker
    dies (the kernel's OOM killer, a crash in a C library); a new worker takes that one's place.
    """

    def __init__(self, jobs: int, seconds: float | None = None, memory_mb: int | None = None) -> None:
        self.jobs = max(1, jobs)
        self._limits = _Limits(seconds, memory_mb << 20 if memory_mb else None)
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
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
        return self._submit(_Call(Future(), fn, args, kwargs, timed=True))

    def submit_untimed(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> Pending[R]:
        """Call ``fn`` within the memory bound but with no time limit: for work whose time grows
        with the archive, not with one page (indexing a site's WARC files)."""
        return self._submit(_Call(Future(), fn, args, kwargs, timed=False))

    def _submit(self, call: _Call) -> Pending[Any]:
        if self._runners:
            self._calls.put(call)
            return Pending(call.future)
        try:
            call.future.set_result(call.fn(*call.args, **call.kwargs))
        except Exception as exc:
            call.future.set_exception(exc)
        return Pending(call.future)

    def _run(self, forked: threading.Barrier) -> None:
        worker = _Worker.start(self._limits)
        forked.wait()
        while (call := self._calls.get()) is not None:
            if call.future.set_running_or_notify_cancel():
                worker = self._call(worker, call)
        if worker is not None:
            worker.stop()

    def _call(self, worker: _Worker | None, call: _Call) -> _Worker | None:
        """Runs the call; returns the worker for the next one: this one, a new one if this one had
        to go, or None if none could be forked (tried again at the next call)."""
        if worker is None and (worker := _Worker.start(self._limits)) is None:
            call.future.set_exception(WorkerError("no worker process could be started"))
            return None
        try:
            call.future.set_result(worker.call(call, self._limits.seconds if call.timed else None))
        except _Lost as exc:
            worker.kill()
            call.future.set_exception(exc)
            return _Worker.start(self._limits)
        except Exception as exc:  # raised by the call, or its arguments or result cannot be pickled
            call.future.set_exception(exc)
        return worker


class Pending(Generic[R]):
    """A submitted call; ``result()`` waits for it."""

    def __init__(self, future: Future[R]) -> None:
        self._future = future

    def result(self) -> R:
        return self._future.result()


# How often the parent looks at a busy worker's memory: lxml builds a tree at about 700 MB/s, so a
# worker gets ~15 MB past its bound at most before the parent stops it.
_LOOK_S = 0.02
_PAGE = os.sysconf("SC_PAGE_SIZE")
# The data segment may grow a sixteenth past the bound, a hard stop, so that the parent and not a
# failed allocation ends a worker: lxml reports one as a parse error and trafilatura swallows some,
# which would give a shorter text instead of a failure.
_SLACK = 16
_START_S = 10.0  # a forked worker says it is ready in milliseconds; one that does not never will
_PR_SET_PDEATHSIG = 1
_FORKING = threading.Lock()
try:  # resolved now, in the parent: a forked child then calls it without the loader's lock
    _PRCTL: Any = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: the worker watches its parent instead
    _PRCTL = None


class _Worker:
    """A forked worker process, the parent's end of its pipe, and how far it may grow."""

    def __init__(self, process: Any, conn: Connection, limits: _Limits, most_resident: int | None) -> None:
        self.process, self.conn, self.limits, self.most_resident = process, conn, limits, most_resident

    @classmethod
    def start(cls, limits: _Limits) -> _Worker | None:
        # one fork at a time: a worker forked while another's end of its pipe is open here would
        # keep that pipe open, and the parent would not see the other die
        with _FORKING:
            here, there = _FORK.Pipe()
            process = _FORK.Process(target=_serve, args=(there, os.getpid(), limits.memory), daemon=True)
            try:
                process.start()
            except OSError:
                here.close()
                return None
            finally:
                there.close()
        worker = cls(process, here, limits, None)
        try:
            if here.poll(_START_S):
                worker.most_resident = here.recv()  # the worker measures its idle size itself
                return worker
        except (OSError, EOFError):
            pass
        worker.kill()
        return None

    def call(self, call: _Call, seconds: float | None) -> Any:
        """The call's result; what it raised, raised here; WorkerError when it broke a limit or the
        worker died under it."""
        try:
            self.conn.send((call.fn, call.args, call.kwargs))
        except OSError as exc:
            raise _Lost("a worker process died") from exc
        deadline = None if seconds is None else time.monotonic() + seconds
        while not self.conn.poll(_LOOK_S):
            if deadline is not None and time.monotonic() > deadline:
                raise _Lost(f"extraction took longer than {seconds:g} s")
            if self.most_resident is not None and self._resident() > self.most_resident:
                raise self._too_big()
        try:
            kind, value = self.conn.recv()
        except (OSError, EOFError) as exc:
            raise _Lost("a worker process died") from exc
        if kind == "memory":
            raise self._too_big()
        if kind == "raised":
            raise value
        return value

    def _resident(self) -> int:
        try:
            with open(f"/proc/{self.process.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            return 0  # gone: the pipe says so at the next look

    def _too_big(self) -> _Lost:
        return _Lost(f"extraction needed more than {(self.limits.memory or 0) >> 20} MB")

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def _serve(conn: Connection, parent: int, memory: int | None) -> None:
    """A worker's life: calls in, replies out, until the parent says stop or is gone."""
    _ignore_stop_signals()
    if _PRCTL is not None:
        # killed with the thread that forked it, at once, even in the middle of a C call
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)
    else:
        threading.Thread(target=_exit_when_orphaned, args=(parent,), name="orphan-watch", daemon=True).start()
    if os.getppid() != parent:  # gone before the lines above
        os._exit(1)
    most_resident = _bound(memory) if memory else None
    conn.send(most_resident)
    while True:
        try:
            call = conn.recv()
        except (EOFError, OSError):
            return
        if call is None:
            return
        reply = _reply(*call)
        if reply[0] == "memory" or (most_resident is not None and _peak() > most_resident):
            # past the bound between two looks of the parent: its reply may stand on a failed
            # allocation, and this worker's peak is spent
            conn.send(("memory", None))
            return
        _send(conn, reply)


def _bound(memory: int) -> int:
    """Caps the data segment; returns the resident size the parent lets this worker reach. Both are
    ``memory`` above what the worker has now. (Data, not address space: a worker forked after
    threads started has their malloc arenas, hundreds of MB of address space, and their stacks,
    8 MB each and mostly never touched: data, counted in the base.)"""
    with open("/proc/self/statm", "rb") as statm:
        fields = statm.read().split()
    resident, data = int(fields[1]) * _PAGE, int(fields[5]) * _PAGE
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    soft = data + memory + memory // _SLACK
    resource.setrlimit(resource.RLIMIT_DATA, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
    return resident + memory


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


def _reply(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "ok", fn(*args, **kwargs)
    except MemoryError:
        return "memory", None
    except Exception as exc:
        return "raised", exc


def _send(conn: Connection, reply: tuple[str, Any]) -> None:
    try:
        conn.send(reply)
    except MemoryError:
        conn.send(("memory", None))
    except Exception as exc:  # a result or an exception that cannot be pickled
        conn.send(("raised", WorkerError(f"the worker's reply could not be sent: {type(exc).__name__}: {exc}")))
