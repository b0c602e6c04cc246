"""CDXJ indexes beside the WARC files: the only module that imports cdxj_indexer.

``index_warc(path)`` writes ``<name>.warc.gz.cdxj`` next to the WARC: one sorted line per
``response`` and ``revisit`` record (SURT key, 14-digit timestamp, JSON with url, mime, status,
digest, length, offset, filename), the format pywb and other replay tools read. The filename is
the WARC's own name, so the index stays valid wherever the folder is moved. An index is rewritten
atomically, and only when its WARC changed after it was indexed (a file a later run continued is
indexed again, whole). A WARC that does not end with a whole record (a torn tail) is not indexed:
its problem names the offset where the torn record starts. A record damaged in the middle of a WARC
(a digest that fails, a gzip member that does not inflate: what ``verify`` finds) is left out of
the index, so that replay never serves it, and named by its offset; the whole records around it
are indexed. Where an index cannot go beside its WARC (a read-only archive), a command that only
reads (replay, pack) has it written into a folder of its own instead.

A file this process has just written (``run``, ``fetch``) is indexed from what its writer wrote,
not read again: ``cdx_written``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from scraper.archive.layout import open_marker, read_only_reason
from scraper.capture.warc import ReadProblem, left_open, repair_unclosed, torn_tail
from scraper.capture.warc.checker import walk
from scraper.capture.warc.records import Bounded
from scraper.errors import ArchiveError, UsageError

INDEX_SUFFIX = ".cdxj"
# what a replay tool can serve. Named here rather than left to cdxj-indexer's default list, which
# the wacz package extends (with warcinfo) when it is imported into the same process.
_RECORDS = "response,revisit,resource"
_LISTED = 10  # offsets of damaged records named in a problem
_SAID_MAX = 200  # characters of cdxj-indexer's message kept in a problem
_INTERNAL = (LookupError, TypeError, AttributeError, ValueError)  # an indexer's bug, not a word on the file


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One line of a CDXJ index."""

    urlkey: str
    timestamp: str  # 14 digits, UTC
    url: str
    mime: str
    status: str | None
    digest: str | None
    length: int
    offset: int
    filename: str  # the WARC's name, relative to the folder holding the index


@dataclass(frozen=True, slots=True)
class Indexed:
    """What became of one WARC: its index written, already current, skipped or failed (``problem``)."""

    warc: Path
    index: Path
    written: bool
    entries: int = 0
    problem: str | None = None
    skipped: bool = False  # a WARC still being written, or left open by a killed run

    @property
    def note(self) -> str:
        """What went wrong, naming the WARC once."""
        problem = self.problem or ""
        return problem if problem.startswith(str(self.warc)) else f"{self.warc}: {problem}"


def index_path(warc: Path) -> Path:
    return warc.with_name(warc.name + INDEX_SUFFIX)


def is_open(warc: Path) -> bool:
    """A run marks the WARC it writes with ``<name>.open`` until the file is closed."""
    return open_marker(warc).exists()


def is_current(warc: Path) -> bool:
    index = index_path(warc)
    try:
        return index.stat().st_mtime_ns >= warc.stat().st_mtime_ns
    except FileNotFoundError:
        return False


def index_warc(path: Path) -> Path:
    """Write (or rewrite) the CDXJ index of one WARC file beside it; returns the index's path. A
    record that is damaged (a digest that fails, a gzip member that does not inflate, bytes that
    hold no record) is left out, and then, the index of the rest written, an ArchiveError says so."""
    written = _write_index(path, index_path(path))
    if written.left_out:
        raise ArchiveError(written.left_out)
    return written.index


@dataclass(frozen=True, slots=True)
class _Written:
    index: Path
    left_out: str | None  # the damaged records not indexed, said in one line


def _write_index(path: Path, index: Path) -> _Written:
    if not path.is_file():
        raise UsageError(f"{path}: no such WARC file")
    if why := read_only_reason(index.parent):
        raise ArchiveError(f"{index.parent}: read-only ({why}): the index of {path.name} cannot be written there")
    temp = index.with_name(f".{index.name}.{os.getpid()}.tmp")
    try:
        # cdxj-indexer reads a cut record without a word, and would list it with the length left
        if (torn := torn_tail(path)) is not None:
            raise ArchiveError(f"{path}: not indexed: {torn.reason}")
        seen = path.stat()
        whole, damaged = _whole_records(path)
        with open(path, "rb") as fh:
            _index_stretches(temp, [Bounded(fh.fileno(), start, stop) for start, stop in whole], path)
        # the index carries the modification time of the WARC it describes: a WARC written to after
        # this moment (or copied in with a later time) is newer, and is indexed again. One that left
        # damaged records out is never current: each time it is indexed, that is said again
        os.utime(temp, ns=(seen.st_atime_ns, seen.st_mtime_ns - bool(damaged)))
        os.replace(temp, index)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ArchiveError(f"{path}: cannot index: {exc.strerror or exc}") from exc
    except BaseException:  # a stop (Ctrl-C, SIGTERM) or a damaged file: no temporary file left behind
        temp.unlink(missing_ok=True)
        raise
    return _Written(index, _said(path, damaged) if damaged else None)


