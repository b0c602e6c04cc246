"""ZN.UA (zn.ua, "Зеркало недели"): Russian edition at the root, Ukrainian edition under /ukr/.

Article pages (sunsite CMS) put the text in ``div.article_body`` inside ``div.bottom_block``; the
heading, date, share buttons and main photo sit above it, tags and comments below. The body
itself carries the site's inserts: a Telegram promo, the theme's news list, an ad video player,
polls, the author's other articles and the "found a mistake" note (calibre's recipe drops the
same classes), plus inline "Читайте также" links and photo/video captions.
"""

from dataclasses import replace
from datetime import UTC, datetime

from scraper.sites.base import Layout, Site, has_class

_BODY = f"//div[{has_class('article_body')}]"

# What each layout's pages show inside the body container: the markup sentinel reports anything else.
_KNOWN_2021 = (
    "a.questionnaire_vote", "a.telegram_link", "div.article_body", "div.auth_articles_block",
    "div.auth_articles_title", "div.image_block", "div.image_description", "div.mist_block", "div.nts-video",
    "div.nts-video-label", "div.nts-video-wrapper", "div.questionnaire", "div.questionnaire_question",
    "div.questionnaire_title", "div.special_theme_news_block", "div.special_theme_title", "div.sunsite_actions",
    "div.telegram", "div.video_block", "div.video_description", "iframe", "img", "input", "label",
    "li.auth_articles_item", "li.special_theme_news_item", "script", "span.date", "span.image_author",
    "span.mist_text", "span.telegram_icon", "span.telegram_text", "span.title", "ul.auth_articles_list",
    "ul.questionnaire_answers", "ul.special_theme_news_list",
)  # fmt: skip
_KNOWN_2025 = (
    "a.read_also_art_link", "article", "div.box_art_read-also", "div.box_link_also", "div.img_inner_also",
    "div.nd_read_also_wrap", "div.sunsite_actions", "div.wrap_all_read_also", "img", "span.art_header_text",
    "span.nd_read_also_tt",
)  # fmt: skip

LAYOUT_2021 = Layout(
    version="2021",
    # the 2025 template was seen in September 2025; the markup, not this date, decides in between
    valid_until=datetime(2025, 1, 1, tzinfo=UTC),
    known_inside=_KNOWN_2021,
    body=(_BODY,),
    drop=(
        # calibre's list: promo, ads, polls, author's other articles, "found a mistake"
        f"{_BODY}//div[{has_class('telegram')}]",
        f"{_BODY}//div[{has_class('special_theme_news_block')}]",
        f"{_BODY}//div[{has_class('nts-video-wrapper')}]",
        f"{_BODY}//div[{has_class('questionnaire')}]",
        f"{_BODY}//div[{has_class('auth_articles_block')}]",
        f"{_BODY}//div[{has_class('mist_block')}]",
        f"{_BODY}//div[{has_class('sunsite_actions')}]",  # banner slots filled by script
        # captions and credits of in-text photos and embedded videos
        f"{_BODY}//*[{has_class('image_description')} or {has_class('image_author')}]",
        f"{_BODY}//*[{has_class('video_description')}]",
        # inline cross-links: a paragraph that starts with "Читайте также"/"Читайте також"
        f"{_BODY}//p[starts-with(normalize-space(), 'Читайте также')"
        " or starts-with(normalize-space(), 'Читайте також')]",
    ),
    title=(f"//div[{has_class('article_header')}]//h1", "//h1"),
    published=(
        "//meta[@property='article:published_time']/@content",
        f"//div[{has_class('article_attached')}]//span[{has_class('date')}]",
    ),
    # "7 декабря, 2021 21:12" (the month word becomes its number before strptime)
    date_formats=("%d %m, %Y %H:%M", "%d %m %Y %H:%M", "%d.%m.%Y %H:%M"),
    authors=(f"//div[{has_class('article_attached')}]//a[{has_class('author_name')}]",),
    tags=(f"//div[{has_class('article_tags')}]//a",),
    lead=(f"//div[{has_class('article_subtitle')}]",),
)

