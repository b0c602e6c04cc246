"""The one decoder of response bodies (``capture.encoding``): every coding round-trips, a stack is
undone in reverse, bombs stop at the cap in little memory, what cannot be decoded gives its
reason; and ``fetch``, ``reclean`` and ``parse`` agree on a br-encoded article and on bodies
they cannot decode (issue 15)."""

from __future__ import annotations

import gzip
import json
import os
import resource
import subprocess
import sys
import textwrap
import zlib
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import brotlicffi
import pytest
from servers import Route, serve
from test_cli import ARTICLE
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from scraper.capture.encoding import decode_body
from scraper.capture.warc import Stored, WarcFile, read_responses
from scraper.models import Exchange

CAP = 1_000_000
OVERFLOW = "body larger than 20000000 bytes once decompressed: archived as sent, not extracted"  # the default cap
PAGE = b"<html><body><p>" + "Первый абзац новости. ".encode() * 2000 + b"</p></body></html>"


def coded(coding: str) -> tuple[tuple[str, str], ...]:
    return (("Content-Type", "text/html"), ("Content-Encoding", coding))


def brotli(data: bytes) -> bytes:
    compressor = brotlicffi.Compressor()
    return bytes(compressor.process(data) + compressor.finish())


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    return compressor.compress(data) + compressor.flush()


ROUND_TRIPS = {
    "gzip": gzip.compress(PAGE),
    "x-gzip": gzip.compress(PAGE),
    "deflate": zlib.compress(PAGE),  # zlib-wrapped, as RFC 9110 says
    "DEFLATE ": raw_deflate(PAGE),  # raw, as some servers send it
    "br": brotli(PAGE),
    "identity": PAGE,
    "": PAGE,
}


@pytest.mark.parametrize("coding", ROUND_TRIPS)
def test_each_coding_round_trips(coding: str) -> None:
    assert decode_body(ROUND_TRIPS[coding], coded(coding), CAP) == decode_body(PAGE, (), CAP)
    assert decode_body(ROUND_TRIPS[coding], coded(coding), CAP).body == PAGE


def test_a_stack_of_codings_is_undone_last_first() -> None:
    sent = gzip.compress(brotli(PAGE))  # br applied first, gzip last
    assert decode_body(sent, coded("br, gzip"), CAP).body == PAGE
    # the same list over two header lines (RFC 9110, 5.3)
    assert decode_body(sent, (("Content-Encoding", "br"), ("content-encoding", "gzip")), CAP).body == PAGE
    assert decode_body(gzip.compress(PAGE) + gzip.compress(b"<p>tail</p>"), coded("gzip"), CAP).body == (
        PAGE + b"<p>tail</p>"
    )  # two gzip members, one after the other