def _whole_records(path: Path) -> tuple[list[tuple[int, int]], list[ReadProblem]]:
    """The stretches [start, stop) of whole records whose digests hold, and what is wrong with the
    rest, from ``verify``'s walk through every byte of the file: only those go to a replay tool."""
    whole: list[tuple[int, int]] = []
    damaged = []
    for checked in walk(path):
        found = checked.found
        if isinstance(found, ReadProblem) or found.problems:
            reason = found.reason if isinstance(found, ReadProblem) else "; ".join(found.problems)
            damaged.append(ReadProblem(str(path), checked.start, reason))
        elif whole and whole[-1][1] == checked.start:
            whole[-1] = (whole[-1][0], checked.end)
        else:
            whole.append((checked.start, checked.end))
    return whole, damaged


def _said(path: Path, damaged: list[ReadProblem]) -> str:
    first, more = damaged[0], [str(p.offset) for p in damaged[1:]]
    said = f"{path}: {len(damaged)} damaged record(s) left out of its index: at offset {first.offset}: {first.reason}"
    if more:
        said += f"; and at offset {', '.join(more[:_LISTED])}" + (", ..." if len(more) > _LISTED else "")
    return said


def _index_stretches(temp: Path, stretches: list[Bounded], path: Path) -> None:
    try:
        # imported here, not at the top: it pulls in pyamf and pkg_resources, a third of the start-up
        # of every command, and only indexing needs it
        from cdxj_indexer.main import CDXJIndexer

        CDXJIndexer(str(temp), stretches, sort=True, records=_RECORDS, filename=path.name).process_all()
    except Exception as exc:  # cdxj-indexer and warcio raise many kinds
        temp.unlink(missing_ok=True)
        # warcio's own errors say what it could not read (quoting the bytes); Python's (a TypeError)
        # speak of the indexer's code, not of the file
        said = next(iter(str(exc).splitlines()), "")[:_SAID_MAX]
        if isinstance(exc, _INTERNAL) or not said:
            said = "the indexer cannot read a record in it"
        raise ArchiveError(f"{path}: cannot index: {said}") from exc


def refuse_read_only(warcs: Iterable[Path]) -> None:
    """For ``scraper index``, before anything is written: every index goes beside its WARC."""
    for folder in dict.fromkeys(warc.parent for warc in warcs):
        if why := read_only_reason(folder):
            raise ArchiveError(f"{folder}: read-only ({why}): the indexes go beside the WARC files; nothing done")


def index_all(warcs: Iterable[Path], force: bool = False, elsewhere: Path | None = None) -> Iterator[Indexed]:
    """Bring the index of every WARC up to date; one failure does not stop the others. An index
    that cannot be written beside its WARC goes into ``elsewhere``, when given (made if need be)."""
    for warc in warcs:
        if is_open(warc):
            problem = "still being written (or left open by a killed run)"
            yield Indexed(warc, index_path(warc), False, problem=problem, skipped=True)
        else:
            yield _up_to_date(warc, force, elsewhere)


def _up_to_date(warc: Path, force: bool, elsewhere: Path | None) -> Indexed:
    index = index_path(warc)
    if not force and is_current(warc):
        try:
            return Indexed(warc, index, False, len(read_index(index)))
        except ArchiveError:
            pass  # a damaged index is written again below
    if elsewhere is not None and read_only_reason(warc.parent):
        elsewhere.mkdir(parents=True, exist_ok=True)
        index = elsewhere / index.name
    try:
        written = _write_index(warc, index)
        return Indexed(warc, index, True, len(read_index(index)), problem=written.left_out)
    except (ArchiveError, UsageError) as exc:  # UsageError: the file is gone
        return Indexed(warc, index, False, problem=str(exc))


def repaired(folder: Path) -> list[str]:
    """WARC files a killed process left open in ``folder``, repaired (``repair_unclosed``), then
    indexed again whole: their index lacks what that process wrote, or is missing. A line for each
    file cut and each index that could not be written."""
    left = left_open(folder)
    said = [f"repaired: {line}" for line in repair_unclosed(folder)]
    done = index_all([warc for warc in left if warc.is_file()], force=True)
    return said + [f"not indexed: {i.note}" for i in done if i.problem and not i.skipped]


def read_index(path: Path) -> list[IndexEntry]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read index: {exc.strerror or exc}") from exc
    try:
        return [index_entry(line) for line in lines if line.strip()]
    except (ValueError, KeyError, TypeError) as exc:
        raise ArchiveError(f"{path}: not a CDXJ index: {exc}") from exc


def index_entry(line: str) -> IndexEntry:
    urlkey, timestamp, data = line.split(" ", 2)
    fields = json.loads(data)
    return IndexEntry(
        urlkey=urlkey,
        timestamp=timestamp,
        url=fields["url"],
        mime=fields.get("mime", ""),
        status=fields.get("status"),
        digest=fields.get("digest"),
        length=int(fields["length"]),
        offset=int(fields["offset"]),
        filename=fields["filename"],
    )
