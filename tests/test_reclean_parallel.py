"""Re-clean in worker processes that each read their own span of a WARC file: the spans hold
exactly the records of the file, numbered as in the file, and two workers write the same files
and report the same outcomes as one."""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import replace
from datetime import UTC
from itertools import pairwise
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from scraper.capture.framing import WHOLE, Span, spans
from scraper.capture.warc import ReadProblem, Stored, read_responses
from scraper.config import Settings
from scraper.models import Capture
from scraper.pipeline import reclean_work
from scraper.pipeline import reread as pipeline

SEEDS = Path(__file__).parent / "fixtures" / "seeds"
BAD_DIGEST = "sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def seed_captures() -> list[Capture]:
    found = [item for warc in sorted(SEEDS.glob("*.warc.gz")) for item in read_responses(warc, warc.name, 10**8)]
    return [item.capture for item in found if isinstance(item, Stored) and item.capture.status == 200]


class OtherTool:
    """A WARC as other crawlers write it: no ``scraper-text`` field, so texts are numbered by the
    place of their response in the file; with the records such files hold besides pages."""

    def __init__(self, fh: io.BufferedWriter) -> None:
        self.writer = WARCWriter(fh, gzip=True, warc_version="WARC/1.1")
        self.date = "2024-05-01T12:00:00Z"

    def page(self, capture: Capture, url: str, status: int = 200, request_digest: str | None = None) -> None:
        date = capture.fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        response = self.writer.create_warc_record(
            url, "response", payload=io.BytesIO(capture.body), length=len(capture.body),
            http_headers=StatusAndHeaders(f"{status} X", list(capture.headers), protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": date},
        )  # fmt: skip
        concurrent = {"WARC-Date": date, "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")}
        request_headers = concurrent | ({"WARC-Block-Digest": request_digest} if request_digest else {})
        request = self.writer.create_warc_record(
            url, "request", http_headers=StatusAndHeaders("GET / HTTP/1.1", [], is_http_request=True),
            warc_headers_dict=request_headers,
        )  # fmt: skip
        metadata = self.writer.create_warc_record(
            url, "metadata", payload=io.BytesIO(b"via: crawler\r\n"), warc_content_type="application/warc-fields",
            warc_headers_dict=concurrent,
        )  # fmt: skip
        for record in (response, request, metadata):
            self.writer.write_record(record)

    def dns(self, host: str) -> None:
        """A response record that is no HTTP response: it takes no number."""
        body = f"20240501120000\n{host}. 300 IN A 192.0.2.1\n".encode()
        record = self.writer.create_warc_record(
            f"dns:{host}", "response", payload=io.BytesIO(body), length=len(body), warc_content_type="text/dns",
            warc_headers_dict={"WARC-Date": self.date},
        )  # fmt: skip
        self.writer.write_record(record)

    def revisit(self, url: str) -> None:
        record = self.writer.create_warc_record(
            url, "revisit", http_headers=StatusAndHeaders("304 Not Modified", [], protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": self.date, "WARC-Profile": "server-not-modified"},
        )  # fmt: skip
        self.writer.write_record(record)


def other_tool_warc(path: Path, pages: int) -> Path:
    """``pages`` pages under distinct URLs, with a non-HTTP response, a revisit, a 404 and a
    request record whose digest is wrong (a damaged record) among them."""
    captures = seed_captures()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        warc = OtherTool(fh)
        warc.writer.write_record(warc.writer.create_warcinfo_record(path.name, {"software": "crawler/1.0"}))
        for n in range(pages):
            capture = captures[n % len(captures)]
            url = f"{capture.url}{'&' if '?' in capture.url else '?'}id={n}"
            if n == 4:
                warc.dns("www.interfax.ru")
            if n == 6:
                warc.revisit(url)
            warc.page(capture, url, status=404 if n == 8 else 200, request_digest=BAD_DIGEST if n == 10 else None)
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def records(path: Path, span: Span = WHOLE) -> list[tuple[object, ...]]:
    """What a reader sees of each item, ordinal and metadata field included."""
    return [
        ("problem", item.offset, item.reason)
        if isinstance(item, ReadProblem)
        else (item.ordinal, item.capture.url, item.ref.offset, item.text_stem, item.truncated)
        for item in read_responses(path, path.name, 10**8, span)
    ]


@pytest.fixture
def other(tmp_path: Path) -> Path:
    return other_tool_warc(tmp_path / "in" / "crawl.warc.gz", 20)


def test_the_spans_hold_exactly_the_records_of_the_file(other: Path) -> None:
    cut = list(spans(other, 3))
    assert len(cut) == 7 and cut[0].start == 0 and cut[-1].stop is None
    assert all(a.stop == b.start and b.first - a.first == 3 for a, b in pairwise(cut))
    whole = records(other)
    assert [r for span in cut for r in records(other, span)] == whole
    ordinals = [r[0] for r in whole if r[0] != "problem"]
    assert ordinals == list(range(20))  # the DNS response took no number, the damaged request none either
    problems = [str(r[2]) for r in whole if r[0] == "problem"]
    assert len(problems) == 1 and problems[0].startswith("corrupt or truncated request record")


@pytest.mark.parametrize("seed", sorted(SEEDS.glob("*.warc.gz")), ids=lambda p: p.name[:3])
def test_spans_of_a_file_this_tool_wrote(seed: Path) -> None:
    cut = list(spans(seed, 1))
    assert [r for span in cut for r in records(seed, span)] == records(seed)


def test_what_the_scan_cannot_vouch_for_is_read_as_a_whole(tmp_path: Path, other: Path) -> None:
    plain = tmp_path / "plain.warc"
    plain.write_bytes(gzip.decompress(other.read_bytes()))  # not one gzip member per record
    one_member = tmp_path / "one-member.warc.gz"
    one_member.write_bytes(gzip.compress(plain.read_bytes()))
    missing = tmp_path / "missing.warc.gz"
    for path in (plain, one_member, missing):
        assert list(spans(path, 3)) == [Span(0, None, 0)]
    data = other.read_bytes()
    torn = tmp_path / "torn.warc.gz"
    torn.write_bytes(data[: int(len(data) * 0.7)])
    cut = list(spans(torn, 3))
    assert cut[-1].stop is None and cut[-1].start < len(data) * 0.7 - 5000  # the torn member and some before
    assert [r for span in cut for r in records(torn, span)] == records(torn)


def reclean(paths: list[Path], out: Path, jobs: int) -> list[tuple[object, ...]]:
    report = pipeline.reclean(paths, Settings(out=out, jobs=jobs))
    return [(o.url, o.ok, o.reason, o.text_file, o.text_sha256, o.changed, o.skipped) for o in report.outcomes]


def relative(outcomes: list[tuple[object, ...]], out: Path) -> list[tuple[object, ...]]:
    return [tuple(str(v).replace(str(out), "OUT") if isinstance(v, str) else v for v in o) for o in outcomes]


def test_two_workers_write_the_same_files_as_one(tmp_path: Path, other: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(reclean_work, "SPAN", 3)  # many spans out of a small file
    data = other.read_bytes()
    torn = tmp_path / "in" / "torn.warc.gz"
    torn.write_bytes(data[: int(len(data) * 0.6)])
    paths = [other, torn, *sorted(SEEDS.glob("*.warc.gz"))[:2]]
    one, two = tmp_path / "one", tmp_path / "two"
    by_one = reclean(paths, one, 1)
    by_two = reclean(paths, two, 2)
    assert relative(by_two, two) == relative(by_one, one)
    assert snapshot(two) == snapshot(one)
    texts = sorted(p.name[:3] for p in (one / "text" / "crawl").glob("*.txt"))
    assert texts == [f"{n:03d}" for n in range(20) if n != 8]  # numbered in file order; the 404 has none
    assert any("corrupt or truncated request record" in str(o[2]) for o in by_one)
    again = reclean(paths, two, 2)
    assert [o[:5] for o in again] == [o[:5] for o in by_two] and not any(o[5] for o in again)  # nothing changed


def test_each_span_re_cleaned_apart_writes_the_whole_file(tmp_path: Path, other: Path) -> None:
    """What a distributed re-clean of a large file's spans relies on."""
    whole, apart = tmp_path / "whole", tmp_path / "apart"
    settings = Settings(out=whole)
    expected = reclean_work.reclean_file(other, settings)
    cut = reversed(list(spans(other, 4)))
    found = [o for span in cut for o in reclean_work.reclean_file(other, Settings(out=apart), span)]
    assert len(found) == len(expected)
    assert snapshot(apart) == snapshot(whole)


@pytest.mark.parametrize("damaged", [4, 5], ids=["before", "same"])
def test_a_page_past_the_time_limit_fails_alone_and_its_span_goes_on(tmp_path: Path, monkeypatch, damaged: int) -> None:  # type: ignore[no-untyped-def]
    """A worker reads and re-cleans its span record by record: the page that parses for minutes
    fails with the time limit, and the records after it in its span are re-cleaned all the same,
    by one job and by two alike; a damaged request record near it (said before the response it
    follows) is said once, and takes the blame of no page."""
    monkeypatch.setattr(reclean_work, "SPAN", 4)
    captures = seed_captures()
    attributes = b" ".join(b"a%d=x" % i for i in range(1_000_000))  # libxml2's parse of them is quadratic
    slow = replace(captures[0], body=b"<html><body><article><p " + attributes + b">text</p></article></body></html>")
    path = tmp_path / "in" / "slow.warc.gz"
    path.parent.mkdir()
    with path.open("wb") as fh:
        warc = OtherTool(fh)
        for n in range(10):
            capture = slow if n == 5 else captures[n % len(captures)]
            warc.page(capture, f"{capture.url}?id={n}", request_digest=BAD_DIGEST if n == damaged else None)
    found = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        report = pipeline.reclean([path], Settings(out=out, jobs=jobs, extract_seconds=1))
        found[jobs] = relative([(o.url, o.ok, o.reason, o.text_file, o.changed) for o in report.outcomes], out)
    assert found[1] == found[2] and snapshot(tmp_path / "jobs1") == snapshot(tmp_path / "jobs2")
    pages = [o for o in found[2] if "?id=" in o[0]]
    assert [o[0].rsplit("=", 1)[1] for o in pages] == [str(n) for n in range(10)]
    assert [(o[0].rsplit("=", 1)[1], o[2]) for o in pages if not o[1]] == [("5", "extraction took longer than 1 s")]
    (problem,) = [o[2] for o in found[2] if "?id=" not in o[0]]
    assert "corrupt or truncated request record" in problem


def test_reading_a_large_record_is_not_a_pages_time(tmp_path: Path) -> None:
    """The time limit is each page's re-clean: reading a record of 1.5 GB between two pages (seconds
    of inflating) is no page's time, and fails none."""
    path = tmp_path / "in" / "big.warc.gz"
    path.parent.mkdir()
    captures = seed_captures()
    with path.open("wb") as fh:
        warc = OtherTool(fh)
        for n in range(6):
            warc.page(captures[n % len(captures)], f"{captures[n % len(captures)].url}?id={n}")
            if n == 2:
                fh.flush()
                zeros(fh, 1536 << 20)
    report = pipeline.reclean([path], Settings(out=tmp_path / "out", jobs=2, extract_seconds=0.5))
    assert [(o.ok, o.reason) for o in report.outcomes] == [(True, "")] * 6


def zeros(fh: io.BufferedWriter, size: int) -> None:
    """A resource record of ``size`` zero bytes, in a gzip member of its own, written as it is made."""
    head = (
        "WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\n"
        f"WARC-Date: 2024-05-01T12:00:00Z\r\nWARC-Target-URI: https://www.interfax.ru/big.bin\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {size}\r\n\r\n"
    ).encode()
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    fh.write(packer.compress(head))
    chunk = bytes(1 << 20)
    for _ in range(size >> 20):
        fh.write(packer.compress(chunk))
    fh.write(packer.compress(b"\r\n\r\n") + packer.flush())
