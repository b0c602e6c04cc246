"""WARC files: the only module that imports warcio.

Writing: gzip WARC/1.1 files, a ``warcinfo`` record first, then for every HTTP exchange a
``response`` (status line, headers and body bytes as received) or a ``revisit`` (a 304, or a body
identical to an earlier capture), a ``request``, and a ``metadata`` record concurrent to it.
Each exchange is flushed and fsynced before the writer returns, so every returned ``RecordRef``
is on disk whatever a later crash leaves behind. ``WarcSink`` starts a new file past a size.

Reading: ``read_responses`` streams the response records of a file (or of a ``Span`` of it) as
``Stored`` captures; a bad record is reported as a ``ReadProblem`` that says where, and reading goes
on where it can. ``framing.spans`` cuts a file into spans cheaply, so that several processes can
each read their own share of one file.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from scraper.capture.framing import WHOLE, Span, end_of_complete_members
from scraper.errors import ArchiveError, UsageError
from scraper.models import Capture, Exchange, RecordRef

# Transfer-Encoding describes the wire, not the body kept (already de-chunked): renamed the way
# replay tools expect, so no reader tries to de-chunk the stored payload.
_RENAMED = {"transfer-encoding": "X-Archive-Orig-Transfer-Encoding"}
REVISIT_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
REVISIT_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
WARC_SUFFIXES = (".warc", ".warc.gz")
TEXT_FIELD = "scraper-text"
_FAILED = re.compile(r"^(block|payload) digest failed:? ")
# what warcio raises on torn or corrupt input, beyond its own ArchiveLoadFailed
_CORRUPT = (
    ArchiveLoadFailed,
    OSError,
    EOFError,
    ValueError,
    AttributeError,
    TypeError,
    IndexError,
    KeyError,
    zlib.error,
)  # metadata field: where the text of this capture is written


@dataclass(frozen=True, slots=True)
class Original:
    """The earlier capture a revisit record refers to."""

    record_id: str
    target_uri: str
    date: str  # its WARC-Date


@dataclass(frozen=True, slots=True)
class Stored:
    capture: Capture
    ref: RecordRef
    text_stem: str | None  # from the metadata record: where the capture's text goes
    truncated: str | None = None  # the record's WARC-Truncated reason
    ordinal: int = 0  # its place among the HTTP response records of the file, from 0


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
            found += sorted(p for p in path.rglob("*") if p.is_file() and is_warc(p))
        elif path.is_file() and is_warc(path):
            found.append(path)
        elif path.exists():
            raise UsageError(f"{path}: not a WARC file (.warc or .warc.gz)")
        else:
            raise UsageError(f"{path}: no such file or folder")
    return found


def warc_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def payload_digest(raw: bytes) -> str:
    """The WARC-Payload-Digest a response with this body gets."""
    return "sha1:" + base64.b32encode(hashlib.sha1(raw).digest()).decode("ascii")


def new_warc_path(folder: Path, prefix: str, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    serial = 0
    while (candidate := folder / f"{prefix}-{stamp}-{serial:05d}.warc.gz").exists():
        serial += 1
    return candidate


_GZIP_LEVEL = 6


class WarcFile:
    """A WARC being written. Use as a context manager."""

    def __init__(self, path: Path, relative_name: str) -> None:
        self.path = path
        self.relative_name = relative_name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh: BinaryIO = open(path, "xb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise ArchiveError(f"{path}: cannot create WARC file: {exc.strerror or exc}") from exc
        # warcio serializes each record into this buffer; _write gzips it as a member of its own
        self._record = BytesIO()
        self._writer = WARCWriter(self._record, gzip=False, warc_version="WARC/1.1")

    def __enter__(self) -> WarcFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def size(self) -> int:
        return self._fh.tell()

    def close(self) -> None:
        if not self._fh.closed:
            self._sync()
            self._fh.close()

    def _sync(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def _write(self, record: Any) -> None:
        """One record, one gzip member. Compressed here rather than by warcio, which uses level 9:
        three times the time of level 6 for files about 1.5% smaller."""
        self._record.seek(0)
        self._record.truncate()
        self._writer.write_record(record)
        packer = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        self._fh.write(packer.compress(self._record.getbuffer()))
        self._fh.write(packer.flush())

    def write_warcinfo(self, fields: dict[str, str]) -> None:
        self._write(self._writer.create_warcinfo_record(self.path.name, fields))
        self._sync()

    def write_exchange(self, exchange: Exchange, metadata: dict[str, str]) -> RecordRef:
        record = self._writer.create_warc_record(
            exchange.url,
            "response",
            payload=BytesIO(exchange.raw_body),
            length=len(exchange.raw_body),
            http_headers=_http(exchange),
            warc_headers_dict=_warc_headers(exchange),
        )
        return self._write_with_companions(record, exchange, metadata)

    def write_revisit(self, exchange: Exchange, original: Original, metadata: dict[str, str]) -> RecordRef:
        """A 304, or a body identical to the original's: headers kept, the body not again."""
        headers = _warc_headers(exchange) | {
            "WARC-Refers-To": original.record_id,
            "WARC-Refers-To-Target-URI": original.target_uri,
            "WARC-Refers-To-Date": original.date,
        }
        if exchange.status == 304:
            headers["WARC-Profile"] = REVISIT_NOT_MODIFIED
        else:
            headers |= {"WARC-Profile": REVISIT_IDENTICAL, "WARC-Payload-Digest": payload_digest(exchange.raw_body)}
        record = self._writer.create_warc_record(
            exchange.url, "revisit", http_headers=_http(exchange), warc_headers_dict=headers
        )
        return self._write_with_companions(record, exchange, metadata)

    def _write_with_companions(self, record: Any, exchange: Exchange, metadata: dict[str, str]) -> RecordRef:
        record_id = record.rec_headers.get_header("WARC-Record-ID")
        date = record.rec_headers.get_header("WARC-Date")
        request = self._writer.create_warc_record(
            exchange.url,
            "request",
            http_headers=StatusAndHeaders(
                f"{exchange.method} {_request_target(exchange.url)} HTTP/1.1",  # the client speaks HTTP/1.1
                list(exchange.request_headers),
                is_http_request=True,
            ),
            warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": record_id},
        )
        info = self._writer.create_warc_record(
            exchange.url,
            "metadata",
            payload=BytesIO(_warc_fields(metadata)),
            warc_content_type="application/warc-fields",
            warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": record_id},
        )
        offset = self._fh.tell()
        for item in (record, request, info):
            self._write(item)
        self._sync()
        return RecordRef(self.relative_name, record_id, offset, record.rec_headers.get_header("WARC-Payload-Digest"))


