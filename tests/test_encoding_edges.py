"""The bounded decoder's edges (``capture.encoding``, issue 15): zlib streams back to back decode
whole as gzip members do; bytes after the compressed data refuse the body with one reason in every
coding, and ``fetch``, ``reclean`` and ``parse`` agree on it; a body of a million empty members
costs milliseconds, not seconds."""

from __future__ import annotations

import gzip
import random
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest
from servers import Route, serve
from test_cli import ARTICLE
from test_encoding import CAP, ORIGIN, _failures, brotli, coded, raw_deflate, scraper

from scraper.capture.encoding import Decoded, decode_body

ONE, TWO = b"<html><body><p>one</p>", b"<p>two</p></body></html>"
NOISE = random.Random(15).randbytes(200_000)  # compresses to more than a chunk: the end comes late
AFTER = "but the body goes on after its compressed stream ends"
STREAMS = "but the body holds more than 1000 compressed streams (a server sends one)"


def test_zlib_streams_back_to_back_all_decode_as_gzip_members_do() -> None:
    for coding, pack in (("deflate", zlib.compress), ("gzip", gzip.compress)):
        assert decode_body(pack(ONE) + pack(TWO), coded(coding), CAP).body == ONE + TWO
        assert decode_body(pack(ONE) + pack(b"") + pack(TWO), coded(coding), CAP).body == ONE + TWO


def test_a_thousand_streams_decode_and_one_more_is_refused() -> None:
    for coding, pack in (("gzip", gzip.compress), ("deflate", zlib.compress)):
        assert decode_body(pack(b"<p>") * 1000, coded(coding), CAP).body == b"<p>" * 1000
        refused = decode_body(pack(b"<p>") * 1001, coded(coding), CAP)
        assert refused == Decoded(b"", f"Content-Encoding {coding}, {STREAMS}")


SENT = {
    "gzip": gzip.compress(ONE),
    "gzip, two members": gzip.compress(ONE) + gzip.compress(TWO),
    "gzip, late end": gzip.compress(NOISE),
    "deflate": zlib.compress(ONE),
    "deflate, two streams": zlib.compress(ONE) + zlib.compress(TWO),
    "deflate, raw": raw_deflate(ONE),
    "deflate, raw, late end": raw_deflate(NOISE),
    "br": brotli(ONE),
    "br, late end": brotli(NOISE),
}


@pytest.mark.parametrize("junk", [b"\r\n", b"\x00" * 8, b"\x1f"])
@pytest.mark.parametrize("case", SENT)
def test_bytes_after_the_compressed_data_refuse_the_body_alike_in_every_coding(case: str, junk: bytes) -> None:
    coding = case.split(",")[0]
    assert decode_body(SENT[case], coded(coding), CAP).problem is None  # whole, it decodes
    decoded = decode_body(SENT[case] + junk, coded(coding), CAP)
    assert (decoded.body, decoded.problem) == (b"", f"Content-Encoding {coding}, {AFTER}")


def test_bytes_after_a_brotli_stream_that_ends_where_a_chunk_does_are_seen() -> None:
    sent = brotli(NOISE[:65532])
    assert len(sent) == 1 << 16  # the decoder's chunk: the bytes after come in a read of their own
    assert decode_body(sent + b"\r\n", coded("br"), CAP).problem == f"Content-Encoding br, {AFTER}"


def test_bytes_after_an_inner_coding_refuse_the_body_too() -> None:
    sent = gzip.compress(brotli(ONE) + b"\n")  # br applied first, then junk, then gzip
    assert decode_body(sent, coded("br, gzip"), CAP).problem == f"Content-Encoding br, {AFTER}"


_MEMBERS = textwrap.dedent(
    """
    import gzip, resource, time, zlib
    resource.setrlimit(resource.RLIMIT_AS, (600 << 20, 600 << 20))
    resource.setrlimit(resource.RLIMIT_CPU, (30, 30))
    from scraper.capture.encoding import Decoded, decode_body

    bodies = {"gzip": gzip.compress(b"") * 950_000,  # 19 MB of empty members, 20 bytes each
              "deflate": zlib.compress(b"") * 2_375_000}  # 19 MB of empty zlib streams, 8 bytes each
    for coding, body in bodies.items():
        start = time.process_time()
        decoded = decode_body(body, (("Content-Encoding", coding),), 20_000_000)
        print(round(time.process_time() - start, 3), len(decoded.body), decoded.problem)
    """
)


def test_a_million_empty_members_cost_milliseconds() -> None:
    done = subprocess.run([sys.executable, "-c", _MEMBERS], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    for line, coding in zip(done.stdout.splitlines(), ("gzip", "deflate"), strict=True):
        seconds, size, problem = line.split(" ", 2)
        assert (size, problem) == ("0", f"Content-Encoding {coding}, {STREAMS}"), line
        assert float(seconds) < 0.5, line  # CPU seconds, whatever the machine's load


def test_fetch_reclean_and_parse_agree_on_bytes_after_the_data_and_on_streams(tmp_path: Path) -> None:
    html = {"Content-Type": "text/html; charset=utf-8"}
    half = len(ARTICLE) // 2
    routes = {
        "/world/1": Route(body=zlib.compress(ARTICLE[:half]) + zlib.compress(ARTICLE[half:]),
                          headers=html | {"Content-Encoding": "deflate"}),
        "/world/2": Route(body=gzip.compress(ARTICLE) + b"\r\n", headers=html | {"Content-Encoding": "gzip"}),
        "/world/3": Route(body=brotli(ARTICLE) + b"\r\n", headers=html | {"Content-Encoding": "br"}),
        "/robots.txt": Route(status=404),
    }  # fmt: skip
    urls = [f"{ORIGIN}/world/{n}" for n in (1, 2, 3)]
    reasons = {urls[1]: f"Content-Encoding gzip, {AFTER}", urls[2]: f"Content-Encoding br, {AFTER}"}
    with serve(routes) as server:
        fetched = scraper("fetch", "--out", "out", "--connect-to", f"{ORIGIN}={server.origin}", *urls, cwd=tmp_path)
    assert fetched.returncode == 1, fetched.stderr
    assert _failures(fetched.stderr) == reasons
    (text,) = (tmp_path / "out").rglob("*.txt")
    said = text.read_text()
    assert "Второй абзац новости с подробностями о событии." in said  # from the second stream

    text.unlink()
    recleaned = scraper("reclean", "out/warc", cwd=tmp_path)
    assert recleaned.returncode == 1, recleaned.stderr
    assert _failures(recleaned.stderr) == reasons
    assert text.read_text() == said

    (warc,) = (tmp_path / "out" / "warc").glob("*.warc.gz")
    parsed = scraper("parse", str(warc), "--json", cwd=tmp_path)
    assert parsed.returncode == 1, parsed.stderr
    assert _failures(parsed.stderr, "no article: ") == reasons
