"""A torn record never yields a capture. `scraper parse`, `scraper index` and `scraper reclean` on
a fixture WARC cut at every tenth of its length fail (exit 1), name the offset of the record the
cut tore, and print or write no shortened article; the records before the cut are whole, and
read as they do from the intact file. Then ``read_responses`` on its own: a block shorter than
its Content-Length, a gzip member cut in its trailer, a digest that fails, a span cut inside a
record.

Two sources for the commands: a seed WARC (one response record), and the five seeds one after
the other in one file (a WARC of five records: gzip members concatenate). Where each record
starts is found here from the gzip framing alone, not with the code under test."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from scraper.capture.framing import Span, spans
from scraper.capture.warc import Stored, WarcFile, read_responses
from scraper.cli import app
from scraper.models import Exchange

SEEDS = sorted((Path(__file__).parent / "fixtures" / "seeds").glob("*.warc.gz"))
SEED = SEEDS[4]  # 004_96f4b5883690834b.warc.gz
SOURCES = {"seed": [SEED], "five": SEEDS}
CASES = [(source, tenth) for source in SOURCES for tenth in range(1, 10)]
NAME = "crawl.warc.gz"  # the same name intact and cut: their texts go to the same relative paths


def member_starts(data: bytes) -> list[int]:
    """Where each gzip member of ``data`` starts, and where the last one ends."""
    starts = [0]
    for member in members(data):
        starts.append(starts[-1] + len(member))
    return starts


def members(data: bytes) -> list[bytes]:
    found, rest = [], data
    while rest:
        inflater = zlib.decompressobj(31)
        inflater.decompress(rest)
        assert inflater.eof, "the fixture must be whole"
        found.append(rest[: len(rest) - len(inflater.unused_data)])
        rest = inflater.unused_data
    return found


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no config.toml of the working folder is read
    monkeypatch.delenv("SCRAPER_CONFIG", raising=False)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(app, list(args))

    return invoke


class Cut:
    """The source intact and cut at ``tenth`` tenths of its length, each as ``NAME`` in a folder
    of its own; ``torn`` is the place of the record the cut tears, ``offset`` its offset."""

    def __init__(self, tmp: Path, source: str, tenth: int) -> None:
        data = b"".join(p.read_bytes() for p in SOURCES[source])
        length = len(data) * tenth // 10
        starts = member_starts(data)
        assert length not in starts, "a cut between two records tears none: pick another tenth"
        self.torn = max(i for i, start in enumerate(starts) if start < length)
        self.offset = starts[self.torn]
        self.intact, self.path = tmp / "intact" / NAME, tmp / "cut" / NAME
        for path, content in ((self.intact, data), (self.path, data[:length])):
            path.parent.mkdir()
            path.write_bytes(content)


@pytest.mark.parametrize(("source", "tenth"), CASES)
def test_parse_prints_only_the_whole_articles_before_the_tear(cli, tmp_path: Path, source: str, tenth: int) -> None:  # type: ignore[no-untyped-def]
    cut = Cut(tmp_path, source, tenth)
    articles = [cli("parse", str(seed)) for seed in SOURCES[source]]
    assert all(a.exit_code == 0 and a.stdout.startswith("# ") for a in articles)
    assert cli("parse", str(cut.intact)).stdout == "".join(a.stdout for a in articles)
    done = cli("parse", str(cut.path))
    assert done.exit_code == 1
    assert done.stdout == "".join(a.stdout for a in articles[: cut.torn])  # none shortened
    assert f"{cut.path} at offset {cut.offset}: torn " in done.stderr


@pytest.mark.parametrize(("source", "tenth"), CASES)
def test_index_names_the_torn_record(cli, tmp_path: Path, source: str, tenth: int) -> None:  # type: ignore[no-untyped-def]
    cut = Cut(tmp_path, source, tenth)
    done = cli("index", str(cut.path))
    assert done.exit_code == 1
    failed = [line for line in done.output.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1 and str(cut.path) in failed[0] and f"torn record at offset {cut.offset}" in failed[0]
    assert not list(tmp_path.rglob("*.cdxj"))  # no index lists the torn record


@pytest.mark.parametrize(("source", "tenth"), CASES)
def test_reclean_writes_no_shortened_text(cli, tmp_path: Path, source: str, tenth: int) -> None:  # type: ignore[no-untyped-def]
    cut = Cut(tmp_path, source, tenth)
    assert cli("reclean", str(cut.intact), "--out", str(cut.intact.parent)).exit_code == 0
    expected = texts(cut.intact.parent)
    assert len(expected) == len(SOURCES[source])
    done = cli("reclean", str(cut.path), "--out", str(cut.path.parent))
    assert done.exit_code == 1
    said = f"failed: {cut.path}: at offset {cut.offset}: torn "
    assert any(line.startswith(said) for line in done.output.splitlines()), done.output
    written = texts(cut.path.parent)
    assert len(written) == cut.torn  # the records before the tear, each whole
    assert all(expected.get(name) == text for name, text in written.items())


def texts(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.txt"))}


def pages(path: Path, count: int = 2) -> list[bytes]:
    """A WARC of ``count`` pages (warcinfo, then response, request, metadata each): its gzip members."""
    with WarcFile(path, path.name) as warc:
        warc.write_warcinfo({"software": "test"})
        for n in range(1, count + 1):
            page = Exchange(
                url=f"https://www.rbc.ru/a/{n}", started_at=datetime(2024, 5, 1, tzinfo=UTC), method="GET",
                request_headers=(), http_version="HTTP/1.1", status=200, reason="OK",
                response_headers=(("Content-Type", "text/html"),), raw_body=b"<p>" + b"text " * 500 + b"</p>",
            )  # fmt: skip
            warc.write_exchange(page, {"scraper-text": f"text/x/00{n}_0123456789abcdef"})
    return members(path.read_bytes())


def read(path: Path, span: Span | None = None, words: int = 0) -> list[tuple[str, int | str]]:
    """What is read: ("stored", url), or (the reason up to its colon, or its first ``words`` words; offset)."""
    return [
        ("stored", s.capture.url)
        if isinstance(s, Stored)
        else (" ".join(s.reason.split()[:words]) if words else s.reason.split(":")[0], s.offset)
        for s in read_responses(path, path.name, 10**6, *([span] if span else []))
    ]


def test_a_block_shorter_than_its_content_length_is_torn(tmp_path: Path) -> None:
    path = tmp_path / "a.warc.gz"
    parts = pages(path)
    record = gzip.decompress(parts[1])
    length = int(record.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    longer = record.replace(b"Content-Length: %d" % length, b"Content-Length: %d" % (length + 100), 1)
    path.write_bytes(b"".join([parts[0], gzip.compress(longer), *parts[2:]]))  # each member whole
    assert read(path) == [("torn response record skipped", len(parts[0])), ("stored", "https://www.rbc.ru/a/2")]


def test_a_gzip_member_cut_in_its_trailer_is_torn(tmp_path: Path) -> None:
    path = tmp_path / "a.warc.gz"
    parts = pages(path)
    path.write_bytes(parts[0] + parts[1][:-4])  # the record inflates whole; its member's length field is gone
    assert read(path) == [("torn response record skipped", len(parts[0]))]


def test_a_body_that_fails_its_digest_is_no_capture(tmp_path: Path) -> None:
    path = tmp_path / "a.warc.gz"
    parts = pages(path)
    changed = gzip.compress(gzip.decompress(parts[1]).replace(b"text text", b"test text", 1))
    path.write_bytes(b"".join([parts[0], changed, *parts[2:]]))
    assert read(path) == [("corrupt or truncated response record", len(parts[0])), ("stored", "https://www.rbc.ru/a/2")]


def test_a_torn_tail_is_said_when_a_span_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.warc.gz"
    parts = pages(path, 3)
    third = sum(len(p) for p in parts[:7])  # the third page's response starts here
    inside = third + len(parts[7]) // 2
    # a span that ends inside the third response reads as the file would if it were cut there
    whole = [("stored", "https://www.rbc.ru/a/1"), ("stored", "https://www.rbc.ru/a/2"), ("torn record", third)]
    assert read(path, Span(0, inside), words=2) == whole
    path.write_bytes(path.read_bytes()[:inside])
    cut = list(spans(path, 1))
    assert len(cut) == 2 and cut[1].start < third and cut[1].stop is None
    assert read(path, cut[0]) + read(path, cut[1]) == read(path)
    assert read(path, cut[1], words=2) == whole[1:]
