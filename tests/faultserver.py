"""The project's fault-injecting HTTP server: every misbehaviour a site or a feed can show, each at
its own path, on 127.0.0.1 only.

Pages are at ``/<mode>/<n>``, the mode in lower-case letters, so that ``https://www.interfax.ru/<mode>/<n>``
is an Interfax article address and ``scraper run`` reaches the server through ``connect_to``.
Discovery documents are at ``/feed/<mode>`` and ``/sitemap/<mode>``, a robots.txt asking for a
Crawl-delay of N seconds at ``/robots/N``. ``aliases`` maps other paths (a site's real feed address or
its robots.txt) to a mode's path, query included. Every request is logged with its time,
so a test can tell what was asked for, when, and what never was.

    python tests/faultserver.py      serves until Ctrl-C and prints the addresses of the modes
"""

from __future__ import annotations

import gzip
import random
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

PARAGRAPHS = (
    "Москва. Первый абзац статьи о проверке надёжности архива, достаточно длинный, чтобы быть абзацем.",
    "Второй абзац: сервер ведёт себя враждебно, а программа продолжает работу и записывает причину.",
)
# what the fault pages are, in the order a feed lists them: mode -> one line for people
PAGE_MODES: dict[str, str] = {
    "ok": "a good article",
    "reset": "connection reset mid-body",
    "stall": "headers, then nothing",
    "drip": "a body at one byte a second",
    "ratesec": "429 with Retry-After in seconds, then the page",
    "ratedate": "503 with Retry-After as an HTTP-date, then the page",
    "ratelong": "503 with a Retry-After of a day",
    "shortlength": "Content-Length larger than what is sent",
    "gzipbomb": "a gzip bomb: 1 MB on the wire, gigabytes decompressed",
    "loop": "a redirect loop",
    "otherhost": "a redirect to another host",
    "toloopback": "a redirect to 127.0.0.1 (this server, not via connect_to)",
    "toprivate": "a redirect to a private address (10.0.0.0/8)",
    "tometadata": "a redirect to the link-local metadata address 169.254.169.254",
    "tofile": "a redirect to file:///etc/passwd",
    "wrongcharset": "UTF-8 page labelled windows-1251",
    "wrongcharsetcp": "windows-1251 page labelled UTF-8",
    "badutf": "invalid UTF-8 and NUL bytes",
    "pdf": "a PDF served as text/html",
    "image": "a PNG image served as text/html",
    "huge": "a 50 MB HTML page",
    "deep": "HTML nested 100,000 levels deep",
    "empty": "an empty 200",
    "traversal": "a page whose title, canonical link and og:url are ../ paths",
    "slowhead": "the status line and headers at one byte a second",
    "continues": "'100 Continue' every half second, never a final response",
    "brotli": "an article sent with Content-Encoding: br, never asked for",
    "brotlibomb": "a brotli bomb: a few hundred KB on the wire, gigabytes decoded",
    "zstd": "a body in a Content-Encoding this tool does not decode (zstd)",
    "trailing": "a gzip article with bytes after its last member",
    "members": "100,000 empty gzip members (2 MB)",
    "paragraphs": "a million tiny paragraphs (8 MB, under the size cap)",
    "longlabel": "a redirect to a host name with a 64-character label",
    "attributes": "one paragraph with 300,000 attributes (2 MB): minutes of parsing",
}
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\0" * 64
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass(frozen=True, slots=True)
class Hit:
    at: float  # time.monotonic()
    path: str
    host: str


@dataclass
class Faults:
    """What a server instance does; tests shorten the slow modes."""

    listed_origin: str = "https://www.interfax.ru"  # origin of the links /feed/list and sitemaps give
    aliases: dict[str, str] = field(default_factory=dict)
    stall_seconds: float = 30.0
    drip_seconds: int = 60
    bomb_mib: int = 1024
    huge_bytes: int = 50 * 1024 * 1024
    depth: int = 100_000
    private_target: str = "http://10.255.255.1/ok/1"  # never connected to: the scraper must refuse it


