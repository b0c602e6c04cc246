"""The records of a WARC file found from its framing alone, without warcio. In a gzip file: spans of
whole records for re-cleaning one file in several processes, whether a file ends with a whole
record (read from its end, so that a large file costs no more than a small one), where reading can
go on past a damaged record (``next_member``), and one member inflated as it is read (``Member``).
In an uncompressed file: where the next record starts (``next_record``), and the records a
record's block may have swallowed (``swallowed``). A record this cannot vouch for is left to
warcio (the ``warc`` package) to read.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Span:
    """The whole records of a WARC file in bytes [start, stop) (``stop`` None: to the end), cut only
    before an HTTP response so that each response keeps its metadata record; ``first`` is the
    number of HTTP responses before ``start``, where the span's ordinals begin."""

    start: int = 0
    stop: int | None = None
    first: int = 0


WHOLE = Span()


def spans(path: Path, responses: int) -> Iterator[Span]:
    """The file cut into spans of ``responses`` HTTP responses each, from its gzip framing and WARC
    headers alone (a twentieth of the cost of reading the records). From the first record this
    cannot vouch for (one not in a gzip member of its own, a torn member, an odd header) to the end
    of the file is one span, read as a whole file would be; a file that will not open is one span."""
    start = first = seen = 0
    try:
        with open(path, "rb") as fh:
            for offset, response in _members(fh.fileno()):
                if response and seen - first == responses:
                    yield Span(start, offset, first)
                    start, first = offset, seen
                seen += response
    except OSError:
        pass  # reading the span says what is wrong with the file
    yield Span(start, None, first)


_MAGIC = b"\x1f\x8b\x08"  # how a gzip member starts: ID1, ID2, deflate
_MAGIC_AT = re.compile(re.escape(_MAGIC))
_SCAN_BLOCK, _HEAD = 1 << 20, 1 << 14  # bytes searched at a time; the most of a record read for its header


def _members(fd: int) -> Iterator[tuple[int, bool]]:
    """(offset, is it an HTTP response) of each gzip member that holds one whole WARC record, up to
    the first that does not, found without inflating them: at a member's start, gzip magic bytes
    that inflate to a WARC header; at its end, a gzip trailer whose size is that record's (header,
    CRLF, block, two CRLF), followed by the next such start. Magic bytes inside compressed data
    inflate to no WARC header and are passed over; a size that does not match ends the scan."""
    record, start = _record_at(fd, 0), 0
    if record is None:
        return
    for offset in _magic(fd, 0):
        found = _record_at(fd, offset)
        if found is None:
            continue
        if int.from_bytes(os.pread(fd, 4, offset - 4), "little") != record[0] % (1 << 32):
            return
        yield start, record[1]
        start, record = offset, found


def next_member(fd: int, after: int) -> int | None:
    """Where the first gzip member past offset ``after`` that holds the start of a WARC record
    begins, or None if none does: where reading goes on past a record damaged in the middle of a
    gzip WARC file (each record is a gzip member of its own). Magic bytes inside compressed data
    inflate to no WARC header and are passed over; only a header's worth of each candidate is
    inflated, so a damaged stretch of any size costs a scan of its bytes."""
    return next((at for at in _magic(fd, after) if record_size(_head_at(fd, at)) is not None), None)


def holds_response(fd: int, offset: int, gzipped: bool) -> bool:
    """Whether the record at ``offset`` (a gzip member's, or in an uncompressed file) has the WARC
    header of an HTTP response, as ``spans`` counts them: a damaged one that cannot be read still
    takes its number, so that the responses after it keep theirs whichever span reads them."""
    kind = _record_kind(_head_at(fd, offset) if gzipped else os.pread(fd, _HEAD, offset))
    return kind is not None and kind[1]


def _magic(fd: int, after: int) -> Iterator[int]:
    """The offsets past ``after`` where gzip magic bytes are."""
    offset = after + 1
    while block := os.pread(fd, _SCAN_BLOCK + len(_MAGIC) - 1, offset):
        at = block.find(_MAGIC)
        while 0 <= at < _SCAN_BLOCK:
            yield offset + at
            at = block.find(_MAGIC, at + 1)
        offset += _SCAN_BLOCK


