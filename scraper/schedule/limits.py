"""What bounds a scheduled run: its budget, the pace of requests per host, the archive lock."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from scraper.errors import UsageError
from scraper.schedule.robots import Robots


class Budget:
    """Shared by the site threads: how many articles may still be fetched, until when, and
    whether a stop was asked for."""

    def __init__(self, max_articles: int | None, seconds: float | None, stop: threading.Event) -> None:
        self._left = max_articles
        self._deadline = time.monotonic() + seconds if seconds is not None else None
        self._lock = threading.Lock()
        self.stop = stop

    def wait(self, seconds: float) -> bool:
        """A wait (a host's delay, a retry's backoff, a Retry-After), like ``Event.wait``: True,
        without waiting, when it would end past the time budget, and as soon as a stop is asked."""
        left = self.left()
        if left is not None and seconds > left:
            return True
        return self.stop.wait(seconds)

    def left(self) -> float | None:
        """Seconds until the time budget ends (0 once it has, or a stop was asked); None: no limit."""
        if self.stop.is_set():
            return 0.0
        return None if self._deadline is None else max(0.0, self._deadline - time.monotonic())

    def spent(self) -> bool:
        return self.stop.is_set() or (self._deadline is not None and time.monotonic() >= self._deadline)

    def take(self) -> bool:
        with self._lock:
            if self.spent() or self._left == 0:
                return False
            if self._left is not None:
                self._left -= 1
            return True


class Waits(Protocol):
    """What a wait goes through: a stop event (``threading.Event``: a stop request ends it) or a
    ``Budget`` (which also refuses a wait that would end past its time limit). True: do not go on."""

    def wait(self, seconds: float, /) -> bool: ...


class HostPacer:
    """One request at a time per host, ``delay`` seconds apart; more if robots.txt asks, up to
    ``crawl_delay_max`` (a site's ``Crawl-delay: 86400`` would otherwise hold a run for a day)."""

    def __init__(self, delay: float, crawl_delay_max: float, robots: Robots | None, user_agent: str, waits: Waits):
        self._delay, self._crawl_delay_max, self._robots = delay, crawl_delay_max, robots
        self._agent, self._waits = user_agent, waits
        self._next: dict[str, float] = {}

    def wait(self, url: str) -> bool:
        """Waits for the host's turn. False when the wait was cut short by a stop request, or not
        begun as it would end past the time budget: then nothing more may be sent."""
        host = urlsplit(url).hostname or ""
        asked = self._robots.delay(url, self._agent) if self._robots else None
        pause = max(self._delay, min(asked or 0.0, self._crawl_delay_max))
        if self._waits.wait(max(0.0, self._next.get(host, 0.0) - time.monotonic())):
            return False
        self._next[host] = time.monotonic() + pause
        return True

    def sent(self, url: str) -> None:
        """A request went to the host without waiting its turn (robots.txt, read on the way to
        the first page): the next one waits ``delay`` from now."""
        host = urlsplit(url).hostname or ""
        self._next[host] = max(self._next.get(host, 0.0), time.monotonic() + self._delay)


_held_locks: set[int] = set()  # descriptors of the archive locks this process holds


def _drop_locks_in_child() -> None:
    """In a forked child (a worker), point the lock descriptors at /dev/null: the lock lives as long
    as any process holds its open file, and a worker must not keep it after its run is gone. The
    descriptor numbers stay valid, so nothing in the child closes a stranger's file later."""
    for fd in _held_locks:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, fd)
        os.close(null)
    _held_locks.clear()


os.register_at_fork(after_in_child=_drop_locks_in_child)


@contextmanager
def archive_lock(root: Path) -> Iterator[None]:
    """One run per archive at a time: a second one is told who holds it, and does nothing."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / ".scraper.lock"
    with os.fdopen(_open_lock(path), "r+", encoding="ascii", errors="replace") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = fh.read(32).strip() or "another process"
            raise UsageError(f"{root}: archive in use by pid {holder} (a run or a re-clean); nothing done") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        _held_locks.add(fh.fileno())
        try:
            yield
        finally:
            _held_locks.discard(fh.fileno())
            fh.truncate(0)


def _open_lock(path: Path) -> int:
    """The lock file, opened only if it is a regular file of the archive's own: it is emptied and
    written, so a symlink, a hard link or a device planted under its name would have another file
    emptied. O_NOFOLLOW refuses a symlink, O_NONBLOCK keeps a FIFO from hanging the open."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        _check_lock(path, os.lstat(path))  # before the open: opening a device can act on it
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise UsageError(f"{path}: cannot use as the archive lock: {exc.strerror or exc}; nothing done") from None
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        why = "it is a symlink" if exc.errno == errno.ELOOP else exc.strerror or str(exc)
        raise UsageError(f"{path}: cannot use as the archive lock: {why}; nothing done") from None
    try:
        _check_lock(path, os.fstat(fd))  # again: it may have been swapped since
    except UsageError:
        os.close(fd)
        raise
    os.set_blocking(fd, True)
    return fd


def _check_lock(path: Path, info: os.stat_result) -> None:
    if stat.S_ISLNK(info.st_mode):
        why = "it is a symlink"
    elif not stat.S_ISREG(info.st_mode):
        why = "it is not a regular file"
    elif info.st_nlink != 1:
        why = "it is a hard link, another name of a file that may be outside the archive"
    else:
        return
    raise UsageError(f"{path}: cannot use as the archive lock: {why}; remove it; nothing done")