@dataclass
class FaultServer:
    origin: str
    port: int
    faults: Faults
    hits: list[Hit]

    def asked(self, prefix: str) -> list[Hit]:
        return [h for h in self.hits if h.path.startswith(prefix)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    faults: ClassVar[Faults]
    hits: ClassVar[list[Hit]]
    counts: ClassVar[dict[str, int]]
    stop: ClassVar[threading.Event]
    port: ClassVar[int]

    def handle(self) -> None:
        with suppress(ConnectionResetError, BrokenPipeError):  # a client killed mid-request is no news here
            super().handle()

    def do_GET(self) -> None:
        self.hits.append(Hit(time.monotonic(), self.path, self.headers.get("Host", "")))
        self.counts[self.path] = self.counts.get(self.path, 0) + 1
        target = self.faults.aliases.get(urlsplit(self.path).path, self.path)
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        section, _, rest = parts.path.strip("/").partition("/")
        try:
            if section == "feed":
                self._feed(rest, query)
            elif section == "sitemap":
                self._sitemap(rest)
            elif section == "robots":  # /robots/N: a robots.txt asking for a Crawl-delay of N seconds
                self._send(200, f"User-agent: *\nCrawl-delay: {rest}\n".encode(), "text/plain")
            elif section == "big":  # a good article of about a megabyte: its records take a while to write
                self._send(200, big_article(int(rest) if rest.isdigit() else 0))
            elif section in PAGE_MODES:
                getattr(self, f"_page_{section}")(rest or "1")
            else:
                self._send(404, b"not found", "text/plain")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: that is what some modes are for

    # --- plumbing -----------------------------------------------------------------------------

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.flush()

    def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8", **extra: str) -> None:
        headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
        self._head(status, headers | {k.replace("_", "-"): v for k, v in extra.items()})
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self._send(302, b"", "text/plain", Location=location)

    def _reset(self) -> None:
        self.wfile.flush()
        time.sleep(0.3)  # let the client read what came before the reset discards it
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.connection.close()
        self.close_connection = True

    # --- pages --------------------------------------------------------------------------------

    def _page_ok(self, n: str) -> None:
        self._send(200, article(f"Статья {n}"))

    def _page_reset(self, n: str) -> None:
        body = article(f"Оборванная статья {n}")
        self._head(200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body))})
        self.wfile.write(body[: len(body) // 2])
        self._reset()

    def _page_stall(self, n: str) -> None:
        self._head(200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": "5000"})
        self.stop.wait(self.faults.stall_seconds)
        self.close_connection = True

    def _page_drip(self, n: str) -> None:
        body = article(f"Капающая статья {n}")
        self._head(200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body))})
        for i in range(min(len(body), self.faults.drip_seconds)):
            self.wfile.write(body[i : i + 1])
            self.wfile.flush()
            if self.stop.wait(1.0):
                break
        self.close_connection = True

    def _page_ratesec(self, n: str) -> None:
        if self.counts[self.path] == 1:
            self._send(429, b"slow down", "text/plain", Retry_After="1")
        else:
            self._page_ok(n)

    def _page_ratedate(self, n: str) -> None:
        if self.counts[self.path] == 1:
            when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
            self._send(503, b"come back later", "text/plain", Retry_After=when)
        else:
            self._page_ok(n)

    def _page_ratelong(self, n: str) -> None:
        self._send(503, b"come back tomorrow", "text/plain", Retry_After="86400")

    def _page_shortlength(self, n: str) -> None:
        body = article(f"Короткая статья {n}")
        self._head(200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body) * 10)})
        self.wfile.write(body)
        self.close_connection = True  # the connection ends with nine tenths of the promise unsent

    def _page_gzipbomb(self, n: str) -> None:
        self._send(200, gzip_bomb(self.faults.bomb_mib), Content_Encoding="gzip")

    def _page_loop(self, n: str) -> None:
        self._redirect(f"/loop/{int(n) % 2 + 1}" if n.isdigit() else "/loop/1")

    def _page_otherhost(self, n: str) -> None:
        self._redirect(f"https://news.example.org/ok/{n}")

    def _page_toloopback(self, n: str) -> None:
        self._redirect(f"http://127.0.0.1:{self.port}/ok/{n}")

    def _page_toprivate(self, n: str) -> None:
        self._redirect(self.faults.private_target)

    def _page_tometadata(self, n: str) -> None:
        self._redirect("http://169.254.169.254/latest/meta-data/")

    def _page_tofile(self, n: str) -> None:
        self._redirect("file:///etc/passwd")

    def _page_wrongcharset(self, n: str) -> None:
        self._send(200, article(f"Статья в UTF-8 {n}"), "text/html; charset=windows-1251")

    def _page_wrongcharsetcp(self, n: str) -> None:
        self._send(200, article(f"Статья в windows-1251 {n}", "windows-1251"), "text/html; charset=utf-8")

    def _page_badutf(self, n: str) -> None:
        body = article(f"Битая статья {n}").replace(b"\xd0\xb0", b"\xd0\x00\xff", 3).replace(b"<p>", b"<p>\0\xc3(")
        self._send(200, body)

    def _page_pdf(self, n: str) -> None:
        self._send(200, PDF)

    def _page_image(self, n: str) -> None:
        self._send(200, PNG)

    def _page_huge(self, n: str) -> None:
        head = b"<html><head><title>Huge</title></head><body><article itemprop='articleBody'>"
        filler = b"<p>" + PARAGRAPHS[0].encode() + b"</p>\n"
        tail = b"</article></body></html>"
        count = (self.faults.huge_bytes - len(head) - len(tail)) // len(filler)
        size = len(head) + count * len(filler) + len(tail)
        self._head(200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(size)})
        self.wfile.write(head)
        block = filler * 1000
        for _ in range(count // 1000):
            self.wfile.write(block)
        self.wfile.write(filler * (count % 1000) + tail)

    def _page_deep(self, n: str) -> None:
        depth = self.faults.depth
        inner = b"<p>" + PARAGRAPHS[0].encode() + b"</p>"
        self._send(200, b"<html><body>" + b"<div>" * depth + inner + b"</div>" * depth + b"</body></html>")

    def _page_slowhead(self, n: str) -> None:
        """The status line and headers one byte a second: a per-read timeout never fires."""
        body = article(f"Медленные заголовки {n}")
        head = f"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n"
        for i, byte in enumerate(head.encode()):
            if i >= self.faults.drip_seconds or self.stop.wait(1.0):
                break
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
        self.close_connection = True

    def _page_continues(self, n: str) -> None:
        """``100 Continue`` over and over, never a final response."""
        for _ in range(self.faults.drip_seconds * 2):
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
            if self.stop.wait(0.5):
                break
        self.close_connection = True

    def _page_brotli(self, n: str) -> None:
        self._send(200, brotli_of(article(f"Статья в brotli {n}")), Content_Encoding="br")

    def _page_brotlibomb(self, n: str) -> None:
        self._send(200, brotli_bomb(self.faults.bomb_mib), Content_Encoding="br")

    def _page_zstd(self, n: str) -> None:
        self._send(200, b"\x28\xb5\x2f\xfd" + bytes(range(256)) * 8, Content_Encoding="zstd")

    def _page_trailing(self, n: str) -> None:
        self._send(200, gzip.compress(article(f"Статья {n}")) + b"\r\n", Content_Encoding="gzip")

    def _page_members(self, n: str) -> None:
        self._send(200, gzip.compress(b"", mtime=0) * 100_000, Content_Encoding="gzip")

    def _page_paragraphs(self, n: str) -> None:
        """A million tiny paragraphs, 8 MB: under the size cap, heavy for any extractor."""
        head = b"<html><head><title>Many</title></head><body><article itemprop='articleBody'>"
        self._send(200, head + b"<p>a</p>" * 1_000_000 + b"</article></body></html>")

    def _page_attributes(self, n: str) -> None:
        head = b"<html><head><title>Attributes</title></head><body><article itemprop='articleBody'><p"
        attributes = b"".join(b' a%d=""' % i for i in range(300_000))
        self._send(200, head + attributes + b">" + PARAGRAPHS[0].encode() + b"</p></article></body></html>")

    def _page_longlabel(self, n: str) -> None:
        self._redirect(f"https://{'a' * 64}.interfax.ru/ok/{n}")

    def _page_empty(self, n: str) -> None:
        self._send(200, b"")

    def _page_traversal(self, n: str) -> None:
        evil = "../../../../../../tmp/scraper-escape"
        head = f'<link rel="canonical" href="{evil}"><meta property="og:url" content="{evil}">'
        self._send(200, article(evil, head=head))

    # --- discovery documents ------------------------------------------------------------------

    def _feed(self, mode: str, query: dict[str, str]) -> None:
        good = query.get("good", f"{self.faults.listed_origin}/ok/1001")
        me = f"http://127.0.0.1:{self.port}"
        documents: dict[str, Callable[[], str]] = {
            "list": lambda: rss([f"{self.faults.listed_origin}/{m}/1" for m in PAGE_MODES]),
            "empty": lambda: rss([]),
            # ?n=N good articles, every third a big one: /ok/1, /ok/2, /big/3 ...
            "many": lambda: rss(many(self.faults.listed_origin, int(query.get("n", "10")))),
            "entitybomb": lambda: entity_bomb(good),
            "xxe": lambda: external_entity(good, me),
            "schemes": lambda: rss([*hostile_links(self.faults.listed_origin, me), good]),
            # ?modes=ok,slowhead: the first page of each mode named
            "pick": lambda: rss([f"{self.faults.listed_origin}/{m}/1" for m in query.get("modes", "").split(",")]),
        }
        make = documents.get(mode)
        if make is None:
            self._send(404, b"no such feed", "text/plain")
        else:
            self._send(200, make().encode("utf-8"), "application/rss+xml; charset=utf-8")

    def _sitemap(self, mode: str) -> None:
        origin = self.faults.listed_origin
        if mode == "urls":
            body = f'<urlset xmlns="{_SM}"><url><loc>{origin}/ok/2001</loc></url></urlset>'
        elif mode == "fanout":
            body = fan_out(origin)
        elif mode.startswith("child/"):  # fanout's sitemap N lists the article /ok/N
            body = f'<urlset xmlns="{_SM}"><url><loc>{origin}/ok/{mode[6:]}</loc></url></urlset>'
        else:  # selfindex: lists itself (as asked for), a second index that lists it back, and a urlset
            itself = f"{origin}{urlsplit(self.path).path}"
            other = f"{origin}/sitemap/{'selfindex' if mode == 'cycle' else 'cycle'}"
            locs = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in (itself, other, f"{origin}/sitemap/urls"))
            body = f'<sitemapindex xmlns="{_SM}">{locs}</sitemapindex>'
        self._send(200, ('<?xml version="1.0" encoding="UTF-8"?>' + body).encode(), "application/xml")

    def log_message(self, *args: object) -> None:
        return


