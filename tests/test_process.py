"""The pure core on edge cases: it never raises, and it says why there is no article."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fixturepages import fixture_pages

from scraper import Article, Capture, Rejected, process
from scraper.sites import GENERIC, by_name, site_for
from scraper.sites.base import Layout, Site

WHEN = datetime(2021, 12, 31, 3, 0, tzinfo=UTC)


def capture(body: bytes, url: str = "https://news.example.org/a/1", content_type: str = "text/html") -> Capture:
    return Capture(url, WHEN, 200, (("Content-Type", content_type),), body)


@pytest.mark.parametrize(
    "body",
    [b"\x00" * 100, b"<" * 5000, b"<html>" + b"<div>" * 20000 + b"text", "\ud800".encode("utf-8", "surrogatepass"),
     b"<?xml version='1.0' encoding='utf-8'?><html><body><p>x</p></body></html>", bytes(range(256)) * 10],
    ids=["nul", "angles", "deep", "surrogate", "xml-decl", "all-bytes"],
)  # fmt: skip
def test_hostile_bytes_give_an_article_or_a_reason(body: bytes) -> None:
    for site in (GENERIC, by_name("rbc")):
        result = process(capture(body), site)
        assert isinstance(result, Article | Rejected)
        if isinstance(result, Article):
            assert "<" not in result.text or "<" in body.decode("latin-1")


def test_generic_site_uses_trafilatura_metadata() -> None:
    page = (
        b"<html><head><title>Site name</title><meta property='og:title' content='Headline of the story'>"
        b"<meta property='article:published_time' content='2021-12-30T23:20:00+00:00'></head><body><article>"
        b"<p>The first paragraph of the story is long enough to count as article text for the extractor.</p>"
        b"<p>The second paragraph adds more detail, so that the page reads as a real article does.</p>"
        b"</article></body></html>"
    )
    article = process(capture(page), GENERIC)
    assert isinstance(article, Article)
    assert article.title == "Headline of the story" and article.adapter == "generic" and not article.fallback
    assert article.text.count("\n") == 1


def test_a_missing_body_container_falls_back_and_says_so() -> None:
    site = Site(name="t", hosts=("t.example",), layouts=(Layout("1", body=("//div[@id='gone']",), title=("//h1",)),))
    page = (
        "<html><body><h1>Заголовок</h1><div class='new-layout'><p>Первый абзац статьи, достаточно длинный "
        "для экстрактора текста.</p><p>Второй абзац статьи с подробностями события.</p></div></body></html>"
    ).encode()
    article = process(capture(page, "https://t.example/1"), site)
    assert isinstance(article, Article) and article.fallback and article.title == "Заголовок"


def test_a_front_page_or_a_listing_without_a_body_is_no_article() -> None:
    """A front page or a listing of the site: its whole text would be headlines. At any other
    address, of a shape listed or not, the same page is a layout miss, read whole and flagged."""
    body = (
        "<html><body><h1>Заголовок</h1><div class='new-layout'><p>Первый абзац статьи, достаточно длинный "
        "для экстрактора текста.</p><p>Второй абзац статьи с подробностями события.</p></div></body></html>"
    )
    layout = Layout("1", body=("//div[@id='gone']",), title=("//h1",))
    site = Site(
        name="t", hosts=("t.example",), article_urls=(r"/news/\d+$",), listing_urls=(r"/story/",), layouts=(layout,)
    )
    for url in ("https://t.example/", "https://t.example/ukr/", "https://t.example/story/5"):
        result = process(capture(body.encode(), url), site)
        assert isinstance(result, Rejected) and result.reason.startswith("not an article: no article body"), url
    for url in ("https://t.example/news/5", "https://t.example/news/5/photos", "https://t.example./amp/news/5?p=1"):
        article = process(capture(body.encode(), url), site)
        assert isinstance(article, Article) and article.fallback, url
    with_body = body.replace("new-layout", "gone").replace("class=", "id=")
    article = process(capture(with_body.encode(), "https://t.example/"), site)  # the container is what counts
    assert isinstance(article, Article) and not article.fallback
    assert isinstance(process(capture(body.encode(), "https://other.example/"), GENERIC), Article)


def test_dated_layouts_are_chosen_by_capture_date() -> None:
    old, new = Layout("2016", valid_until=datetime(2018, 1, 1, tzinfo=UTC)), Layout("2018")
    site = Site(name="t", layouts=(old, new))
    assert site.layout_for(datetime(2017, 6, 1, tzinfo=UTC)) is old
    assert site.layout_for(datetime(2018, 1, 1, tzinfo=UTC)) is new
    with pytest.raises(ValueError, match="last layout must be the current one"):
        Site(name="bad", layouts=(old,))


@pytest.mark.parametrize(
    ("url", "site", "language"),
    [
        ("https://www.interfax.ru/world/813468", "interfax", "ru"),
        ("http://en.kremlin.ru/events/president/news/63953", "kremlin", "en"),
        ("https://sputnik-abkhazia.ru/20211208/x-1034567890.html", "sputnik", "ru"),
        ("https://sputnik-abkhazia.info/20211208/x-1034567891.html", "sputnik", "ab"),
        ("https://ria.ru/20211207/peregovory-1762584734.html", "sputnik", "ru"),
        ("https://zn.ua/ukr/POLITICS/statja.html", "znua", "uk"),
        ("https://www.rbc.ru/politics/11/12/2021/61b3f8f99a7947a1c8ba3c2e", "rbc", "ru"),
        ("https://example.org/news/1", "generic", ""),
    ],
)
def test_registry_picks_the_adapter_by_host(url: str, site: str, language: str) -> None:
    assert site_for(url).name == site
    assert site_for(url).language_for(url) == language


@pytest.mark.parametrize("broken", [b"", b"<title/"], ids=["title-unclosed", "title-slash"])
def test_a_title_that_swallows_the_page_loses_nothing_and_leaks_no_markup(broken: bytes) -> None:
    """An unclosed <title> makes the rest of the page its raw text: parsed again, the page gives the
    text it gives intact (and never a text of markup)."""
    checked = 0
    for url, _, body in (page for pages in fixture_pages().values() for page in pages):
        if b"<title>" not in body or b"</title>" not in body:
            continue
        damaged = body.replace(b"</title>", b"", 1) if not broken else body.replace(b"<title>", broken, 1)
        intact, result = process(capture(body, url), site_for(url)), process(capture(damaged, url), site_for(url))
        assert isinstance(result, Article), url
        assert not re.search(r"</?(?:p|div|span|script|style|meta)\b[^<>]*>", result.text + result.title), url
        if not broken:
            assert isinstance(intact, Article) and result.text == intact.text, url
        checked += 1
    assert checked >= 20


def test_a_swallowed_page_that_holds_another_unclosed_title_leaks_no_markup() -> None:
    # found by the property test: the first <title>'s raw text holds a second, which holds a <div>
    body = b'x">\n<title>y" content="text/html">\n<title><div>\xd0\xad'
    for url in ("https://www.interfax.ru/world/813468", "https://news.example.org/a/1"):
        result = process(capture(body, url), site_for(url))
        assert isinstance(result, Article)
        assert "<" not in result.text and "Э" in result.text
