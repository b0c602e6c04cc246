"""The one module that imports warcio: records made into bytes for the writer, and records read
back for the reader and the checker, each with what is wrong with it.

warcio reads a gzip member cut short without a word, and skips its digest check when a block
ends before its Content-Length, so a torn record would read as a whole one with a shorter body.
Here every record is read to its end and judged as it goes (``Record.torn``): its block must be
as long as its Content-Length says and, in a gzip file, its member must inflate to its end. That
costs nothing more than reading the record, which warcio does anyway.
"""

from __future__ import annotations

import logging
import os
import re
import zlib
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from io import BytesIO
from typing import Any, Protocol

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

# warcio logs what it thinks of a record ("Replacing spaces in invalid WARC-Target-URI: ...") to
# stderr, unescaped: archive data would reach the terminal raw; what is wrong is reported here instead
logging.getLogger("warcio").addHandler(logging.NullHandler())
logging.getLogger("warcio").propagate = False

Headers = tuple[tuple[str, str], ...]
_SAID_MAX = 200  # characters of warcio's message kept in a problem
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,8})[ \t]*(?:;[^\r\n]*)?\r\n")  # a chunk's size, in hex

# what warcio raises on torn or corrupt input, beyond its own ArchiveLoadFailed
_RAISED = (
    ArchiveLoadFailed,
    OSError,
    EOFError,
    ValueError,
    AttributeError,
    TypeError,
    IndexError,
    KeyError,
    zlib.error,
)


class Corrupt(Exception):
    """warcio cannot read on from here: a record it cannot parse, or gzip framing it rejects."""


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def tell(self) -> int: ...


class Bounded:
    """Bytes [start, stop) of an open file, read as a file of their own: warcio (and cdxj-indexer,
    which takes an object with ``read`` for a file) takes ``stop`` for the end of the file, and the
    offsets it gives stay those of the file (it asks ``tell`` where it began)."""

    def __init__(self, fd: int, start: int, stop: int) -> None:
        self._fd, self._pos, self.stop = fd, start, stop

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        left = max(self.stop - self._pos, 0)
        data = os.pread(self._fd, left if size < 0 else min(size, left), self._pos)
        self._pos += len(data)
        return data


class _QuietReader(DecompressingBufferedReader):  # type: ignore[misc]  # warcio has no types
    """warcio's reader, but a gzip member whose data goes wrong part way ends there without a line
    on stderr from warcio: the reader of the record says what is wrong with it, at its offset."""

    def _decompress(self, data: bytes) -> bytes:
        if self.decompressor is None or not data or not self.num_block_read:
            return bytes(super()._decompress(data))  # a member's first read: warcio tries it as no gzip
        try:
            return bytes(self.decompressor.decompress(data))
        except zlib.error:
            return b""  # as warcio does, after its line on stderr


@dataclass(frozen=True, slots=True)
class HttpHead:
    """The HTTP status or request line and headers of a record."""

    line: str  # "200 OK", or "GET /path HTTP/1.1" for a request
    headers: Headers
    protocol: str = ""  # a response's HTTP version
    request: bool = False


@dataclass(frozen=True, slots=True)
class Built:
    """A record serialized (uncompressed), with the fields a caller refers to later."""

    data: bytes
    rec_type: str
    record_id: str
    date: str
    payload_digest: str | None


class Serializer:
    """Records made into WARC/1.1 bytes, digests computed by warcio; the caller compresses them."""

    def __init__(self) -> None:
        self._buffer = BytesIO()
        self._writer = WARCWriter(self._buffer, gzip=False, warc_version="WARC/1.1")
        # a metadata record's block is fields, no payload: WARC 1.1 (5.9) has no payload digest for it
        self._writer.NO_PAYLOAD_DIGEST_TYPES = (*WARCWriter.NO_PAYLOAD_DIGEST_TYPES, "metadata")

    def warcinfo(self, filename: str, fields: Mapping[str, str]) -> Built:
        return self._built(self._writer.create_warcinfo_record(filename, dict(fields)))

    def record(
        self, url: str, rec_type: str, head: HttpHead | None, warc_headers: Mapping[str, str],
        payload: bytes | None = None, content_type: str = "",
    ) -> Built:  # fmt: skip
        record = self._writer.create_warc_record(
            url,
            rec_type,
            payload=None if payload is None else BytesIO(payload),
            length=None if payload is None else len(payload),
            warc_content_type=content_type,
            warc_headers_dict=dict(warc_headers),
            http_headers=None if head is None else _status_and_headers(head),
        )
        return self._built(record)

    def _built(self, record: Any) -> Built:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.write_record(record)
        headers = record.rec_headers
        return Built(
            self._buffer.getvalue(),
            record.rec_type,
            headers.get_header("WARC-Record-ID"),
            headers.get_header("WARC-Date"),
            headers.get_header("WARC-Payload-Digest"),
        )


def _status_and_headers(head: HttpHead) -> StatusAndHeaders:
    if head.request:
        return StatusAndHeaders(head.line, list(head.headers), is_http_request=True)
    return StatusAndHeaders(head.line, list(head.headers), protocol=head.protocol)


