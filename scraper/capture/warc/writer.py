"""Writing one WARC file: gzip WARC/1.1, one gzip member per record, every exchange on disk
(fsynced) before ``write_exchange`` or ``write_revisit`` returns. A write that fails (a full disk,
a file size limit) is undone: the file is cut back to where the records began, so that it still
ends with a whole record, and an ``ArchiveError`` says which file and why."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import deflate

from scraper.archive.inside import folder_inside
from scraper.capture.warc.records import Built, HttpHead, Serializer
from scraper.errors import ArchiveError
from scraper.models import Exchange, RecordRef

# Transfer-Encoding describes the wire, not the body kept (already de-chunked): renamed the way
# replay tools expect, so no reader tries to de-chunk the stored payload. A body cut off
# (WARC-Truncated) is shorter than its Content-Length says: that header is renamed the same way,
# or a replay tool would wait for the bytes that never came.
_RENAMED = {"transfer-encoding": "X-Archive-Orig-Transfer-Encoding"}
_RENAMED_CUT = _RENAMED | {"content-length": "X-Archive-Orig-Content-Length"}
REVISIT_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
REVISIT_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


def same_profile(found: str | None, profile: str) -> bool:
    """Whether a record's WARC-Profile is ``profile``, in the words of any WARC version (1.0 names
    the same profiles under /warc/1.0/)."""
    return bool(found) and (found or "").rpartition("/revisit/")[2] == profile.rpartition("/revisit/")[2]


# Compressed here rather than by warcio, which uses zlib level 9. libdeflate (the ``deflate``
# package; this is its only user) at level 7 writes files no larger than the standard zlib's level 6
# in 0.58 of its time on real pages' records (bench/warc_gzip.py); its members are standard gzip, so
# every reader is unchanged. zlib-ng is as fast only for larger files (level 6: +0.6%), and isal's
# best level writes files 12% larger.
_GZIP_LEVEL = 7


def _member(data: bytes) -> bytes:
    """One whole gzip member of ``data``."""
    return bytes(deflate.gzip_compress(data, _GZIP_LEVEL))


@dataclass(frozen=True, slots=True)
class Listed:
    """A response or revisit record as written: what its line in an index says of it."""

    rec_type: str
    url: str
    date: str  # its WARC-Date
    status_line: str
    content_type: str | None  # the first Content-Type of its HTTP headers, as written
    digest: str | None  # its WARC-Payload-Digest, if it has one
    offset: int  # of its gzip member in the file
    length: int  # of its gzip member


@dataclass(frozen=True, slots=True)
class Written:
    """What one writer put into its file, for the index: every response and revisit record, and
    the size and modification time (ns) of the file it continued (None: it made the file)."""

    path: Path
    listed: tuple[Listed, ...]
    continued: tuple[int, int] | None
    torn: bool  # a failed write could not be cut off: the file is to be read, not trusted


@dataclass(frozen=True, slots=True)
class Original:
    """The earlier capture a revisit record refers to."""

    record_id: str
    target_uri: str
    date: str  # its WARC-Date


def warc_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def payload_digest(raw: bytes) -> str:
    """The WARC-Payload-Digest a response with this body gets."""
    return "sha1:" + base64.b32encode(hashlib.sha1(raw).digest()).decode("ascii")


class WarcFile:
    """A WARC being written, from its start or (``append``) after its last record. Use as a
    context manager."""

    def __init__(self, path: Path, relative_name: str, *, append: bool = False, root: Path | None = None) -> None:
        self.path = path
        self.relative_name = relative_name
        try:
            # Unbuffered: what a failed write leaves is on disk, to be cut off, not in a buffer
            self._fh = _opened(path, append, root)
            found = os.fstat(self._fh.fileno())
        except OSError as exc:
            raise ArchiveError(f"{path}: cannot open WARC file: {exc.strerror or exc}") from exc
        self._continued = (found.st_size, found.st_mtime_ns) if append else None
        self._listed: list[Listed] = []
        self._records = Serializer()
        self._torn: str | None = None  # why a failed write is still in the file: none may follow it

    def __enter__(self) -> WarcFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def size(self) -> int:
        return self._fh.tell()

    def written(self) -> Written:
        return Written(self.path, tuple(self._listed), self._continued, self._torn is not None)

    def close(self) -> None:
        if not self._fh.closed:
            try:
                os.fsync(self._fh.fileno())
            except OSError as exc:
                raise ArchiveError(f"{self.path}: cannot write the WARC file to disk: {exc.strerror or exc}") from exc
            finally:
                self._fh.close()

    def _append(self, records: Sequence[Built]) -> list[tuple[int, int]]:
        """Where each of ``records`` starts and how long it is, once they are written, one gzip
        member each (a reader can start at any record's offset), and fsynced; on a failure none of
        them is left in the file."""
        if self._torn is not None:
            raise ArchiveError(f"{self.path}: not written to after a write that failed: {self._torn}")
        start = self._fh.tell()
        spans = []
        try:
            for record in records:
                data = memoryview(_member(record.data))
                spans.append((self._fh.tell(), len(data)))
                while data:  # a write may stop short of the end, e.g. where the disk fills
                    data = data[self._fh.write(data) :]
            os.fsync(self._fh.fileno())
        except OSError as exc:
            raise ArchiveError(f"{self.path}: cannot write a WARC record: {self._undo(start, exc)}") from exc
        return spans

    def _undo(self, start: int, exc: OSError) -> str:
        """The file cut back to ``start``: what happened, and what the file is left as."""
        reason = exc.strerror or str(exc)
        try:
            os.ftruncate(self._fh.fileno(), start)
            self._fh.seek(start)  # a file not opened for appending would go on where it stopped
            os.fsync(self._fh.fileno())
        except OSError as again:
            self._torn = f"{reason}; the part written could not be cut off ({again.strerror or again})"
            return f"{self._torn}, left for a repair"
        return f"{reason}; the part written was cut off, the file ends with its last whole record"

    def write_warcinfo(self, fields: Mapping[str, str]) -> None:
        self._append([self._records.warcinfo(self.path.name, fields)])

    def write_exchange(self, exchange: Exchange, metadata: Mapping[str, str]) -> RecordRef:
        head = _http(exchange)
        record = self._records.record(
            exchange.url, "response", head, _warc_headers(exchange), payload=exchange.raw_body
        )
        return self._write_with_companions(record, head, exchange, metadata)

    def write_revisit(self, exchange: Exchange, original: Original, metadata: Mapping[str, str]) -> RecordRef:
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
        head = _http(exchange)
        record = self._records.record(exchange.url, "revisit", head, headers)
        return self._write_with_companions(record, head, exchange, metadata)

    def _write_with_companions(
        self, record: Built, head: HttpHead, exchange: Exchange, metadata: Mapping[str, str]
    ) -> RecordRef:
        concurrent = {"WARC-Date": record.date, "WARC-Concurrent-To": record.record_id}
        request_line = f"{exchange.method} {_request_target(exchange.url)} HTTP/1.1"  # the client speaks HTTP/1.1
        request = self._records.record(
            exchange.url, "request", HttpHead(request_line, exchange.request_headers, request=True), concurrent
        )
        info = self._records.record(
            exchange.url, "metadata", None, concurrent, payload=_warc_fields(metadata),
            content_type="application/warc-fields",
        )  # fmt: skip
        (offset, length), *_ = self._append([record, request, info])
        kind = next((v for k, v in head.headers if k.lower() == "content-type"), None)
        self._listed.append(
            Listed(record.rec_type, exchange.url, record.date, head.line, kind, record.payload_digest, offset, length)
        )
        return RecordRef(self.relative_name, record.record_id, offset, record.payload_digest)


def _opened(path: Path, append: bool, root: Path | None) -> BinaryIO:
    """The file, unbuffered, at its end ("ab": record offsets are the file's) or made anew. Inside
    the archive at ``root``, through its folder opened and checked: a folder swapped for a symlink
    meanwhile gets no file outside the archive."""
    if root is None:  # a fixture's file, outside any archive
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "ab" if append else "xb", buffering=0)  # closed in close()
    flags = os.O_WRONLY | os.O_CLOEXEC | os.O_NOFOLLOW | (os.O_APPEND if append else os.O_CREAT | os.O_EXCL)
    with folder_inside(root, path.parent) as folder:
        fd = os.open(path.name, flags, 0o666, dir_fd=folder)
    return open(fd, "ab" if append else "wb", buffering=0)  # closed in close()


def _http(exchange: Exchange) -> HttpHead:
    renamed = _RENAMED_CUT if exchange.truncated else _RENAMED
    headers = tuple((renamed.get(k.lower(), k), v) for k, v in exchange.response_headers)
    return HttpHead(f"{exchange.status} {exchange.reason}".strip(), headers, exchange.http_version)


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


def _warc_fields(fields: Mapping[str, str]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode("utf-8")