# The 2025 template: no div.article_body. The lead (span.art_header_text, under the photo) and the
# <article> of plain paragraphs sit in div.content-wrap-inside; between the paragraphs, banner
# slots and the "ВАС ЗАЦІКАВИТЬ" card of another story; after them the author line
# ("Підготував/ла …"), the "Помітили помилку?" box and the comments. The author and the date with
# its offset are in the JSON-LD, which the field chain reads when the layout names none.
_WRAP = f"//main[{has_class('content__base')}]//div[{has_class('content-wrap-inside')}]"
LAYOUT_2025 = replace(
    LAYOUT_2021,
    version="2025",
    valid_until=None,
    known_inside=_KNOWN_2025,
    body=(f"{_WRAP}/span[{has_class('art_header_text')}] | {_WRAP}/article",),
    drop=(
        f"{_WRAP}/article//div[{has_class('nd_read_also_wrap')}]",  # a card of another story
        f"{_WRAP}/article//div[{has_class('sunsite_actions')}]",  # banner slots filled by script
        f"{_WRAP}/article//p[starts-with(normalize-space(), 'Читайте також')"
        " or starts-with(normalize-space(), 'Читайте также')]",
    ),
    title=(f"//span[{has_class('art_title_box')}]//h1", "//h1"),
    published=(f"//div[{has_class('content__base-info')}]//div[{has_class('content-date')}]",),
    # "07 вересня, 2025, 13:52", Kyiv time (the month word becomes its number before strptime)
    date_formats=("%d %m, %Y, %H:%M", "%d %m %Y, %H:%M"),
    authors=(),
    tags=(f"//div[{has_class('tags')}]//a",),
    lead=(f"{_WRAP}/span[{has_class('art_header_text')}]",),
)

SITE = Site(
    name="znua",
    # dt.ua ("Дзеркало тижня") served the Ukrainian edition until it moved under zn.ua/ukr/
    hosts=("zn.ua", "dt.ua"),
    language="ru",
    languages=((r"^https?://(?:www\.)?(?:zn\.ua/ukr/|dt\.ua/)", "uk"),),
    timezone="Europe/Kyiv",
    feeds=("https://zn.ua/rus/rss/full.rss", "https://zn.ua/ukr/rss/full.rss"),
    # Only an HTML site map (/sitemap/text/index.html) is linked from the pages; no XML sitemap known.
    sitemaps=(),
    # /SECTION/slug.html, /ukr/SECTION/slug.html; older slugs end in -<id>_.html.
    article_urls=(
        r"^https?://(?:www\.)?zn\.ua/(?:ukr/)?[A-Za-z_-]+/[a-z0-9-]+_?\.html$",
        r"^https?://(?:www\.)?dt\.ua/[A-Za-z_-]+/[a-z0-9-]+_?\.html$",
    ),
    non_article_urls=(
        r"/(?:tags|theme|author|authors|video|photo|gazeta|all-news|search|print)/",
        r"/amp/",  # AMP copies of articles already fetched in full
        r"/novosti-kompaniy/",  # "Новости компаний": paid placements
    ),
    listing_urls=(r"/(?:tags|theme|author|authors|all-news|search)/",),
    url_rewrites=(
        # www. and the old mobile host m. are zn.ua itself, https-only (pages name https://zn.ua/
        # as canonical)
        (r"^https?://(?:www\.|m\.)?zn\.ua/", "https://zn.ua/"),
        # the AMP copy puts /amp/ in front of the article's own path
        (r"^https://zn\.ua/amp/", "https://zn.ua/"),
        # Not rewritten: dt.ua, whose old addresses are not known to map one-to-one onto zn.ua/ukr/.
    ),
    layouts=(
        LAYOUT_2021,
        LAYOUT_2025,
    ),
)