@dataclass(frozen=True, slots=True)
class Record:
    """One record read back: where it is, what it says, and what is wrong with it."""

    offset: int
    end: int  # where the next record starts: past this one's closing blank lines
    rec_type: str  # "" when what is there is no WARC record
    warc_headers: Any  # warcio's, read through ``header`` (copying them would cost more than the rest)
    http: HttpHead | None  # a response's HTTP status line and headers, if it has them
    body: bytes  # the payload's first bytes: as many as the caller asked for records of its type
    problems: tuple[str, ...] = ()  # digest mismatches, in warcio's words
    torn: str | None = None  # why the record is incomplete: the file (or span) ends inside it

    def header(self, name: str) -> str | None:
        value = self.warc_headers.get_header(name)
        return None if value is None else str(value)

    @property
    def status(self) -> int | None:
        """The HTTP status of a response: None if it has no HTTP headers, or no number there."""
        code = self.http.line.split(" ", 1)[0] if self.http is not None else ""
        return int(code) if code.isdigit() else None


def iterate(fh: Readable, bodies: Mapping[str, int]) -> Generator[Record, None, None]:
    """Every record from the reading position on, each read to its end and its digests checked;
    ``bodies`` says how much of the payload to keep, by record type. Raises ``Corrupt`` where
    warcio cannot go on."""
    # check_digests=True records digest failures on the record instead of raising, so one bad
    # record is reported and the records after it are still read
    records = ArchiveIterator(fh, check_digests=True)
    # warcio writes the line it finds after a block that its Content-Length ended early to stderr,
    # archive data and all; the record's digest says what is wrong with it instead
    records.INC_RECORD = ""
    records.reader = _QuietReader(records.fh)  # nothing is read yet: a quiet reader in place of the one it made
    try:
        for record in records:
            wanted = bodies.get(record.rec_type or "", 0)
            # the payload is read before the record's offset is asked for: that reads it to its end
            body = _payload(record, wanted) if wanted else b""
            records.read_to_end(record)
            yield _record(records, record, body)
    except _RAISED as exc:
        raise Corrupt(_said(exc)) from exc


def _said(exc: BaseException) -> str:
    """warcio's words on what it cannot read, as one short line: it quotes the line it could not
    parse (compressed bytes, of any length), and some of its messages run over several lines."""
    said = str(exc).split(", first line:")[0]
    line = next((part.strip() for part in said.splitlines() if part.strip()), "")
    return line[:_SAID_MAX] or type(exc).__name__


def _payload(record: Any, limit: int) -> bytes:
    """The payload's first ``limit`` bytes as stored, Content-Encoding and all (warcio's
    ``content_stream`` would decode it, unbounded for brotli); only a stored chunked framing is
    undone, as warcio undoes it, but bounded: a chunk's claimed size is no reason to read it whole."""
    stream = record.raw_stream
    coding = record.http_headers.get_header("Transfer-Encoding") if record.http_headers else None
    if (coding or "").strip().lower() != "chunked":
        return bytes(stream.read(limit))
    out = bytearray()
    while len(out) < limit:
        line = stream.readline(64)
        size = _CHUNK_LINE.fullmatch(line)
        if size is None:  # not chunked after all, or not from here on: the rest as it is
            out += line
            break
        if not (left := int(size[1], 16)):
            return bytes(out)
        data = stream.read(min(left, limit - len(out)))
        out += data
        if len(data) < left:  # the limit, or the end of the record
            break
        if (end := stream.read(2)) != b"\r\n":  # the framing breaks here: the rest as it is
            out += end
            break
    if len(out) < limit:
        out += stream.read(limit - len(out))
    return bytes(out[:limit])


def _record(records: Any, record: Any, body: bytes) -> Record:
    http = record.http_headers if record.rec_type == "response" else None
    return Record(
        offset=records.get_record_offset(),
        end=records.offset,
        rec_type=(record.rec_type or "") if record.format == "warc" else "",
        warc_headers=record.rec_headers,
        http=None if http is None else HttpHead(http.statusline, tuple(http.headers), http.protocol),
        body=body,
        problems=tuple(record.digest_checker.problems),
        torn=_torn(records, record),
    )


def _torn(records: Any, record: Any) -> str | None:
    if record.format == "warc" and not (record.rec_headers.get_header("Content-Length") or "").isdigit():
        # warcio reads such a record to the end of the input, or takes it for an empty one
        return "its header is cut short (no Content-Length, or no number there)"
    short = getattr(record.raw_stream, "limit", 0)  # what its Content-Length promised and the input lacked
    if short:
        return f"its block is {short} bytes short of its Content-Length"
    inflater = records.reader.decompressor
    # a member that goes on into the next record (one member for the whole file) is read on by
    # warcio, which says what it thinks of that; a member that ends with the input is torn
    if inflater is not None and not inflater.eof and not records.next_line:
        return "its gzip member is cut short"
    return None
