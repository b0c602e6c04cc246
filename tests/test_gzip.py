"""The writer's gzip (zlib-ng, not the standard zlib) is standard gzip: a WARC it writes reads back
with warcio and with Python's gzip module, one gzip member per record, and passes the checker."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from scraper.capture.warc import (
    Original,
    ReadProblem,
    RecordCheck,
    Stored,
    WarcFile,
    check_records,
    read_responses,
)
from scraper.models import Exchange

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
# a real-looking page, long enough that deflate has work to do, with Cyrillic text in it
PARAGRAPHS = "".join(f"<p>Абзац {n}: Москва, {n * 7919 % 1000} слов.</p>" for n in range(400))
BODY = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Новости</title></head>"
    f"<body><article>{PARAGRAPHS}</article></body></html>"
).encode()


def exchange(url: str, body: bytes = BODY, status: int = 200) -> Exchange:
    return Exchange(
        url=url, started_at=WHEN, method="GET", request_headers=(("Host", "www.rbc.ru"),), http_version="HTTP/1.1",
        status=status, reason="OK" if status == 200 else "Not Modified",
        response_headers=(("Content-Type", "text/html; charset=utf-8"),), raw_body=body if status == 200 else b"",
    )  # fmt: skip


def written(path: Path) -> Path:
    """warcinfo, two exchanges (response, request, metadata each) and a revisit with its two."""
    with WarcFile(path, path.name) as warc:
        warc.write_warcinfo({"software": "test"})
        first = warc.write_exchange(exchange("https://www.rbc.ru/a/1"), {"scraper-text": "text/x/000_0123456789abcdef"})
        warc.write_exchange(exchange("https://www.rbc.ru/a/2", body=b"<html><p>short</p></html>"), {})
        original = Original(first.record_id, "https://www.rbc.ru/a/1", "2024-05-01T12:00:00.000000Z")
        warc.write_revisit(exchange("https://www.rbc.ru/a/1", status=304), original, {})
    return path


TYPES = ["warcinfo"] + ["response", "request", "metadata"] * 2 + ["revisit", "request", "metadata"]


def members(data: bytes) -> list[bytes]:
    """Each gzip member of the file, inflated by the standard library's zlib."""
    found = []
    while data:
        inflater = zlib.decompressobj(31)
        found.append(inflater.decompress(data) + inflater.flush())
        assert inflater.eof, "a member ends before its trailer"
        data = inflater.unused_data
    return found


def test_one_gzip_member_per_record(tmp_path: Path) -> None:
    data = written(tmp_path / "a.warc.gz").read_bytes()
    records = members(data)
    assert len(records) == len(TYPES)
    assert all(r.startswith(b"WARC/1.1\r\n") for r in records)
    assert [r.split(b"WARC-Type: ")[1].split(b"\r\n")[0].decode() for r in records] == TYPES


def test_pythons_gzip_module_reads_the_whole_file(tmp_path: Path) -> None:
    path = written(tmp_path / "a.warc.gz")
    with gzip.open(path, "rb") as fh:
        whole = fh.read()
    assert whole == b"".join(members(path.read_bytes()))
    assert whole.count(b"WARC/1.1\r\n") == len(TYPES)
    assert BODY in whole


def test_warcio_reads_every_record_at_its_own_member(tmp_path: Path) -> None:
    path = written(tmp_path / "a.warc.gz")
    with open(path, "rb") as fh:
        seen = [
            (r.rec_type, r.content_stream().read() if r.rec_type == "response" else None, it.get_record_offset())
            for it in [ArchiveIterator(fh)]
            for r in it
        ]
    assert [t for t, _, _ in seen] == TYPES
    assert seen[1][1] == BODY
    data = path.read_bytes()
    for _, _, offset in seen:  # each record starts a member: a reader can seek to any of them
        assert data[offset : offset + 3] == b"\x1f\x8b\x08"
        assert zlib.decompressobj(31).decompress(data[offset:]).startswith(b"WARC/1.1\r\n")


def test_the_checker_finds_no_problem(tmp_path: Path) -> None:
    path = written(tmp_path / "a.warc.gz")
    checks = list(check_records(path))
    assert not [c for c in checks if isinstance(c, ReadProblem)]
    assert all(isinstance(c, RecordCheck) and not c.problems for c in checks)
    assert [c.rec_type for c in checks if isinstance(c, RecordCheck)] == TYPES


def test_the_reader_gets_the_bodies_back(tmp_path: Path) -> None:
    path = written(tmp_path / "a.warc.gz")
    stored = [s for s in read_responses(path, path.name, 10**6) if isinstance(s, Stored)]
    assert [(s.capture.url, s.capture.body) for s in stored] == [
        ("https://www.rbc.ru/a/1", BODY),
        ("https://www.rbc.ru/a/2", b"<html><p>short</p></html>"),
    ]


def test_a_file_continued_later_stays_one_member_per_record(tmp_path: Path) -> None:
    path = written(tmp_path / "a.warc.gz")
    with WarcFile(path, path.name, append=True) as warc:
        warc.write_exchange(exchange("https://www.rbc.ru/a/3"), {})
    assert len(members(path.read_bytes())) == len(TYPES) + 3
    assert not [c for c in check_records(path) if isinstance(c, ReadProblem) or c.problems]
