"""The Sputnik / RIA CMS family: sputnik-* country sites, sputniknews.*, sputnikglobe.com, ria.ru.

One platform, two markups. Until about 2019 (ria.ru) and 2021 (the Sputnik country sites) pages used the
``b-*`` blocks (``b-article__lead``, ``b-article__text`` with ``b-inject`` cards); since then an
article is ``article__header`` + ``article__announce-text`` + ``article__body`` made of typed
``article__block[data-type=...]`` blocks, where ``data-type='article'`` is an embedded card of
another story and ``data-type='media'`` a photo with its credit.
"""

from dataclasses import replace
from datetime import UTC, datetime

from scraper.sites.base import Layout, Site, has_class

# --- the current markup (ria.ru since 2019, the Sputnik sites since 2021) ---
# The announce (lead) is part of the text but sits in the header, beside div.article__body. The
# body's children are taken, not the div itself: trafilatura, handed a div whose class it knows as a
# body (article__body, itemprop=articleBody), keeps only that div and loses the announce.
_BODY = (f"//div[{has_class('article__announce-text')}] | //div[{has_class('article__body')}]/*",)
_DROP = (
    "//div[@data-type='article']",  # embedded card of another story: image, rubric, headline
    f"//div[{has_class('article__article')}]",  # the same card outside a typed block
    # An inline photo with its credit and caption. A photo story (data-type='photolenta') stays: its
    # captions (article__photo-item-text) are the story; only the credits inside it go.
    "//div[@data-type='media'] | //div[@data-type='photo']",
    "//div[@data-type='banner'] | //div[@data-type='social'] | //div[@data-type='video']",
    f"//div[{has_class('media__copyright')}] | //div[{has_class('media__title')}]",  # credits, image titles
    # Outside the body, dropped for the whole-page fallback when no container is found.
    f"//div[{has_class('article__google-news')}] | //div[{has_class('article__aggr')}]",  # "Подписаться"
    f"//div[{has_class('article__info')}] | //div[{has_class('article__tags')}]",
    f"//div[{has_class('article__userbar')}] | //div[{has_class('lenta')}]",  # share bar, "Лента новостей"
    # An editor's "Читайте также: <link>" paragraph inside a text block.
    f"//div[{has_class('article__text')}][starts-with(normalize-space(.), 'Читайте также')]",
)
_TITLE = (f"//h1[{has_class('article__title')}]", f"//div[{has_class('article__title')}]")
_PUBLISHED = (
    "//meta[@property='article:published_time']/@content",  # 20211208T1205+0300
    f"//div[{has_class('article__info-date')}]/a",  # 12:05 08.12.2021, Moscow time
)
_DATE_FORMATS = ("%Y%m%dT%H%M%z", "%H:%M %d.%m.%Y")
_AUTHORS = (f"//div[{has_class('article__author')}]//*[{has_class('article__author-name')}]",)
_TAGS = (f"//div[{has_class('article__tags')}]//a",)
_LEAD = (f"//div[{has_class('article__announce-text')}]",)

# --- the b-* markup of 2014-2021 ---
_OLD_BODY = (
    # Sputnik: b-article__lead + b-article__text (itemprop=articleBody); ria.ru: b-article__announce
    # + b-article__body. Children of the text div, for the same reason as above.
    f"//div[{has_class('b-article__lead')}] | //div[{has_class('b-article__text')}]/*",
    f"//div[{has_class('b-article__announce')}] | //div[{has_class('b-article__body')}]/*",
)
_OLD_DROP = (
    f"//div[{has_class('b-inject')}]",  # embedded card or photo: b-inject__copy, b-inject__article-title
    f"//div[{has_class('b-media-copyright')}] | //div[{has_class('b-article__header-copy')}]",
    f"//div[{has_class('b-article__refs')}] | //div[{has_class('b-article__likes')}]",
    f"//div[{has_class('b-article__meta')}] | //div[{has_class('b-banner')}]",
    "//p[starts-with(normalize-space(.), 'Читайте также')]",
)
_OLD_TITLE = (
    f"//div[{has_class('b-article__header-title')}]//h1",
    f"//h1[{has_class('b-article__title')}]",
)
_OLD_PUBLISHED = (
    f"//time[{has_class('b-article__refs-date')}]/@datetime",  # 2018-03-15T14:22, Moscow time
    f"//div[{has_class('b-article__info-date')}]/span",
)
_OLD_AUTHORS = (f"//div[{has_class('b-article__refs-author')}]//a",)
_OLD_TAGS = (f"//ul[{has_class('b-article__refs-tags')}]//a", f"//ul[{has_class('b-article__tags-list')}]//a")
_OLD_LEAD = (f"//div[{has_class('b-article__lead')}]", f"//div[{has_class('b-article__announce')}]")

# What each layout's pages show inside the body container: the markup sentinel reports anything else.
_KNOWN_B_2014 = (
    "div.b-article__lead", "div.b-inject", "div.b-inject__article", "div.b-inject__article-desc",
    "div.b-inject__article-photo", "div.b-inject__article-title", "div.b-inject__copy", "img",
)  # fmt: skip

