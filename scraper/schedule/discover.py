"""Feeds and sitemaps -> candidate article links. Pure: the caller fetches the bytes and passes them in.

The only module that imports feedparser. Feeds and sitemaps come from the network, so every document
is first made safe (``_safe_xml``): decoded, its prolog stripped of the DOCTYPE and every other
``<!...>`` declaration, and handed on as plain UTF-8. Without a DOCTYPE there are no entity
definitions to expand (billion laughs, quadratic blow-up) and no external entity or DTD to load
(XXE). feedparser alone is not enough: its fallback parser expands the internal entities it deems
"safe", so a 40 KB feed with one 10 KB entity used 10,000 times became a 100 MB title.
A malformed document gives an empty or partial result, never an exception.

A sitemap is read as a stream (inflated, decoded and parsed piece by piece, each entry dropped from
the tree once read), within fixed bounds: MAX_XML_BYTES of XML, MAX_URLS_PER_SITEMAP entries, and
the newest ``children`` of an index (MAX_SITEMAPS_PER_INDEX unless the caller says), through
``page.entries`` (lxml's pull parser). So 50 MB of XML costs tens of MB, not a gigabyte of tree.
Links on hosts the site does not serve are dropped here: nothing off-site is ever fetched.
"""

from __future__ import annotations

import codecs
import heapq
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from time import struct_time
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from scraper.extract import page
from scraper.sites.base import Site
from scraper.urls import canonical

# sitemaps.org: a sitemap holds at most 50 MB uncompressed; past that a gzip body is cut (a bomb)
MAX_XML_BYTES = 50 * 1024 * 1024
# sitemaps.org: a sitemap, or an index, lists at most 50,000 entries; any after that are not read
MAX_URLS_PER_SITEMAP = 50_000
# The children of an index that are followed: those with the newest lastmod, newest first (document
# order among equals). An index lists every day or page of the site's history, oldest or newest
# first as it pleases; a run wants what is new, and each child costs a request at the site's pace.
MAX_SITEMAPS_PER_INDEX = 50
_PIECE = 64 * 1024  # bytes inflated, decoded and parsed at a time
_MAX_PROLOG = 1024 * 1024  # characters before the root element: more is no sitemap
# Elements in one <url> or <sitemap>: Google allows 1,000 images a page, each a few elements; a
# million empty elements in one entry (a few KB of gzip) would hold a tree of a gigabyte.
_MAX_ENTRY_ELEMENTS = 10_000

# BOMs and, for documents without one, the first bytes of "<?" (XML 1.0, appendix F). UTF-32
# before UTF-16: the UTF-32-LE BOM begins with the UTF-16-LE one.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (b"<\0\0\0", "utf-32-le"),
    (b"\0\0\0<", "utf-32-be"),
    (b"<\0?\0", "utf-16-le"),
    (b"\0<\0?", "utf-16-be"),
)
_DECLARED = re.compile(rb"""^<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
# The prolog ends where feedparser's own DOCTYPE handling stops looking: the first "<" + ASCII word
# character. Cleaning at least that far leaves nothing for feedparser, expat or libxml2 to define.
_ROOT_START = re.compile(r"<[A-Za-z0-9_]")
_PI = re.compile(r"<\?.*?\?>", re.S)
# A declaration with quoted strings and an internal subset; the alternatives start with different
# characters and the loops are possessive, so a hostile unterminated one costs linear time.
_DECLARATION = re.compile(r"""<!(?:"[^"]*"|'[^']*'|\[(?:"[^"]*"|'[^']*'|[^\]"'])*+\]|[^>"'\[])*+>""")


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    published: datetime | None  # tz-aware UTC; a sitemap without news:publication_date gives lastmod


@dataclass(frozen=True, slots=True)
class SitemapLinks:
    pages: list[Link]  # from a <urlset>
    sitemaps: list[str]  # from a <sitemapindex>, newest first: fetch these and call sitemap_links again


