"""Reading WARC files back: ``read_responses`` streams the HTTP responses of a file, or of a
``framing.Span`` of it, as ``Stored`` captures.

A response is yielded only whole: one whose block is shorter than its Content-Length, whose gzip
member does not inflate to its end, or whose digest fails is a ``ReadProblem`` at its offset
instead, and so is any other record that is torn or damaged. Bytes after the last whole record
(a torn tail) are a ``ReadProblem`` too. Reading goes on past a bad record where it can.
Records whose writer cut the body on purpose (``WARC-Truncated``) are yielded, marked.

A body is read as stored and decoded by ``capture.encoding``, the decoder ``fetch`` uses, within
``max_body``: a response whose body cannot be decoded (a coding not decoded, a bomb, a body that
does not decompress) is yielded with no body and the reason, as ``fetch`` gives it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from scraper.archive.layout import WARC_SUFFIXES
from scraper.capture.encoding import decode_body
from scraper.capture.framing import WHOLE, Span
from scraper.capture.warc.records import Corrupt, Record, iterate
from scraper.errors import UsageError
from scraper.models import Capture, RecordRef

TEXT_FIELD = "scraper-text"  # metadata field: where the text of this capture is written
_FIELDS_MAX = 65536  # of a metadata record's payload, read for its fields
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the date of a response that has none


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
            records = iterate(fh, {})
            first = next(records, None)
            records.close()
    except (OSError, Corrupt):
        return None
    return first.header("WARC-Filename") if first is not None and first.rec_type == "warcinfo" else None


def read_responses(path: Path, relative_name: str, max_body: int, span: Span = WHOLE) -> Iterator[Stored | ReadProblem]:
    """Every whole response record with an HTTP payload, in file order, bodies decoded within ``max_body``;
    with a span, those of its records only (a span from ``spans``, or any cut at a record's start)."""
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
    held: Stored | None = None  # a response waits for the metadata record that says where its text goes
    ours = False  # the file describes its responses in metadata records (this tool's): one missing is a loss
    ordinal = span.first  # every HTTP response counts, a damaged one too, as ``spans`` counts them
    end = span.start  # where the whole records read so far end
    try:
        # a byte past max_body tells a body over it from one just as long
        for record in iterate(fh, {"response": max_body + 1, "metadata": _FIELDS_MAX, "warcinfo": _FIELDS_MAX}):
            end = record.end
            response = record.rec_type == "response" and record.http is not None
            if problem := _problem(record):
                if ours:  # the damaged record may be the held response's metadata record
                    yield from _unsaid(path, held, "a record after it is damaged")
                    held = None
                yield ReadProblem(str(path), record.offset, problem)
            elif record.rec_type == "warcinfo":
                ours = ours or _by_us(_parse_fields(record.body))
            elif response:
                yield from _settled(path, held, ours)
                held = _stored(record, relative_name, ordinal, max_body)
            elif record.rec_type == "metadata" and held is not None and _concurrent(record, held):
                fields = _parse_fields(record.body)
                ours = ours or _by_us(fields)
                yield replace(held, text_stem=fields.get(TEXT_FIELD), described=_by_us(fields))
                held = None
            ordinal += response
    except Corrupt as exc:
        if ours:  # the unreadable record may be the held response's metadata record
            yield from _unsaid(path, held, "the records after it are corrupt")
        elif held is not None:
            yield held
        rest = "rest of file skipped" if span.stop is None else f"skipped up to offset {span.stop}"
        yield ReadProblem(str(path), end, f"corrupt record, {rest}: {exc}")
        return
    if end < fh.stop:
        yield from _unsaid(path, held, "the records after it are torn")
        where = "file" if span.stop is None else "span"
        yield ReadProblem(str(path), end, f"torn record at the end of the {where} ({fh.stop - end} bytes) skipped")
    else:
        yield from _settled(path, held, ours)


def _settled(path: Path, held: Stored | None, ours: bool) -> Iterator[Stored]:
    """A response whose metadata record never came (another tool's have none). In this tool's
    files it was never recorded as archived (a run marks a capture only once all its records are
    on disk; a repaired file ends before the lost ones): described, with no text named."""
    if held is not None:
        yield replace(held, described=ours)


def _unsaid(path: Path, held: Stored | None, why: str) -> Iterator[ReadProblem]:
    """A whole response whose metadata record is lost gives no text rather than one under a name
    it never had."""
    if held is not None:
        yield ReadProblem(
            str(path), held.ref.offset, f"response record skipped: {why}, so where its text goes is unknown"
        )


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
