"""Interfax (www.interfax.ru): every rubric, interviews and photo galleries.

Pages were served in windows-1251 for years and in UTF-8 later; decoding is not the layout's
business (decode.py reads the header and the page's own ``<meta charset>``). Both kinds share one
article markup: the story sits in ``div.infinitblock`` (the unit the site's infinite scroll
appends), the rubric and time in ``aside.textML``, the headline in ``div.textMTitle`` (older pages
put the class on the ``h1`` itself) and the text in ``article[itemprop=articleBody]``. Inside that
article the site puts "read also" cards as ``aside``, photos as ``figure`` and banner slots as
``div[id*=_ban]``; a dispatch may end with the desk's sign-off line of initials ("1гк ив бм"),
which only a line rule can catch.
"""

from scraper.sites.base import Layout, Site, has_class

_ARTICLE = "//article[@itemprop='articleBody']"
# the story's rubric-and-time line; the first one, as an infinite-scroll page may hold several stories
_DATELINE = f"(//aside[{has_class('textML')}])[1]"

# What each layout's pages show inside the body container: the markup sentinel reports anything else.
_KNOWN_INFINITBLOCK = (
    "a.textMM__link", "article", "aside.textMM", "div", "div.ads__inread", "div.ads__label",
    "div.photoGallery", "div.photoGallery__count", "div.photoGallery__desc", "div.photoGallery__item",
    "div.photoGallery__source", "div.photoGallery__text", "div.textMM__title", "figcaption",
    "figure.inner-photo", "img", "script", "span.inner-photo__source", "span.inner-photo__title",
)  # fmt: skip


SITE = Site(
    name="interfax",
    # www and the bare domain only: realty., tourism. and the mobile m. site have other markup
    hosts=("www.interfax.ru",),
    host_patterns=(r"interfax\.ru",),
    language="ru",
    timezone="Europe/Moscow",
    feeds=("https://www.interfax.ru/rss.asp",),
    sitemaps=("https://www.interfax.ru/SEO_SiteMapLastChanges.xml",),
    # /world/813468, /business/..., /interview/927415, galleries /photo/5870; tracking queries such as
    # ?utm_source=topmain
    article_urls=(r"^https?://(?:www\.)?interfax\.ru/[a-z]+/\d+/?(?:[?#].*)?$",),
    # videos, tag and story listings, day archives (/news/2021/12/31), AMP copies of articles
    non_article_urls=(
        r"interfax\.ru/(?:video|tags|story|chronicle|news|amp|search|presscenter|pressreleases)/",
        r"interfax\.ru/[a-z]+/news/",
    ),
    listing_urls=(r"interfax\.ru/(?:tags|story|chronicle|search)/", r"interfax\.ru/(?:[a-z]+/)?news(?:/|$)"),
    url_rewrites=(
        # the mobile site and the bare domain carry the same /rubric/id paths as www; the site is
        # https-only, while old pages and feeds still link http://
        (r"^https?://(?:www\.|m\.)?interfax\.ru/", "https://www.interfax.ru/"),
        # /world/813468/ is /world/813468
        (r"^(https://www\.interfax\.ru/[a-z]+/\d+)/+(?=[?#]|$)", r"\1"),
        # Not rewritten: the AMP copy /amp/813468 lacks the rubric, so its article address is
        # unknown (it stays a non-article URL and feeds and sitemaps list the full address anyway).
    ),
    layouts=(
        Layout(
            version="infinitblock",
            known_inside=_KNOWN_INFINITBLOCK,
            body=(
                f"({_ARTICLE})[1]",  # the first story only: infinite scroll may have appended more
                "//*[contains(@itemtype, 'schema.org/ImageGallery')]",  # /photo/ pages: description + captions
            ),
            drop=(
                f"{_ARTICLE}//aside",  # "Читайте также" cards between paragraphs
                f"{_ARTICLE}//figure",  # photos: caption and "Фото: ..." credit
                # in-text banner slots (id pl281_ban905) with their "Реклама" label
                f"{_ARTICLE}//div[contains(@id, '_ban')]",
                # gallery slide counters ("3 из 6") and photo credits
                f"//*[{has_class('photoGallery__count')} or {has_class('photoGallery__source')}]",
            ),
            # the desk's sign-off closing a dispatch: two to five lower-case groups of 1-3 letters,
            # the first maybe with a digit ("1гк ив бм", "кс мч"); a real paragraph has capitals or stops
            drop_lines=(r"^\d?[а-яё]{1,3}(?:\s+\d?[а-яё]{1,3}){1,4}$",),
            title=(
                "(//h1[@itemprop='headline' or @itemprop='name'])[1]",  # articles; galleries use "name"
                f"//*[{has_class('textMTitle')}]/descendant-or-self::h1",
            ),
            # the story's own time first: the page also carries dozens of <time> in the news timeline
            published=(
                f"{_DATELINE}//time/@datetime",
                f"{_DATELINE}//a[{has_class('time')}]",  # older pages print the time as text only
                "//meta[@property='article:published_time']/@content",
            ),
            date_formats=(
                "%d.%m.%Y %H:%M:%S",  # 31.12.2021 5:41:11
                "%H:%M, %d %m %Y",  # 05:41, 31 декабря 2021 (month name made numeric by clean.py)
                "%d.%m.%Y %H:%M",
            ),
            tags=(f"(//div[{has_class('textMTags')}])[1]//a",),
        ),
    ),
)
