"""CDXJ indexes beside the WARC files of a real archive: two scheduled runs against the stand-in
sites of test_run (the second one stores every feed as a revisit record). Every response and
revisit record is listed, and each line's offset and length read back exactly that record.

``build_archive`` is shared with the replay, WACZ and export tests."""

from __future__ import annotations

import gzip
import io
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_run import World, _key
from warcio.archiveiterator import ArchiveIterator

from scraper.archive import cdx
from scraper.archive.cdx import (
    Indexed,
    IndexEntry,
    index_all,
    index_path,
    index_warc,
    is_current,
    read_index,
)
from scraper.archive.cdx_written import index_written
from scraper.archive.layout import Archive as ArchiveFolder
from scraper.capture.warc import Original, WarcFile, WarcSink
from scraper.models import Exchange
from scraper.schedule import batch
from scraper.sites import SITES

HTML = (("Content-Type", "text/html"),)
REVISIT_PROFILES = ("/revisit/server-not-modified", "/revisit/identical-payload-digest")


@dataclass(frozen=True)
class Record:
    kind: str
    url: str
    record_id: str
    date: str
    offset: int
    profile: str | None


@dataclass
class Archive:
    world: World
    root: Path  # the working folder: run.toml, out/

    @property
    def out(self) -> Path:
        return self.root / "out"

    def warcs(self) -> list[Path]:
        return sorted((self.out / "warc").glob("*.warc.gz"))

    def scraper(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "scraper", *args, "--config", "run.toml"],
            cwd=self.root, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip


def build_archive(root: Path) -> Archive:
    """Two runs: every article archived once, every feed twice (the second time as a revisit)."""
    world = World(root)
    interfax = next(s for s in SITES if s.name == "interfax")
    # this feed sends no ETag: the second run gets its body again, unchanged, and stores an
    # identical-payload-digest revisit; every other feed answers 304 (server-not-modified)
    world.routes["interfax"][_key(interfax.feeds[0])].etag = None
    with ExitStack() as stack:
        world.start(stack)
        first, _ = world.run()
        assert first.returncode == 0, first.stderr
        time.sleep(1.1)  # the revisits get a later second than their originals in 14-digit timestamps
        second, _ = world.run()
        assert second.returncode == 0, second.stderr
    return Archive(world, root)


def records(warc: Path) -> list[Record]:
    found = []
    with open(warc, "rb") as fh:
        it = ArchiveIterator(fh)
        for rec in it:
            if rec.rec_type in ("response", "revisit"):
                h = rec.rec_headers
                found.append(
                    Record(rec.rec_type, h.get_header("WARC-Target-URI"), h.get_header("WARC-Record-ID"),
                           h.get_header("WARC-Date"), it.get_record_offset(), h.get_header("WARC-Profile"))
                )  # fmt: skip
    return found


def read_back(warc: Path, entry: IndexEntry) -> list[tuple[str, str, str]]:
    """The records in exactly the bytes the entry points at: (type, target URI, WARC-Date)."""
    with open(warc, "rb") as fh:
        fh.seek(entry.offset)
        chunk = fh.read(entry.length)
    assert len(chunk) == entry.length
    return [
        (r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r.rec_headers.get_header("WARC-Date"))
        for r in ArchiveIterator(io.BytesIO(chunk))
    ]


def timestamp(warc_date: str) -> str:
    return "".join(c for c in warc_date if c.isdigit())[:14]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return build_archive(tmp_path_factory.mktemp("index"))


def test_the_index_lists_every_response_and_revisit_and_reads_them_back(archive: Archive) -> None:
    done = archive.scraper("index")
    assert done.returncode == 0, done.stderr
    warcs = archive.warcs()
    # one file per site and UTC day: the second run continued the first run's (two, across midnight)
    days = {re.search(r"-(\d{8})T\d{6}Z-", w.name)[1] for w in warcs}  # type: ignore[index]
    assert len(warcs) == len(SITES) * len(days)
    profiles = set()
    for warc in warcs:
        index = index_path(warc)
        assert index == warc.with_name(warc.name + ".cdxj") and index.is_file()
        lines = index.read_text(encoding="utf-8").splitlines()
        assert lines == sorted(lines)  # replay tools binary-search the index
        entries = read_index(index)
        expected = records(warc)
        assert sorted((e.url, e.offset) for e in entries) == sorted((r.url, r.offset) for r in expected)
        by_offset = {r.offset: r for r in expected}
        for entry in entries:
            record = by_offset[entry.offset]
            assert entry.filename == warc.name
            assert entry.timestamp == timestamp(record.date)
            assert (entry.mime == "warc/revisit") == (record.kind == "revisit")
            assert read_back(warc, entry) == [(record.kind, record.url, record.date)]
            profiles.add(record.profile)
    assert {p for p in profiles if p} and all(any(p.endswith(e) for p in profiles if p) for e in REVISIT_PROFILES)


