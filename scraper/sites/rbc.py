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

# What each layout's pages show inside the body container: the markup sentinel reports anything else.
_KNOWN_2016 = (
    "a.article__inline-item__link", "a.banner__container__link", "div", "div.article__inline-item",
    "div.article__main-image", "div.article__main-image__title", "div.article__subscribe",
    "div.article__subscribe__text", "div.article__subscribe__title", "div.article__subtitle",
    "div.article__text", "div.banner", "div.banner__median_mobile", "form.article__subscribe__form",
    "img.article__main-image__image", "input", "span.article__inline-item__category",
    "span.article__inline-item__title", "span.article__main-image__author", "span.banner__container__border",
    "span.banner__container__color", "span.banner__container__info",
)  # fmt: skip

_KNOWN_2018 = (
    "a.article__inline-item__category", "a.article__inline-item__image-block", "a.article__inline-item__link",
    "a.banner__container__link", "a.info-block-left", "a.info-block-title", "a.link", "a.meta-info-row-topic",
    "a.news-bar__item", "a.pro-anons__link", "a.social-sharing-link", "a.tag", "article.article-item",
    "article.info-block", "div", "div.article-entry-meta", "div.article-entry-update", "div.article-image",
    "div.article-image-container", "div.article-item-header", "div.article-item-header-top",
    "div.article__clear", "div.article__inline-item", "div.article__inline-item__bottom",
    "div.article__inline-item__content", "div.article__inline-item__wrap", "div.article__inline-video",
    "div.article__inline-video__source", "div.article__inline-video__title", "div.article__inline-video__wrap",
    "div.article__inline-video__zero-balance", "div.article__main-image", "div.article__main-image__title",
    "div.article__main-image__wrap", "div.article__picture", "div.article__picture__title",
    "div.article__picture__wrap", "div.article__special_container", "div.article__text",
    "div.article__text__overview", "div.banner__median_mobile", "div.caption-wrapper", "div.card-wrapper",
    "div.column-2-2-1", "div.fox-tail", "div.gutter-b", "div.headline-3-short", "div.headline-4-short",
    "div.info-block-right", "div.js-commercial-video-block", "div.js-news-video-stat", "div.meta-info-row",
    "div.meta-info-row-date", "div.meta-info-row-divider", "div.news-bar", "div.news-bar__title",
    "div.pro-anons", "div.pro-anons__button", "div.pro-anons__label", "div.pro-anons__title",
    "div.social-sharing", "div.styles_container__0VbDM", "div.tab-panel", "div.tab-panel-container",
    "div.tab-panel-item", "div.tabs", "div.tabs-content", "div.tabs-content-wrapper",
    "div.video-autoplay-recommend", "div.video-autoplay-recommend__header",
    "div.video-autoplay-recommend__player", "div.video-autoplay-recommend__title",
    "div.video-autoplay-recommend__zero-balance", "h1.article-entry-title", "header.article-entry",
    "img.article__main-image__image", "img.picture-image", "img.smart-image__img", "link", "meta", "p.paragraph",
    "picture.picture", "picture.smart-image", "source", "span.article__inline-item__image-title",
    "span.article__inline-item__title", "span.article__inline-video__duration",
    "span.article__inline-video__link", "span.article__main-image__author", "span.article__picture__author",
    "span.banner__container__border", "span.banner__container__color", "span.banner__container__info",
    "span.ra-icon-ok", "span.ra-icon-tg", "span.ra-icon-vk", "span.tag-text", "video",
)  # fmt: skip


LAYOUT_2016 = Layout(
    version="2016",
    known_inside=_KNOWN_2016,
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
    known_inside=_KNOWN_2018,
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
    listing_urls=(r"/(?:story|tags?|authors?|person|search)/",),
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
    url_dates=(r"/(?P<d>\d{2})/(?P<m>\d{2})/(?P<y>\d{4})/",),  # /politics/03/06/2025/683eb865...
    layouts=(LAYOUT_2016, LAYOUT_CURRENT),
)
