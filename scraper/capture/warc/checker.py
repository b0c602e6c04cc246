"""Checking WARC files: every record with its digests (``check_records``, what ``scraper verify``
and the repair of a killed run's file use), the record at an offset (``record_at``), and whether
a file ends with a whole record (``torn_tail``: cheap, for indexing and for continuing a file)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from scraper.capture.framing import end_of_whole_records
from scraper.capture.warc.reader import ReadProblem
from scraper.capture.warc.records import Corrupt, Record, iterate

_FAILED = re.compile(r"^(block|payload) digest failed:? ")
_GZIP = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class RecordCheck:
    """One record as `scraper verify` sees it: where it is, what it is, what is wrong with it."""

    offset: int
    rec_type: str
    record_id: str
    payload_digest: str | None
    problems: tuple[str, ...] = ()


def check_records(path: Path) -> Iterator[RecordCheck | ReadProblem]:
    """Every record of a WARC file with its block and payload digests checked, then a
    ``ReadProblem`` where the file does not end with a whole record."""
    end = 0
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        try:
            for record in iterate(fh, {}):
                if not record.rec_type:
                    yield ReadProblem(str(path), record.offset, "not a WARC record; the rest of the file is not read")
                    return
                if record.torn:
                    yield _torn(path, record, size)
                    if record.end >= size:
                        return
                    continue
                end = record.end
                yield _check(record)
        except Corrupt as exc:
            yield ReadProblem(str(path), end, f"corrupt record, rest of file not read: {exc}")
            return
    if end < size:
        yield ReadProblem(str(path), end, f"torn last record ({size - end} bytes)")


def _torn(path: Path, record: Record, size: int) -> ReadProblem:
    if record.end >= size:
        return ReadProblem(str(path), record.offset, f"torn last record ({size - record.offset} bytes): {record.torn}")
    return ReadProblem(str(path), record.offset, f"torn {record.rec_type} record: {record.torn}")


def record_at(path: Path, offset: int) -> RecordCheck | ReadProblem:
    """The record that starts at ``offset``, digests checked, or why there is none."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            records = iterate(fh, {})
            record = next(records, None)  # read to its end, digests checked; the rest is not read
            records.close()
    except Corrupt:
        return ReadProblem(str(path), offset, "no whole record starts there")
    if record is None:
        return ReadProblem(str(path), offset, "no record there")
    if not record.rec_type or record.torn:
        return ReadProblem(str(path), offset, "no whole record starts there")
    return _check(record)


def torn_tail(path: Path) -> ReadProblem | None:
    """Where a WARC file stops holding whole records, if it does before its end. A gzip file is
    judged from its last gzip member alone (its last record is read, not the file); an
    uncompressed one is read through."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if fh.read(2) == _GZIP:
            end = end_of_whole_records(fh.fileno(), size)
        else:
            fh.seek(0)
            end = _end_of_plain(fh)
    if end >= size:
        return None
    return ReadProblem(str(path), end, f"torn record at offset {end}: the last {size - end} bytes are no whole record")


def _end_of_plain(fh: BinaryIO) -> int:
    end = 0
    try:
        for record in iterate(fh, {}):
            if not record.rec_type or record.torn:
                break
            end = record.end
    except Corrupt:
        pass
    return end


def _check(record: Record) -> RecordCheck:
    # warcio says "payload digest failed sha1:..."; said here in the words of the rest of the tool
    problems = tuple(_FAILED.sub(r"\1 digest does not match: ", p) for p in record.problems)
    return RecordCheck(
        record.offset,
        record.rec_type,
        record.header("WARC-Record-ID") or "",
        record.header("WARC-Payload-Digest"),
        problems,
    )
