"""RBC (www.rbc.ru and its section subdomains): the 2016 layout and the current one.

Both layouts keep the text in ``div.article__text`` and fill it with things that are not the
story: the main photo with its caption and credit, cards of other articles between paragraphs,
video players, ad slots and (since 2018) news bars. The live "Лента новостей" with currency rates
sits in the left column, outside the text, so narrowing to the container is what removes it.
РБК Вино (www.rbc.ru/wine/) is a Next.js template: its text is in ``article.article-item``.
"""

from dataclasses import replace
from datetime import UTC, datetime

from scraper.sites.base import Layout, Site, has_class

_ID = r"[0-9a-f]{24}"  # every RBC document is addressed by a 24-hex id

# In the text of both layouts.
_DROP_COMMON = (
    f"//div[{has_class('article__main-image')}]",  # lead photo: alt, caption, "(Фото: ...)"
    f"//div[{has_class('article__inline-item')}]",  # card of another article: headline, rubric, photo
    f"//div[{has_class('article__ticker')}]",  # story ticker link above the text
    "//div[contains(@class, 'banner')]",  # ad slots: banner__container, banner__median_mobile...
    "//*[@data-role='fox-tail']",  # ad slots of the current ad engine
)

_TITLE_2016 = f"//div[{has_class('article__header__title')}]//*[{has_class('js-slide-title')}]"
_AUTHORS = (
    f"//*[{has_class('article__authors__author__name')}]",
    "//*[@itemprop='author']/meta[@itemprop='name']/@content",
)

LAYOUT_2016 = Layout(
    version="2016",
    valid_until=datetime(2018, 1, 1, tzinfo=UTC),
    body=(f"//div[{has_class('article__text')}]", "//div[@itemprop='articleBody']"),
    drop=(
        *_DROP_COMMON,
        f"//div[{has_class('article__subscribe')}]",  # "Подпишитесь на рассылку" form block
    ),
    title=(_TITLE_2016, "//h1"),
    # the header date carries the ISO time in @content; the printed one has no year
    published=(f"//span[{has_class('article__header__date')}]/@content",),
    authors=(f"//*[{has_class('article__authors__author')}]",),
    tags=(f"//a[{has_class('article__tags__item')}]",),
    lead=(f"//div[{has_class('article__subtitle')}]", f"//div[{has_class('article__overview__text')}]"),
)

LAYOUT_CURRENT = replace(
    LAYOUT_2016,
    version="2018",
    valid_until=None,
    # article__text may now come in several parts (paywall splits): they are joined in order
    body=(*LAYOUT_2016.body, f"//article[{has_class('article-item')}]"),  # + РБК Вино
    drop=(
        *_DROP_COMMON,
        f"//div[{has_class('article__picture')}]",  # photo or infographic in the text, with caption
        f"//div[{has_class('article__inline-video')}]",  # embedded player: title, duration, notices
        f"//div[{has_class('video-autoplay-recommend')}]",  # "Видео недоступно при нулевом балансе"
        f"//div[{has_class('news-bar')}]",  # 2018-2020 bars above and below the text
        "//div[contains(@class, 'pro-anons')]",  # РБК Pro teaser inside the text
        # an inset is usually text (a quote, a note on an expert); a list of links is not
        f"//div[{has_class('article__special_container')}][starts-with(normalize-space(.), 'Читайте также')]",
        "//p[a[contains(@href, '//t.me/')]][contains(., 'РБК в Telegram')]",  # channel promo line
        # РБК Вино: header (h1, rubric, date), photo caption, channel promo, share/tags/related
        f"//div[{has_class('article-item-header')}]",
        f"//div[{has_class('article-image')}]",
        f"//div[{has_class('card-wrapper')}][starts-with(normalize-space(.), 'Подпишитесь на телеграм-канал')]",
        f"//article[{has_class('article-item')}]//div[{has_class('gutter-b')} or {has_class('tabs')}]",
    ),
    title=(
        f"//h1[{has_class('article__header__title-in')}]",
        f"//h1[{has_class('article-entry-title')}]",
        _TITLE_2016,
    ),
    published=(
        f"//time[{has_class('article__header__date')}]/@datetime",
        f"//*[{has_class('article__header__date')}]/@content",
    ),
    authors=_AUTHORS,
    tags=(*LAYOUT_2016.tags, f"//div[{has_class('tabs-content')}]//a[{has_class('tag')}]"),
    lead=(f"//div[{has_class('article__text__overview')}]", f"//div[{has_class('article__subtitle')}]"),
)

SITE = Site(
    name="rbc",
    hosts=("rbc.ru",),  # www, regional editions and sections; sportrbc.ru is another site
    language="ru",
    timezone="Europe/Moscow",
    feeds=(
        "https://rssexport.rbc.ru/rbcnews/news/30/full.rss",
        "http://static.feed.rbc.ru/rbc/logical/footer/news.rss",
    ),
    sitemaps=("https://www.rbc.ru/sitemap_index.xml",),
    article_urls=(
        # /politics/11/12/2021/<id>, /rbcfreenews/<id>, /wine/news/<id>, realty.rbc.ru/news/<id>...
        rf"^https?://(?:[\w-]+\.)*rbc\.ru/(?:[\w-]+/)*{_ID}/?(?:[?#]|$)",
    ),
    non_article_urls=(
        r"^https?://tv\.rbc\.ru/",  # the TV channel: videos and the live stream
        r"^https?://companies\.rbc\.ru/",  # company directory
        r"/(?:story|tags?|authors?|person|search|photoreport|video)/",  # lists, galleries, video
    ),
    url_rewrites=(
        # AMP copy: amp.rbc.ru/rbcnews/<path> is www.rbc.ru/<path> (the article's rel=amphtml link)
        (r"^https?://amp\.rbc\.ru/rbcnews/", "https://www.rbc.ru/"),
        # the mobile host and the bare domain carry www's paths
        (r"^https?://(?:m\.)?rbc\.ru/", "https://www.rbc.ru/"),
        # every rbc.ru host is https-only; old pages and feeds still link http://
        (r"^http://((?:[\w-]+\.)*rbc\.ru/)", r"https://\1"),
        # .../<id>/ is .../<id>
        (rf"^(https://(?:[\w-]+\.)*rbc\.ru/(?:[\w-]+/)*{_ID})/+(?=[?#]|$)", r"\1"),
    ),
    layouts=(LAYOUT_2016, LAYOUT_CURRENT),
)