_SM = "http://www.sitemaps.org/schemas/sitemap/0.9"


def article(title: str, charset: str = "utf-8", head: str = "", paragraphs: tuple[str, ...] = PARAGRAPHS) -> bytes:
    numbered = len(paragraphs) > len(PARAGRAPHS)  # repeats told apart, so none is taken for boilerplate
    body = "".join(f"<p>{escape(p)}{f' ({i})' if numbered else ''}</p>" for i, p in enumerate(paragraphs))
    html = (
        f'<!DOCTYPE html><html lang="ru"><head><meta charset="{charset}"><title>{escape(title)}</title>{head}'
        f'</head><body><h1>{escape(title)}</h1><article itemprop="articleBody">{body}</article></body></html>'
    )
    return html.encode(charset)


@lru_cache(maxsize=64)
def big_article(seed: int) -> bytes:
    """About 2 MB of words drawn at random: it compresses poorly, so its records take a while to write."""
    draw = random.Random(seed)
    letters = "абвгдеёжзийклмнопрстуфхцчшщыьэюя"
    words = ["".join(draw.choices(letters, k=draw.randint(2, 9))) for _ in range(3000)]
    paragraphs = tuple(" ".join(draw.choices(words, k=50)).capitalize() + "." for _ in range(5000))
    return article(f"Большая статья {seed}", paragraphs=paragraphs)


