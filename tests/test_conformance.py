"""The adapters on real pages of the five sites, saved from public sources into ../shared/pages
(not part of this repository: skipped when absent). Article pages must give a body with none of
the page's menu, feed, sidebar or footer lines; any page must give an article or a clean reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest
from textmatch import norm

from scraper import Article, Capture, Rejected, process
from scraper.extract.process import NOT_AN_ARTICLE
from scraper.sites import site_for

PAGES = Path(__file__).resolve().parents[2] / "shared" / "pages"

# page -> (URL, capture date, is it an article page)
KNOWN = {
    "kremlin/en-kremlin-news-55882-2017-valdai.html": ("http://en.kremlin.ru/events/president/news/55882", 2017, True),
    "kremlin/en-kremlin-news-63953-2020.html": ("http://en.kremlin.ru/events/president/news/63953", 2020, True),
    "kremlin/en-kremlin-news-63953-2020-print.html": (
        "http://en.kremlin.ru/events/president/news/63953/print", 2020, True),
    "kremlin/kremlin-ru-acts-bank-52489-2025-ukaz744.html": ("http://kremlin.ru/acts/bank/52489", 2025, True),
    "rbc/rbc-ru-politics-2025-06-03-683eb865-south-korea.html": (
        "https://www.rbc.ru/politics/03/06/2025/683eb8659a7947eb72d0d6d9", 2025, True),
    "rbc/rbc-ru-wine-news-686f7681-2025.html": ("https://www.rbc.ru/wine/news/686f76819a794781fd986ead", 2025, True),
    "rbc/rbc-ru-story-5e7ceff0-antikrizis-2020-05-05.html": (
        "https://www.rbc.ru/story/5e7ceff09a7947293fe73b75", 2020, False),
    "rbc/rbc-ru-homepage-2025-05-kazan.html": ("https://www.rbc.ru/", 2025, False),
    "interfax/interfax-homepage-2015-08-19.html": ("http://www.interfax.ru/", 2015, False),
    "interfax/interfax-homepage-2018-03-17.html": ("http://www.interfax.ru/", 2018, False),
    "sputnik/sputnik-abkhazia-ru-homepage-2018-03-18.html": ("https://sputnik-abkhazia.ru/", 2018, False),
    "znua/zn-ua-homepage-2018-03-19.html": ("https://zn.ua/", 2018, False),
    "znua/zn-ua-ukr-UKRAINE-2025-09-07-ataka-na-kyiv-652772.html": (
        "https://zn.ua/ukr/UKRAINE/rosijska-ataka-na-kijiv-zahiblikh-vzhe-troje-postrazhdalij-vahitnij-zhintsi-zrobili"
        "-terminovu-operatsiju.html", 2025, True),
}  # fmt: skip

# class names (whole words, or their prefix before "__"/"-") of page furniture on these sites
FURNITURE = ("footer", "nav", "sidebar", "topline", "news-feed", "main__feed", "menu", "share", "site-header")

pytestmark = pytest.mark.skipif(not PAGES.is_dir(), reason="../shared/pages is not beside the checkout")


def capture(name: str) -> Capture:
    url, year, _ = KNOWN[name]
    body = (PAGES / name).read_bytes()
    return Capture(url, datetime(year, 7, 1, tzinfo=UTC), 200, (("Content-Type", "text/html"),), body)


def furniture_lines(body: bytes) -> set[str]:
    doc = lxml.html.fromstring(body)
    for junk in doc.xpath("//script|//style|//noscript"):
        junk.drop_tree()
    lines: set[str] = set()
    for element in doc.iter():
        words = (element.get("class") or "").split()
        if any(w == f or w.startswith((f + "__", f + "-", f + "_")) for w in words for f in FURNITURE):
            lines.update(norm(t) for t in element.itertext() if len(norm(t)) > 3)
    return lines


def test_every_saved_page_is_known() -> None:
    saved = {str(p.relative_to(PAGES)) for p in PAGES.rglob("*.html")}
    assert saved <= set(KNOWN), f"add these pages to KNOWN: {sorted(saved - set(KNOWN))}"


@pytest.mark.parametrize("name", sorted(n for n, (_, _, article) in KNOWN.items() if article))
def test_article_pages_give_a_clean_body(name: str) -> None:
    if not (PAGES / name).exists():
        pytest.skip(f"{name} not saved")
    page = capture(name)
    article = process(page, site_for(page.url))
    assert isinstance(article, Article), article
    assert len(article.paragraphs) >= 2 and article.title
    leaks = {line for line in article.paragraphs if norm(line) in furniture_lines(page.body)}
    leaks -= {article.title}
    assert leaks == set()


@pytest.mark.parametrize("name", sorted(n for n, (_, _, article) in KNOWN.items() if not article))
def test_other_pages_do_not_pass_for_clean_articles(name: str) -> None:
    if not (PAGES / name).exists():
        pytest.skip(f"{name} not saved")
    page = capture(name)
    result = process(page, site_for(page.url))
    # a homepage or story listing has no article container, and its address is no article's: its
    # whole text would be headlines
    assert isinstance(result, Rejected) and result.reason.startswith(NOT_AN_ARTICLE), result


ZN_2025 = "znua/zn-ua-ukr-UKRAINE-2025-09-07-ataka-na-kyiv-652772.html"


@pytest.mark.parametrize(
    "url",
    [
        KNOWN[ZN_2025][0],
        KNOWN[ZN_2025][0].replace("zn.ua/ukr/", "zn.ua/ukr/amp/"),  # the page's own rel=amphtml
        KNOWN[ZN_2025][0].replace("zn.ua/", "zn.ua./"),
        KNOWN[ZN_2025][0] + "?page=1",
        KNOWN[ZN_2025][0].replace("-", "%2D"),
    ],
    ids=["canonical", "amp", "trailing-dot", "query", "percent"],
)
def test_an_article_whose_layout_changed_keeps_its_text_at_any_address(url: str) -> None:
    """A layout miss reads the whole page wherever the article is found: only a front page or a
    listing is no article."""
    if not (PAGES / ZN_2025).exists():
        pytest.skip(f"{ZN_2025} not saved")
    page = capture(ZN_2025)
    missed = page.body.replace(b"content-wrap-inside", b"content-wrap-renamed")
    result = process(Capture(url, page.fetched_at, 200, page.headers, missed), site_for(url))
    assert isinstance(result, Article) and result.fallback and len(result.paragraphs) >= 2, result
