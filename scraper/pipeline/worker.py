"""One worker process, forked: the parent's end of it, and the worker's life (``Extractors`` runs
a pool of them). A worker ignores Ctrl-C and SIGTERM, whose stop the parent decides, and ends with
the parent; the parent bounds each call in time and memory (Linux: /proc, prctl, RLIMIT_DATA)."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from scraper.errors import WorkerError

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


class Lost(WorkerError):
    """A call broke a limit or its worker died: the worker goes."""


@dataclass(frozen=True, slots=True)
class Limits:
    seconds: float | None
    memory: int | None  # bytes a call may use on top of an idle worker's


@dataclass(frozen=True, slots=True)
class Clock:
    """What a streamed call yields before the work that its next item ends: the time limit counts from
    this mark to that item. What comes between an item and the next mark (reading a record) is not
    timed, as a call that reads the archive and one that only extracts should be judged alike."""


CLOCK = Clock()


@dataclass(frozen=True, slots=True)
class Call:
    future: Future[Any]
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    timed: bool
    streamed: bool = False


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


class Worker:
    """A forked worker process, the parent's end of its pipe, and how far it may grow."""

    def __init__(self, process: Any, conn: Connection, limits: Limits, most_resident: int | None) -> None:
        self.process, self.conn, self.limits, self.most_resident = process, conn, limits, most_resident

    @classmethod
    def start(cls, limits: Limits, context: object) -> Worker | None:
        # one fork at a time: a worker forked while another's end of its pipe is open here would
        # keep that pipe open, and the parent would not see the other die
        with _FORKING:
            here, there = _FORK.Pipe()
            # forked, not spawned: the arguments, context and all, are in the child's memory, not pickled
            process = _FORK.Process(target=_serve, args=(there, os.getpid(), limits.memory, context), daemon=True)
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

    def call(self, call: Call, seconds: float | None, received: list[Any]) -> Any:
        """The call's result (a streamed call's items go to ``received`` as they come); what it
        raised, raised here; WorkerError when it broke a limit or the worker died under it."""
        try:
            self.conn.send((call.fn, call.args, call.kwargs, call.streamed))
        except OSError as exc:
            raise Lost("a worker process died") from exc
        # a streamed call is timed from each mark to the item after it, a plain one whole
        clock = None if call.streamed else seconds
        while (reply := self._reply(clock))[0] == "item":
            if isinstance(reply[1], Clock):
                clock = seconds
                continue
            received.append(reply[1])
            clock = None
        kind, value = reply
        if kind == "raised":
            raise value
        return value

    def _reply(self, seconds: float | None) -> tuple[str, Any]:
        deadline = None if seconds is None else time.monotonic() + seconds
        while not self.conn.poll(_LOOK_S):
            if deadline is not None and time.monotonic() > deadline:
                raise Lost(f"extraction took longer than {seconds:g} s")
            if self.most_resident is not None and self._resident() > self.most_resident:
                raise self._too_big()
        try:
            kind, value = self.conn.recv()
        except (OSError, EOFError) as exc:
            raise Lost("a worker process died") from exc
        if kind == "memory":
            raise self._too_big()
        return kind, value

    def _resident(self) -> int:
        try:
            with open(f"/proc/{self.process.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            return 0  # gone: the pipe says so at the next look

    def _too_big(self) -> Lost:
        return Lost(f"extraction needed more than {(self.limits.memory or 0) >> 20} MB")

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


def _serve(conn: Connection, parent: int, memory: int | None, context: object) -> None:
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
        fn, args, kwargs, streamed = call
        reply = _stream(conn, most_resident, fn, (context, *args), kwargs) if streamed else _reply(fn, args, kwargs)
        if reply[0] == "memory" or (most_resident is not None and _peak() > most_resident):
            # past the bound between two looks of the parent: its reply may stand on a failed
            # allocation, and this worker's peak is spent
            conn.send(("memory", None))
            return
        if unsent := _send(conn, reply):
            conn.send(unsent)


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


def _stream(
    conn: Connection, most_resident: int | None, fn: Callable[..., Iterable[Any]], args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> tuple[str, Any]:  # fmt: skip
    """Sends each item ``fn`` yields as it comes; returns the call's last reply."""
    try:
        for item in fn(*args, **kwargs):
            if most_resident is not None and _peak() > most_resident:
                return "memory", None
            if unsent := _send(conn, ("item", item)):
                return unsent
    except MemoryError:
        return "memory", None
    except Exception as exc:
        return "raised", exc
    return "ok", None


def _send(conn: Connection, reply: tuple[str, Any]) -> tuple[str, Any] | None:
    """Sends ``reply``; when it cannot be pickled (nothing is sent then), the reply to send instead."""
    try:
        conn.send(reply)
    except MemoryError:
        return "memory", None
    except Exception as exc:  # a result or an exception that cannot be pickled
        return "raised", WorkerError(f"the worker's reply could not be sent: {type(exc).__name__}: {exc}")
    return None
