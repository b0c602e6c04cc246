"""Reading WARC files back: ``read_responses`` streams the HTTP responses of a file, or of a
``framing.Span`` of it, as ``Stored`` captures.

A response is yielded only whole: one whose block is shorter than its Content-Length, whose gzip
member does not inflate to its end, or whose digest fails is a ``ReadProblem`` at its offset
instead, and so is any other record that is torn or damaged. Bytes after the last whole record
(a torn tail) are a ``ReadProblem`` too. Reading goes on past a bad record, as ``verify`` does:
past a damaged gzip member (skipped whole, from its start to the next member that starts a
record), bytes warcio cannot read, or a block that swallowed the records after it.
Records whose writer cut the body on purpose (``WARC-Truncated``) are yielded, marked.

A body is read as stored and decoded by ``capture.encoding``, the decoder ``fetch`` uses, within
``max_body``: a response whose body cannot be decoded (a coding not decoded, a bomb, a body that
does not decompress) is yielded with no body and the reason, as ``fetch`` gives it.
"""

from __future__ import annotations

import os
import stat
import zlib
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from scraper.archive.layout import WARC_SUFFIXES
from scraper.capture.encoding import decode_body
from scraper.capture.framing import WHOLE, Member, Span, holds_response, next_member, next_record, swallowed
from scraper.capture.warc.records import Bounded, Corrupt, Record, iterate
from scraper.errors import UsageError
from scraper.models import Capture, RecordRef

TEXT_FIELD = "scraper-text"  # metadata field: where the text of this capture is written
_FIELDS_MAX = 65536  # of a metadata record's payload, read for its fields
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the date of a response that has none
_GZIP = b"\x1f\x8b\x08"  # how a gzip WARC file starts
_NO_INFLATE = "its gzip member does not inflate to its end"


@dataclass(frozen=True, slots=True)
class Stored:
    capture: Capture
    ref: RecordRef
    text_stem: str | None  # from the metadata record: where the capture's text goes
    truncated: str | None = None  # the record's WARC-Truncated reason
    ordinal: int = 0  # its place among the HTTP response records of the file, from 0
    described: bool = False  # a metadata record of this tool came with it (text_stem None: no article)
    undecodable: str | None = None  # why the body could not be decoded (the capture's body is then empty)


@dataclass(frozen=True, slots=True)
class ReadProblem:
    path: str
    offset: int
    reason: str


def is_warc(path: Path) -> bool:
    return path.name.endswith(WARC_SUFFIXES)


def find_warcs(paths: Iterable[Path]) -> list[Path]:
    """WARC files named, or found under folders named; a missing path is a UsageError."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += warcs_under(path)
        elif path.is_file() and is_warc(path):
            found.append(path)
        elif path.exists():
            raise UsageError(f"{path}: not a WARC file (.warc or .warc.gz)")
        else:
            raise UsageError(f"{path}: no such file or folder")
    return found


def warcs_under(folder: Path) -> list[Path]:
    """The regular WARC files under ``folder``, sorted; an entry that cannot be looked at (a
    /proc entry, a folder without permission) is passed over, and a FIFO or device is no WARC."""
    found = []
    for root, _, names in os.walk(folder, onerror=lambda _: None):  # does not follow symlinked folders
        for name in names:
            path = Path(root, name)
            try:
                regular = stat.S_ISREG(path.stat().st_mode)
            except OSError:
                continue
            if regular and is_warc(path):
                found.append(path)
    return sorted(found)


def written_as(path: Path) -> str | None:
    """The file name a WARC file's first record gives it (a warcinfo record's WARC-Filename): the
    name it was written under, which a copy, a link or the file gunzipped does not have."""
    try:
        with open(path, "rb") as fh:
            first = _warcinfo(fh)
    except OSError:
        return None
    return first.header("WARC-Filename") if first is not None else None


def _warcinfo(fh: BinaryIO) -> Record | None:
    """The file's first record, if it is a warcinfo record (its fields read)."""
    fh.seek(0)
    try:
        records = iterate(fh, {"warcinfo": _FIELDS_MAX})
        first = next(records, None)
        records.close()
    except Corrupt:
        return None
    return first if first is not None and first.rec_type == "warcinfo" else None