class WarcSink:
    """WARC files ``<prefix>-<UTC timestamp>-<serial>.warc.gz`` in a folder; a new one is started
    once the current one has grown past ``max_bytes``."""

    def __init__(
        self, folder: Path, relative_to: Path, prefix: str, max_bytes: int, info: dict[str, str],
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
            path = new_warc_path(self._folder, self._prefix, self._clock())
            _marker(path).parent.mkdir(parents=True, exist_ok=True)
            _marker(path).touch()  # removed on a clean close: one left behind names a file to check
            self._file = WarcFile(path, Path(os.path.relpath(path, self._relative_to)).as_posix())
            self._file.write_warcinfo(self._info)
            self.paths.append(path)
        return self._file

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            _marker(self._file.path).unlink(missing_ok=True)
            self._file = None


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".open")


def repair_unclosed(folder: Path) -> list[str]:
    """WARC files a killed run left open: a torn last record is cut off the file and kept beside it
    as ``<name>.torn`` (evidence is never deleted), so every file reads cleanly again. Returns one
    line per file repaired."""
    said = []
    for marker in sorted(folder.glob("*.warc.gz.open")):
        path = marker.with_name(marker.name.removesuffix(".open"))
        end = _end_of_last_record(path) if path.exists() else None
        if end is not None and end < path.stat().st_size:
            with open(path, "r+b") as fh:
                fh.seek(end)
                torn = fh.read()
                path.with_name(path.name + ".torn").write_bytes(torn)
                fh.truncate(end)
                os.fsync(fh.fileno())
            said.append(
                f"{path}: torn last record ({len(torn)} bytes) cut off at offset {end}, kept in {path.name}.torn"
            )
        marker.unlink()
    return said


