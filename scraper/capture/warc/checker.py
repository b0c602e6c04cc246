"""Checking WARC files byte by byte. ``walk`` accounts for every byte of a file: each record read to
its end, its digests checked, its Content-Length checked against its framing; every stretch that
holds no whole record (garbage, a damaged gzip member, a torn tail) said with its offset and
length, and read past. ``check_records`` is that for ``scraper verify``; the repair of a killed
run's file cuts after the last whole record ``walk`` finds; ``record_at`` checks the record a text
points at; ``torn_tail`` cheaply tells whether a file ends with a whole record (for indexing and for
continuing a file).

A gzip WARC must be gzip members end to end, each inflating to exactly one record: a record whose
Content-Length claims more than its member holds, or a member with bytes left after its record,
is a problem, and a damaged member is skipped up to the next member that starts a record. A plain
WARC must be records end to end, each closed by two CRLFs where its Content-Length says.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from scraper.capture.framing import Member, end_of_whole_records, next_member, next_record, record_size, swallowed
from scraper.capture.warc.reader import ReadProblem
from scraper.capture.warc.records import Bounded, Corrupt, Record, iterate

_FAILED = re.compile(r"^(block|payload) digest failed:? ")
_GZIP = b"\x1f\x8b\x08"
_WARC = b"WARC/1."
_CLOSE = b"\r\n\r\n"  # after each record's block
_HEAD = 1 << 14  # the most of a record read for its header
_FIELD = re.compile(rb"\r\n([^:\r\n]+):[ \t]*([^\r\n]*)")  # a header line: name, value
# WARC 1.1 requires these of every record (and Content-Length, without which there is no record),
# and WARC-Target-URI of these types
_REQUIRED, _TARGETED = ["WARC-Record-ID", "WARC-Date", "WARC-Type"], (b"response", b"resource", b"request", b"revisit")


@dataclass(frozen=True, slots=True)
class RecordCheck:
    """One record as `scraper verify` sees it: where it is, what it is, what is wrong with it."""

    offset: int
    rec_type: str
    record_id: str
    payload_digest: str | None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Checked:
    """Bytes [start, end) of a file: a record read to its end (whatever is wrong with it), or a
    ``ReadProblem`` where they hold no whole record."""

    start: int
    end: int
    found: RecordCheck | ReadProblem


def check_records(path: Path) -> Iterator[RecordCheck | ReadProblem]:
    """What ``walk`` finds, then a ``ReadProblem`` if the file does not begin with a warcinfo record:
    without one, nothing in the file says what made it, when or how."""
    first = None
    for checked in walk(path):
        if checked.start == 0:
            first = checked.found
        yield checked.found
    if isinstance(first, RecordCheck) and first.rec_type != "warcinfo":
        yield ReadProblem(str(path), 0, f"the file begins with a {first.rec_type} record, not a warcinfo record")


def walk(path: Path) -> Iterator[Checked]:
    """Every byte of a WARC file, stretch by stretch from its start: a zero-byte file is a problem."""
    with open(path, "rb") as fh:
        fd, size = fh.fileno(), os.fstat(fh.fileno()).st_size
        if size == 0:
            yield Checked(0, 0, ReadProblem(str(path), 0, "empty file (0 bytes): no WARC record"))
            return
        at = _plain_at if _is_plain(fd, path) else _gzip_at
        offset = 0
        while offset < size:
            checked = at(fd, offset, size, str(path))
            yield checked
            offset = checked.end


def record_at(path: Path, offset: int) -> RecordCheck | ReadProblem:
    """The record that starts at ``offset``, digests and framing checked, or why there is none."""
    try:
        with open(path, "rb") as fh:
            fd, size = fh.fileno(), os.fstat(fh.fileno()).st_size
            if not 0 <= offset < size:
                return ReadProblem(str(path), offset, "no record there")
            found = (_plain_at if _is_plain(fd, path) else _gzip_at)(fd, offset, size, str(path)).found
    except OSError as exc:
        return ReadProblem(str(path), offset, f"cannot read: {exc.strerror or exc}")
    return found if isinstance(found, RecordCheck) else ReadProblem(str(path), offset, "no whole record starts there")


def torn_tail(path: Path) -> ReadProblem | None:
    """Where a WARC file stops holding whole records, if it does before its end. A gzip file is
    judged from its last gzip member alone (its last record is read, not the file); an
    uncompressed one is walked through."""
    with open(path, "rb") as fh:
        fd, size = fh.fileno(), os.fstat(fh.fileno()).st_size
        plain = _is_plain(fd, path)
        end = whole_end(path) if plain else end_of_whole_records(fd, size)
    if end >= size:
        return None
    return ReadProblem(str(path), end, f"torn record at offset {end}: the last {size - end} bytes are no whole record")


def whole_end(path: Path) -> int:
    """Where the last record of a file that reads whole ends (0: none does)."""
    return max((c.end for c in walk(path) if isinstance(c.found, RecordCheck)), default=0)


def _is_plain(fd: int, path: Path) -> bool:
    start = os.pread(fd, len(_WARC), 0)
    return start == _WARC or (path.name.endswith(".warc") and not start.startswith(_GZIP))


def _gzip_at(fd: int, offset: int, size: int, path: str) -> Checked:
    """The stretch at ``offset`` of a gzip file: a member and its record, or bytes up to the next
    member that starts a record."""
    if os.pread(fd, len(_GZIP), offset) != _GZIP:
        return _no_record(fd, path, offset, next_member(fd, offset) or size, size)
    member = Member(fd, offset)
    source = _Source(member.read)
    try:
        found = _parse(source, offset, "its gzip member")
        source.drain()
    except zlib.error as exc:
        return _damaged(path, offset, next_member(fd, offset) or size, f"its gzip member does not inflate: {exc}")
    if member.end is None:  # the file ends inside the member: torn, unless whole members follow
        stop = next_member(fd, offset)
        if stop is None:
            return Checked(offset, size, ReadProblem(path, offset, f"torn last record ({size - offset} bytes)"))
        return _damaged(path, offset, stop, "its gzip member does not end before the next one starts")
    if isinstance(found, str):
        return _damaged(path, offset, member.end, found)
    if source.taken > source.expected:
        extra = f"its gzip member holds {source.taken - source.expected} bytes more than its Content-Length gives it"
        found = _with(found, f"{extra} (a Content-Length too small, or more than one record in the member)")
    elif source.closed is False:
        found = _with(found, "no two CRLFs where its Content-Length ends it")
    return Checked(offset, member.end, found)


def _plain_at(fd: int, offset: int, size: int, path: str) -> Checked:
    """The stretch at ``offset`` of an uncompressed file: a record, or bytes up to the next record."""
    length = record_size(os.pread(fd, _HEAD, offset))
    if length is None:
        return _no_record(fd, path, offset, next_record(fd, offset, size) or size, size)
    if offset + length > size:
        inner = next_record(fd, offset, size)
        over = f"its Content-Length runs {offset + length - size} bytes past the end of the file"
        if inner is None:
            return Checked(offset, size, ReadProblem(path, offset, f"torn last record ({size - offset} bytes): {over}"))
        return Checked(offset, inner, ReadProblem(path, offset, f"{over}, over the record at offset {inner}"))
    source = _Source(Bounded(fd, offset, size).read)
    found = _parse(source, offset, "the file")
    if isinstance(found, str):
        return _damaged(path, offset, next_record(fd, offset, size) or size, found)
    if source.closed is False:
        stop = next_record(fd, offset, size) or size
        said = "no two CRLFs where its Content-Length ends it" + (
            f"; the next record is at offset {stop}" * (stop < size)
        )
        return Checked(offset, stop, _with(found, said))
    if found.problems or not source.digested:
        inner = swallowed(fd, offset + source.header, offset + length)
        if inner is not None:
            said = f"its Content-Length runs over the record at offset {inner}"
            return Checked(offset, inner, _with(found, said))
    return Checked(offset, offset + length, found)


def _no_record(fd: int, path: str, offset: int, stop: int, size: int) -> Checked:
    if stop == size and os.pread(fd, len(_WARC), offset) == _WARC:
        return Checked(offset, size, ReadProblem(path, offset, f"torn last record ({size - offset} bytes)"))
    what = "up to the end of the file" if stop == size else f"up to the record at offset {stop}"
    # "corrupt record": the words earlier versions said, which users' scripts may look for
    said = f"{stop - offset} bytes {what} hold no record (a corrupt record or garbage)"
    return Checked(offset, stop, ReadProblem(path, offset, said))


def _damaged(path: str, offset: int, stop: int, why: str) -> Checked:
    return Checked(offset, stop, ReadProblem(path, offset, f"damaged record ({stop - offset} bytes): {why}"))


def _with(found: RecordCheck, problem: str) -> RecordCheck:
    return RecordCheck(found.offset, found.rec_type, found.record_id, found.payload_digest, (*found.problems, problem))


class _Source:
    """One record's bytes, read once from the front: what a gzip member inflates to, or a plain
    file from the record's offset. warcio is given the header and block only (``expected`` less
    the closing CRLFs), so that it neither reads on into what follows nor warns about it on
    stderr; the closing CRLFs and anything after them are checked here."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._read, self._held = read, b""
        self.taken = 0  # bytes read so far
        self.expected = 0  # what the record's header says it takes (0: no header)
        self.header = 0  # the header's size, with the CRLF after it
        self.digested = False  # the header names a block digest
        self.closed: bool | None = None  # two CRLFs follow the block (None: not read that far)

    def head(self) -> bytes:
        while _CLOSE not in self._held and len(self._held) < _HEAD and (data := self._read(4096)):
            self._held += data
        self.expected = record_size(self._held) or 0
        self.header = self._held.find(_CLOSE) + 4
        self.digested = b"\r\nwarc-block-digest:" in self._held[: self.header].lower()
        return self._held

    def take(self, size: int) -> bytes:
        """Up to ``size`` bytes (some, unless the record's bytes have ended)."""
        if not self._held:
            self._held = self._read(size)
        data, self._held = self._held[:size], self._held[size:]
        self.taken += len(data)
        return data

    def exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size and (more := self.take(size - len(data))):
            data += more
        return data

    def drain(self) -> None:
        while self.take(1 << 16):
            pass

    def limited(self, limit: int) -> _Limited:
        return _Limited(self, limit)


