"""WARC files: the only module that imports warcio.

Writing: one gzip WARC/1.1 file per batch, a ``warcinfo`` record first, then for every HTTP
exchange a ``request``, a ``response`` (status line, headers and body bytes as received) and a
``metadata`` record concurrent to the response. Each exchange is flushed and fsynced before the
writer returns, so whatever a later crash leaves behind, every returned ``RecordRef`` is on disk.

Reading: ``read_responses`` streams the response records of a file as ``Stored`` captures; a
corrupt or truncated record ends the file with a ``ReadProblem`` that says where.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from scraper.errors import ArchiveError
from scraper.models import Capture, RecordRef

# Transfer-Encoding describes the wire, not the body we keep (already de-chunked): renamed the way
# replay tools expect, so no reader tries to de-chunk the stored payload.
_RENAMED = {"transfer-encoding": "X-Archive-Orig-Transfer-Encoding"}


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP request and what came back, as it went over the wire."""

    url: str
    started_at: datetime
    method: str
    request_headers: tuple[tuple[str, str], ...]
    http_version: str
    status: int
    reason: str
    response_headers: tuple[tuple[str, str], ...]
    raw_body: bytes  # the bytes as served, Content-Encoding still applied
    truncated: str | None = None  # WARC-Truncated reason: "length", "time", "disconnect"
    peer_ip: str | None = None


@dataclass(frozen=True, slots=True)
class Stored:
    capture: Capture
    ref: RecordRef
    seq: int | None  # the URL's place in the batch input, from the metadata record
    truncated: str | None = None  # the record's WARC-Truncated reason


@dataclass(frozen=True, slots=True)
class ReadProblem:
    path: str
    offset: int
    reason: str


def warc_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
        self._writer = WARCWriter(self._fh, gzip=True, warc_version="WARC/1.1")

    def __enter__(self) -> WarcFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if not self._fh.closed:
            self._sync()
            self._fh.close()

    def _sync(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def write_warcinfo(self, fields: dict[str, str]) -> None:
        record = self._writer.create_warcinfo_record(self.path.name, fields)
        self._writer.write_record(record)
        self._sync()

    def write_exchange(self, exchange: Exchange, metadata: dict[str, str]) -> RecordRef:
        date = warc_date(exchange.started_at)
        response = self._response_record(exchange, date)
        response_id = response.rec_headers.get_header("WARC-Record-ID")
        request = self._request_record(exchange, date, response_id)
        offset = self._fh.tell()
        self._writer.write_record(response)
        self._writer.write_record(request)
        info = self._writer.create_warc_record(
            exchange.url,
            "metadata",
            payload=BytesIO(_warc_fields(metadata)),
            warc_content_type="application/warc-fields",
            warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": response_id},
        )
        self._writer.write_record(info)
        self._sync()
        return RecordRef(
            warc_file=self.relative_name,
            record_id=response_id,
            offset=offset,
            payload_digest=response.rec_headers.get_header("WARC-Payload-Digest"),
        )

    def _response_record(self, exchange: Exchange, date: str):  # type: ignore[no-untyped-def]
        headers = [(_RENAMED.get(k.lower(), k), v) for k, v in exchange.response_headers]
        status_line = f"{exchange.status} {exchange.reason}".strip()
        http = StatusAndHeaders(status_line, headers, protocol=exchange.http_version)
        warc_headers = {"WARC-Date": date}
        if exchange.truncated:
            warc_headers["WARC-Truncated"] = exchange.truncated
        if exchange.peer_ip:
            warc_headers["WARC-IP-Address"] = exchange.peer_ip
        return self._writer.create_warc_record(
            exchange.url,
            "response",
            payload=BytesIO(exchange.raw_body),
            length=len(exchange.raw_body),
            http_headers=http,
            warc_headers_dict=warc_headers,
        )

    def _request_record(self, exchange: Exchange, date: str, response_id: str):  # type: ignore[no-untyped-def]
        target = _request_target(exchange.url)
        http = StatusAndHeaders(
            f"{exchange.method} {target} HTTP/1.1",  # the client speaks only HTTP/1.1
            list(exchange.request_headers),
            is_http_request=True,
        )
        return self._writer.create_warc_record(
            exchange.url,
            "request",
            http_headers=http,
            warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": response_id},
        )


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


def read_responses(path: Path, relative_name: str, max_body: int) -> Iterator[Stored | ReadProblem]:
    """Every response record with an HTTP payload, in file order, bodies decoded and capped."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        yield ReadProblem(str(path), 0, exc.strerror or str(exc))
        return
    with fh:
        yield from _iterate(fh, path, relative_name, max_body)


def _iterate(fh: BinaryIO, path: Path, relative_name: str, max_body: int) -> Iterator[Stored | ReadProblem]:
    # check_digests=True records digest failures on the record instead of raising, so one bad
    # record is reported and skipped while the records after it are still read
    records = ArchiveIterator(fh, check_digests=True)
    held: Stored | None = None  # a response waits for the metadata record that carries its seq
    offset = end = 0
    try:
        for record in records:
            body = record.content_stream().read(max_body) if record.rec_type == "response" else b""
            offset = records.get_record_offset()  # only valid once the payload was read
            end = offset + records.get_record_length()
            problem = _problem(record)
            if problem:
                yield ReadProblem(str(path), offset, problem)
            elif record.rec_type == "response" and record.http_headers is not None:
                if held is not None:
                    yield held
                held = _stored(record, body, relative_name, offset)
            elif record.rec_type == "metadata" and held is not None and _concurrent(record, held):
                yield Stored(held.capture, held.ref, _seq(record), held.truncated)
                held = None
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
        yield from (held,) if held is not None else ()
        yield ReadProblem(str(path), end, f"corrupt record, rest of file skipped: {exc}")
        return
    if held is not None:
        yield held
    size = os.fstat(fh.fileno()).st_size
    if end < size:
        yield ReadProblem(str(path), end, f"torn record at the end of the file ({size - end} bytes) skipped")


def _problem(record) -> str | None:  # type: ignore[no-untyped-def]
    if record.format != "warc" or not record.rec_type:
        return "not a WARC record"
    if record.digest_checker.passed is False:
        return f"corrupt or truncated {record.rec_type} record: " + "; ".join(record.digest_checker.problems)
    return None


def _concurrent(record, held: Stored) -> bool:  # type: ignore[no-untyped-def]
    return bool(record.rec_headers.get_header("WARC-Concurrent-To") == held.ref.record_id)


def _seq(record) -> int | None:  # type: ignore[no-untyped-def]
    seq = _parse_fields(record.content_stream().read(65536)).get("scraper-seq", "")
    return int(seq) if seq.isdigit() else None


def _stored(record, body: bytes, relative_name: str, offset: int) -> Stored:  # type: ignore[no-untyped-def]
    headers = record.rec_headers
    capture = Capture(
        url=headers.get_header("WARC-Target-URI") or "",
        fetched_at=_parse_date(headers.get_header("WARC-Date")),
        status=int(record.http_headers.get_statuscode() or 0),
        headers=tuple(record.http_headers.headers),
        body=body,
        record_id=headers.get_header("WARC-Record-ID"),
    )
    ref = RecordRef(
        warc_file=relative_name,
        record_id=capture.record_id or "",
        offset=offset,
        payload_digest=headers.get_header("WARC-Payload-Digest"),
    )
    return Stored(capture, ref, None, headers.get_header("WARC-Truncated"))
