"""kremlin.ru and en.kremlin.ru: news, transcripts, print versions and legal acts."""

from scraper.sites.base import Layout, Site

SITE = Site(
    name="kremlin",
    hosts=("kremlin.ru",),
    language="ru",
    languages=((r"^https?://en\.kremlin\.ru/", "en"),),
    timezone="Europe/Moscow",
    feeds=("http://kremlin.ru/events/all/feed", "http://en.kremlin.ru/events/all/feed"),
    article_urls=(r"/events/president/(?:news|transcripts)/(?:copy/)?\d+", r"/acts/bank/\d+"),
    non_article_urls=(r"/(?:photos|videos)(?:/|$)",),
    layouts=(
        Layout(
            version="2021",
            body=("//div[@itemprop='articleBody']",),
            title=("//h1",),
        ),
    ),
)
