"""The pure core: one captured response and its site in, one ``Article`` (or ``Rejected``) out.

No network, clock or disk here, so a live fetch and a re-clean of a ten-year-old WARC give the
same text for the same bytes and the same adapters.
"""

from __future__ import annotations

import re

from scraper.extract import page
from scraper.extract.body import Extracted, body_text, whole_page
from scraper.extract.clean import clean_lines, parse_date
from scraper.extract.decode import decode_html
from scraper.models import Article, Capture, Rejected
from scraper.sites.base import COMMON_DROP, Site

_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")
_MAGIC = {b"%PDF": "PDF", b"\x89PNG": "PNG image", b"GIF8": "GIF image", b"\xff\xd8\xff": "JPEG image",
          b"PK\x03\x04": "ZIP archive", b"\x1f\x8b": "gzip data", b"RIFF": "RIFF media"}  # fmt: skip
_HTML_START = re.compile(rb"<(?:!doctype|html|head|body|meta|title|div|p)\b", re.I)
_TITLE = ("//meta[@property='og:title']/@content", "//title", "//h1")
_PUBLISHED = (
    "//meta[@property='article:published_time']/@content",
    "//*[@itemprop='datePublished']/@content",
    "//*[@itemprop='datePublished']/@datetime",
    "//time/@datetime",
)


def process(capture: Capture, site: Site) -> Article | Rejected:
    """Never raises: any bytes give an article or a reason why there is none."""
    reason = _unusable(capture)
    if reason:
        return Rejected(capture.url, reason)
    try:
        return _process(capture, site)
    except Exception as exc:
        return Rejected(capture.url, f"extraction failed: {type(exc).__name__}: {exc}")


def _unusable(capture: Capture) -> str | None:
    if not 200 <= capture.status < 300:
        return f"HTTP {capture.status}"
    if not capture.body.strip():
        return "empty body"
    for magic, kind in _MAGIC.items():
        if capture.body.startswith(magic):
            return f"not HTML: {kind}"
    content_type = (capture.header("Content-Type") or "").split(";")[0].strip().lower()
    if content_type in _HTML_TYPES:
        return None
    # servers mislabel pages (no type, octet-stream): the bytes decide, as browsers sniff them
    if content_type in ("", "application/octet-stream") and _HTML_START.search(capture.body[:2048]):
        return None
    return f"not HTML: {content_type or 'no Content-Type and no markup'}"


def _process(capture: Capture, site: Site) -> Article | Rejected:
    root = page.parse(decode_html(capture.body, capture.header("Content-Type")))
    if root is None:
        return Rejected(capture.url, "no HTML document in the body")
    layout = site.layout_for(capture.fetched_at)
    title = page.first(root, layout.title + _TITLE)
    dates = page.values(root, layout.published + _PUBLISHED)
    authors = tuple(page.values(root, layout.authors))
    tags = tuple(page.values(root, layout.tags))
    lead = page.first(root, layout.lead) if layout.lead else None
    page.drop(root, COMMON_DROP + layout.drop)
    found = page.containers(root, layout.body)
    if found:
        extracted = Extracted(text=body_text(page.document_of(found)))
    else:
        extracted = whole_page(root, capture.url)
        title = title if layout.title else extracted.title or title
        authors = authors or extracted.authors
        dates = dates if layout.published else [d for d in (extracted.date,) if d] + dates
    lines = clean_lines(extracted.text, layout.drop_lines, title)
    if not lines:
        return Rejected(capture.url, "no article text found")
    return Article(
        url=capture.url,
        site=site.name,
        title=title or "",
        text="\n".join(lines),
        published=parse_date(dates, layout.date_formats, site.timezone),
        language=site.language_for(capture.url),
        adapter=site.name,
        adapter_version=layout.version,
        authors=authors,
        tags=tags,
        lead=lead,
        fallback=bool(layout.body) and not found,
    )
