"""The Sputnik / RIA CMS family: sputnik-* country sites, sputniknews.*, sputnikglobe.com, ria.ru."""

from scraper.sites.base import Layout, Site

SITE = Site(
    name="sputnik",
    hosts=("ria.ru", "sputnikglobe.com"),
    host_patterns=(r"(?:[\w-]+\.)*sputnik-[a-z]+\.[a-z]{2,4}", r"(?:[\w-]+\.)*sputniknews\.[a-z.]+"),
    language="ru",
    languages=((r"^https?://(?:[\w-]+\.)*sputnikglobe\.com/", "en"),),
    timezone="Europe/Moscow",
    article_urls=(r"/\d{8}/[\w-]+\.html$",),
    non_article_urls=(r"/(?:video|photo|infographics|radio|tags?)/",),
    layouts=(
        Layout(
            version="2021",
            body=("//div[contains(@class,'article__body')]",),
            title=("//h1",),
        ),
    ),
)
