"""The WARC package on its own: revisit records, the text a metadata record names, uncompressed
files, size rotation, files continued across runs, repair of a torn tail."""

from __future__ import annotations

import gzip
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from scraper.capture.warc import (
    REVISIT_IDENTICAL,
    REVISIT_NOT_MODIFIED,
    Original,
    ReadProblem,
    Stored,
    WarcFile,
    WarcSink,
    check_records,
    read_responses,
    repair_unclosed,
    torn_tail,
)
from scraper.models import Exchange

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
STEM = "text/x/000_0123456789abcdef"


def exchange(url: str, status: int = 200, body: bytes = b"<html><p>text</p></html>") -> Exchange:
    return Exchange(
        url=url, started_at=WHEN, method="GET", request_headers=(("Host", "www.rbc.ru"),), http_version="HTTP/1.1",
        status=status, reason="OK" if status == 200 else "Not Modified",
        response_headers=(("Content-Type", "text/html"), ("ETag", '"v1"')), raw_body=body if status == 200 else b"",
    )  # fmt: skip


def sink(folder: Path, max_bytes: int = 10**9, when: datetime = WHEN) -> WarcSink:
    return WarcSink(folder / "warc", folder, "rbc", max_bytes, {"software": "test"}, lambda: when)


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


def killed(warcs: WarcSink) -> None:
    """As a kill leaves a sink: its marker left behind, the lock on it gone with the process."""
    assert warcs._marker is not None
    os.close(warcs._marker)
    warcs._marker = None


def test_a_torn_tail_is_cut_off_and_kept(tmp_path: Path) -> None:
    warcs = sink(tmp_path)
    for i in range(3):
        warcs.current().write_exchange(exchange(f"https://www.rbc.ru/a/{i}"), {})
    path = warcs.paths[0]
    killed(warcs)  # no close(): the marker stays behind and the tail is torn
    data = path.read_bytes()
    path.write_bytes(data[:-40])
    said = repair_unclosed(tmp_path / "warc")
    assert len(said) == 1 and "torn last record" in said[0]
    assert path.with_name(path.name + ".torn").exists()
    assert not any(isinstance(r, ReadProblem) for r in read_responses(path, path.name, 10**6))


def test_the_metadata_record_names_the_text(tmp_path: Path) -> None:
    path = tmp_path / "a.warc.gz"
    with WarcFile(path, path.name) as warc:
        warc.write_warcinfo({"software": "test"})
        warc.write_exchange(exchange("https://www.rbc.ru/a/1"), {"scraper-text": STEM})
        warc.write_exchange(exchange("https://www.rbc.ru/a/2"), {"software": "test"})
    stored = list(read_responses(path, path.name, 10**6))
    assert [(s.capture.url, s.text_stem) for s in stored if isinstance(s, Stored)] == [
        ("https://www.rbc.ru/a/1", STEM),
        ("https://www.rbc.ru/a/2", None),
    ]
    assert len(stored) == 2


def sample(path: Path) -> Path:
    """Pages with and without a text named, a 404, a page the fetcher cut, and a revisit."""
    page = "https://www.rbc.ru/a/1"
    with WarcFile(path, path.name) as warc:
        warc.write_warcinfo({"software": "test"})
        first = warc.write_exchange(
            exchange(page, body=b"<p>" + "Москва ".encode() * 400 + b"</p>"), {"scraper-text": STEM}
        )
        warc.write_exchange(exchange("https://www.rbc.ru/a/2"), {})
        warc.write_revisit(exchange(page, 304), Original(first.record_id, page, "2024-05-01T12:00:00.000000Z"), {})
        missing = exchange("https://www.rbc.ru/a/3")
        warc.write_exchange(Exchange(**{**_fields(missing), "status": 404, "reason": "Not Found"}), {})
        cut = Exchange(**{**_fields(exchange("https://www.rbc.ru/a/4")), "truncated": "length"})
        warc.write_exchange(cut, {"scraper-text": "text/x/004_0123456789abcdef"})
    return path


def _fields(exchange: Exchange) -> dict[str, object]:
    return {name: getattr(exchange, name) for name in Exchange.__dataclass_fields__}


def seen(path: Path) -> list[object]:
    return [
        (s.capture, s.text_stem, s.truncated, s.ordinal) if isinstance(s, Stored) else s
        for s in read_responses(path, path.name, 10**6)
    ]


def test_an_uncompressed_warc_reads_as_its_gzip_does(tmp_path: Path) -> None:
    compressed = sample(tmp_path / "s.warc.gz")
    plain = tmp_path / "s.warc"
    plain.write_bytes(gzip.decompress(compressed.read_bytes()))  # the members inflate to one plain WARC
    assert seen(plain) == seen(compressed)
    assert [(s[0].status, s[1], s[2], s[3]) for s in seen(plain)] == [  # type: ignore[index]
        (200, STEM, None, 0),
        (200, None, None, 1),
        (404, None, None, 2),
        (200, "text/x/004_0123456789abcdef", "length", 3),  # cut by the fetcher: still a capture, marked
    ]
    for path in (plain, compressed):
        checked = list(check_records(path))
        assert len(checked) == 1 + 5 * 3 and not [c for c in checked if isinstance(c, ReadProblem) or c.problems]
        assert torn_tail(path) is None