def feed_links(body: bytes, base_url: str) -> list[Link]:
    """The item links of an RSS 0.9x/1.0/2.0 or Atom feed, in feed order; http(s) only."""
    xml = _safe_xml(body)
    if not xml.strip():
        return []
    try:
        # a stream, never a str: feedparser opens a str that looks like a URL or a file name
        parsed = feedparser.parse(
            io.BytesIO(xml),
            sanitize_html=False,  # only links and dates are read; the item HTML is never used
            resolve_relative_uris=False,
            # the base for xml:base and relative links; the type makes it read the bytes as UTF-8
            response_headers={"content-location": base_url, "content-type": "application/xml"},
        )
    except Exception:  # a third-party parser on hostile bytes: a bad feed is no links, not a crash
        return []
    links = []
    for entry in parsed.entries:
        # the item's link; else its guid / Atom id, when that is itself an absolute URL
        url = _http_url(entry.get("link") or "", base_url) or _http_url(entry.get("id") or "", "")
        if url:
            published = entry.get("published_parsed") or entry.get("updated_parsed")
            links.append(Link(url, _from_struct(published)))
    return links


def sitemap_links(
    body: bytes, base_url: str, site: Site | None = None, children: int = MAX_SITEMAPS_PER_INDEX
) -> SitemapLinks:
    """The pages of a <urlset> (with news:publication_date or lastmod) or the newest ``children``
    sitemaps of a <sitemapindex>; a gzip-compressed body is inflated (up to MAX_XML_BYTES). Only
    links on hosts ``site`` serves are kept; without a site, only those on the document's own host."""
    pages: list[Link] = []
    newest: list[tuple[float, int, str]] = []  # a heap of the children kept: (lastmod, -order, url)
    for order, entry in enumerate(page.entries(_xml_pieces(body), ("url", "sitemap"), _MAX_ENTRY_ELEMENTS)):
        if order >= MAX_URLS_PER_SITEMAP:
            break
        url = _http_url(_child_text(entry, "loc"), base_url)
        if not url or not _own(url, base_url, site):
            continue
        kind, parent = page.local_name(entry), page.local_name(entry.getparent())
        if kind == "url" and parent == "urlset":
            news = next((c for c in entry if page.local_name(c) == "news"), None)
            stamp = _child_text(news, "publication_date") if news is not None else ""
            pages.append(Link(url, _w3c_date(stamp or _child_text(entry, "lastmod"))))
        elif kind == "sitemap" and parent == "sitemapindex" and url != base_url:
            # (an index listing itself would send the caller round in a circle)
            lastmod = _w3c_date(_child_text(entry, "lastmod"))
            ranked = (lastmod.timestamp() if lastmod else float("-inf"), -order, url)
            if len(newest) < children:
                heapq.heappush(newest, ranked)
            elif children > 0:  # too many: the oldest goes, and of two equally old the later one
                heapq.heappushpop(newest, ranked)
    return SitemapLinks(pages, [url for _, _, url in sorted(newest, reverse=True)])


def _own(url: str, base_url: str, site: Site | None) -> bool:
    """On the site's hosts: a sitemap may name any host, and what it names is fetched and archived."""
    host = urlsplit(url).hostname or ""
    return site.serves(host) if site is not None else host == urlsplit(base_url).hostname


def candidates(links: list[Link], site: Site) -> list[Link]:
    """The site's article links among ``links``, canonical and de-duplicated (first one kept)."""
    seen: set[str] = set()
    kept = []
    for link in links:
        if not _http_url(link.url, ""):
            continue
        url = canonical(link.url, site)  # before the check: an AMP or print address is the article
        if url not in seen and site.is_article_url(url):
            seen.add(url)
            kept.append(Link(url, link.published))
    return kept


def _safe_xml(body: bytes) -> bytes:
    """UTF-8 bytes without an XML declaration, a DOCTYPE or any other prolog declaration;
    empty when a declaration cannot be cut out cleanly."""
    raw = _gunzip(body) if body[:2] == b"\x1f\x8b" else body
    codec = _codec(raw)
    try:
        text = raw.decode(codec, "replace")
    except (UnicodeError, ValueError):  # a codec that cannot decode with "replace" (idna, ...)
        text = raw.decode("utf-8", "replace")
    cleaned = _without_prolog(text)
    return cleaned.encode("utf-8", "replace") if cleaned is not None else b""