def _end_of_last_record(path: Path) -> int:
    """Where the last complete, digest-clean record ends: where ``check_records`` finds the first
    bad record or the torn tail (which it checks on the gzip framing too: a torn member can still
    parse as a short record)."""
    for found in check_records(path):
        if isinstance(found, ReadProblem) or found.problems:
            return found.offset
    return path.stat().st_size


def _http(exchange: Exchange) -> StatusAndHeaders:
    headers = [(_RENAMED.get(k.lower(), k), v) for k, v in exchange.response_headers]
    return StatusAndHeaders(f"{exchange.status} {exchange.reason}".strip(), headers, protocol=exchange.http_version)


def _warc_headers(exchange: Exchange) -> dict[str, str]:
    headers = {"WARC-Date": warc_date(exchange.started_at)}
    if exchange.truncated:
        headers["WARC-Truncated"] = exchange.truncated
    if exchange.peer_ip:
        headers["WARC-IP-Address"] = exchange.peer_ip
    return headers


def _request_target(url: str) -> str:
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    return rest[slash:] if slash >= 0 else "/"


def _warc_fields(fields: dict[str, str]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode("utf-8")


def _parse_fields(data: bytes) -> dict[str, str]:
    out = {}
    for line in data.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def _parse_date(value: str | None) -> datetime:
    if not value:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def read_responses(path: Path, relative_name: str, max_body: int, span: Span = WHOLE) -> Iterator[Stored | ReadProblem]:
    """Every response record with an HTTP payload, in file order, bodies decoded and capped; with
    a span, those of its records only (a span from ``spans``, or any cut at a record's start)."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        yield ReadProblem(str(path), span.start, exc.strerror or str(exc))
        return
    with fh:
        stop = os.fstat(fh.fileno()).st_size if span.stop is None else span.stop
        fh.seek(span.start)
        yield from _iterate(_Bounded(fh, span.start, stop), path, relative_name, max_body, span)


class _Bounded:
    """A file read from ``start`` up to ``stop`` only: warcio takes the span's end for the end of
    the file, and its offsets stay those of the file (it asks ``tell`` where it began)."""

    def __init__(self, fh: BinaryIO, start: int, stop: int) -> None:
        self._fh, self._pos, self.stop = fh, start, stop

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        left = max(self.stop - self._pos, 0)
        data = self._fh.read(left if size < 0 else min(size, left))
        self._pos += len(data)
        return data


def _iterate(fh: _Bounded, path: Path, relative_name: str, max_body: int, span: Span) -> Iterator[Stored | ReadProblem]:
    # check_digests=True records digest failures on the record instead of raising, so one bad
    # record is reported and skipped while the records after it are still read
    records = ArchiveIterator(fh, check_digests=True)
    held: Stored | None = None  # a response waits for the metadata record that says where its text goes
    ordinal = span.first  # every HTTP response counts, a damaged one too, as ``spans`` counts them
    end = span.start
    try:
        for record in records:
            body = record.content_stream().read(max_body) if record.rec_type == "response" else b""
            offset = records.get_record_offset()  # only valid once the payload was read
            end = offset + records.get_record_length()
            response = record.rec_type == "response" and record.http_headers is not None
            if problem := _problem(record):
                yield ReadProblem(str(path), offset, problem)
            elif response:
                yield from (held,) if held is not None else ()
                held = _stored(record, body, relative_name, offset, ordinal)
            elif record.rec_type == "metadata" and held is not None and _concurrent(record, held):
                stem = _parse_fields(record.content_stream().read(65536)).get(TEXT_FIELD)
                yield replace(held, text_stem=stem)
                held = None
            ordinal += response
    except _CORRUPT as exc:
        yield from (held,) if held is not None else ()
        rest = "rest of file skipped" if span.stop is None else f"skipped up to offset {span.stop}"
        yield ReadProblem(str(path), end, f"corrupt record, {rest}: {exc}")
        return
    if held is not None:
        yield held
    if end < fh.stop:
        yield ReadProblem(str(path), end, f"torn record at the end of the file ({fh.stop - end} bytes) skipped")


def _problem(record: Any) -> str | None:
    if record.format != "warc" or not record.rec_type:
        return "not a WARC record"
    if record.digest_checker.passed is False:
        return f"corrupt or truncated {record.rec_type} record: " + "; ".join(record.digest_checker.problems)
    return None


def _concurrent(record: Any, held: Stored) -> bool:
    return bool(record.rec_headers.get_header("WARC-Concurrent-To") == held.ref.record_id)


def _stored(record: Any, body: bytes, relative_name: str, offset: int, ordinal: int) -> Stored:
    headers = record.rec_headers
    capture = Capture(
        url=headers.get_header("WARC-Target-URI") or "",
        fetched_at=_parse_date(headers.get_header("WARC-Date")),
        status=int(record.http_headers.get_statuscode() or 0),
        headers=tuple(record.http_headers.headers),
        body=body,
        record_id=headers.get_header("WARC-Record-ID"),
    )
    ref = RecordRef(relative_name, capture.record_id or "", offset, headers.get_header("WARC-Payload-Digest"))
    return Stored(capture, ref, None, headers.get_header("WARC-Truncated"), ordinal)


@dataclass(frozen=True, slots=True)
class RecordCheck:
    """One record as `scraper verify` sees it: where it is, what it is, what is wrong with it."""

    offset: int
    rec_type: str
    record_id: str
    payload_digest: str | None
    problems: tuple[str, ...] = ()


def check_records(path: Path) -> Iterator[RecordCheck | ReadProblem]:
    """Every record of a WARC file with its block and payload digests checked by warcio, then a
    ``ReadProblem`` where the file does not end with a complete record."""
    end = 0
    with open(path, "rb") as fh:
        records = ArchiveIterator(fh, check_digests=True)
        try:
            for record in records:
                records.read_to_end(record)
                offset = records.get_record_offset()
                end = offset + records.get_record_length()
                if record.format != "warc" or not record.rec_type:
                    yield ReadProblem(str(path), offset, "not a WARC record; the rest of the file is not read")
                    return
                yield _check(record, offset)
        except _CORRUPT as exc:
            yield ReadProblem(str(path), end, f"corrupt record, rest of file not read: {exc}")
            return
        fh.seek(0)
        if path.name.endswith(".gz"):
            whole = end_of_complete_members(fh)
        else:
            end = whole = _end_of_plain(fh, end)
        size = os.fstat(fh.fileno()).st_size
    if min(end, whole) < size:
        yield ReadProblem(str(path), min(end, whole), f"torn last record ({size - min(end, whole)} bytes)")


def _end_of_plain(fh: BinaryIO, end: int) -> int:
    """An uncompressed file may carry the last record's closing blank lines past its length."""
    fh.seek(end)
    rest = fh.read(8)
    return end + len(rest) if not rest.strip(b"\r\n") else end


def record_at(path: Path, offset: int) -> RecordCheck | ReadProblem:
    """The record that starts at ``offset``, digests checked, or why there is none."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            records = ArchiveIterator(fh, check_digests=True)
            record = next(iter(records), None)
            if record is None:
                return ReadProblem(str(path), offset, "no record there")
            records.read_to_end(record)
    except _CORRUPT:
        return ReadProblem(str(path), offset, "no whole record starts there")
    if record.format != "warc" or not record.rec_type:
        return ReadProblem(str(path), offset, "no whole record starts there")
    return _check(record, offset)


def _check(record: Any, offset: int) -> RecordCheck:
    headers = record.rec_headers
    # warcio says "payload digest failed sha1:..."; said here in the words of the rest of the tool
    problems = tuple(_FAILED.sub(r"\1 digest does not match: ", p) for p in record.digest_checker.problems)
    return RecordCheck(
        offset,
        record.rec_type,
        headers.get_header("WARC-Record-ID") or "",
        headers.get_header("WARC-Payload-Digest"),
        problems,
    )