def test_a_later_sink_the_same_day_continues_the_file(tmp_path: Path) -> None:
    with sink(tmp_path) as first:
        one = first.current().write_exchange(exchange("https://www.rbc.ru/a/1"), {"scraper-text": STEM})
    with sink(tmp_path, when=WHEN + timedelta(hours=11)) as second:
        two = second.current().write_exchange(exchange("https://www.rbc.ru/a/2"), {})
        second.current().write_revisit(exchange("https://www.rbc.ru/a/1", 304), Original(one.record_id, "", ""), {})
    assert second.paths == first.paths and list((tmp_path / "warc").glob("*.warc.gz")) == first.paths
    path = first.paths[0]
    assert (one.warc_file, two.warc_file) == (f"warc/{path.name}",) * 2 and two.offset > one.offset
    stored = [s for s in read_responses(path, path.name, 10**6)]
    assert [(s.capture.url, s.ref.offset, s.text_stem, s.ordinal) for s in stored if isinstance(s, Stored)] == [
        ("https://www.rbc.ru/a/1", one.offset, STEM, 0),
        ("https://www.rbc.ru/a/2", two.offset, None, 1),
    ]
    assert len(stored) == 2
    checked = list(check_records(path))
    assert not [c for c in checked if isinstance(c, ReadProblem) or c.problems]
    # each run's records follow a warcinfo record of their own
    assert [c.rec_type for c in checked if not isinstance(c, ReadProblem)] == [
        "warcinfo", "response", "request", "metadata", "warcinfo", "response", "request", "metadata",
        "revisit", "request", "metadata",
    ]  # fmt: skip
    assert not list((tmp_path / "warc").glob("*.open"))


def test_a_new_day_or_a_full_file_starts_a_new_file(tmp_path: Path) -> None:
    with sink(tmp_path) as first:
        first.current().write_exchange(exchange("https://www.rbc.ru/a/1"), {})
    (path,) = first.paths
    size = path.stat().st_size
    with sink(tmp_path, max_bytes=size) as full:
        full.current().write_exchange(exchange("https://www.rbc.ru/a/2"), {})
    assert path.stat().st_size == size
    assert full.paths[0].name == "rbc-20240501T120000Z-00001.warc.gz"
    with sink(tmp_path, max_bytes=size + 10**6) as below:  # the newest file of the day, below the size
        below.current().write_exchange(exchange("https://www.rbc.ru/a/3"), {})
    assert below.paths == full.paths
    with sink(tmp_path, when=WHEN + timedelta(days=1)) as next_day:
        next_day.current().write_exchange(exchange("https://www.rbc.ru/a/4"), {})
    assert next_day.paths[0].name == "rbc-20240502T120000Z-00000.warc.gz"
    with sink(tmp_path) as back:  # by the clock of the day before: the newest file is not of its day
        back.current().write_exchange(exchange("https://www.rbc.ru/a/5"), {})
    assert back.paths[0].name == "rbc-20240501T120000Z-00002.warc.gz"


def test_a_symlinked_or_torn_newest_file_is_not_continued(tmp_path: Path) -> None:
    with sink(tmp_path) as first:
        first.current().write_exchange(exchange("https://www.rbc.ru/a/1"), {})
    (path,) = first.paths
    elsewhere = tmp_path / "elsewhere.warc.gz"
    path.rename(elsewhere)
    path.symlink_to(elsewhere)
    kept = elsewhere.read_bytes()
    with sink(tmp_path) as second:
        second.current().write_exchange(exchange("https://www.rbc.ru/a/2"), {})
    assert second.paths != [path] and elsewhere.read_bytes() == kept
    (newest,) = second.paths
    newest.write_bytes(newest.read_bytes()[:-40])  # torn, with no marker to say so
    with sink(tmp_path) as third:
        third.current().write_exchange(exchange("https://www.rbc.ru/a/3"), {})
    assert third.paths[0] not in (path, newest)


def test_a_file_left_open_is_continued_only_once_repaired(tmp_path: Path) -> None:
    torn = b""
    for round_ in range(2):
        dead = sink(tmp_path)
        dead.current().write_exchange(exchange(f"https://www.rbc.ru/a/{round_}"), {})
        killed(dead)  # never closed: the marker stays behind
        (path,) = dead.paths
        data = path.read_bytes()[:-40]
        path.write_bytes(data)
        with sink(tmp_path) as meanwhile:  # a file marked open is not appended to
            assert meanwhile.current().path != path
        meanwhile.paths[0].unlink()
        assert len(repair_unclosed(tmp_path / "warc")) == 1
        torn += data[path.stat().st_size :]  # the torn record, from its start
    # the second run continued the repaired file; what both repairs cut off is kept
    assert path.with_name(path.name + ".torn").read_bytes() == torn
    with sink(tmp_path) as last:
        last.current().write_exchange(exchange("https://www.rbc.ru/a/2"), {})
    assert last.paths == [path]
    stored = list(read_responses(path, path.name, 10**6))
    assert [s.capture.url for s in stored if isinstance(s, Stored)] == [f"https://www.rbc.ru/a/{i}" for i in range(3)]
    assert len(stored) == 3 and not [c for c in check_records(path) if isinstance(c, ReadProblem) or c.problems]