def _without_prolog(text: str) -> str | None:
    """``text`` with the declarations and processing instructions before its root element cut
    out; None when one cannot be cut out cleanly, or there is no root element."""
    text = text.lstrip("\ufeff")
    boundary = _ROOT_START.search(text)
    if boundary is None:
        return None
    prolog = _DECLARATION.sub("", _PI.sub("", text[: boundary.start()]))
    if "<!" in prolog:  # unterminated, or two fragments joined into a new one: refuse the lot
        return None
    # stripping at most shortens the prolog, so no new root start (and no new DOCTYPE) appears
    return prolog + text[boundary.start() :]


def _codec(head: bytes) -> str:
    """The document's text encoding, from its BOM, its first bytes or its declaration; decoded here,
    once, so that what is cleaned is exactly what the parsers see: a byte-level check would miss a
    DOCTYPE spelled in UTF-16, UTF-7 or any other declared encoding."""
    codec = next((c for sig, c in _SIGNATURES if head.startswith(sig)), None)
    if codec is None:
        declared = _DECLARED.match(head)
        codec = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        b"".decode(codec)  # LookupError for an unknown name and for a codec that is not text (base64)
    except LookupError:
        return "utf-8"
    return codec


def _xml_pieces(body: bytes) -> Iterator[bytes]:
    """What ``_safe_xml`` gives, piece by piece: only the prolog is ever held whole."""
    texts = _decoded(_inflated(body) if body[:2] == b"\x1f\x8b" else _sliced(body))
    head = ""
    for text in texts:
        head += text
        if _ROOT_START.search(head) or len(head) > _MAX_PROLOG:
            break
    cleaned = _without_prolog(head)  # None too when there is no root element in _MAX_PROLOG
    if cleaned is None:
        return
    yield cleaned.encode("utf-8", "replace")
    for text in texts:
        yield text.encode("utf-8", "replace")


def _decoded(pieces: Iterator[bytes]) -> Iterator[str]:
    head = b""
    for piece in pieces:  # enough bytes for the BOM and the declaration
        head += piece
        if len(head) >= 1024:
            break
    decoder = codecs.getincrementaldecoder(_codec(head))("replace")
    try:
        first = decoder.decode(head)
    except (UnicodeError, ValueError):  # a codec that cannot decode with "replace" (idna, ...)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        first = decoder.decode(head)
    yield first
    try:
        for piece in pieces:
            yield decoder.decode(piece)
    except (UnicodeError, ValueError):
        return


def _sliced(body: bytes) -> Iterator[bytes]:
    for start in range(0, min(len(body), MAX_XML_BYTES), _PIECE):
        yield body[start : min(start + _PIECE, MAX_XML_BYTES)]


def _inflated(body: bytes) -> Iterator[bytes]:
    """At most MAX_XML_BYTES of a gzip stream (a bomb is cut there); a corrupt or cut one gives what
    came before."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    left, read, pending = MAX_XML_BYTES, 0, b""
    while left > 0:
        if not pending:
            if read >= len(body) or inflater.eof:
                return
            pending, read = body[read : read + _PIECE], read + _PIECE
        try:
            piece = inflater.decompress(pending, min(left, _PIECE))
        except zlib.error:
            return
        pending, left = inflater.unconsumed_tail, left - len(piece)
        yield piece


def _gunzip(body: bytes) -> bytes:
    return b"".join(_inflated(body))


def _http_url(raw: str, base_url: str) -> str:
    """``raw`` made absolute against ``base_url``; empty unless http(s) with a host."""
    if not raw.strip():  # urljoin would answer the base itself
        return ""
    try:
        url = urljoin(base_url, raw.strip())
        parts = urlsplit(url)
        return url if parts.scheme in ("http", "https") and parts.hostname else ""
    except ValueError:  # a malformed address, e.g. an unbalanced "[" in the host
        return ""


def _from_struct(value: struct_time | None) -> datetime | None:
    try:
        return datetime(*value[:6], tzinfo=UTC) if value else None
    except (TypeError, ValueError):
        return None


def _w3c_date(text: str) -> datetime | None:
    """A sitemap date (W3C datetime: a day, or a time with an offset); a time without an offset
    is taken as UTC, as the protocol requires one."""
    try:
        value = datetime.fromisoformat(text.strip())
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved past the calendar's end
        return None


def _child_text(element: Any, name: str) -> str:
    """The text of the first child called ``name``; an unresolved entity stays as written (&x;)."""
    child = next((c for c in element if page.local_name(c) == name), None)
    return "".join(child.itertext()).strip() if child is not None else ""