def read_responses(path: Path, relative_name: str, max_body: int, span: Span = WHOLE) -> Iterator[Stored | ReadProblem]:
    """Every whole response record with an HTTP payload, in file order, bodies decoded within ``max_body``;
    with a span, those of its records only (a span from ``spans``, or any cut at a record's start)."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        yield ReadProblem(str(path), span.start, exc.strerror or str(exc))
        return
    with fh:
        yield from _Reading(fh, path, relative_name, max_body, span).items()


_Items = Generator[Stored | ReadProblem, None, int | None]  # returns where reading goes on, if elsewhere


class _Reading:
    """One file or span read, stretch by stretch: warcio reads from where the last stretch ended
    up to a damaged record; what the records said carries across. A damaged gzip member is skipped
    whole whatever warcio made of it, a response read from it too: what warcio makes of one
    depends on the bytes after it, and a span that ends there must read as the whole file does."""

    def __init__(self, fh: BinaryIO, path: Path, relative_name: str, max_body: int, span: Span) -> None:
        self._fd, self._path, self._name, self._max_body = fh.fileno(), path, relative_name, max_body
        self._size = os.fstat(self._fd).st_size
        self._stop = self._size if span.stop is None else span.stop
        self._gzipped = os.pread(self._fd, len(_GZIP), 0) == _GZIP
        # a byte past max_body tells a body over it from one just as long
        self._bodies = {"response": max_body + 1, "metadata": _FIELDS_MAX, "warcinfo": _FIELDS_MAX}
        self._held: Stored | None = None  # a response waits for the metadata record that says where its text goes
        # the file describes its responses in metadata records (this tool's): one missing is a loss. A
        # span after the start knows it from the file's warcinfo record, as reading from the start would
        first = _warcinfo(fh) if span.start > 0 else None
        self._ours = first is not None and _by_us(_parse_fields(first.body))
        self._ordinal = span.first  # every HTTP response counts, a damaged one too, as ``spans`` counts them
        self._end = self._last = span.start  # where the records read so far end; where the last one starts

    def items(self) -> Iterator[Stored | ReadProblem]:
        at: int | None = self._end
        while at is not None and at < self._stop:
            at = yield from self._stretch(Bounded(self._fd, at, self._stop))
        if self._end < self._stop:
            yield from self._lose("the records after it are torn")
            where = "file" if self._stop == self._size else "span"
            torn = f"torn record at the end of the {where} ({self._stop - self._end} bytes) skipped"
            yield ReadProblem(str(self._path), self._end, torn)
        else:
            yield from _settled(self._held, self._ours)

    def _stretch(self, fh: Bounded) -> _Items:
        try:
            for record in iterate(fh, self._bodies):
                if self._gzipped and (record.end <= record.offset or not _member_at(self._fd, record.offset)):
                    return (yield from self._shared())
                problem = _problem(record)
                if problem and (damage := self._damaged_member(record.offset)) is not None:
                    return (yield from self._skip(*damage, "damaged record", _NO_INFLATE))
                self._end, self._last = record.end, record.offset
                if (at := (yield from self._take(record, problem))) is not None:
                    return self._go_on(at)
        except Corrupt as exc:
            if (damage := self._damaged_member(self._end)) is not None:
                return (yield from self._skip(*damage, "damaged record", _NO_INFLATE))
            at = self._end
            found = next_member(self._fd, at) if self._gzipped else next_record(self._fd, at, self._size)
            return (yield from self._skip(at, found, "corrupt record", str(exc)))
        return None

    def _shared(self) -> _Items:
        """warcio read on inside a gzip member into another record (a file gzipped whole): that one
        and those after it have no offset a text could point at. The rest of the file is left."""
        if self._ours:
            yield from self._lose("the records after it share a gzip member")
        said = "records share a gzip member from here on (a file gzipped whole?): none has an offset of its own"
        yield ReadProblem(str(self._path), self._end, f"{said}; re-compress it one record a member (warcio recompress)")
        self._end = self._stop
        return None

    def _take(self, record: Record, problem: str | None) -> _Items:
        """What one record read whole says; where reading goes on, if not after it."""
        response = record.rec_type == "response" and record.http is not None
        at = None
        if problem:
            if self._ours:  # the damaged record may be the held response's metadata record
                yield from self._lose("a record after it is damaged")
            yield ReadProblem(str(self._path), record.offset, problem)
            # a Content-Length made too large: the records the block swallowed
            at = None if self._gzipped else swallowed(self._fd, record.offset, record.end)
        elif record.rec_type == "warcinfo":
            self._ours = self._ours or _by_us(_parse_fields(record.body))
        elif response:
            yield from _settled(self._held, self._ours)
            self._held = _stored(record, self._name, self._ordinal, self._max_body)
        elif record.rec_type == "metadata" and self._held is not None and _concurrent(record, self._held):
            fields = _parse_fields(record.body)
            self._ours = self._ours or _by_us(fields)
            yield replace(self._held, text_stem=fields.get(TEXT_FIELD), described=_by_us(fields))
            self._held = None
        self._ordinal += response
        return at

    def _damaged_member(self, at: int) -> tuple[int, int] | None:
        """(where it starts, where the next record starts) of the gzip member ``at`` is in, if that
        does not inflate to its end and a record follows it (one that ends the file is left to
        warcio: a torn tail is said so). ``at`` is in the member of the last record read if no
        member starts there: warcio read on in that member past its record."""
        if not self._gzipped:
            return None
        start = at if os.pread(self._fd, len(_GZIP), at) == _GZIP else self._last
        found = next_member(self._fd, start)
        return (start, found) if found is not None and not _inflates(self._fd, start) else None

    def _skip(self, at: int, found: int | None, what: str, why: str) -> _Items:
        """The record at ``at`` cannot be read: what follows it up to ``found`` is skipped. If it
        was read (from a damaged member), it is taken back: counted, never yielded."""
        if self._held is not None and self._held.ref.offset == at:
            self._held = None
        elif at >= self._end:
            self._ordinal += holds_response(self._fd, at, self._gzipped)
        if self._ours:  # the unreadable record may be the held response's metadata record
            yield from self._lose("a record after it is damaged")
        else:
            yield from _settled(self._held, False)
            self._held = None
        if found is None:
            skipped = f"the rest of the file ({self._size - at} bytes) skipped"
        else:
            skipped = f"{found - at} bytes up to the record at offset {found} skipped"
        yield ReadProblem(str(self._path), at, f"{what}, {skipped}: {why}")
        return self._go_on(found)

    def _go_on(self, at: int | None) -> int | None:
        self._end = self._stop if at is None else min(at, self._stop)
        return at

    def _lose(self, why: str) -> Iterator[ReadProblem]:
        """A whole response whose metadata record is lost gives no text rather than one under a
        name it never had."""
        if self._held is not None:
            said = f"response record skipped: {why}, so where its text goes is unknown"
            yield ReadProblem(str(self._path), self._held.ref.offset, said)
        self._held = None


def _inflates(fd: int, offset: int) -> bool:
    """Whether the gzip member at ``offset`` inflates to its end, its CRC and length checked."""
    member = Member(fd, offset)
    try:
        while member.read(1 << 16):
            pass
    except zlib.error:
        return False
    return member.end is not None


def _settled(held: Stored | None, ours: bool) -> Iterator[Stored]:
    """A response whose metadata record never came (another tool's have none). In this tool's
    files it was never recorded as archived (a run marks a capture only once all its records are
    on disk; a repaired file ends before the lost ones): described, with no text named."""
    if held is not None:
        yield replace(held, described=ours)


def _by_us(fields: dict[str, str]) -> bool:
    return fields.get("software", "").startswith("scraper/") or TEXT_FIELD in fields


def _problem(record: Record) -> str | None:
    if record.torn:
        return f"torn {record.rec_type or 'WARC'} record skipped: {record.torn}"
    if not record.rec_type:
        return "not a WARC record"
    if record.problems:
        return f"corrupt or truncated {record.rec_type} record: " + "; ".join(record.problems)
    if record.http is not None and record.status is None:
        return f"response record with no HTTP status: {record.http.line!r}"
    if record.http is not None and _parse_date(record.header("WARC-Date")) is None:
        return f"response record with a WARC-Date that is no date: {record.header('WARC-Date')!r}"
    return None


def _concurrent(record: Record, held: Stored) -> bool:
    return record.header("WARC-Concurrent-To") == held.ref.record_id


def _stored(record: Record, relative_name: str, ordinal: int, max_body: int) -> Stored:
    headers = record.http.headers if record.http is not None else ()
    decoded = decode_body(record.body, headers, max_body)
    capture = Capture(
        url=record.header("WARC-Target-URI") or "",
        fetched_at=_parse_date(record.header("WARC-Date")) or _EPOCH,
        status=record.status or 0,
        headers=headers,
        body=decoded.body,
        record_id=record.header("WARC-Record-ID"),
    )
    ref = RecordRef(relative_name, capture.record_id or "", record.offset, record.header("WARC-Payload-Digest"))
    return Stored(capture, ref, None, record.header("WARC-Truncated"), ordinal, undecodable=decoded.problem)


def _parse_fields(data: bytes) -> dict[str, str]:
    out = {}
    for line in data.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return _EPOCH
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _member_at(fd: int, offset: int) -> bool:
    return offset >= 0 and os.pread(fd, len(_GZIP), offset) == _GZIP