class _Limited:
    """A ``_Source`` as warcio reads a file: no more than ``limit`` bytes of it."""

    def __init__(self, source: _Source, limit: int) -> None:
        self._source, self._left, self._given = source, limit, 0

    def tell(self) -> int:
        return self._given

    def read(self, size: int = -1) -> bytes:
        wanted = self._left if size < 0 else min(size, self._left)
        data = self._source.take(wanted) if wanted > 0 else b""
        self._left -= len(data)
        self._given += len(data)
        return data


def _parse(source: _Source, offset: int, holder: str) -> RecordCheck | str:
    """The record at ``offset`` that ``source`` begins with, read to its end with its digests
    checked; or why no record can be read there. Whether two CRLFs close it is left in
    ``source.closed`` for the caller, who knows what follows."""
    head = source.head()
    if record_size(head) is None:
        return "no WARC header with a Content-Length"
    lacking = _lacking(head[: source.header])
    try:
        records = iterate(source.limited(source.expected - len(_CLOSE)), {})
        record = next(records, None)
        records.close()
    except Corrupt as exc:
        if isinstance(exc.__cause__, zlib.error):  # the gzip member, not the record in it
            raise exc.__cause__ from None
        return lacking or f"warcio cannot read it: {exc}"  # warcio stumbles over some missing fields
    if record is None or not record.rec_type:
        return lacking or "not a WARC record"
    problems = [_FAILED.sub(r"\1 digest does not match: ", p) for p in record.problems]
    problems += [said for said in (lacking, _no_status_line(record)) if said]
    short = source.expected - len(_CLOSE) - source.taken
    if short > 0:
        problems.append(f"its Content-Length claims {short} bytes more than {holder} holds")
    else:
        source.closed = source.exactly(len(_CLOSE)) == _CLOSE
        if record.torn:
            problems.append(f"torn: {record.torn}")
    return _check(record, offset, tuple(problems))


def _lacking(header: bytes) -> str | None:
    """What a record's header lacks of the fields WARC 1.1 requires, or None."""
    fields = {name.strip().decode("latin-1").lower(): value.strip() for name, value in _FIELD.findall(header)}
    required = [*_REQUIRED, "WARC-Target-URI"] if fields.get("warc-type") in _TARGETED else _REQUIRED
    lacking = [name for name in required if not fields.get(name.lower())]
    return f"lacks fields WARC 1.1 requires: {', '.join(lacking)}" if lacking else None


def _no_status_line(record: Record) -> str | None:
    """An HTTP response that does not begin with a status line: a replay tool can make nothing of it."""
    target = (record.header("WARC-Target-URI") or "").strip("<>").lower()
    http = record.http is not None and record.http.protocol.upper().startswith("HTTP/") and record.status is not None
    if record.rec_type != "response" or not target.startswith(("http:", "https:")) or http:
        return None
    return "no HTTP status line (such as HTTP/1.1 200 OK) where its block begins"


def _check(record: Record, offset: int, problems: tuple[str, ...]) -> RecordCheck:
    return RecordCheck(
        offset, record.rec_type, record.header("WARC-Record-ID") or "", record.header("WARC-Payload-Digest"), problems
    )
