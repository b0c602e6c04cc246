"""Integrity: `scraper verify` accounts for every byte of a WARC file, the repair of a file a
killed run left open cuts only its torn tail, and a write that fails leaves a file that ends with a
whole record.

The files are written by the tool's own writer (warcinfo, then a response, request and metadata
record per page: seven records, each a gzip member of its own), then damaged the ways a disk, a
copy or a hand can damage them. Where each record starts is found here with zlib alone, not with
the code under test."""

from __future__ import annotations

import errno
import gzip
import os
import re
import subprocess
import sys
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from scraper.capture.framing import next_member
from scraper.capture.warc import WarcFile, repair_unclosed
from scraper.capture.warc import writer as writer_module
from scraper.capture.warc.checker import RecordCheck, walk
from scraper.cli import app
from scraper.errors import ArchiveError
from scraper.models import Exchange

RECORDS = 7  # warcinfo + 2 pages of 3
MIDDLE = 1  # the first page's response: records follow it


def page(n: int, size: int = 300) -> Exchange:
    return Exchange(
        url=f"https://www.interfax.ru/world/{n}", started_at=datetime(2024, 5, 1, 12, tzinfo=UTC), method="GET",
        request_headers=(("Host", "www.interfax.ru"),), http_version="HTTP/1.1", status=200, reason="OK",
        response_headers=(("Content-Type", "text/html; charset=utf-8"),),
        raw_body=b"<html><p>" + f"Москва, абзац {n}. ".encode() * size + b"</p></html>",
    )  # fmt: skip


def write(path: Path, pages: int = 2) -> list[bytes]:
    """A WARC file as the tool writes one; returns its gzip members."""
    with WarcFile(path, path.name) as warc:
        warc.write_warcinfo({"software": "scraper/0.1.0", "format": "WARC File Format 1.1"})
        for n in range(pages):
            warc.write_exchange(page(n), {"software": "scraper/0.1.0", "scraper-text": f"text/x/{n:03d}_{n:016x}"})
    return members(path.read_bytes())


def members(data: bytes) -> list[bytes]:
    found = []
    while data:
        inflater = zlib.decompressobj(31)
        inflater.decompress(data)
        assert inflater.eof, "the file must be whole"
        found.append(data[: len(data) - len(inflater.unused_data)])
        data = inflater.unused_data
    return found


def starts(parts: list[bytes]) -> list[int]:
    return [sum(len(p) for p in parts[:i]) for i in range(len(parts) + 1)]


def content_length(record: bytes) -> int:
    found = re.search(rb"\r\nContent-Length: (\d+)\r\n", record)
    assert found is not None
    return int(found[1])


def relength(record: bytes, change: int) -> bytes:
    length = content_length(record)
    return record.replace(b"Content-Length: %d" % length, b"Content-Length: %d" % (length + change), 1)


def flip(data: bytes, at: int, bit: int = 0x01) -> bytes:
    return data[:at] + bytes([data[at] ^ bit]) + data[at + 1 :]


def verify(path: Path) -> Result:
    return CliRunner().invoke(app, ["verify", str(path)])


def offsets(done: Result) -> set[int]:
    """The offsets the problem lines name."""
    return {int(n) for n in re.findall(r": offset (\d+): ", done.stdout)}


def records_read(done: Result) -> int:
    found = re.search(r"\((\d+) records?\)", done.stderr)
    assert found is not None, done.stderr
    return int(found[1])


@pytest.fixture
def parts(tmp_path: Path) -> list[bytes]:
    return write(tmp_path / "intact.warc.gz")


def test_an_intact_file_has_no_problem(tmp_path: Path, parts: list[bytes]) -> None:
    for path in (tmp_path / "intact.warc.gz", tmp_path / "intact.warc"):
        if path.suffix == ".warc":
            path.write_bytes(b"".join(gzip.decompress(p) for p in parts))
        done = verify(path)
        assert done.exit_code == 0 and done.stdout == "", done.output
        said = f"verified 1 WARC file ({RECORDS} records), not texts or catalog (give the archive folder): 0 problems\n"
        assert done.stderr == said
    folder = verify(tmp_path)  # a folder of WARC files, as warc/ is, is no archive folder either
    assert folder.stderr.endswith("not texts or catalog (give the archive folder): 0 problems\n"), folder.stderr


# each damage: the file's members -> (the damaged file's bytes, the offset to be named, records read whole)
Damage = Callable[[list[bytes]], tuple[bytes, int, int]]