def _record_at(fd: int, offset: int) -> tuple[int, bool] | None:
    """(size, is it an HTTP response) of the WARC record a gzip member at ``offset`` starts with,
    inflating no more of it than its header; None if no WARC header is there."""
    return _record_kind(_head_at(fd, offset))


def _head_at(fd: int, offset: int) -> bytes:
    """The start of what the gzip member at ``offset`` inflates to, up to the end of a WARC header;
    what inflated before the data went wrong, if it does."""
    inflater, head, read = zlib.decompressobj(31), b"", offset
    try:
        while b"\r\n\r\n" not in head and len(head) < _HEAD and b"WARC/1."[: len(head)] == head[:7]:
            data = inflater.unconsumed_tail or os.pread(fd, 2048, read)
            read += 0 if inflater.unconsumed_tail else len(data)
            out = inflater.decompress(data, 2048)
            if not out and (inflater.eof or not data):
                break
            head += out
    except zlib.error:
        pass
    return head


def record_size(head: bytes) -> int | None:
    """The size of the WARC record whose first bytes are ``head`` (its header, the CRLF after it,
    the block its Content-Length gives, and the two CRLFs that close it), or None when ``head``
    holds no whole WARC header with a Content-Length."""
    end = head.find(b"\r\n\r\n") + 2  # the header, each line ending in CRLF
    length = _LENGTH.search(head, 0, end) if head.startswith(b"WARC/1.") and end >= 2 else None
    return None if length is None else end + 2 + int(length[1]) + 4


def _record_kind(head: bytes) -> tuple[int, bool] | None:
    """(size, is it an HTTP response: the test warcio applies before it parses HTTP headers) of the
    record whose start is ``head``, or None when that is not a plain WARC header."""
    size, end = record_size(head), head.find(b"\r\n\r\n") + 2
    if size is None or _FOLDED.search(head, 0, end):
        return None  # folded header lines are left to warcio
    kind, uri = _TYPE.search(head, 0, end), _URI.search(head, 0, end)
    target = uri[1] if uri else b""
    if target.startswith(b"<") and target.endswith(b">"):
        target = target[1:-1]  # as warcio reads what some tools write
    response = kind is not None and kind[1] == b"response" and target.startswith((b"http:", b"https:"))
    return size, response and size > end + 6


def _field(name: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"\r\n(?i:" + name + rb"):[ \t]*([^\r\n]*?)[ \t]*\r\n")


_FOLDED = re.compile(rb"\r\n[ \t]")
_LENGTH = re.compile(rb"\r\n(?i:content-length):[ \t]*(\d+)[ \t]*\r\n")
_TYPE, _URI = _field(b"warc-type"), _field(b"warc-target-uri")


def end_of_whole_records(fd: int, size: int) -> int:
    """Where the whole records of a gzip WARC file of ``size`` bytes end, judged from its end: the
    size when its last gzip member holds a whole WARC record, else where the torn part begins
    (the last member's start, or the end of the last whole member before bytes that are none).
    Reads the last member only, found from the end as ``_members`` finds members from the start."""
    for offset in _magic_backwards(fd, size):
        record = _record_at(fd, offset)
        if record is None:
            continue  # magic bytes inside compressed data
        end = _member_end(fd, offset, record[0])
        return offset if end is None else end
    return 0


def _magic_backwards(fd: int, size: int) -> Iterator[int]:
    stop = size
    while stop > 0:
        start = max(stop - _SCAN_BLOCK, 0)
        # read a little past ``stop``: magic bytes that straddle it start in this block
        block = os.pread(fd, stop - start + len(_MAGIC) - 1, start)
        found = [start + m.start() for m in _MAGIC_AT.finditer(block)]
        yield from reversed([at for at in found if at < stop])
        stop = start