def many(origin: str, count: int) -> list[str]:
    """``count`` good articles, every third a big one: /ok/1, /ok/2, /big/3 ..."""
    return [f"{origin}/{'big' if i % 3 == 0 else 'ok'}/{i}" for i in range(1, count + 1)]


FAN_OUT = 50_000


@lru_cache(maxsize=2)
def fan_out(origin: str) -> str:
    """A sitemap index of 50,000 sitemaps (5 MB), oldest first as many sites list them, each listing one article."""
    oldest = datetime(2020, 1, 1, tzinfo=UTC)
    listed = "".join(
        f"<sitemap><loc>{origin}/sitemap/child/{i}</loc><lastmod>{(oldest + timedelta(hours=i)).isoformat()}</lastmod>"
        "</sitemap>"
        for i in range(FAN_OUT)
    )
    return f'<sitemapindex xmlns="{_SM}">{listed}</sitemapindex>'


def rss(links: list[str]) -> str:
    items = "".join(f"<item><title>item {i}</title><link>{escape(u)}</link></item>" for i, u in enumerate(links))
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>f</title>{items}</channel></rss>'


def entity_bomb(good: str) -> str:
    """Billion laughs: ten levels of ten references, 10^9 "lol"s (3 GB) if expanded."""
    levels = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    doctype = "<!DOCTYPE rss [\n" + "\n".join(levels) + "\n]>"
    item = f"<item><title>&lol9;</title><description>&lol9;</description><link>{escape(good)}</link></item>"
    return f'<?xml version="1.0"?>\n{doctype}\n<rss version="2.0"><channel><title>&lol9;</title>{item}</channel></rss>'


