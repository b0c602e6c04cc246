"""The WARC module on its own: revisit records, size rotation, repair of a torn tail."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from scraper.capture.warc import (
    REVISIT_IDENTICAL,
    REVISIT_NOT_MODIFIED,
    Original,
    ReadProblem,
    Stored,
    WarcSink,
    read_responses,
    repair_unclosed,
)
from scraper.models import Exchange

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def exchange(url: str, status: int = 200, body: bytes = b"<html><p>text</p></html>") -> Exchange:
    return Exchange(
        url=url, started_at=WHEN, method="GET", request_headers=(("Host", "www.rbc.ru"),), http_version="HTTP/1.1",
        status=status, reason="OK" if status == 200 else "Not Modified",
        response_headers=(("Content-Type", "text/html"), ("ETag", '"v1"')), raw_body=body if status == 200 else b"",
    )  # fmt: skip


def sink(folder: Path, max_bytes: int = 10**9) -> WarcSink:
    return WarcSink(folder / "warc", folder, "rbc", max_bytes, {"software": "test"}, lambda: WHEN)


def test_revisits_refer_to_the_original(tmp_path: Path) -> None:
    feed = "https://www.rbc.ru/rss"
    with sink(tmp_path) as warcs:
        first = warcs.current().write_exchange(exchange(feed), {})
        original = Original(first.record_id, feed, "2024-05-01T12:00:00.000000Z")
        warcs.current().write_revisit(exchange(feed, 304), original, {})
        warcs.current().write_revisit(exchange(feed), original, {})
        path = warcs.paths[0]
    with open(path, "rb") as fh:
        revisits = [r.rec_headers for r in ArchiveIterator(fh) if r.rec_type == "revisit"]
    assert [h.get_header("WARC-Profile") for h in revisits] == [REVISIT_NOT_MODIFIED, REVISIT_IDENTICAL]
    assert all(h.get_header("WARC-Refers-To") == first.record_id for h in revisits)
    assert revisits[1].get_header("WARC-Payload-Digest") == first.payload_digest
    assert not list((tmp_path / "warc").glob("*.open"))  # closed cleanly


def test_files_rotate_past_the_size_limit(tmp_path: Path) -> None:
    with sink(tmp_path, max_bytes=2000) as warcs:
        refs = [
            warcs.current().write_exchange(exchange(f"https://www.rbc.ru/a/{i}", body=b"x" * 900), {}) for i in range(6)
        ]
        paths = list(warcs.paths)
    assert len(paths) > 1 and len({p.name for p in paths}) == len(paths)
    assert all(p.name.startswith("rbc-20240501T120000Z-") for p in paths)
    stored = [r for p in paths for r in read_responses(p, p.name, 10**6)]
    assert all(isinstance(r, Stored) for r in stored) and len(stored) == 6
    assert {r.warc_file for r in refs} == {f"warc/{p.name}" for p in paths}


def test_a_torn_tail_is_cut_off_and_kept(tmp_path: Path) -> None:
    warcs = sink(tmp_path)
    for i in range(3):
        warcs.current().write_exchange(exchange(f"https://www.rbc.ru/a/{i}"), {})
    path = warcs.paths[0]
    # no close(), as after a kill: the marker stays behind and the tail is torn
    data = path.read_bytes()
    path.write_bytes(data[:-40])
    said = repair_unclosed(tmp_path / "warc")
    assert len(said) == 1 and "torn last record" in said[0]
    assert path.with_name(path.name + ".torn").exists()
    assert not any(isinstance(r, ReadProblem) for r in read_responses(path, path.name, 10**6))
