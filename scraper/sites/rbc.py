"""RBC (www.rbc.ru and its section subdomains): the 2016 layout and the current one."""

from scraper.sites.base import Layout, Site

SITE = Site(
    name="rbc",
    hosts=("rbc.ru",),
    language="ru",
    timezone="Europe/Moscow",
    feeds=("https://rssexport.rbc.ru/rbcnews/news/30/full.rss",),
    article_urls=(r"/\d{2}/\d{2}/\d{4}/[0-9a-f]{24}",),
    non_article_urls=(r"/(?:video|photo|tags|story)/",),
    layouts=(
        Layout(
            version="2021",
            body=("//div[contains(@class,'article__text')]",),
            title=("//h1",),
        ),
    ),
)
