"""The WARC files of a scheduled run, one sink per site: ``<prefix>-<UTC timestamp>-<serial>.warc.gz``.

Files grow across runs. When a sink first needs a file, it continues the newest file of its
prefix in the folder if that file was started the same UTC day (the day in its name, against the
sink's clock) and is still below ``max_bytes``: new gzip members go after its last record, the
first of them a ``warcinfo`` record for the run that appends. Otherwise, and whenever the file
being written has grown past ``max_bytes``, a new file is started. A run every ten minutes thus
writes one file per site and day, not 144.

Crash safety: ``<name>.open`` is made before a file is written to (a new one or one continued)
and removed when it is closed cleanly; one left behind by a killed run names a file whose last
record may be torn, which ``repair_unclosed`` (called before any sink opens) cuts off. A file is
never continued while it is marked open, when it is not a regular file (a symlink), or when it
does not end with a whole record: a new file is started instead.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from glob import escape
from pathlib import Path

from scraper.archive.layout import open_marker
from scraper.capture.warc.checker import check_records, torn_tail
from scraper.capture.warc.reader import ReadProblem
from scraper.capture.warc.writer import WarcFile

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
    docstring says. ``paths`` lists every file written to, for the caller to index."""

    def __init__(
        self, folder: Path, relative_to: Path, prefix: str, max_bytes: int, info: Mapping[str, str],
        clock: Callable[[], datetime],
    ) -> None:  # fmt: skip
        self._folder, self._relative_to, self._prefix = folder, relative_to, prefix
        self._max, self._info, self._clock = max_bytes, info, clock
        self._file: WarcFile | None = None
        self.paths: list[Path] = []

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
        open_marker(path).parent.mkdir(parents=True, exist_ok=True)
        open_marker(path).touch()  # removed on a clean close: one left behind names a file to check
        file = WarcFile(path, Path(os.path.relpath(path, self._relative_to)).as_posix(), append=appending)
        file.write_warcinfo(self._info)
        self.paths.append(path)
        return file

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            open_marker(self._file.path).unlink(missing_ok=True)
            self._file = None


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


def repair_unclosed(folder: Path) -> list[str]:
    """WARC files a killed run left open: a torn last record is cut off the file and kept beside it
    in ``<name>.torn`` (added to what an earlier repair kept there: evidence is never deleted), so
    every file reads cleanly again. Returns one line per file repaired."""
    said = []
    for marker in sorted(folder.glob("*.warc.gz.open")):
        path = marker.with_name(marker.name.removesuffix(".open"))
        end = _end_of_last_record(path) if path.exists() else None
        if end is not None and end < path.stat().st_size:
            torn = _cut(path, end)
            said.append(f"{path}: torn last record ({torn} bytes) cut off at offset {end}, kept in {path.name}.torn")
        marker.unlink()
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


def _end_of_last_record(path: Path) -> int:
    """Where the last whole, digest-clean record ends: where ``check_records`` finds the first
    torn or bad record, or the torn tail."""
    for found in check_records(path):
        if isinstance(found, ReadProblem) or found.problems:
            return found.offset
    return path.stat().st_size
