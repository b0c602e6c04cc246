"""kremlin.ru and en.kremlin.ru: news, transcripts, print and text versions, and legal acts.

One markup serves every kind of page (seen unchanged from 2017 to 2025): the item sits in
``article.read__in``; ``div.read__top`` holds the heading, the lead (``read__lead``) and the date
(``time.read__published`` plus ``div.read__time``); the text is ``div.entry-content``
(``itemprop=articleBody``). Inside it the site marks what is not text with ``masha-ignore`` (photo
sliders, pictures with captions, video, person tooltips) and ``hidden-copy`` (tags and the
publication status, which the text version hides). Print and text versions add the page's own
address in ``p.print_link_wrap``. Acts (``/acts/bank/N``) carry no date element: the date is in
the heading, "Указ ... от 15.10.2025 г. № 744".
"""

from scraper.sites.base import Layout, Site, has_class

_BODY = "//div[@itemprop='articleBody']"
_NBSP = "\u00a0"  # the site binds short words to the next one with no-break spaces

# What each layout's pages show inside the body container: the markup sentinel reports anything else.
_KNOWN_2017 = (
    "a.media__videolink", "a.person_tag", "a.print_link", "a.text_version_link", "div",
    "div.entry-content", "div.lister-page", "div.media", "div.media__container", "div.media__video",
    "div.read__bottommeta", "div.read__lead", "div.read__status", "div.read__tags", "div.read__tagscol",
    "div.reader_act_body", "div.slide", "div.slider", "div.slider__block", "div.slider__description",
    "div.slider__next", "div.slider__prev", "div.slider__slides", "div.slider_caption",
    "div.slider_overlay", "div.video__description", "div.width_limiter", "figure.media__pic",
    "i.media__videolinkicon", "img", "img.image", "img.photo", "img.vertical", "li.p-category", "meta",
    "p.print_link_wrap", "source", "span.hidden", "span.media__title", "span.read__tooltip",
    "span.tooltip__close", "span.tooltip__image", "span.tooltip__text", "span.tooltip_description_dark",
    "span.tooltip_title", "time", "ul.read__taglist", "video",
)  # fmt: skip


SITE = Site(
    name="kremlin",
    hosts=("kremlin.ru",),
    language="ru",
    languages=((r"^https?://en\.(?:special\.)?kremlin\.ru/", "en"),),
    timezone="Europe/Moscow",
    feeds=(
        "http://kremlin.ru/events/all/feed",
        "http://kremlin.ru/events/president/news/feed",
        "http://kremlin.ru/events/president/transcripts/feed",
        "http://en.kremlin.ru/events/all/feed",
        "http://en.kremlin.ru/events/president/news/feed",
        "http://en.kremlin.ru/events/president/transcripts/feed",
    ),
    article_urls=(
        # news, transcripts, letters, trips of the President and of the councils, with the
        # print (/N/print) and text (/copy/N) versions of each
        r"^https?://(?:www\.|en\.)?kremlin\.ru/events/[a-z-]+/(?:[a-z-]+/)*(?:copy/)?\d+(?:/print)?/?$",
        r"^https?://(?:www\.|en\.)?kremlin\.ru/acts/(?:bank|news)/\d+(?:/print|/page/\d+)?/?$",
    ),
    non_article_urls=(
        r"/(?:photos|videos|audios)(?:/|$)",  # an item's gallery and video tabs
        r"/(?:by-date|catalog|multimedia|search|misc)/",
        r"/email$",
    ),
    # the lists of events (/events/president/news) and documents; an item ends with its number
    listing_urls=(r"/(?:by-date|catalog|search)/", r"kremlin\.ru/(?:events|acts)(?:/[a-z-]+)*/?$"),
    url_rewrites=(
        # www. and the version for the visually impaired (special., en.special.) serve the same
        # documents under the same paths. One scheme for all: http://, as the site's own feeds and
        # language links have it (https has been seen timing out abroad while http answered).
        (r"^https?://(?:www\.)?(en\.)?(?:special\.)?kremlin\.ru/", r"http://\1kremlin.ru/"),
        # the text version /events/.../copy/N is the item /events/.../N
        (r"^(http://(?:en\.)?kremlin\.ru/events/(?:[a-z-]+/)*)copy/(\d+)", r"\1\2"),
        # the print version .../N/print (news, transcripts, acts), and .../N/, are the item .../N
        (r"^(http://(?:en\.)?kremlin\.ru/(?:events|acts)/(?:[a-z-]+/)*\d+)(?:/print)?/*(?=[?#]|$)", r"\1"),
    ),
    layouts=(
        Layout(
            version="2017",  # the earliest year this markup was seen; still current in 2025
            known_inside=_KNOWN_2017,
            # The lead (read__lead, above the text block) opens the text, except on acts, where it
            # only repeats the act's name.
            body=(
                f"//div[{has_class('read__lead')}][not(ancestor::div[{has_class('read__top__pravo')}])] | {_BODY}",
                f"//div[{has_class('entry-content')}]",
            ),
            drop=(
                f"//*[{has_class('masha-ignore')}]",  # the site's own "not text" mark
                f"//*[{has_class('hidden-copy')}]",  # tags and publication status
                f"//div[{has_class('read__bottommeta')}]",
                f"//div[{has_class('slider')}]",  # photo slider with a caption per slide
                f"//div[{has_class('media')}]",  # picture with caption and photo credit
                f"//div[{has_class('media__container')}]",  # video player and its title
                f"//span[{has_class('read__tooltip')}]",  # name and post inside a person link
                f"//p[{has_class('print_link_wrap')}]",  # the address printed under the text
                # pull quotes: a sentence of the speech repeated (or paraphrased) between paragraphs
                f"//div[{has_class('entry-content')}]/blockquote",
                "//p[normalize-space(.)='* * *']",  # the break before a transcript
            ),
            title=(
                f"//h1[{has_class('entry-title')}]",
                f"//div[{has_class('read__top')}]//h1",
            ),
            published=(
                # "2021-12-31" and "02:20" are printed apart; joined they read as ISO 8601
                f"concat(//time[{has_class('read__published')}]/@datetime, ' ', //div[{has_class('read__time')}])",
                f"//div[{has_class('read__status')}]//time",
                # acts: "Указ Президента Российской Федерации от 15.10.2025 г. № 744"
                f"substring-before(substring-after(translate(//div[{has_class('read__top__pravo')}]//h1,"
                f" '{_NBSP}', ' '), ' от '), ' г.')",
            ),
            date_formats=("%d %m %Y года, %H:%M", "%B %d, %Y, %H:%M", "%d.%m.%Y"),
            tags=(f"//div[{has_class('read__tags')}]//a[@rel='tag']",),
            lead=(f"//div[{has_class('read__lead')}]",),
        ),
    ),
)
