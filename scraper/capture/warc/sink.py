"""The WARC files of a scheduled run, one sink per site: ``<prefix>-<UTC timestamp>-<serial>.warc.gz``.

Files grow across runs. When a sink first needs a file, it continues the newest file of its
prefix in the folder if that file was started the same UTC day (the day in its name, against the
sink's clock) and is still below ``max_bytes``: new gzip members go after its last record, the
first of them a ``warcinfo`` record for the run that appends. Otherwise, and whenever the file
being written has grown past ``max_bytes``, a new file is started. A run every ten minutes thus
writes one file per site and day, not 144.

Crash safety: ``<name>.open`` is made before a file is written to (a new one or one continued)
and removed when it is closed cleanly; one left behind by a killed run names a file whose last
record may be torn, which ``repair_unclosed`` (called before any sink opens) cuts off, and only
that: a record damaged before it is said and kept. The marker is locked (``flock``) while its file
is written, so a repair started meanwhile by another process (a ``fetch`` beside a run) leaves a
file that is still growing alone; the lock goes with the process that held it. A file is never
continued while it is marked open, when it is not a regular file (a symlink), or when it does not
end with a whole record: a new file is started instead.
"""

from __future__ import annotations

import fcntl
import os
import re
import stat
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from glob import escape
from pathlib import Path

from scraper.archive.inside import folder_inside
from scraper.archive.layout import open_marker
from scraper.capture.warc.checker import RecordCheck, torn_tail, walk
from scraper.capture.warc.writer import WarcFile, Written
from scraper.errors import ArchiveError

_STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"-(\d{8})T\d{6}Z-\d{5}\.warc\.gz")  # after the prefix: the day, the rest of the stamp, the serial


