"""ZN.UA (zn.ua, "Зеркало недели"): Russian edition at the root, Ukrainian edition under /ukr/.

Article pages (sunsite CMS) put the text in ``div.article_body`` inside ``div.bottom_block``; the
heading, date, share buttons and main photo sit above it, tags and comments below. The body
itself carries the site's inserts: a Telegram promo, the theme's news list, an ad video player,
polls, the author's other articles and the "found a mistake" note (calibre's recipe drops the
same classes), plus inline "Читайте также" links and photo/video captions.
"""

from scraper.sites.base import Layout, Site, has_class

_BODY = f"//div[{has_class('article_body')}]"

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
    url_rewrites=(
        # www. and the old mobile host m. are zn.ua itself, https-only (pages name https://zn.ua/
        # as canonical)
        (r"^https?://(?:www\.|m\.)?zn\.ua/", "https://zn.ua/"),
        # the AMP copy puts /amp/ in front of the article's own path
        (r"^https://zn\.ua/amp/", "https://zn.ua/"),
        # Not rewritten: dt.ua, whose old addresses are not known to map one-to-one onto zn.ua/ukr/.
    ),
    layouts=(
        Layout(
            version="2021",
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
        ),
    ),
)