_KNOWN_2021 = (
    "a.article__article-image", "a.article__article-title", "div.article__announce-text", "div.article__article",
    "div.article__article-desc", "div.article__article-info", "div.article__article-supertag",
    "div.article__photo", "div.article__photo-item", "div.article__photo-item-image",
    "div.article__photo-item-text", "div.article__quote", "div.article__quote-bg", "div.article__quote-text",
    "div.article__text", "div.banner", "div.banner__content", "div.elem-info", "div.elem-info__date",
    "div.media", "div.media__copyright", "div.media__copyright-item", "div.media__size", "div.media__title",
    "div.photoview__open", "div[data-type=article]", "div[data-type=banner]", "div[data-type=h2]",
    "div[data-type=list]", "div[data-type=media]", "div[data-type=photolenta]", "div[data-type=quote]",
    "div[data-type=text]", "h2.article__h2", "img", "svg.svg-icon", "ul.article__list", "use",
)  # fmt: skip


LAYOUT_B2014 = Layout(
    version="b-2014",
    known_inside=_KNOWN_B_2014,
    # ria.ru moved to the new markup in 2019, the Sputnik country sites only in 2021: until then this
    # version also knows the new markup so that ria.ru pages of 2019-2021 still read.
    valid_until=datetime(2021, 7, 1, tzinfo=UTC),
    body=_OLD_BODY + _BODY,
    drop=_OLD_DROP + _DROP,
    title=_OLD_TITLE + _TITLE,
    published=_OLD_PUBLISHED + _PUBLISHED,
    date_formats=_DATE_FORMATS,
    authors=_OLD_AUTHORS + _AUTHORS,
    tags=_OLD_TAGS + _TAGS,
    lead=_OLD_LEAD + _LEAD,
    # the typed blocks of the current markup that are text; every other kind (an embedded card, a
    # photo, a banner, a video, a kind added tomorrow) is dropped
    block_attribute="data-type",
    block_kinds=("text", "quote", "list", "h2", "h3", "table", "photolenta"),
)

# The new markup alone: the b-* selectors go, the date formats stay.
LAYOUT_2021 = replace(
    LAYOUT_B2014,
    version="2021",
    known_inside=_KNOWN_2021,
    valid_until=None,
    body=_BODY,
    drop=_DROP,
    title=_TITLE,
    published=_PUBLISHED,
    authors=_AUTHORS,
    tags=_TAGS,
    lead=_LEAD,
)

# Every domain of the family, named: a pattern such as "sputnik-<letters>.com" or "sputniknews.<any>"
# would also accept names anyone can register, and their pages would be archived as Sputnik's.
# A subdomain of a listed host is served too (m., ru., kg., the language editions of sputniknews.com).
_HOSTS = (
    "ria.ru",
    "sputnikglobe.com",  # the international site (English), sputniknews.com until 2022
    "sputniknews.com",  # and its language editions: arabic., mundo., fr., de., ...
    "sputniknews.cn",
    "sputniknews.ru",  # the country editions' first addresses: arm., tj., uz.sputniknews.ru
    "sputnik-abkhazia.ru",
    "sputnik-abkhazia.info",  # the Abkhaz edition
    "sputnik-ossetia.ru",
    "sputnik-georgia.ru",
    "sputnik-georgia.com",  # the Georgian edition
    "armeniasputnik.am",
    "sputnik.az",
    "sputnik.by",
    "sputnik.kg",  # ru.sputnik.kg, kg.sputnik.kg
    "sputnik.kz",  # ru.sputnik.kz, since 2021
    "sputniknews.kz",  # ru.sputniknews.kz, until 2021
    "sputnik.md",  # ru.sputnik.md
    "sputnik-tj.com",
    "sputniknews-uz.com",
    "sputniknews.lt",
    "sputniknews.lv",
    "sputnik-news.ee",
)

SITE = Site(
    name="sputnik",
    hosts=_HOSTS,
    language="ru",
    languages=(
        (r"^https?://(?:[\w-]+\.)*sputnikglobe\.com/", "en"),
        (r"^https?://(?:[\w-]+\.)*sputniknews\.cn/", "zh"),
        (r"^https?://(?:[\w-]+\.)*sputnik-abkhazia\.info/", "ab"),  # "Sputnik Аԥсны", the Abkhaz edition
    ),
    timezone="Europe/Moscow",
    feeds=(
        "https://ria.ru/export/rss2/archive/index.xml",
        "https://sputnik-abkhazia.ru/export/rss2/archive/index.xml",
        "https://sputnikglobe.com/export/rss2/archive/index.xml",
    ),
    sitemaps=(
        "https://ria.ru/sitemap_article_index.xml",
        "https://sputnik-abkhazia.ru/sitemap_article_index.xml",
        "https://sputnikglobe.com/sitemap_article_index.xml",
    ),
    article_urls=(
        r"/\d{8}/[\w-]*\d{6,}\.html$",  # /20211208/slug-1034567890.html, /20170425/1493083552.html
        r"/[\w-]+/\d{8}/\d{6,}/[\w-]+\.html$",  # b-* era: /Abkhazia/20180318/1023431631/slug.html
    ),
    non_article_urls=(
        r"/(?:video|photo|infographics|radio|tags?|trend|multimedia|press_photo|Video_press)/",
        r"/amp/",  # AMP copies of articles
        r"-print\.html$",
    ),
    listing_urls=(r"/(?:tags?|trend)/",),
    url_dates=(r"/(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})/",),  # /20211208/slug-1034567890.html
    url_rewrites=(
        # the mobile hosts (m.sputnik-abkhazia.ru, m.ria.ru) carry the desktop paths; every site of
        # the family is https-only, while old pages and feeds still link http://
        (r"^https?://m\.", "https://"),
        (r"^http://", "https://"),
        # the AMP copy /amp/20200629/1573647987.html is /20200629/1573647987.html
        (r"^(https://[^/]+)/amp/(?=\d{8}/)", r"\1/"),
    ),
    layouts=(LAYOUT_B2014, LAYOUT_2021),
)
