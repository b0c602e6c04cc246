"""CDXJ indexes beside the WARC files: the only module that imports cdxj_indexer.

``index_warc(path)`` writes ``<name>.warc.gz.cdxj`` next to the WARC: one sorted line per
``response`` and ``revisit`` record (SURT key, 14-digit timestamp, JSON with url, mime, status,
digest, length, offset, filename), the format pywb and other replay tools read. The filename is
the WARC's own name, so the index stays valid wherever the folder is moved. An index is rewritten
atomically, and only when its WARC changed after it was indexed (a file a later run continued is
indexed again, whole). A WARC that does not end with a whole record (a torn tail) is not indexed:
its problem names the offset where the torn record starts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from scraper.archive.layout import open_marker, read_only_reason
from scraper.capture.warc import torn_tail
from scraper.errors import ArchiveError, UsageError

INDEX_SUFFIX = ".cdxj"
# what a replay tool can serve. Named here rather than left to cdxj-indexer's default list, which
# the wacz package extends (with warcinfo) when it is imported into the same process.
_RECORDS = "response,revisit,resource"


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
    """Write (or rewrite) the CDXJ index of one WARC file beside it; returns the index's path."""
    if not path.is_file():
        raise UsageError(f"{path}: no such WARC file")
    if why := read_only_reason(path.parent):
        raise ArchiveError(f"{path.parent}: read-only ({why}): the index of {path.name} cannot be written beside it")
    index = index_path(path)
    temp = index.with_name(f".{index.name}.{os.getpid()}.tmp")
    # cdxj-indexer reads a cut record without a word, and would list it with the length left
    try:
        torn = torn_tail(path)
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot index: {exc.strerror or exc}") from exc
    if torn is not None:
        raise ArchiveError(f"{path}: not indexed: {torn.reason}")
    try:
        # imported here, not at the top: it pulls in pyamf and pkg_resources, a third of the start-up
        # of every command, and only indexing needs it
        from cdxj_indexer.main import CDXJIndexer

        seen = path.stat()
        CDXJIndexer(str(temp), [str(path)], sort=True, records=_RECORDS).process_all()
        # the index carries the modification time of the WARC it describes: a WARC written to
        # after this moment (or copied in with a later time) is newer, and is indexed again
        os.utime(temp, ns=(seen.st_atime_ns, seen.st_mtime_ns))
        os.replace(temp, index)
    except Exception as exc:  # cdxj-indexer and warcio raise many kinds on a damaged file
        temp.unlink(missing_ok=True)
        raise ArchiveError(f"{path}: cannot index: {type(exc).__name__}: {exc}") from exc
    return index


def refuse_read_only(warcs: Iterable[Path]) -> None:
    """For ``scraper index``, before anything is written: every index goes beside its WARC."""
    for folder in dict.fromkeys(warc.parent for warc in warcs):
        if why := read_only_reason(folder):
            raise ArchiveError(f"{folder}: read-only ({why}): the indexes go beside the WARC files; nothing done")


def index_all(warcs: Iterable[Path], force: bool = False) -> Iterator[Indexed]:
    """Bring the index of every WARC up to date; one failure does not stop the others."""
    for warc in warcs:
        if is_open(warc):
            problem = "still being written (or left open by a killed run)"
            yield Indexed(warc, index_path(warc), False, problem=problem, skipped=True)
        else:
            yield _up_to_date(warc, force)


def _up_to_date(warc: Path, force: bool) -> Indexed:
    index = index_path(warc)
    if not force and is_current(warc):
        try:
            return Indexed(warc, index, False, len(read_index(index)))
        except ArchiveError:
            pass  # a damaged index is written again below
    try:
        return Indexed(warc, index_warc(warc), True, len(read_index(index)))
    except ArchiveError as exc:
        return Indexed(warc, index, False, problem=str(exc))


def read_index(path: Path) -> list[IndexEntry]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read index: {exc.strerror or exc}") from exc
    try:
        return [_entry(line) for line in lines if line.strip()]
    except (ValueError, KeyError, TypeError) as exc:
        raise ArchiveError(f"{path}: not a CDXJ index: {exc}") from exc


def _entry(line: str) -> IndexEntry:
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