def test_indexes_are_kept_current(archive: Archive) -> None:
    assert archive.scraper("index").returncode == 0
    again = archive.scraper("index")
    assert again.returncode == 0
    assert f"0 written, {len(archive.warcs())} already current, 0 failed" in again.stderr
    warc = archive.warcs()[0]
    later = index_path(warc).stat().st_mtime + 5
    os.utime(warc, (later, later))  # the WARC changed after its index was written
    index_path(archive.warcs()[1]).unlink()
    third = archive.scraper("index")
    assert third.returncode == 0
    assert f"2 written, {len(archive.warcs()) - 2} already current, 0 failed" in third.stderr
    assert index_path(archive.warcs()[1]).is_file()
    assert archive.scraper("index", "-q").stderr == ""
    forced = archive.scraper("index", "--force")
    assert f"{len(archive.warcs())} written" in forced.stderr


def test_index_warc_is_what_a_run_calls(tmp_path: Path, archive: Archive) -> None:
    warc = tmp_path / archive.warcs()[0].name
    warc.write_bytes(archive.warcs()[0].read_bytes())
    index = index_warc(warc)
    assert index == tmp_path / (warc.name + ".cdxj")
    assert sorted(e.offset for e in read_index(index)) == sorted(r.offset for r in records(warc))