def new_warc_path(folder: Path, prefix: str, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime(_STAMP)
    serial = 0
    while (candidate := folder / f"{prefix}-{stamp}-{serial:05d}.warc.gz").exists():
        serial += 1
    return candidate


class WarcSink:
    """Where one site's records go: the file being written, continued or started as the module
    docstring says. ``paths`` lists every file written to; ``written`` says, of each file closed,
    what was written to it, for the caller to index."""

    def __init__(
        self, folder: Path, relative_to: Path, prefix: str, max_bytes: int, info: Mapping[str, str],
        clock: Callable[[], datetime],
    ) -> None:  # fmt: skip
        self._folder, self._relative_to, self._prefix = folder, relative_to, prefix
        self._max, self._info, self._clock = max_bytes, info, clock
        self._file: WarcFile | None = None
        self._marker: int | None = None
        self.paths: list[Path] = []
        self.written: list[Written] = []

    def __enter__(self) -> WarcSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def current(self) -> WarcFile:
        if self._file is not None and self._file.size >= self._max:
            self.close()
        if self._file is None:
            self._file = self._open()
        return self._file

    def _open(self) -> WarcFile:
        now = self._clock()
        # only the first file of a sink may be an earlier one: a later one follows a full file
        path = None if self.paths else _continuable(self._folder, self._prefix, now, self._max)
        appending = path is not None
        path = path or new_warc_path(self._folder, self._prefix, now)
        self._marker = mark_open(path, self._relative_to)
        relative = Path(os.path.relpath(path, self._relative_to)).as_posix()
        file = WarcFile(path, relative, append=appending, root=self._relative_to)
        file.write_warcinfo(self._info)
        self.paths.append(path)
        return file

    def close(self) -> None:
        if self._file is not None:
            self.written.append(self._file.written())
            self._file.close()
            open_marker(self._file.path).unlink(missing_ok=True)
            self._file = None
        if self._marker is not None:
            os.close(self._marker)
            self._marker = None


def mark_open(path: Path, root: Path) -> int:
    """``<path>.open`` made and locked for as long as the descriptor returned stays open: removed on
    a clean close, left behind it names a file to repair. Made in the folder opened and checked to
    be inside the archive at ``root``, as the WARC file is."""
    marker = open_marker(path)
    with folder_inside(root, marker.parent) as folder:
        try:
            fd = os.open(marker.name, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=folder)
        except OSError as exc:
            raise ArchiveError(f"{marker}: cannot mark the WARC file open: {exc.strerror or exc}") from exc
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def being_written(marker: Path) -> bool:
    """Whether a process holds ``marker`` locked: its file is growing, not left open by a kill."""
    try:
        fd = os.open(marker, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _continuable(folder: Path, prefix: str, now: datetime, max_bytes: int) -> Path | None:
    """The newest WARC file of ``prefix`` in ``folder``, if a sink may append to it now."""
    named = [(m[1], p) for p in folder.glob(f"{escape(prefix)}-*.warc.gz") if (m := _dated(p, prefix))]
    if not named:
        return None
    day, path = max(named, key=lambda found: found[1].name)  # the timestamp and serial sort by name
    if day != now.astimezone(UTC).strftime("%Y%m%d") or open_marker(path).exists():
        return None
    try:
        info = path.lstat()  # a symlink is not followed: it may lead anywhere
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size >= max_bytes:
        return None
    return path if torn_tail(path) is None else None


def _dated(path: Path, prefix: str) -> re.Match[str] | None:
    return _NAME.fullmatch(path.name, len(prefix))


def left_open(folder: Path) -> list[Path]:
    """The WARC files of ``folder`` marked open: being written, or left so by a killed process."""
    return [m.with_name(m.name.removesuffix(".open")) for m in sorted(folder.glob("*.warc.gz.open"))]


def repair_unclosed(folder: Path) -> list[str]:
    """WARC files a killed run left open: what follows the last record that reads whole (a torn
    record, bytes that are none) is cut off the file and kept beside it in ``<name>.torn`` (added
    to what an earlier repair kept there: evidence is never deleted), so that the file ends with a
    whole record again. A damaged record before that one stays where it is, and so do the records
    after it, which texts and the catalog point at: it is said, not cut. A file left empty is
    removed. Returns one line per file cut and per damaged record kept."""
    said = []
    for path in left_open(folder):
        marker = open_marker(path)
        if being_written(marker):
            said.append(f"{path}: being written by another process: not repaired")
            continue
        try:
            if path.is_file() and not path.is_symlink():
                said += _repair(path)
            marker.unlink()
        except OSError as exc:
            raise ArchiveError(f"{path}: cannot repair the file a killed run left open: {exc.strerror or exc}") from exc
    return said


def _repair(path: Path) -> list[str]:
    end, damaged = 0, []
    for checked in walk(path):
        if isinstance(checked.found, RecordCheck):
            end = checked.end
            if checked.found.problems:
                damaged.append((checked.start, "; ".join(checked.found.problems)))
        elif checked.start < checked.end:  # a file of 0 bytes is a stretch of none
            damaged.append((checked.start, checked.found.reason))
    said = [f"{path}: record at offset {at} damaged: kept, not cut ({why})" for at, why in damaged if at < end]
    if end < path.stat().st_size:
        torn = _cut(path, end)
        said.append(f"{path}: torn last record ({torn} bytes) cut off at offset {end}, kept in {path.name}.torn")
    if end == 0:
        path.unlink()  # nothing whole was ever in it; what was is in the .torn file
        said.append(f"{path}: no whole record in it: removed")
    return said


def _cut(path: Path, end: int) -> int:
    """The file cut at ``end``, what is cut off added to ``<name>.torn`` first."""
    with open(path, "r+b") as fh:
        fh.seek(end)
        torn = fh.read()
        with open(path.with_name(path.name + ".torn"), "ab") as kept:
            kept.write(torn)
            kept.flush()
            os.fsync(kept.fileno())
        fh.truncate(end)
        os.fsync(fh.fileno())
    return len(torn)
