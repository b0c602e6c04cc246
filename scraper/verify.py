"""``scraper verify``: check that an archive is what it says it is. Reads only; writes nothing.

WARC files are read here with zlib and hashlib alone, not with warcio, which wrote them: a check that
shares no code with the writer cannot share its mistakes. Every record's WARC-Block-Digest and
WARC-Payload-Digest are recomputed; a record must end where its Content-Length says; a file must end
with a complete record. Then every text's JSON (under ``text/``) must name a WARC file inside the
archive and, at its offset, the response record with its ID and its payload digest; the text's
SHA-256 must be the one the JSON holds. With a catalog, every archived article must point at such a
record, and a finished one at its text and JSON. Reading is streamed: memory stays bounded whatever
the size of a record, and a gzip bomb inside a WARC is inflated a chunk at a time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from scraper.catalog import Catalog, CatalogError

_CHUNK = 1 << 20
_MAX_HEADER = 1 << 20  # bytes of WARC or HTTP headers before the record is called malformed
WARC_SUFFIXES = (".warc", ".warc.gz")

OnProblem = Callable[[str], None]


@dataclass
class Summary:
    warc_files: int = 0
    records: int = 0
    texts: int = 0
    catalog_entries: int = 0
    problems: int = 0


@dataclass
class _Record:
    offset: int
    headers: dict[str, str]
    problems: list[str] = field(default_factory=list)

    def get(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


class _Stream:
    """A WARC file's bytes, gunzipped member by member when it is gzip; ``offset()`` is where the
    member holding the next byte starts, which is the record's offset in a WARC index."""

    def __init__(self, fh: BinaryIO, gz: bool) -> None:
        self._fh, self._gz = fh, gz
        self._at = fh.tell()  # file position of the first byte of _pending
        self._pending = b""
        self._inflater: Any = None
        self._member = self._at
        self._buffer = bytearray()
        self._starts: list[tuple[int, int]] = []  # (index in _buffer, member start) of each piece
        self.torn: str | None = None  # why the file cannot be read on

    def offset(self) -> int | None:
        if not self._buffer and not self._fill():
            return None
        self._prune()
        return self._starts[0][1]

    def read(self, size: int) -> bytes:
        while len(self._buffer) < size and self._fill():
            pass
        return self._take(min(size, len(self._buffer)))

    def readline(self, limit: int) -> bytes:
        while b"\n" not in self._buffer[:limit] and len(self._buffer) < limit and self._fill():
            pass
        end = self._buffer.find(b"\n", 0, limit)
        return self._take(end + 1 if end >= 0 else min(limit, len(self._buffer)))

    def _take(self, size: int) -> bytes:
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        self._starts = [(i - size, m) for i, m in self._starts]
        self._prune()
        return data

    def _prune(self) -> None:  # the first piece is the one the next byte belongs to
        while len(self._starts) > 1 and self._starts[1][0] <= 0:
            self._starts.pop(0)

    def _fill(self) -> bool:
        """Add decompressed bytes to the buffer; False at the end of the file or of what reads."""
        while self.torn is None:
            if not self._pending:
                self._pending = self._fh.read(_CHUNK)
            if not self._pending and (self._inflater is None or self._inflater.eof):
                return False
            data = self._inflate() if self._gz else self._plain()
            if data is None:
                return False
            if data:
                if not self._starts or self._starts[-1][1] != self._member:
                    self._starts.append((len(self._buffer), self._member))
                self._buffer += data
                return True
        return False

    def _plain(self) -> bytes:
        data, self._pending = self._pending, b""
        self._at += len(data)
        return data

    def _inflate(self) -> bytes | None:
        if self._inflater is None:
            self._inflater, self._member = zlib.decompressobj(31), self._at
        try:
            data = self._inflater.decompress(self._pending, _CHUNK)
        except zlib.error as exc:
            self.torn = f"offset {self._member}: corrupt gzip data ({exc}): the rest of the file is unread"
            return None
        if not data and not self._pending and not self._inflater.eof:  # input spent, member unfinished
            self.torn = f"offset {self._member}: the file ends inside a gzip member (a torn last record)"
            return None
        rest = self._inflater.unused_data if self._inflater.eof else self._inflater.unconsumed_tail
        self._at += len(self._pending) - len(rest)
        self._pending = rest
        if self._inflater.eof:
            self._inflater = None
        return bytes(data)