def test_a_damaged_warc_fails_alone_and_an_open_one_is_left_for_later(tmp_path: Path, archive: Archive) -> None:
    good, writing = (tmp_path / w.name for w in archive.warcs()[:2])
    good.write_bytes(archive.warcs()[0].read_bytes())
    writing.write_bytes(archive.warcs()[1].read_bytes())
    writing.with_name(writing.name + ".open").touch()  # a run is still writing it
    (tmp_path / "broken.warc.gz").write_bytes(b"<html>not a WARC file</html>\n")
    done = subprocess.run([sys.executable, "-m", "scraper", "index", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 1
    failed = [line for line in done.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1 and "broken.warc.gz" in failed[0]
    assert index_path(good).is_file() and not index_path(writing).exists()
    assert any(line.startswith("skipped:") and writing.name in line for line in done.stderr.splitlines())


WHEN = datetime(2024, 5, 1, 12, tzinfo=UTC)


def sinks(folder: Path) -> Callable[[int], WarcSink]:
    """Sinks of one site in ``folder``, each for a run ``hours`` after the first, the same UTC day."""
    return lambda hours: WarcSink(
        folder / "warc", folder, "rbc", 10**9, {"software": "test"}, lambda: WHEN + timedelta(hours=hours)
    )


def test_a_grown_warc_is_indexed_again_whole(tmp_path: Path) -> None:
    """A later run continues a WARC (same UTC day): its one index is rewritten, listing every record."""
    when, sink = WHEN, sinks(tmp_path)

    with sink(0) as first:
        one = first.current().write_exchange(page("https://www.rbc.ru/a/1", when), {})
        first.current().write_exchange(page("https://www.rbc.ru/a/2", when), {})
    (warc,) = first.paths
    assert [(i.written, i.entries) for i in index_all([warc])] == [(True, 2)]
    before = index_path(warc).read_text(encoding="utf-8").splitlines()
    earlier = warc.stat().st_mtime - 3600  # the first run ended an hour ago (and its index with it)
    for path in (warc, index_path(warc)):
        os.utime(path, (earlier, earlier))
    with sink(1) as second:
        later = when + timedelta(hours=1)
        second.current().write_exchange(page("https://www.rbc.ru/a/3", later), {})
        second.current().write_revisit(page("https://www.rbc.ru/a/1", later, 304), Original(one.record_id, "", ""), {})
    assert second.paths == [warc]
    assert [(i.written, i.entries, i.problem) for i in index_all([warc])] == [(True, 4, None)]
    assert list((tmp_path / "warc").glob("*.cdxj")) == [index_path(warc)]
    after = index_path(warc).read_text(encoding="utf-8").splitlines()
    assert set(before) < set(after) and len(after) == 4
    assert sorted(e.offset for e in read_index(index_path(warc))) == [r.offset for r in records(warc)]


def page(url: str, when: datetime, status: int = 200, headers: tuple[tuple[str, str], ...] = HTML) -> Exchange:
    return Exchange(
        url=url, started_at=when, method="GET", request_headers=(), http_version="HTTP/1.1", status=status,
        reason="OK", response_headers=headers, raw_body=b"<p>text</p>" if status == 200 else b"",
    )  # fmt: skip


def read_from_file(warc: Path, tmp_path: Path) -> str:
    """The index cdxj-indexer writes of the file as it lies (damaged records left out)."""
    index = tmp_path / "read" / f"{warc.name}.cdxj"
    index.parent.mkdir(exist_ok=True)
    cdx._write_index(warc, index)
    return index.read_text(encoding="utf-8")


# Content-Type headers as servers send them: the mime is what comes before a ';' or a space
ODD_TYPES = [(), (("Content-Type", ""),), (("content-type", " text/html ;charset=utf-8"),),
             (("Content-Type", "a/b"), ("Content-Type", "c/d"))]  # fmt: skip


class ReadBack:
    """Counts the files indexed by reading them, in place of the index's read-back."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.files: list[Path] = []
        self._read = cdx._up_to_date
        monkeypatch.setattr(cdx, "_up_to_date", self)

    def __call__(self, warc: Path, force: bool, elsewhere: Path | None) -> Indexed:
        self.files.append(warc)
        return self._read(warc, force, elsewhere)


@pytest.mark.parametrize("index", ["current", "stale", "edited"])
def test_a_written_index_is_the_one_read_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, index: str
) -> None:
    """``run`` and ``fetch`` index what they wrote without reading the file: the same lines as
    cdxj-indexer's, for a new file and a continued one (responses, both kinds of revisit); a
    continued file whose index is not the one written of it as it was (older, or edited since) is
    read whole."""
    sink, read_back = sinks(tmp_path), ReadBack(monkeypatch)
    with sink(0) as first:
        one = first.current().write_exchange(page("https://www.rbc.ru/a/1", WHEN), {})
        for n, headers in enumerate(ODD_TYPES):
            first.current().write_exchange(page(f"https://www.rbc.ru/a/{n + 10}?q=%20x#f", WHEN, headers=headers), {})
    (done,) = first.written
    assert index_written(done) == Indexed(done.path, index_path(done.path), True, 1 + len(ODD_TYPES))
    assert index_path(done.path).read_text(encoding="utf-8") == read_from_file(done.path, tmp_path)
    if index != "current":  # a line short, and older than the file, or edited after it was written
        index_path(done.path).write_text("".join(index_path(done.path).read_text().splitlines(True)[1:]))
        moved = done.path.stat().st_mtime_ns + (-1 if index == "stale" else 1)
        os.utime(index_path(done.path), ns=(0, moved))
    with sink(1) as second:
        later = WHEN + timedelta(hours=1)
        second.current().write_exchange(page("https://www.rbc.ru/a/3", later), {})
        second.current().write_revisit(page("https://www.rbc.ru/a/1", later, 304), Original(one.record_id, "", ""), {})
        second.current().write_revisit(page("https://www.rbc.ru/a/1", later), Original(one.record_id, "", ""), {})
    (again,) = second.written
    assert again.continued is not None and again.path == done.path
    assert index_written(again).entries == 4 + len(ODD_TYPES)
    assert index_path(done.path).read_text(encoding="utf-8") == read_from_file(done.path, tmp_path)
    assert is_current(done.path)
    assert read_back.files == ([] if index == "current" else [done.path])


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("https://www.rbc.ru/a/1?q=a b", HTML),  # warcio writes the space escaped
        ("https://www.rbc.ru/a/1?q=a\tb", HTML),
        ("HTTPS://www.rbc.ru/a/1", HTML),  # no HTTP record to warcio: verify calls it damaged
        ("https://www.rbc.ru/a/1", (("Content-Type", "text/html\tx"),)),
        ("https://www.rbc.ru/a/1", (("Content-Type", "текст/html"),)),
    ],
)
def test_a_record_readers_take_otherwise_has_its_file_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, headers: tuple[tuple[str, str], ...]
) -> None:
    read_back = ReadBack(monkeypatch)
    with sinks(tmp_path)(0) as sink:
        sink.current().write_exchange(page("https://www.rbc.ru/a/0", WHEN), {})
        sink.current().write_exchange(page(url, WHEN, headers=headers), {})
    (done,) = sink.written
    indexed = index_written(done)
    assert read_back.files == [done.path]
    assert (indexed.problem is not None) == url.startswith("HTTPS"), indexed  # said, as verify would
    assert index_path(done.path).read_text(encoding="utf-8") == read_from_file(done.path, tmp_path)


@pytest.mark.parametrize("torn", [False, True], ids=["killed between records", "killed in a record"])
def test_a_file_a_killed_process_left_open_is_indexed_again_after_its_repair(tmp_path: Path, torn: bool) -> None:
    """Its index lacks what the killed process wrote: the next run or fetch repairs the file, then
    indexes it whole (before, only ``scraper index`` would)."""
    with sinks(tmp_path)(0) as first:
        first.current().write_exchange(page("https://www.rbc.ru/a/1", WHEN), {})
    (done,) = first.written
    index_written(done)
    with WarcFile(done.path, done.path.name, append=True) as killed:  # what the killed run wrote
        killed.write_exchange(page("https://www.rbc.ru/a/2", WHEN), {})
    with open(done.path, "ab") as fh:
        fh.write(gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\n")[: 30 if torn else 0])
    done.path.with_name(done.path.name + ".open").touch()
    notes = batch._repair(ArchiveFolder(tmp_path))
    assert not notes or all(note.startswith("repaired: ") for note in notes), notes
    assert len(read_index(index_path(done.path))) == 2
    assert index_path(done.path).read_text(encoding="utf-8") == read_from_file(done.path, tmp_path)


@pytest.mark.parametrize("path", ["missing.warc.gz", "run.toml"])
def test_a_bad_path_is_a_one_line_usage_error(archive: Archive, path: str) -> None:
    done = archive.scraper("index", path)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error:") and len(done.stderr.strip().splitlines()) == 1