def _member_end(fd: int, offset: int, record_size: int) -> int | None:
    """Where the gzip member at ``offset`` ends, if it inflates completely (its CRC and length
    checked by zlib) to at least the record it starts with; None if it is cut short or damaged.
    A member holding several records (a file not compressed record by record) passes too."""
    inflater, read, out = zlib.decompressobj(31), offset, 0
    data = b""
    try:
        while not inflater.eof:
            if not data:
                data = os.pread(fd, 1 << 16, read)
                read += len(data)
                if not data:
                    return None
            out += len(inflater.decompress(data, 1 << 20))  # the output is counted, not kept
            data = inflater.unconsumed_tail
    except zlib.error:
        return None
    return read - len(inflater.unused_data) if out >= record_size else None


class Member:
    """The gzip member at ``offset`` of a file, inflated as it is read: ``read`` gives up to
    ``size`` bytes of what it holds, b"" once it has ended or the file has; ``end`` is where it ends
    in the file, once it has. Raises ``zlib.error`` where its data is damaged (zlib checks its CRC
    and length at its end). Memory stays within a read's size, whatever the member holds."""

    def __init__(self, fd: int, offset: int) -> None:
        self._fd, self._read_to = fd, offset  # the compressed bytes read so far end at ``_read_to``
        self._inflater = zlib.decompressobj(31)

    def read(self, size: int) -> bytes:
        while not self._inflater.eof:
            data = self._inflater.unconsumed_tail or self._more()
            if not data:
                break  # the file ends inside the member
            if out := self._inflater.decompress(data, size):
                return out
        return b""

    def _more(self) -> bytes:
        data = os.pread(self._fd, 1 << 16, self._read_to)
        self._read_to += len(data)
        return data

    @property
    def end(self) -> int | None:
        return self._read_to - len(self._inflater.unused_data) if self._inflater.eof else None


_LINE_WARC = b"\nWARC/1."  # how a record of an uncompressed file starts: a line that begins "WARC/1."
_CLOSE = b"\r\n\r\n"  # after each record's block


def next_record(fd: int, after: int, size: int) -> int | None:
    """Where the first record past offset ``after`` of an uncompressed WARC file of ``size`` bytes
    starts: a line that begins with "WARC/1." and a header with a Content-Length; None if none does.
    How reading goes on past bytes that hold no record."""
    return next((at for at in _warc_lines(fd, after, size) if record_size(os.pread(fd, _HEAD, at))), None)


def swallowed(fd: int, start: int, end: int) -> int | None:
    """The first record that starts inside bytes [start, end) of an uncompressed WARC file, right
    after a record's closing CRLFs, and is followed by closed records up to ``end`` or across it:
    bytes [start, end) are a block whose Content-Length was made too large, and this record is the
    first it swallowed. A WARC file kept whole inside a block ends where the block does, before
    the block's closing CRLFs, so it is no such chain. Each offset is followed once."""
    dead: set[int] = set()  # records on a chain that broke: any chain through them breaks too
    for at in _warc_lines(fd, start, end):
        if at in dead or os.pread(fd, len(_CLOSE), at - len(_CLOSE)) != _CLOSE:
            continue
        chain, here = [], at
        while here < end and here not in dead and (size := _closed_record(fd, here)):
            chain.append(here)
            here += size
        if here >= end:
            return at
        dead.update(chain)
    return None


def _closed_record(fd: int, offset: int) -> int | None:
    size = record_size(os.pread(fd, _HEAD, offset))
    return size if size and os.pread(fd, len(_CLOSE), offset + size - len(_CLOSE)) == _CLOSE else None


def _warc_lines(fd: int, after: int, stop: int) -> Iterator[int]:
    """The offsets in (after, stop) where a line begins with "WARC/1."."""
    offset = after
    while offset < stop:
        span = min(_SCAN_BLOCK, stop - offset)
        block = os.pread(fd, span + len(_LINE_WARC), offset)
        at = block.find(_LINE_WARC)
        while 0 <= at < span:
            if offset + at + 1 < stop:
                yield offset + at + 1
            at = block.find(_LINE_WARC, at + 1)
        offset += span
