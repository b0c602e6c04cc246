"""urls.canonical: each site's other addresses of one article (tracking parameters, mobile and AMP
hosts, print and text versions) are one string, and that string is an article URL of the site."""

from __future__ import annotations

import re

import pytest

from scraper.sites import SITES, interfax, kremlin, rbc, sputnik, znua
from scraper.sites.base import Site
from scraper.urls import canonical

CASES: list[tuple[Site, str, list[str]]] = [
    (
        interfax.SITE,
        "https://www.interfax.ru/world/813468",
        [
            "https://www.interfax.ru/world/813468",
            "http://www.interfax.ru/world/813468?utm_source=topmain",  # homepage links, 2018
            "https://m.interfax.ru/world/813468",
            "https://interfax.ru/world/813468/",
            "https://WWW.INTERFAX.RU:443/world/813468#comments",
        ],
    ),
    (
        kremlin.SITE,
        "http://kremlin.ru/events/president/news/63953",
        [
            "http://kremlin.ru/events/president/news/63953",
            "https://kremlin.ru/events/president/news/63953",
            "http://www.kremlin.ru/events/president/news/63953/",
            "http://kremlin.ru/events/president/news/63953/print",  # print version
            "http://kremlin.ru/events/president/news/copy/63953",  # text version
            "http://special.kremlin.ru/events/president/news/63953",  # for the visually impaired
        ],
    ),
    (
        kremlin.SITE,
        "http://en.kremlin.ru/events/president/transcripts/55882",
        [
            "https://en.kremlin.ru/events/president/transcripts/55882",
            "http://en.kremlin.ru/events/president/transcripts/copy/55882",
            "http://en.special.kremlin.ru/events/president/transcripts/55882/print",
        ],
    ),
    (
        kremlin.SITE,
        "http://kremlin.ru/acts/bank/52489",
        ["http://www.kremlin.ru/acts/bank/52489", "http://kremlin.ru/acts/bank/52489/print"],
    ),
    (
        rbc.SITE,
        "https://www.rbc.ru/politics/03/06/2025/683eb8659a7947eb72d0d6d9",
        [
            "https://www.rbc.ru/politics/03/06/2025/683eb8659a7947eb72d0d6d9?from=newsfeed",
            "https://www.rbc.ru/politics/03/06/2025/683eb8659a7947eb72d0d6d9?from=from_main_1&utm_source=rbc.ru",
            "https://amp.rbc.ru/rbcnews/politics/03/06/2025/683eb8659a7947eb72d0d6d9",  # the page's amphtml
            "https://m.rbc.ru/politics/03/06/2025/683eb8659a7947eb72d0d6d9",
            "http://rbc.ru/politics/03/06/2025/683eb8659a7947eb72d0d6d9/",
        ],
    ),
    (
        rbc.SITE,
        "https://perm.rbc.ru/perm/freenews/67a1e04d9a79479f7dce2610",
        [
            "http://perm.rbc.ru/perm/freenews/67a1e04d9a79479f7dce2610",
            "https://perm.rbc.ru/perm/freenews/67a1e04d9a79479f7dce2610/?utm_medium=inhouse_media",
        ],
    ),
    (
        znua.SITE,
        "https://zn.ua/POLITICS/provokatory-pytalis-ustroit-draku-278434_.html",
        [
            "https://zn.ua/POLITICS/provokatory-pytalis-ustroit-draku-278434_.html?fbclid=IwAR0x",
            "http://zn.ua/POLITICS/provokatory-pytalis-ustroit-draku-278434_.html",
            "https://www.zn.ua/POLITICS/provokatory-pytalis-ustroit-draku-278434_.html",
            "https://m.zn.ua/POLITICS/provokatory-pytalis-ustroit-draku-278434_.html",
            "https://zn.ua/amp/POLITICS/provokatory-pytalis-ustroit-draku-278434_.html",
        ],
    ),
    (
        sputnik.SITE,
        "https://ria.ru/20200629/1573647987.html",
        [
            "https://ria.ru/20200629/1573647987.html?in=t",
            "https://ria.ru/amp/20200629/1573647987.html",  # AMP copy
            "http://ria.ru/20200629/1573647987.html",
            "https://m.ria.ru/20200629/1573647987.html",
        ],
    ),
    (
        sputnik.SITE,
        "https://sputnik-abkhazia.ru/Abkhazia/20180318/1023431631/uchastki-zakrylis.html",
        [
            "https://m.sputnik-abkhazia.ru/Abkhazia/20180318/1023431631/uchastki-zakrylis.html",
            "http://sputnik-abkhazia.ru/Abkhazia/20180318/1023431631/uchastki-zakrylis.html#comments",
        ],
    ),
]


@pytest.mark.parametrize(
    ("site", "expected", "variants"), CASES, ids=[f"{site.name}-{i}" for i, (site, _, _) in enumerate(CASES)]
)
def test_variants_are_one_article(site: Site, expected: str, variants: list[str]) -> None:
    assert {canonical(url, site) for url in variants} == {expected}
    assert site.is_article_url(expected)


@pytest.mark.parametrize(("site", "expected", "variants"), CASES, ids=[site.name for site, _, _ in CASES])
def test_canonical_is_stable(site: Site, expected: str, variants: list[str]) -> None:
    assert canonical(expected, site) == expected


@pytest.mark.parametrize(
    ("site", "url"),
    [
        # different articles stay different
        (kremlin.SITE, "http://kremlin.ru/acts/bank/24157/page/2"),  # page 2 of an act is its own page
        (kremlin.SITE, "http://kremlin.ru/events/president/news/67490/photos"),
        (interfax.SITE, "https://www.interfax.ru/amp/904837"),  # no rubric: its article address is unknown
        (interfax.SITE, "https://tourism.interfax.ru/ru/news/articles/62017/"),
        (rbc.SITE, "https://pro.rbc.ru/demo/683d92a59a79472d48cf3d82"),
        (znua.SITE, "https://dt.ua/POLITICS/slug-278434_.html"),
        (sputnik.SITE, "https://sputnikglobe.com/20230101/slug-1234567890.html"),
    ],
)
def test_what_is_left_alone(site: Site, url: str) -> None:
    assert canonical(url, site) == url


def test_rewrites_are_valid_patterns_anchored_at_the_start() -> None:
    for site in SITES:
        for pattern, _ in site.url_rewrites:
            re.compile(pattern)
            assert pattern.startswith("^"), (site.name, pattern)


def test_a_site_without_rewrites_still_normalises() -> None:
    site = Site(name="plain", hosts=("example.org",))
    assert canonical("HTTPS://Example.org:443/a?utm_source=x#frag", site) == "https://example.org/a"
