"""process() never raises: whatever the bytes, an Article or a Rejected comes back, and an article's
text and title hold no markup. Hypothesis feeds it random bytes, generated pages and real fixture
pages with bytes flipped, cut, doubled and spliced."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator

from scraper import Article, Capture, Rejected, process
from scraper.sites import site_for

URLS = ["https://www.interfax.ru/world/813468", "http://kremlin.ru/events/president/news/70001",
        "https://www.rbc.ru/politics/01/05/2024/6631f0a09a79470b2e6f3c11", "https://ria.ru/20240501/x-1942000000.html",
        "https://zn.ua/POLITICS/slug.html", "https://news.example.org/a/1"]  # fmt: skip
CONTENT_TYPES = [None, "text/html", "text/html; charset=utf-8", "text/html; charset=windows-1251", "text/plain",
                 "application/xhtml+xml", "application/octet-stream", "text/html; charset=bogus"]  # fmt: skip
TAGS = ["div", "p", "span", "article", "section", "aside", "h1", "h2", "ul", "li", "table", "td", "a", "b",
        "script", "style", "nav", "figure", "figcaption", "blockquote", "br", "time", "meta", "title"]  # fmt: skip
# text with no "<", ">" or "&": whatever markup the result holds must then come from the markup itself
WORDS = st.text(st.characters(blacklist_characters="<>&", blacklist_categories=("Cs",)), max_size=60)
RAW_TEXT = ("script", "style", "title")
TAG_IN_TEXT = re.compile(r"</?[A-Za-z][A-Za-z0-9]*[\s/>]")
RUNS = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def fixture_pages() -> tuple[bytes, ...]:
    pages = []
    for warc in sorted((Path(__file__).parent / "fixtures").glob("*/*.warc.gz")):
        with open(warc, "rb") as fh:
            pages += [r.content_stream().read() for r in ArchiveIterator(fh) if r.rec_type == "response"]
    return tuple(pages)


def run(body: bytes, url: str, content_type: str | None) -> Article | Rejected:
    headers = (("Content-Type", content_type),) if content_type else ()
    capture = Capture(url, datetime(2024, 5, 1, 12, tzinfo=UTC), 200, headers, body)
    result = process(capture, site_for(url))
    assert isinstance(result, Article | Rejected)
    if isinstance(result, Rejected):
        assert result.reason and "\n" not in result.reason
    return result


@st.composite
def pages(draw: st.DrawFn, depth: int = 0) -> str:
    """An HTML fragment of random tags, attributes and text (none of it holding markup characters)."""
    parts = []
    for _ in range(draw(st.integers(0, 4 if depth < 4 else 0))):
        if draw(st.booleans()):
            parts.append(draw(WORDS))
            continue
        tag = draw(st.sampled_from(TAGS))
        attrs = draw(st.sampled_from(["", ' itemprop="articleBody"', ' class="article__text"', ' id="x"']))
        inner = draw(WORDS if tag in RAW_TEXT else pages(depth + 1))  # raw text holds no tags, only text
        # unclosed tags too, the parser must recover; but an unclosed raw-text element makes the rest
        # of the page its text (see test_an_unclosed_title_leaks_the_closing_tags)
        closed = draw(st.booleans()) or tag in RAW_TEXT
        parts.append(f"<{tag}{attrs}>{inner}" + (f"</{tag}>" if closed else ""))
    return "".join(parts)


@RUNS
@given(st.binary(max_size=4096), st.sampled_from(URLS), st.sampled_from(CONTENT_TYPES))
def test_random_bytes(body: bytes, url: str, content_type: str | None) -> None:
    run(body, url, content_type)


@RUNS
@given(pages(), st.sampled_from(URLS), st.sampled_from(["utf-8", "windows-1251", "utf-16"]))
def test_generated_pages_give_text_without_markup(fragment: str, url: str, charset: str) -> None:
    page = f"<html><head><title>t</title></head><body>{fragment}</body></html>"
    result = run(page.encode(charset, "replace"), url, f"text/html; charset={charset}")
    if isinstance(result, Article):
        assert not TAG_IN_TEXT.search(result.text) and not TAG_IN_TEXT.search(result.title)
        assert "<" not in result.text and ">" not in result.text


def test_an_unclosed_title_leaks_no_closing_tags() -> None:
    # found by test_generated_pages_give_text_without_markup: an unclosed <title> in the body holds
    # the rest of the page as raw text (as HTML parsers must), and that text comes out as the article
    result = run(b"<html><head><title>t</title></head><body><title></body></html>", URLS[0], "text/html")
    assert not (isinstance(result, Article) and TAG_IN_TEXT.search(result.text))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    page = bytearray(draw(st.sampled_from(fixture_pages())))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, max(0, len(page) - 1)))
        action = draw(st.sampled_from(["flip", "cut", "insert", "double", "truncate"]))
        if action == "flip" and page:
            page[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del page[at : at + draw(st.integers(1, 2000))]
        elif action == "insert":
            page[at:at] = draw(st.sampled_from([b"<", b">", b"\0", b"<div>", b"</article>", b"<!--", b"\xff\xfe",
                                                b"<![CDATA[", b"&#0;", b"\xd0", b"<script>"]))  # fmt: skip
        elif action == "double":
            page[at:at] = page[at : at + draw(st.integers(1, 5000))]
        else:
            del page[at:]
    return bytes(page)


@RUNS
@given(mutated(), st.sampled_from(URLS[:-1]), st.sampled_from(CONTENT_TYPES))
def test_mutated_fixture_pages(body: bytes, url: str, content_type: str | None) -> None:
    for target in (url, URLS[-1]):  # the site's adapter, and the generic one
        result = run(body, target, content_type)
        if isinstance(result, Article) and b"&lt;" not in body and b"&#60" not in body:
            assert not re.search(r"</?(?:p|div|span|script|style|article|aside)\b[^<>]*>", result.text)
