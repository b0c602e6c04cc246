"""The pure core: one captured response and its site in, one ``Article`` (or ``Rejected``) out.

No network, clock or disk here, so a live fetch and a re-clean of a ten-year-old WARC give the
same text for the same bytes and the same adapters.

The layout is chosen by the capture's date and by the markup: the date picks the first candidate;
when its body container is not on the page, the site's other layouts are tried before the whole
page goes to trafilatura (``fallback``). Fields go through one chain (``facts``); what is inside
the body is kept by the layout's allow-list of typed blocks and watched by the sentinel.
"""

from __future__ import annotations

import re

from scraper.extract import page
from scraper.extract.body import Extracted, body_text, whole_page
from scraper.extract.clean import clean_lines
from scraper.extract.decode import decode_html
from scraper.extract.facts import Facts, read_facts, with_extracted
from scraper.extract.page import HtmlElement
from scraper.extract.sentinel import Unknown, Watch, keep_known_blocks
from scraper.models import Article, Capture, Rejected
from scraper.sites.base import COMMON_DROP, Layout, Site
from scraper.urls import canonical

_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")
_MAGIC = {b"%PDF": "PDF", b"\x89PNG": "PNG image", b"GIF8": "GIF image", b"\xff\xd8\xff": "JPEG image",
          b"PK\x03\x04": "ZIP archive", b"\x1f\x8b": "gzip data", b"RIFF": "RIFF media"}  # fmt: skip
_HTML_START = re.compile(rb"<(?:!doctype|html|head|body|meta|title|div|p)\b", re.I)
# the headline of a "not found" page, in the sites' languages; read only on a page without a body
_NOT_FOUND = re.compile(
    r"\b404\b|not found|page (?:does not|doesn't) exist|не найден|не существует|удалена|не знайден|не існує",
    re.I,
)


ERROR_PAGE = "error page"
NOT_AN_ARTICLE = "not an article"
# Past this many start tags a page is markup, not an article: real pages have under 4,000. trafilatura's
# time grows faster than the element count (a million paragraphs: over 12 minutes, 1.6 GB; the
# slowest shape under this bound, 25,000 spans in a paragraph, 15 s). Counted before parsing.
MOST_TAGS = 50_000
_START_TAG = re.compile(rb"<[A-Za-z]")


def process(capture: Capture, site: Site) -> Article | Rejected:
    """Never raises: any bytes give an article or a reason why there is none."""
    reason = _unusable(capture) or _too_much_markup(capture)
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


def _too_much_markup(capture: Capture) -> str | None:
    if capture.body.count(b"<") <= MOST_TAGS:  # closing tags and comments included: an upper bound
        return None
    tags = sum(1 for _ in _START_TAG.finditer(capture.body))
    return f"too many elements to be an article: {tags:,} tags, more than {MOST_TAGS:,}" if tags > MOST_TAGS else None


def _process(capture: Capture, site: Site) -> Article | Rejected:
    root = page.parse(decode_html(capture.body, capture.header("Content-Type")))
    if root is None:
        return Rejected(capture.url, "no HTML document in the body")
    layout, before, watch = _choose(root, site, capture)
    if error := _error_page(root, layout, before):
        return Rejected(capture.url, f"{ERROR_PAGE}: {error}")
    if not before and (listing := _not_an_article(capture.url, site)):
        return Rejected(capture.url, listing)
    facts = read_facts(root, layout, site, capture.url)  # before the drops, which take the scripts
    page.drop(root, COMMON_DROP + layout.drop)
    found = keep_known_blocks(page.containers(root, layout.body), layout)
    if found:
        text = body_text(page.document_of(found))
    else:
        whole = whole_page(root, capture.url)
        text, facts = whole.text, with_extracted(facts, lambda: whole)
    if facts.missing():
        facts = with_extracted(facts, lambda: _metadata(capture))
    lines = clean_lines(text, layout.drop_lines, facts.title)
    headline_only = not lines and bool(before) and facts.title is not None and facts.published is not None
    if not lines and not headline_only:
        return Rejected(capture.url, "no article text found")
    new_inside = watch.unknown(found)
    return _article(capture, site, layout, facts, lines, new_inside, fallback=bool(layout.body) and not found,
                    headline_only=headline_only)  # fmt: skip


def _choose(root: HtmlElement, site: Site, capture: Capture) -> tuple[Layout, list[HtmlElement], Watch]:
    """Of the layouts whose body container is on the page, the one that knows the most of what is
    inside it (the fewest kinds of element new to it), the capture date's first among equals; when
    none finds its container, the capture date's layout, with no body."""
    candidates = site.layouts_for(capture.fetched_at)
    best: tuple[int, Layout, list[HtmlElement], Watch] | None = None
    for layout in candidates:
        found = page.containers(root, layout.body)
        if not found:
            continue
        watch = Watch(found, layout)
        strangers = len(watch.unknown(found))
        if best is None or strangers < best[0]:
            best = (strangers, layout, found, watch)
        if strangers == 0:
            break
    return best[1:] if best else (candidates[0], [], Watch([], candidates[0]))


def _error_page(root: HtmlElement, layout: Layout, body: list[HtmlElement]) -> str | None:
    if layout.error_page and (marked := page.first(root, layout.error_page)):
        return marked[:120]
    if body:
        return None  # an article page, whatever its headline says
    headline = page.first(root, ("//h1", "//title")) or ""
    return headline[:120] if _NOT_FOUND.search(headline) else None


def _not_an_article(url: str, site: Site) -> str | None:
    """Why a page with no layout's body container is no article: it is the site's front page or a
    listing (a story, a tag), so its whole text would be headlines. Anywhere else the same miss is
    a layout change, and the whole page is read (``fallback``): an article at an address of a shape
    nobody listed keeps its text."""
    if not site.article_urls or not site.is_listing(canonical(url, site)):  # the generic site: any page
        return None
    return f"{NOT_AN_ARTICLE}: no article body on the page, and it is {site.name}'s front page or a listing"


def _metadata(capture: Capture) -> Extracted:
    # trafilatura reads the page again, whole and untouched: only for a field the chain missed
    root = page.parse(decode_html(capture.body, capture.header("Content-Type")))
    return whole_page(root, capture.url) if root is not None else Extracted(text="")


def _article(
    capture: Capture, site: Site, layout: Layout, facts: Facts, lines: list[str], new: tuple[Unknown, ...], *,
    fallback: bool, headline_only: bool,
) -> Article:  # fmt: skip
    return Article(
        url=capture.url,
        site=site.name,
        title=facts.title or "",
        text="\n".join(lines),
        published=facts.published,
        language=site.language_for(capture.url),
        adapter=site.name,
        adapter_version=layout.version,
        authors=facts.authors,
        tags=facts.tags,
        lead=facts.lead,
        fallback=fallback,
        headline_only=headline_only,
        sources=facts.sources,
        new_inside=tuple((u.signature, u.count, u.kept) for u in new),
    )