def _digest_matches(value: str, hasher: Any) -> bool:
    digest = hasher.digest()
    given = value.partition(":")[2].strip()
    return given.upper() == base64.b32encode(digest).decode() or given.lower() == digest.hex()


def _hasher(value: str) -> Any:
    try:
        return hashlib.new(value.partition(":")[0].strip().lower()) if value else None
    except ValueError:
        return None


def _read_record(stream: _Stream) -> _Record | str | None:
    """The next record with its digests checked, None at a clean end, or why the file is torn."""
    offset = stream.offset()
    if offset is None:
        return stream.torn
    if not stream.readline(64).startswith(b"WARC/"):
        return stream.torn or f"offset {offset}: not a WARC record"
    headers: dict[str, str] = {}
    size = 0
    while (line := stream.readline(_MAX_HEADER)) not in (b"\r\n", b"\n", b""):
        size += len(line)
        key, _, value = line.decode("utf-8", "replace").partition(":")
        headers[key.strip().lower()] = value.strip()
        if size > _MAX_HEADER:
            return f"offset {offset}: WARC headers past {_MAX_HEADER} bytes"
    record = _Record(offset, headers)
    try:
        length = int(record.get("content-length"))
    except ValueError:
        return stream.torn or f"offset {offset}: no Content-Length"
    read = _check_block(stream, record, length)
    if read < length:
        return stream.torn or f"offset {offset}: torn {record.get('warc-type') or 'record'} ({read} of {length} bytes)"
    if stream.read(4) != b"\r\n\r\n":
        return stream.torn or f"offset {offset}: record does not end where its Content-Length says"
    return record


def _check_block(stream: _Stream, record: _Record, length: int) -> int:
    block, payload = _hasher(record.get("warc-block-digest")), _hasher(record.get("warc-payload-digest"))
    http = record.get("content-type").startswith("application/http")
    if record.get("warc-type") == "revisit":
        payload = None  # its payload digest is the original's, whose body is not repeated here
    head, read, in_body = b"", 0, not http
    while read < length:
        data = stream.read(min(_CHUNK, length - read))
        if not data:
            break
        read += len(data)
        if block is not None:
            block.update(data)
        if not in_body:  # the payload of an HTTP record starts after the HTTP headers
            head += data
            end = head.find(b"\r\n\r\n")
            if end < 0 and len(head) <= _MAX_HEADER:
                continue
            in_body, data = True, head[end + 4 :] if end >= 0 else b""
            if end < 0:
                record.problems.append("HTTP headers never end")
                payload = None
        if payload is not None:
            payload.update(data)
    if read == length:
        for name, hasher in (("block", block), ("payload", payload)):
            if hasher is not None and not _digest_matches(record.get(f"warc-{name}-digest"), hasher):
                record.problems.append(f"{name} digest does not match ({record.get(f'warc-{name}-digest')})")
    return read


def scan(path: Path) -> Iterator[_Record | str]:
    """Every record of a WARC file, then, if it does not end cleanly, why (one line)."""
    with open(path, "rb") as fh:
        stream = _Stream(fh, path.name.endswith(".gz"))
        while True:
            item = _read_record(stream)
            if item is None:
                return
            yield item
            if isinstance(item, str):
                return


