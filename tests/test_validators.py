"""Every WARC this tool writes passes warcio and FastWARC, digests and warcinfo fields (issue 16).

Many other tests damage WARCs on purpose, so this one makes its own: a local server stands in for
Interfax and the Kremlin (via connect_to) with every kind of response the writer treats apart (a
redirect, robots.txt, gzip and brotli bodies, a chunked body, a body past ``max_body_bytes``, a
connection lost mid-body, feeds that come back unchanged), and every command that writes WARC
records runs against it: ``run`` twice (revisits; a file a killed run left open, repaired and
continued), ``fetch --connect-to``, ``snapshot`` from the archive and from the network, and
``reclean`` (which must write none). Then every record of every file is checked
(``tests/validators.py``).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from threading import Thread
from typing import ClassVar
from urllib.parse import urlsplit

import pytest
from faultserver import article, big_article, brotli_of, rss
from validators import Seen, fastwarc_problems, parse_fields, read_warcio, record_problems, traits
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from scraper.archive import cdx
from scraper.sites import site_for

INTERFAX, KREMLIN = "https://www.interfax.ru", "http://kremlin.ru"
MAX_BODY = 1_000_000  # the big page (about 2 MB) is cut here; every other is far below it
RUN_ARTICLES = ["/ok/1", "/gzip/2", "/br/3", "/chunked/4", "/big/5", "/cut/6", "/moved/7"]
FETCH_ARTICLES = ["/ok/11", "/gzip/12", "/br/13", "/chunked/14", "/big/15", "/cut/16", "/moved/17"]
KREMLIN_ARTICLE = f"{KREMLIN}/events/president/news/70001"
# the settings every warcinfo of fetch and run names (README, "What `scraper fetch` writes")
SETTINGS_FIELDS = {"software", "format", "conformsTo", "http-header-user-agent", "max-body-bytes", "max-redirects"}
TIMEOUT = 300  # seconds for one command, on a loaded machine
# what a fetch and a run both write, and what only a run does
BOTH_WRITE = {
    "warcinfo", "response", "request", "metadata", "status 200", "status 302", "robots.txt",
    "content-encoding gzip", "content-encoding br", "x-archive-orig-transfer-encoding chunked",
    "truncated length", "truncated disconnect", "x-archive-orig-content-length",
}  # fmt: skip
RUN_WRITES = {"revisit server-not-modified", "revisit identical-payload-digest", "status 304", "continued"}
# what a run killed in the middle of a record leaves at the end of its file
TORN = gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\nContent-Length: 9000\r\n\r\nHTTP/1.1 200")[:40]
HTML = (("Content-Type", "text/html; charset=utf-8"),)
RSS = (("Content-Type", "application/rss+xml"),)


@dataclass(frozen=True, slots=True)
class Reply:
    body: bytes
    status: int = 200
    headers: tuple[tuple[str, str], ...] = HTML
    framing: str = "length"  # "length"; "chunked"; "cut": ten times the length promised, then closed
    etag: str | None = None  # a request with this If-None-Match gets a 304


def replies() -> dict[str, Reply]:
    """Each page by path: its mode is the first segment (an Interfax article address, /mode/N)."""
    routes: dict[str, Reply] = {
        "/robots.txt": Reply(b"User-agent: *\nAllow: /\n", headers=(("Content-Type", "text/plain"),))
    }
    for path in RUN_ARTICLES + FETCH_ARTICLES + ["/ok/8", "/ok/18", "/ok/21"]:
        mode, n = path.strip("/").split("/")
        page = article(f"Статья {n}")
        routes[path] = {
            "ok": Reply(page),
            "gzip": Reply(gzip.compress(page), headers=(*HTML, ("Content-Encoding", "gzip"))),
            "br": Reply(brotli_of(page), headers=(*HTML, ("Content-Encoding", "br"))),
            "chunked": Reply(page, framing="chunked"),
            "big": Reply(big_article(int(n))),
            "cut": Reply(page, framing="cut"),
            "moved": Reply(b"", 302, (("Location", f"/ok/{int(n) + 1}"),)),
        }[mode]
    feed = rss([INTERFAX + p for p in RUN_ARTICLES]).encode()
    routes["/rss.asp"] = Reply(feed, headers=RSS, etag='"v1"')
    # the Kremlin's feeds (the same paths on two hosts) send no ETag: an unchanged one is an
    # identical-payload-digest revisit
    for url in site_for(KREMLIN_ARTICLE).feeds:
        routes[urlsplit(url).path] = Reply(rss([KREMLIN_ARTICLE]).encode(), headers=RSS)
    routes[urlsplit(KREMLIN_ARTICLE).path] = Reply(article("Новость Кремля"))
    return routes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    routes: ClassVar[dict[str, Reply]]

    def handle(self) -> None:
        with suppress(ConnectionResetError, BrokenPipeError):  # a client that hangs up is no news here
            super().handle()

    def do_GET(self) -> None:
        reply = self.routes.get(self.path)
        if reply is None:
            reply = Reply(b"not found", 404, (("Content-Type", "text/plain"),))
        if reply.etag is not None and self.headers.get("If-None-Match") == reply.etag:
            self.send_response(304)
            self.send_header("ETag", reply.etag)
            self.end_headers()
            return
        self.send_response(reply.status)
        for name, value in (*reply.headers, *((("ETag", reply.etag),) if reply.etag else ())):
            self.send_header(name, value)
        if reply.framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            third = len(reply.body) // 3 + 1
            pieces = [reply.body[i : i + third] for i in range(0, len(reply.body), third)]
            self.wfile.write(b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(reply.body) * (10 if reply.framing == "cut" else 1)))
        self.end_headers()
        self.wfile.write(reply.body)
        self.close_connection = reply.framing == "cut"  # nine tenths of the promise never come

    def log_message(self, *args: object) -> None:
        return


@dataclass(frozen=True, slots=True)
class Archive:
    """The folder the commands ran in: ``out/`` the archive, ``fixtures/`` the snapshots."""

    root: Path

    @property
    def warcs(self) -> list[Path]:
        return sorted((self.root / "out" / "warc").glob("*.warc.gz")) + sorted(self.fixtures.rglob("*.warc.gz"))

    @property
    def fixtures(self) -> Path:
        return self.root / "fixtures"

    def scraper(self, *args: str) -> None:
        """A command run to its end; 1 is fine (the pages cut off fail), a crash is not."""
        command = [sys.executable, "-m", "scraper", *args]
        done = subprocess.run(command, cwd=self.root, capture_output=True, text=True, timeout=TIMEOUT)
        assert done.returncode in (0, 1) and "Traceback" not in done.stderr, f"{args[0]}: {done.stderr}"


Found = dict[Path, tuple[list[Seen], list[str]]]  # each file's records as warcio read them, and what it said


CONFIG = "\n".join(["[output]", 'dir = "out"', "[network]", "timeout = 2", "total_timeout = 10", "retries = 0",
                    f"max_body_bytes = {MAX_BODY}", "[politeness]", "delay = 0", "[run]", "use_sitemaps = false",
                    'sites = ["interfax", "kremlin"]', "retry_backoff = 0", ""])  # fmt: skip


def _leave_open(warc: Path) -> None:
    """As a run killed while writing leaves a file: half a record at its end, its marker beside it."""
    with open(warc, "ab") as fh:
        fh.write(TORN)
    warc.with_name(warc.name + ".open").touch()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    handler = type("Handler", (_Handler,), {"routes": replies()})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    Thread(target=httpd.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    made = Archive(tmp_path_factory.mktemp("validators"))
    connect_to = "".join(f'"{o}" = "{origin}"\n' for o in (INTERFAX, KREMLIN, "http://en.kremlin.ru"))
    (made.root / "run.toml").write_text(f"{CONFIG}[network.connect_to]\n{connect_to}")
    (made.root / "fetch.toml").write_text(CONFIG)  # fetch gets --connect-to on its command line
    try:
        made.scraper("run", "--config", "run.toml")
        _leave_open(next((made.root / "out" / "warc").glob("interfax-*.warc.gz")))
        made.scraper("run", "--config", "run.toml")  # repairs that file, continues it; the feeds are unchanged
        made.scraper("fetch", "--config", "fetch.toml", "--connect-to", f"{INTERFAX}={origin}",
                     *(INTERFAX + p for p in FETCH_ARTICLES))  # fmt: skip
        for path in ("/br/3", "/ok/21"):  # the first from the archive, the second fetched
            made.scraper(
                "snapshot", INTERFAX + path, "--site", "interfax", "--fixtures", "fixtures", "--config", "run.toml"
            )
        yield made
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def seen(archive: Archive) -> Found:
    return {warc: read_warcio(warc) for warc in archive.warcs}


def test_every_record_reads_whole_in_warcio_with_its_digests(seen: Found) -> None:
    assert [problem for _, problems in seen.values() for problem in problems] == []


def test_every_record_reads_whole_in_fastwarc_with_its_digests(seen: Found) -> None:
    pytest.importorskip("fastwarc")
    assert [problem for warc, (records, _) in seen.items() for problem in fastwarc_problems(warc, records)] == []


def test_every_record_keeps_the_rules(seen: Found) -> None:
    records = [record for found, _ in seen.values() for record in found]
    problems = [problem for record in records for problem in record_problems(record)]
    # a revisit names a record this archive holds, and an identical payload has that record's digest
    digests = {r.warc["WARC-Record-ID"]: r.warc.get("WARC-Payload-Digest") for r in records if r.rec_type == "response"}
    for revisit in (r for r in records if r.rec_type == "revisit"):
        original = revisit.warc.get("WARC-Refers-To")
        if original not in digests:
            problems.append(f"{revisit.where}: refers to {original}, which no file holds")
        elif "WARC-Payload-Digest" in revisit.warc and revisit.warc["WARC-Payload-Digest"] != digests[original]:
            problems.append(f"{revisit.where}: its payload digest is not its original's")
    assert problems == []


def test_every_warcinfo_names_its_software_and_settings(archive: Archive, seen: Found) -> None:
    for warc, (records, _) in seen.items():
        infos = [parse_fields(r.fields) for r in records if r.rec_type == "warcinfo"]
        assert records[0].rec_type == "warcinfo", warc
        fixture = warc.is_relative_to(archive.fixtures)
        wanted = {"software", "description"} if fixture else SETTINGS_FIELDS | {"connect-to"}
        for info in infos:
            assert wanted <= info.keys(), f"{warc.name}: {sorted(info)}"
            assert info["software"].startswith("scraper/")
            if not fixture:
                assert info["max-body-bytes"] == str(MAX_BODY)
                assert re.fullmatch(r"https?://[^=, ]+=http://127\.0\.0\.1:\d+(, https?://[^=, ]+=http://127\.0\.0\.1:\d+)*",
                                    info["connect-to"]), info["connect-to"]  # fmt: skip


def _written(seen: Found, prefix: str) -> set[str]:
    return set().union(*(traits(records) for warc, (records, _) in seen.items() if warc.name.startswith(prefix)))


def test_each_command_wrote_every_kind_of_record(archive: Archive, seen: Found) -> None:
    """The checks above judged every path of the writer, not a few easy records."""
    assert _written(seen, "fetch-") >= BOTH_WRITE
    assert _written(seen, "interfax-") | _written(seen, "kremlin-") >= BOTH_WRITE | RUN_WRITES
    assert len([w for w in seen if w.is_relative_to(archive.fixtures)]) == 2
    # the file left open was cut back to its last whole record, then continued
    repaired = next(w for w in seen if w.name.startswith("interfax-"))
    assert repaired.with_name(f"{repaired.name}.torn").read_bytes() == TORN


def test_each_index_written_from_the_writer_is_the_one_read_from_its_file(archive: Archive, tmp_path: Path) -> None:
    """``run`` and ``fetch`` index what they wrote without reading it back: new files, a file
    continued after its index (kremlin), one repaired and continued (interfax)."""
    written = [w for w in archive.warcs if not w.is_relative_to(archive.fixtures)]
    assert {w.name.split("-")[0] for w in written} == {"interfax", "kremlin", "fetch"}
    for warc in written:
        read_back = tmp_path / f"{warc.name}.cdxj"
        cdx._write_index(warc, read_back)
        assert cdx.index_path(warc).read_text() == read_back.read_text(), warc.name
        assert cdx.is_current(warc), warc.name


def test_reclean_writes_no_record(archive: Archive, seen: Found) -> None:
    """Re-cleaning reads the WARCs and writes texts only (``seen``: the files were read before)."""
    before = {warc: hashlib.sha256(warc.read_bytes()).hexdigest() for warc in archive.warcs}
    archive.scraper("reclean", "--config", "run.toml", "out/warc")
    assert {warc: hashlib.sha256(warc.read_bytes()).hexdigest() for warc in archive.warcs} == before


# a defect a writer could have -> what the checks must say of it (FastWARC's words only where it is installed)
DEFECTS = {
    "none": (),
    "field name": (r"not a 'Name: value' field line: 'connect-to https://www\.interfax\.ru: http://",),
    "metadata digest": (r"a metadata record with a WARC-Payload-Digest$", r"FastWARC: payload digest does not verify$"),
    "flipped byte": (
        r": warcio: (block|payload) digest failed",
        r": FastWARC: (block|payload) digest does not verify$",
    ),
    "length kept": (r"HTTP Content-Length 5000 over a stored payload of 1000 bytes \(WARC-Truncated: length\)$",),
    "chunked kept": (r"a Transfer-Encoding header over a stored body",),
}


def _defective(path: Path, defect: str) -> None:
    """A plain (not gzipped) WARC of a warcinfo, a response and its metadata, with ``defect``."""
    url, body = "https://www.interfax.ru/ok/1", b"<html><p>" + b"x" * 991
    http = [("Content-Type", "text/html"), ("Content-Length", "5000" if defect == "length kept" else str(len(body)))]
    http += [("Transfer-Encoding", "chunked")] if defect == "chunked kept" else []
    bad_name = {"connect-to https://www.interfax.ru": "http://127.0.0.1:1"} if defect == "field name" else {}
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=False, warc_version="WARC/1.1")
        if defect != "metadata digest":  # warcio gives a metadata record a payload digest unless told not to
            writer.NO_PAYLOAD_DIGEST_TYPES = (*writer.NO_PAYLOAD_DIGEST_TYPES, "metadata")
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "scraper/0", **bad_name}))
        cut = {"WARC-Truncated": "length"} if defect == "length kept" else {}
        head = StatusAndHeaders("200 OK", http, protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", BytesIO(body), len(body),
                                                      warc_headers_dict=cut, http_headers=head))  # fmt: skip
        fields = b"adapter: interfax\r\n"
        writer.write_record(writer.create_warc_record(url, "metadata", BytesIO(fields), len(fields),
                                                      warc_content_type="application/warc-fields"))  # fmt: skip
    if defect == "flipped byte":
        data = bytearray(path.read_bytes())
        data[data.index(b"xxxx")] ^= 1
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("defect", DEFECTS)
def test_the_checks_catch_each_defect_a_writer_could_have(tmp_path: Path, defect: str) -> None:
    warc = tmp_path / "defect.warc"
    _defective(warc, defect)
    records, problems = read_warcio(warc)
    problems += [p for r in records for p in record_problems(r)]
    fast = importlib.util.find_spec("fastwarc") is not None
    problems += fastwarc_problems(warc, records) if fast else []
    expected = [e for e in DEFECTS[defect] if fast or "FastWARC" not in e]
    assert len(records) == 3
    assert [e for e in expected if not any(re.search(e, p) for p in problems)] == []  # each is said
    assert [p for p in problems if not any(re.search(e, p) for e in expected)] == []  # and nothing else