def external_entity(good: str, me: str) -> str:
    """External entities: a local file, a URL on this server (a hit on /xxe/ means one was loaded),
    and an external parameter entity (an out-of-band DTD)."""
    doctype = (
        f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY probe SYSTEM "{me}/xxe/probe">'
        f'<!ENTITY % dtd SYSTEM "{me}/xxe/dtd"> %dtd;]>'
    )
    items = (
        f"<item><title>&xxe;</title><description>&probe;</description><link>{escape(good)}</link></item>"
        "<item><title>entity link</title><link>&xxe;</link></item>"
    )
    return f'<?xml version="1.0"?>\n{doctype}\n<rss version="2.0"><channel><title>&xxe;</title>{items}</channel></rss>'


def hostile_links(origin: str, me: str) -> list[str]:
    path = urlsplit(origin).netloc
    return [
        "file:///etc/passwd",
        f"ftp://{path}/world/1",
        "javascript:alert(document.cookie)",
        "data:text/html,<p>x</p>",
        "http://10.0.0.1/world/1",
        "http://192.168.1.1/world/2",
        "http://169.254.169.254/latest/meta-data/",
        f"{me}/world/3",
        "http://[::1]/world/4",
        "http://0.0.0.0/world/5",
    ]


@lru_cache(maxsize=4)
def gzip_bomb(mib: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    parts = [packer.compress(b"<html><body><p>")]
    parts += [packer.compress(zeros) for _ in range(mib)]
    return b"".join([*parts, packer.flush()])


def brotli_of(data: bytes) -> bytes:
    import brotlicffi  # the project's own dependency, for the br modes only

    return bytes(brotlicffi.compress(data))


@lru_cache(maxsize=4)
def brotli_bomb(mib: int) -> bytes:
    import brotlicffi

    packer = brotlicffi.Compressor(quality=1)
    zeros = bytes(1 << 20)
    parts = [packer.process(b"<html><body><p>")] + [packer.process(zeros) for _ in range(mib)]
    return b"".join([*parts, packer.finish()])


@contextmanager
def serve(faults: Faults | None = None) -> Iterator[FaultServer]:
    faults = faults or Faults()
    gzip_bomb(faults.bomb_mib)  # built before the first request: it takes seconds
    stop = threading.Event()
    attrs = {"faults": faults, "hits": [], "counts": {}, "stop": stop}
    handler = type("FaultHandler", (_Handler,), attrs)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    handler.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield FaultServer(f"http://127.0.0.1:{handler.port}", handler.port, faults, handler.hits)
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()


# --- the scheduled run that tests/test_faults.py and bench/faults.py both make -----------------------
# Interfax's feed lists every fault page, its sitemap is an index that lists itself; three of the
# Kremlin's feeds are the hostile feeds, each also listing one good article.
KREMLIN_NEWS = "http://kremlin.ru/events/president/news"
FEED_FAULTS: dict[str, tuple[str, str]] = {  # mode -> (feed path at kremlin.ru, the good article it lists)
    "entitybomb": ("/events/all/feed", f"{KREMLIN_NEWS}/70001"),
    "xxe": ("/events/president/news/feed", f"{KREMLIN_NEWS}/70002"),
    "schemes": ("/events/president/transcripts/feed", f"{KREMLIN_NEWS}/70003"),
}
RUN_ORIGINS = ("https://www.interfax.ru", "http://kremlin.ru", "http://en.kremlin.ru", "https://news.example.org")
# the one-line reason each page mode must end with in a run (None: the article must be extracted)
EXPECTED: dict[str, str | None] = {
    "ok": None,
    "reset": r"^connection lost after \d+ bytes: .*reset by peer",
    "stall": r"^connection lost after 0 bytes: timed out$",
    "drip": r"^body took too long: archived truncated, not extracted$",
    "ratesec": None,
    "ratedate": None,
    "ratelong": r"^HTTP 503: Retry-After 86400 s is past the \d+ s ceiling",
    "shortlength": r"^connection lost after \d+ bytes: peer closed connection without sending complete message body",
    "gzipbomb": r"^body larger than \d+ bytes once decompressed: archived as sent, not extracted$",
    "loop": r"^redirect loop at https://www\.interfax\.ru/loop/1$",
    "otherhost": None,
    "toloopback": r"^blocked: 127\.0\.0\.1 is not a public address \(loopback\)$",
    "toprivate": r"^blocked: 10\.255\.255\.1 is not a public address \(private\)$",
    "tometadata": r"^blocked: 169\.254\.169\.254 is not a public address \(link-local\)$",
    "tofile": r"^redirect to a non-http URL: file:",
    "wrongcharset": None,
    "wrongcharsetcp": None,
    "badutf": None,
    "pdf": r"^not HTML: PDF$",
    "image": r"^not HTML: PNG image$",
    "huge": r"^body larger than \d+ bytes: archived truncated, not extracted$",
    "deep": r"^too many elements to be an article: [0-9,]+ tags, more than 50,000$",
    "empty": r"^empty body$",
    "traversal": None,
    "slowhead": r"^timeout: no response within total_timeout \d+ s$",
    "continues": r"^timeout: no response within total_timeout \d+ s$",
    "brotli": None,
    "brotlibomb": r"^body larger than \d+ bytes once decompressed: archived as sent, not extracted$",
    "zstd": r"^Content-Encoding zstd is not one this tool decodes$",
    "trailing": r"^Content-Encoding gzip, but the body goes on after its compressed stream ends$",
    "members": r"^Content-Encoding gzip, but the body holds more than 1000 compressed streams \(a server sends one\)$",
    "paragraphs": r"^too many elements to be an article: [0-9,]+ tags, more than 50,000$",
    "longlabel": r"^redirect to a bad URL: bad host name: a label of 64 characters \(1 to 63 allowed\)$",
    "attributes": r"^extraction took longer than \d+ s$",
}


def run_faults(**changes: object) -> Faults:
    aliases = {"/rss.asp": "/feed/list", "/SEO_SiteMapLastChanges.xml": "/sitemap/selfindex"}
    for mode, (path, good) in FEED_FAULTS.items():
        aliases[path] = f"/feed/{mode}?good={good}"
        aliases[urlsplit(good).path] = f"/ok/{good.rsplit('/', 1)[1]}"
    return Faults(aliases=aliases, **changes)  # type: ignore[arg-type]


def run_config(
    origin: str, sites: str = '["interfax", "kremlin"]', sitemaps: bool = True, delay: float = 0,
    extract_seconds: float = 5, **network: object,
) -> str:  # fmt: skip
    """config.toml for `scraper run --config`: the two sites, quick timeouts, every origin to ``origin``."""
    values = {"timeout": 2, "total_timeout": 4, "retries": 1, "backoff": 0.2, "retry_after_max": 5} | network
    lines = ["[output]", 'dir = "out"', "[network]", *(f"{k} = {v}" for k, v in values.items())]
    lines += [
        "[politeness]",
        f"delay = {delay}",
        "[run]",
        f"sites = {sites}",
        f"use_sitemaps = {str(sitemaps).lower()}",
        "[extract]",
        f"time_limit = {extract_seconds}",
    ]
    lines += ["[network.connect_to]"]
    lines += [f'"{o}" = "{origin}"' for o in RUN_ORIGINS]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    with serve() as server:
        for mode, what in PAGE_MODES.items():
            print(f"{server.origin}/{mode}/1  {what}")
        for mode in ("list", "empty", "entitybomb", "xxe", "schemes"):
            print(f"{server.origin}/feed/{mode}")
        print(f"{server.origin}/sitemap/selfindex")
        with suppress(KeyboardInterrupt):
            threading.Event().wait()
