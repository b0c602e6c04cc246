"""Reading goes on past a record damaged in the middle of a WARC file: `parse` and `reclean` give
the texts of the records after it, name the damaged one by its offset and exit 1, with one worker
or two; `index` leaves it out of the index. The files are written by the tool's own writer
(warcinfo, then a response, request and metadata record per page, each a gzip member of its own),
then damaged. Where each record starts is found here with zlib alone, not with the code under
test."""

from __future__ import annotations

import gzip
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_integrity import members, starts
from typer.testing import CliRunner, Result

from scraper.archive.cdx import index_path, read_index
from scraper.capture.framing import spans
from scraper.capture.warc import ReadProblem, WarcFile, read_responses
from scraper.cli import app
from scraper.models import Exchange
from scraper.urls import url_hash

SECOND = 4  # the second page's response: warcinfo, then response, request and metadata per page
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
Cli = Callable[..., Result]


def url(n: int) -> str:
    return f"https://www.interfax.ru/world/{n}"


def stem(n: int) -> str:
    return f"text/interfax/2024-05-01/{n:03d}_{url_hash(url(n))}"


def text(n: int, large: bool) -> bytes:
    """A page's paragraph: a large one (letters drawn at random) compresses to more than warcio
    inflates at a time, so that a damaged member goes wrong after its first read."""
    if not large:
        return f"Москва, абзац {n}. ".encode() * 300
    letters = random.Random(n).choices("абвгдежзиклмнопрстуфхцчшщэюя ", k=30000)
    return f"Москва, абзац {n}. {''.join(letters)}".encode()


def write(path: Path, large: bool = False) -> list[bytes]:
    """Three pages, as the tool writes them; returns the file's gzip members."""
    with WarcFile(path, path.name) as warc:
        warc.write_warcinfo({"software": "scraper/0.1.0", "format": "WARC File Format 1.1"})
        for n in range(3):
            exchange = Exchange(
                url=url(n), started_at=datetime(2024, 5, 1, 12, tzinfo=UTC), method="GET",
                request_headers=(("Host", "www.interfax.ru"),), http_version="HTTP/1.1", status=200, reason="OK",
                response_headers=(("Content-Type", "text/html; charset=utf-8"),),
                raw_body=b"<html><p>" + text(n, large) + b"</p></html>",
            )  # fmt: skip
            warc.write_exchange(exchange, {"software": "scraper/0.1.0", "scraper-text": stem(n)})
    return members(path.read_bytes())


def flipped(parts: list[bytes], index: int, where: Callable[[bytes], int]) -> bytes:
    """The file with one bit flipped in member ``index``, at ``where(member)`` into it."""
    at = starts(parts)[index] + where(parts[index])
    data = b"".join(parts)
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def read(path: Path) -> list[tuple[str, object]]:
    """What the reader gives: ("stored", its text stem) or ("problem", the offset)."""
    return [
        ("problem", item.offset) if isinstance(item, ReadProblem) else ("stored", item.text_stem)
        for item in read_responses(path, path.name, 10**6)
    ]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)  # no config.toml of the working folder is read
    monkeypatch.delenv("SCRAPER_CONFIG", raising=False)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(app, list(args))

    return invoke


@dataclass(frozen=True)
class Damaged:
    path: Path  # the second response's gzip member has a bit flipped in its CRC
    offsets: list[int]  # where each record starts
    intact: bytes  # the file before


@pytest.fixture(params=[False, True], ids=["small", "large"])
def damaged(tmp_path: Path, request: pytest.FixtureRequest) -> Damaged:
    path = tmp_path / "in" / "crawl.warc.gz"
    path.parent.mkdir()
    parts = write(path, request.param)
    path.write_bytes(flipped(parts, SECOND, lambda member: len(member) - 6))
    return Damaged(path, starts(parts), b"".join(parts))


WHERE = {
    "deflate data start": lambda member: 12,
    "deflate data middle": lambda member: len(member) // 2,
    "crc": lambda member: len(member) - 6,
    "length": lambda member: len(member) - 2,
}


@pytest.mark.parametrize("large", [False, True], ids=["small", "large"])
@pytest.mark.parametrize("where", WHERE)
def test_the_reader_goes_on_after_a_damaged_member(tmp_path: Path, where: str, large: bool) -> None:
    path = tmp_path / "crawl.warc.gz"
    parts = write(path, large)
    path.write_bytes(flipped(parts, SECOND, WHERE[where]))
    second = starts(parts)[SECOND]
    assert read(path) == [("stored", stem(0)), ("problem", second), ("stored", stem(2))]
    # a span of one response each: a cut right before and after the damaged member reads the same
    by_span = [item for span in spans(path, 1) for item in read_responses(path, path.name, 10**6, span)]
    assert by_span == list(read_responses(path, path.name, 10**6))