def record_at(path: Path, offset: int) -> _Record | str:
    """The record that starts at ``offset``, digests checked, or why there is none."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            item = _read_record(_Stream(fh, path.name.endswith(".gz")))
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    return item if item is not None else f"offset {offset}: no record there"


def verify(path: Path, on_problem: OnProblem) -> Summary:
    """Check a WARC file, or an archive folder (its WARC files, texts and catalog)."""
    summary = Summary()

    def problem(line: str) -> None:
        summary.problems += 1
        on_problem(line)

    warcs = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.name.endswith(WARC_SUFFIXES))
    for warc in warcs:
        summary.warc_files += 1
        if warc.with_name(warc.name + ".open").exists():
            problem(f"{warc}: left open by a run that is still going or was killed (the next run repairs it)")
        _check_warc(warc, summary, problem)
    root = _archive_root(path)
    if root is not None:
        for meta in sorted((root / "text").rglob("*.json")):
            summary.texts += 1
            _check_text(meta, root, problem)
        if (root / "catalog.sqlite").is_file():
            _check_catalog(root, summary, problem)
    return summary


def _check_warc(warc: Path, summary: Summary, problem: OnProblem) -> None:
    try:
        for item in scan(warc):
            if isinstance(item, str):
                problem(f"{warc}: {item}")
                continue
            summary.records += 1
            for issue in item.problems:
                problem(f"{warc}: offset {item.offset}: {item.get('warc-type')} record: {issue}")
    except OSError as exc:
        problem(f"{warc}: cannot read: {exc.strerror or exc}")


def _archive_root(path: Path) -> Path | None:
    """The output folder: the one given, or the one holding the ``text/`` folder it is inside."""
    if path.is_file():
        return None
    if (path / "text").is_dir():
        return path
    for parent in path.resolve().parents:
        if parent.name == "text":
            return parent.parent
    return None


def _inside(root: Path, relative: str) -> Path | None:
    target = (root / relative).resolve()
    return target if target.is_relative_to(root.resolve()) else None


def _check_pointer(root: Path, warc_file: str, offset: Any, record_id: str, digest: str | None) -> str | None:
    """Why (warc_file, offset) does not hold the response ``record_id`` with payload ``digest``."""
    warc = _inside(root, warc_file or "")
    if warc is None or not warc.is_file():
        return f"names {warc_file!r}, which is not a WARC file in {root}"
    if not isinstance(offset, int) or offset < 0:
        return f"has no usable WARC offset ({offset!r})"
    record = record_at(warc, offset)
    if isinstance(record, str):
        return f"points at {warc_file} offset {offset}, where no whole record starts"
    if record.get("warc-record-id") != record_id or record.get("warc-type") != "response":
        found = f"{record.get('warc-type')} {record.get('warc-record-id')}"
        return f"points at {warc_file} offset {offset}, which holds {found}, not the response {record_id}"
    if record.problems:
        return f"points at a damaged record: {'; '.join(record.problems)}"
    if digest is not None and record.get("warc-payload-digest") != digest:
        return f"payload digest {digest} is not the record's ({record.get('warc-payload-digest')})"
    return None


def _check_text(meta: Path, root: Path, problem: OnProblem) -> None:
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        problem(f"{meta}: unreadable: {exc}")
        return
    why = _check_pointer(
        root, str(data.get("warc_file", "")), data.get("warc_offset"), str(data.get("warc_record_id", "")),
        data.get("payload_digest"),
    )  # fmt: skip
    if why:
        problem(f"{meta}: {why}")
    text = meta.with_suffix(".txt")
    try:
        actual = hashlib.sha256(text.read_bytes()).hexdigest()
    except OSError as exc:
        problem(f"{meta}: its text {text.name} cannot be read: {exc.strerror or exc}")
        return
    if actual != data.get("text_sha256"):
        problem(f"{meta}: text_sha256 is not the SHA-256 of {text.name}")


def _check_catalog(root: Path, summary: Summary, problem: OnProblem) -> None:
    where = root / "catalog.sqlite"
    try:
        with Catalog(where) as catalog:
            for row in catalog.articles():
                summary.catalog_entries += 1
                _check_row(root, row, problem, where)
    except CatalogError as exc:
        problem(f"{where}: {exc}")


def _check_row(root: Path, row: Any, problem: OnProblem, where: Path) -> None:
    said = f"{where}: {row.canonical}"
    why = _check_pointer(root, row.warc_file or "", row.warc_offset, row.warc_record_id or "", row.payload_digest)
    if why:
        problem(f"{said}: {why}")
    for name in (row.text_path, row.json_path):
        if name and not ((found := _inside(root, name)) and found.is_file()):
            problem(f"{said}: {name} is missing")
    if row.json_path and (found := _inside(root, row.json_path)) and found.is_file():
        try:
            named = json.loads(found.read_text(encoding="utf-8")).get("warc_record_id")
        except (OSError, ValueError, AttributeError):
            return  # the text check reports an unreadable JSON
        if named != row.warc_record_id:
            problem(f"{said}: the catalog names record {row.warc_record_id}, its JSON {named}")
