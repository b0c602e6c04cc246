"""Interfax (www.interfax.ru): every rubric; pages in windows-1251 and UTF-8."""

from scraper.sites.base import Layout, Site

SITE = Site(
    name="interfax",
    hosts=("interfax.ru",),
    language="ru",
    timezone="Europe/Moscow",
    feeds=("https://www.interfax.ru/rss.asp",),
    article_urls=(r"^https?://(?:www\.)?interfax\.ru/[a-z]+/\d+/?$",),
    non_article_urls=(r"/(?:photo|video|tags|story|chronicle)/",),
    layouts=(
        Layout(
            version="2021",
            body=("//article[@itemprop='articleBody']",),
            title=("//h1",),
        ),
    ),
)