def test_parse_prints_the_articles_around_a_damaged_record(cli: Cli, damaged: Damaged) -> None:
    path, offsets = damaged.path, damaged.offsets
    done = cli("parse", str(path))
    assert done.exit_code == 1
    assert url(0) in done.stdout and url(2) in done.stdout and url(1) not in done.stdout
    (line,) = done.stderr.splitlines()
    assert f"{path} at offset {offsets[SECOND]}: damaged record" in line and not CONTROL.search(done.output)


def test_reclean_writes_the_texts_around_a_damaged_record(cli: Cli, tmp_path: Path, damaged: Damaged) -> None:
    path, offsets = damaged.path, damaged.offsets
    intact = tmp_path / "intact" / path.name
    intact.parent.mkdir()
    intact.write_bytes(damaged.intact)
    assert cli("reclean", str(intact), "--out", str(intact.parent)).exit_code == 0
    expected = files(intact.parent)
    written = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        (out / "warc").mkdir(parents=True)
        copy = out / "warc" / path.name  # reclean writes into the archive that holds the WARC
        copy.write_bytes(path.read_bytes())
        done = cli("reclean", str(out / "warc"), "--jobs", jobs)
        assert done.exit_code == 1
        failed = [line for line in done.output.splitlines() if line.startswith("failed:")]
        assert len(failed) == 1 and f"{copy}: at offset {offsets[SECOND]}: damaged record" in failed[0]
        written[jobs] = files(out)
    assert written["1"] == written["2"]
    texts = {name: text for name, text in written["1"].items() if name.endswith(".txt")}
    assert sorted(texts) == [f"{stem(n)}.txt" for n in (0, 2)]
    assert all(expected[name] == text for name, text in texts.items())


def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("text/**/*")) if p.is_file()}


def relength(record: bytes, change: int) -> bytes:
    length = int(re.search(rb"\r\nContent-Length: (\d+)\r\n", record)[1])  # type: ignore[index]
    return record.replace(b"Content-Length: %d" % length, b"Content-Length: %d" % (length + change), 1)


PLAIN = {
    "a Content-Length past the end of the file": lambda record: relength(record, 10**6),
    "a Content-Length over the next record's header": lambda record: relength(record, 200),
}


@pytest.mark.parametrize("damage", PLAIN)
def test_the_reader_goes_on_after_a_damaged_record_of_a_plain_file(tmp_path: Path, damage: str) -> None:
    records = [gzip.decompress(part) for part in write(tmp_path / "crawl.warc.gz")]
    records[SECOND] = PLAIN[damage](records[SECOND])
    path = tmp_path / "crawl.warc"
    path.write_bytes(b"".join(records))
    second = sum(len(record) for record in records[:SECOND])
    found = read(path)
    assert [item for item in found if item[0] == "stored"] == [("stored", stem(0)), ("stored", stem(2))]
    assert found[1] == ("problem", second)


def test_index_leaves_a_damaged_member_out(cli: Cli, damaged: Damaged) -> None:
    path, offsets = damaged.path, damaged.offsets
    for _ in range(2):  # an index that leaves a record out is never current: it is said each time
        done = cli("index", str(path))
        assert done.exit_code == 1
        failed = [line for line in done.output.splitlines() if line.startswith("indexed without damaged records:")]
        assert len(failed) == 1 and f"at offset {offsets[SECOND]}: damaged record" in failed[0], done.output
        assert not CONTROL.search(done.output) and "\\x" not in done.output  # no bytes of the file, raw or escaped
        assert sorted(e.offset for e in read_index(index_path(path))) == [offsets[1], offsets[7]]


def test_index_leaves_a_record_whose_digest_fails_out(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    parts = write(path)
    changed = gzip.decompress(parts[SECOND]).replace("абзац 1".encode(), "абзац 7".encode(), 1)
    parts[SECOND] = gzip.compress(changed)
    path.write_bytes(b"".join(parts))
    offsets = starts(parts)
    done = cli("index", str(path))
    assert done.exit_code == 1
    assert f"at offset {offsets[SECOND]}: block digest does not match" in done.output, done.output
    assert sorted(e.offset for e in read_index(index_path(path))) == [offsets[1], offsets[7]]


def test_records_sharing_a_gzip_member_are_said_once_not_a_traceback(cli: Cli, tmp_path: Path) -> None:
    """A WARC gzipped whole (``zcat | gzip``): its records have no offset a text could point at, so
    they give none, said in one line."""
    path = tmp_path / "warc" / "crawl.warc.gz"
    path.parent.mkdir()
    path.write_bytes(gzip.compress(b"".join(gzip.decompress(p) for p in write(path))))
    assert read(path) == [("problem", 0)]
    said = cli("parse", str(path))
    assert "records share a gzip member from here on" in said.output and "Traceback" not in said.output
    done = cli("reclean", "--jobs", "2", str(tmp_path / "warc"))
    assert "0 articles" in done.output and "1 failed" in done.output, done.output
