"""ZN.UA (zn.ua): Russian and Ukrainian (/ukr/) editions."""

from scraper.sites.base import Layout, Site

SITE = Site(
    name="znua",
    hosts=("zn.ua",),
    language="ru",
    languages=((r"^https?://(?:www\.)?zn\.ua/ukr/", "uk"),),
    timezone="Europe/Kyiv",
    feeds=("https://zn.ua/rus/rss/full.rss", "https://zn.ua/ukr/rss/full.rss"),
    article_urls=(r"\.html$",),
    non_article_urls=(r"/(?:tags|video|photo)/",),
    layouts=(
        Layout(
            version="2021",
            body=("//div[contains(@class,'article_body')]",),
            title=("//h1",),
        ),
    ),
)