@pytest.mark.parametrize(
    ("sent", "coding", "reason"),
    [
        (b"\x28\xb5\x2f\xfd" + os.urandom(64), "zstd", "Content-Encoding zstd is not one this tool decodes"),
        (gzip.compress(PAGE), "compress, gzip", "Content-Encoding compress is not one this tool decodes"),
        (gzip.compress(PAGE)[:-20], "gzip", "Content-Encoding gzip, but the body ends before its compressed stream"),
        (brotli(PAGE)[:-5], "br", "Content-Encoding br, but the body ends before its compressed stream does"),
        (b"\x00\x01binary" * 50, "gzip", "Content-Encoding gzip, but the body does not decompress"),
        (b"\x00\x01binary" * 50, "br", "Content-Encoding br, but the body does not decompress"),
        (PAGE, "gzip, " * 6, "stacks more than 5 codings"),
        (b"<p>" * (CAP // 3 + 1), "", f"body larger than {CAP} bytes as sent"),
    ],
)  # fmt: skip
def test_what_cannot_be_decoded_gives_its_reason_and_no_body(sent: bytes, coding: str, reason: str) -> None:
    decoded = decode_body(sent, coded(coding), CAP)
    assert decoded.body == b"" and decoded.problem is not None and reason in decoded.problem, decoded.problem


def test_plain_markup_under_a_wrong_label_is_the_page_as_sent() -> None:
    # some servers label an uncompressed page gzip: its bytes are the page; binary ones are not
    assert decode_body(b"\xef\xbb\xbf\n" + PAGE, coded("gzip"), CAP).body == b"\xef\xbb\xbf\n" + PAGE
    assert decode_body(PAGE, coded("br"), CAP).body == PAGE
    assert decode_body(b"<" + bytes(range(32)) * 4, coded("gzip"), CAP).problem is not None
    assert decode_body(b"", coded("gzip"), CAP).body == b""  # a redirect: nothing to undo


_BOMBS = textwrap.dedent(
    """
    import brotlicffi, gzip, resource, zlib
    resource.setrlimit(resource.RLIMIT_AS, (600 << 20, 600 << 20))
    from scraper.capture.encoding import decode_body

    def flushed(wbits):  # 4 GiB of zeros, one stream, built from one flushed MiB repeated
        compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
        first = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
        again = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
        return first + again * 4095

    def br():  # 4 GiB of zeros in some 770 KB
        compressor = brotlicffi.Compressor(quality=1)
        return b"".join(compressor.process(bytes(16 << 20)) for _ in range(256)) + compressor.finish()

    bombs = {"gzip": flushed(31), "deflate": flushed(15), "br": br(),
             "gzip, gzip": gzip.compress(flushed(31)),
             "x-gzip": gzip.compress(bytes(1 << 20)) * 4096}  # 4096 members
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for coding, bomb in bombs.items():
        decoded = decode_body(bomb, (("Content-Encoding", coding),), 20_000_000)
        print(coding, len(bomb), decoded.problem, len(decoded.body))
    print("grew", (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
    """
)


def test_bombs_stop_at_the_cap_in_little_memory() -> None:
    done = subprocess.run([sys.executable, "-c", _BOMBS], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    *lines, grew = done.stdout.splitlines()
    assert len(lines) == 5
    for line in lines:
        assert line.endswith(f"{OVERFLOW} 0"), line
    assert int(grew.split()[1]) < 100, grew  # MiB: the 20 MB cap, a chunk and the bombs, never 4 GiB


# --- fetch, reclean and parse agree ---------------------------------------------------------------

ORIGIN = "https://www.interfax.ru"


def scraper(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The program in its own process, under 1 GiB of address space and a time limit: a reader
    that inflates the bomb whole fails here instead of taking the machine."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPER_")}
    return subprocess.run(
        [sys.executable, "-m", "scraper", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
        preexec_fn=limit, env=env, check=False,
    )  # fmt: skip


def _bomb() -> bytes:
    compressor = brotlicffi.Compressor(quality=1)
    return b"".join(compressor.process(bytes(16 << 20)) for _ in range(128)) + compressor.finish()  # 2 GiB


def test_fetch_reclean_and_parse_agree_on_what_they_decode(tmp_path: Path) -> None:
    html = {"Content-Type": "text/html; charset=utf-8"}
    routes = {
        "/world/1": Route(body=brotli(ARTICLE), headers=html | {"Content-Encoding": "br"}),  # never asked for
        "/world/2": Route(body=b"\x28\xb5\x2f\xfd" + bytes(range(256)), headers=html | {"Content-Encoding": "zstd"}),
        "/world/3": Route(body=_bomb(), headers=html | {"Content-Encoding": "br"}),
        "/robots.txt": Route(status=404),
    }
    urls = [f"{ORIGIN}/world/{n}" for n in (1, 2, 3)]
    with serve(routes) as server:
        fetched = scraper("fetch", "--out", "out", "--connect-to", f"{ORIGIN}={server.origin}", *urls, cwd=tmp_path)
    assert fetched.returncode == 1, fetched.stderr
    (text,) = (tmp_path / "out").rglob("*.txt")
    said = text.read_bytes()
    assert "Второй абзац новости с подробностями о событии." in said.decode()
    reasons = {
        urls[1]: "Content-Encoding zstd is not one this tool decodes",
        urls[2]: OVERFLOW,
    }
    assert _failures(fetched.stderr) == reasons

    text.unlink()
    recleaned = scraper("reclean", "out/warc", cwd=tmp_path)
    assert recleaned.returncode == 1, recleaned.stderr
    assert text.read_bytes() == said
    assert _failures(recleaned.stderr) == reasons

    (warc,) = (tmp_path / "out" / "warc").glob("*.warc.gz")
    parsed = scraper("parse", str(warc), "--json", cwd=tmp_path)
    assert parsed.returncode == 1, parsed.stderr
    (article,) = (json.loads(line) for line in parsed.stdout.splitlines())
    assert article["url"] == urls[0] and article["text"] in said.decode()
    assert _failures(parsed.stderr, "no article: ") == reasons


def _failures(stderr: str, prefix: str = "failed: ") -> dict[str, str]:
    lines = [line.removeprefix(prefix) for line in stderr.splitlines() if line.startswith(prefix)]
    return dict(tuple(line.split(": ", 1)) for line in lines)  # type: ignore[misc]


def test_read_back_decodes_as_fetch_does(tmp_path: Path) -> None:
    """A WARC written by the project's writer, as fetch writes one (the body as sent, its headers;
    no text named, as another tool's): what a reader gets."""
    html = ("Content-Type", "text/html; charset=utf-8")
    sent = {
        "1": (brotli(ARTICLE), "br"),
        "2": (b"\x28\xb5\x2f\xfd" + bytes(range(256)), "zstd"),
        "3": (_bomb(), "br"),
    }
    warc = tmp_path / "out" / "warc" / "written.warc.gz"
    with WarcFile(warc, "warc/written.warc.gz") as file:
        file.write_warcinfo({"software": "another/1.0"})
        for n, (body, coding) in sent.items():
            exchange = Exchange(f"{ORIGIN}/world/{n}", datetime(2026, 1, 1, tzinfo=UTC), "GET", (), "HTTP/1.1", 200,
                                "OK", (html, ("Content-Encoding", coding)), body)  # fmt: skip
            file.write_exchange(exchange, {})
    parsed = scraper("parse", str(warc), "--json", cwd=tmp_path)  # under 1 GiB: the bomb must not inflate
    assert parsed.returncode == 1, parsed.stderr
    (article,) = (json.loads(line) for line in parsed.stdout.splitlines())
    assert "Второй абзац новости с подробностями о событии." in article["text"]
    assert _failures(parsed.stderr, "no article: ") == {
        f"{ORIGIN}/world/2": "Content-Encoding zstd is not one this tool decodes",
        f"{ORIGIN}/world/3": OVERFLOW,
    }


def test_read_back_undoes_a_stored_chunked_framing_then_the_coding(tmp_path: Path) -> None:
    """Another tool's WARC may keep a chunked body as it came: de-chunked, bounded, then decoded."""
    body = gzip.compress(ARTICLE)
    chunked = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in (body[:100], body[100:])) + b"0\r\n\r\n"
    claims = b"7fffffff\r\n" + body  # a chunk that claims 2 GiB: read as far as the record goes
    path = tmp_path / "other.warc"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=False)
        for n, payload in enumerate((chunked, claims, body)):
            head = [("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked" if n < 2 else "identity")]
            record = writer.create_warc_record(
                f"{ORIGIN}/world/{n}", "response", payload=BytesIO(payload), length=len(payload),
                http_headers=StatusAndHeaders("200 OK", head, protocol="HTTP/1.1"),
            )  # fmt: skip
            writer.write_record(record)
    stored = [item for item in read_responses(path, path.name, 10_000) if isinstance(item, Stored)]
    assert [s.capture.body for s in stored] == [ARTICLE, ARTICLE, ARTICLE]
    assert [s.undecodable for s in stored] == [None, None, None]
    too_long = [item for item in read_responses(path, path.name, 100) if isinstance(item, Stored)]
    assert [s.undecodable for s in too_long] == ["body larger than 100 bytes as sent: not extracted"] * 3