def recompressed(parts: list[bytes], index: int, change: Callable[[bytes], bytes]) -> bytes:
    changed = gzip.compress(change(gzip.decompress(parts[index])))
    return b"".join([*parts[:index], changed, *parts[index + 1 :]])


def digest_changed(record: bytes) -> bytes:
    """The first character of the record's block digest changed."""
    at = record.index(b"WARC-Block-Digest: sha1:") + 24
    return record[:at] + (b"A" if record[at : at + 1] != b"A" else b"B") + record[at + 1 :]


def raw_flip(where: Callable[[bytes], int], bit: int = 0x01) -> Damage:
    """A bit flipped in the middle record's gzip member, at ``where(member)``."""

    def damage(parts: list[bytes]) -> tuple[bytes, int, int]:
        at = starts(parts)[MIDDLE]
        return flip(b"".join(parts), at + where(parts[MIDDLE]), bit), at, RECORDS - 1

    return damage


GZIP_DAMAGE: dict[str, Damage] = {
    "payload byte": lambda parts: (
        recompressed(parts, MIDDLE, lambda r: r.replace("абзац 0".encode(), "абзаЦ 0".encode(), 1)),
        starts(parts)[MIDDLE],
        RECORDS,
    ),
    "header byte (its block digest)": lambda parts: (
        recompressed(parts, MIDDLE, digest_changed),
        starts(parts)[MIDDLE],
        RECORDS,
    ),
    "header byte (Content-Length's name)": lambda parts: (
        recompressed(parts, MIDDLE, lambda r: r.replace(b"Content-Length", b"Content-Lengti", 1)),
        starts(parts)[MIDDLE],
        RECORDS - 1,
    ),
    "gzip magic": raw_flip(lambda m: 1),
    "gzip flags": raw_flip(lambda m: 3, 0x04),  # FEXTRA: the member's data read as an extra field
    "deflate data": raw_flip(lambda m: len(m) // 2),
    "gzip CRC": raw_flip(lambda m: len(m) - 6),
    "gzip length": raw_flip(lambda m: len(m) - 3),
    "Content-Length raised over the next record": lambda parts: (
        recompressed(parts, MIDDLE, lambda r: relength(r, len(gzip.decompress(parts[MIDDLE + 1])))),
        starts(parts)[MIDDLE],
        RECORDS,
    ),
    "Content-Length lowered": lambda parts: (
        recompressed(parts, MIDDLE, lambda r: relength(r, -40)),
        starts(parts)[MIDDLE],
        RECORDS,
    ),
    "two records in one member": lambda parts: (
        b"".join(
            [
                *parts[:MIDDLE],
                gzip.compress(b"".join(gzip.decompress(p) for p in parts[MIDDLE : MIDDLE + 2])),
                *parts[MIDDLE + 2 :],
            ]
        ),
        starts(parts)[MIDDLE],
        RECORDS - 1,
    ),
    "last record claiming past the end": lambda parts: (
        recompressed(parts, RECORDS - 1, lambda r: relength(r, 10**6)),
        starts(parts)[-2],
        RECORDS,
    ),
    "garbage appended": lambda parts: (b"".join(parts) + b"\0" * 100, starts(parts)[-1], RECORDS),
    "garbage between records": lambda parts: (
        b"".join([*parts[:MIDDLE], b"garbage\r\n", *parts[MIDDLE:]]),
        starts(parts)[MIDDLE],
        RECORDS,
    ),
    "torn tail": lambda parts: (b"".join(parts)[:-30], starts(parts)[-2], RECORDS - 1),
    "no warcinfo first": lambda parts: (b"".join(parts[1:]), 0, RECORDS - 1),
    "zero bytes": lambda parts: (b"", 0, 0),
}


@pytest.mark.parametrize("damage", list(GZIP_DAMAGE))
def test_verify_finds_damage_in_a_gzip_file(tmp_path: Path, parts: list[bytes], damage: str) -> None:
    data, offset, whole = GZIP_DAMAGE[damage](parts)
    path = tmp_path / "damaged.warc.gz"
    path.write_bytes(data)
    done = verify(path)
    assert done.exit_code == 1, done.output
    assert offsets(done) == {offset}, done.stdout  # the damage is named, and nothing after it is
    assert records_read(done) == whole  # the records after the damage are read, each whole
    assert done.stderr.count("\n") == 1  # the summary line only: nothing of warcio's on stderr


def plain(parts: list[bytes]) -> list[bytes]:
    return [gzip.decompress(p) for p in parts]


def replaced(records: list[bytes], index: int, record: bytes) -> bytes:
    return b"".join([*records[:index], record, *records[index + 1 :]])


PLAIN_DAMAGE: dict[str, Damage] = {
    "payload byte": lambda r: (
        replaced(r, MIDDLE, r[MIDDLE].replace("абзац 0".encode(), "абзаЦ 0".encode(), 1)),
        starts(r)[MIDDLE],
        RECORDS,
    ),
    "Content-Length raised to swallow the next record exactly": lambda r: (
        replaced(r, MIDDLE, relength(r[MIDDLE], len(r[MIDDLE + 1]))),
        starts(r)[MIDDLE],
        RECORDS,
    ),
    "Content-Length raised into a later record": lambda r: (
        replaced(r, MIDDLE, relength(r[MIDDLE], len(r[MIDDLE + 1]) + 100)),
        starts(r)[MIDDLE],
        RECORDS,
    ),
    "Content-Length lowered": lambda r: (replaced(r, MIDDLE, relength(r[MIDDLE], -40)), starts(r)[MIDDLE], RECORDS),
    "Content-Length past the end of the file": lambda r: (
        replaced(r, MIDDLE, relength(r[MIDDLE], 10**7)),
        starts(r)[MIDDLE],
        RECORDS - 1,
    ),
    "garbage appended": lambda r: (b"".join(r) + b"\r\n", starts(r)[-1], RECORDS),
    "torn tail": lambda r: (b"".join(r)[:-30], starts(r)[-2], RECORDS - 1),
}


@pytest.mark.parametrize("damage", list(PLAIN_DAMAGE))
def test_verify_finds_damage_in_an_uncompressed_file(tmp_path: Path, parts: list[bytes], damage: str) -> None:
    data, offset, whole = PLAIN_DAMAGE[damage](plain(parts))
    path = tmp_path / "damaged.warc"
    path.write_bytes(data)
    done = verify(path)
    assert done.exit_code == 1, done.output
    assert offsets(done) == {offset}, done.stdout
    assert records_read(done) == whole
    assert done.stderr.count("\n") == 1


def test_reading_goes_on_past_every_damaged_record(tmp_path: Path, parts: list[bytes]) -> None:
    data = b"".join(parts)
    at = starts(parts)
    for index in (1, 4):  # both responses: the damage of the first hides nothing after it
        data = flip(data, at[index] + len(parts[index]) // 2)
    path = tmp_path / "twice.warc.gz"
    path.write_bytes(data)
    done = verify(path)
    assert offsets(done) == {at[1], at[4]} and records_read(done) == RECORDS - 2, done.stdout
    with open(path, "rb") as fh:  # what the reader will use to go on past a damaged record
        assert next_member(fh.fileno(), at[1]) == at[2]
        assert next_member(fh.fileno(), at[-2]) is None


def test_one_problem_is_said_as_one(tmp_path: Path, parts: list[bytes]) -> None:
    path = tmp_path / "a.warc.gz"
    path.write_bytes(b"".join(parts) + b"x")
    assert verify(path).stderr.endswith(": 1 problem\n")


def test_an_empty_or_foreign_catalog_is_a_problem(tmp_path: Path) -> None:
    root = tmp_path / "archives"
    write(root / "warc" / "a.warc.gz")
    catalog = root / "catalog.sqlite"
    for content, said in (
        (b"", "empty file (0 bytes)"),
        (b"PK\3\4 not a database", "not a database (19 bytes, not an SQLite database)"),
    ):
        catalog.write_bytes(content)
        done = verify(root)
        assert done.exit_code == 1 and done.stdout.startswith(f"{catalog}: {said}"), done.output
        assert done.stdout.count("\n") == 1 and "not a catalog" in done.stdout
        assert catalog.read_bytes() == content  # verify writes nothing


def test_a_path_that_is_no_warc_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty").mkdir()
    for path in (tmp_path / "notes.txt", tmp_path / "empty", tmp_path / "missing.warc.gz"):
        done = verify(path)
        assert done.exit_code == 2 and done.stdout == "" and done.stderr.count("\n") == 1, done.output
        assert done.stderr.startswith(f"error: {path}: ")


# --- repair of a file a killed run left open -------------------------------------------------


def test_repair_cuts_the_torn_tail_only(tmp_path: Path) -> None:
    folder = tmp_path / "warc"
    path = folder / "rbc-20240501T120000Z-00000.warc.gz"
    parts = write(path)
    whole = flip(b"".join(parts), starts(parts)[MIDDLE] + len(parts[MIDDLE]) // 2)  # record 2 damaged
    torn = write(tmp_path / "next.warc.gz", pages=1)[1][:-50]  # a response cut short, as a kill leaves it
    path.write_bytes(whole + torn)
    (folder / (path.name + ".open")).touch()
    said = repair_unclosed(folder)
    assert len(said) == 2 and said[0].startswith(
        f"{path}: record at offset {starts(parts)[MIDDLE]} damaged: kept, not cut (damaged record "
    )
    assert (
        said[1]
        == f"{path}: torn last record ({len(torn)} bytes) cut off at offset {len(whole)}, kept in {path.name}.torn"
    )
    assert path.read_bytes() == whole  # every record after the damaged one stays where it was
    assert path.with_name(path.name + ".torn").read_bytes() == torn
    assert not (folder / (path.name + ".open")).exists()
    found = list(walk(path))
    assert [c.start for c in found] == starts(parts)[:-1]
    assert [isinstance(c.found, RecordCheck) for c in found] == [i != MIDDLE for i in range(RECORDS)]


# --- a write that fails ------------------------------------------------------------------------


def whole_records(path: Path) -> bool:
    """The file is whole records end to end, none damaged."""
    found = list(walk(path))
    return bool(found) and all(isinstance(c.found, RecordCheck) and not c.found.problems for c in found)


_FILE_TOO_BIG = """
import resource, sys
from pathlib import Path
from test_integrity import page
from scraper.capture.warc import WarcFile
from scraper.errors import ArchiveError

resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
path = Path(sys.argv[1])
with WarcFile(path, path.name) as warc:
    warc.write_warcinfo({"software": "scraper/0.1.0"})
    warc.write_exchange(page(0), {"software": "scraper/0.1.0"})
    before = warc.size
    resource.setrlimit(resource.RLIMIT_FSIZE, (before + 2000, resource.RLIM_INFINITY))
    try:
        warc.write_exchange(page(1, size=20000), {"software": "scraper/0.1.0"})  # some 60 KB compressed
    except ArchiveError as exc:
        print(before, exc, sep="\\n")
"""


def test_a_file_size_limit_mid_record_leaves_whole_records(tmp_path: Path) -> None:
    path = tmp_path / "warc" / "fetch-20240501T120000Z-00000.warc.gz"
    done = subprocess.run(
        [sys.executable, "-B", "-c", _FILE_TOO_BIG, str(path)], capture_output=True, text=True, timeout=60,
        env=os.environ | {"PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])},
    )  # fmt: skip
    assert done.returncode == 0 and done.stderr == "", done.stderr
    before, message = done.stdout.splitlines()
    assert message == (
        f"{path}: cannot write a WARC record: File too large; the part written was cut off, "
        "the file ends with its last whole record"
    )
    assert path.stat().st_size == int(before) and whole_records(path)
    (path.parent / (path.name + ".open")).touch()
    assert repair_unclosed(path.parent) == [] and path.stat().st_size == int(before)


def test_a_full_disk_at_fsync_leaves_whole_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.warc.gz"
    real_fsync, failures = os.fsync, []

    def fsync(fd: int) -> None:
        if len(failures) < failing:
            failures.append(fd)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(writer_module.os, "fsync", fsync)
    with WarcFile(path, path.name) as warc:
        failing = 0
        warc.write_warcinfo({"software": "scraper/0.1.0"})
        before = warc.size
        failing = 1  # the records are written, then the disk is found full
        with pytest.raises(ArchiveError) as raised:
            warc.write_exchange(page(0), {})
        assert str(raised.value) == (
            f"{path}: cannot write a WARC record: No space left on device; the part written was cut off, "
            "the file ends with its last whole record"
        )
        assert warc.size == before
        warc.write_exchange(page(1), {})  # the disk has room again: the file goes on whole
        failures.clear()
        failing = 2  # and the cut cannot be made durable either: nothing more is written after it
        with pytest.raises(ArchiveError, match="could not be cut off"):
            warc.write_exchange(page(2), {})
        with pytest.raises(ArchiveError, match="not written to after a write that failed"):
            warc.write_exchange(page(3), {})
    assert whole_records(path) and len(list(walk(path))) == 4


def test_a_fifo_or_an_unreadable_entry_is_no_warc(tmp_path: Path) -> None:
    from scraper.capture.warc import warcs_under

    root = tmp_path / "archives"
    write(root / "warc" / "a.warc.gz")
    os.mkfifo(root / "warc" / "f.warc.gz")
    assert [p.name for p in warcs_under(root)] == ["a.warc.gz"]
    assert verify(root).exit_code == 0  # the FIFO is not opened: nothing blocks
    done = verify(root / "warc" / "f.warc.gz")
    assert done.exit_code == 2 and "not a regular file" in done.stderr
