"""Feeds and sitemaps -> links -> candidates. The documents are written by hand in each site's feed
shape (RBC and ZN.UA: RSS 2.0 with the full text in yandex:full-text; Interfax: RSS 2.0 in
windows-1251; kremlin.ru: Atom; RIA/Sputnik: RSS 2.0 and news sitemaps), plus hostile XML."""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib
from datetime import UTC, datetime

import pytest
from servers import Route, serve

from scraper.schedule import discover
from scraper.schedule.discover import Link, SitemapLinks, candidates, feed_links, sitemap_links
from scraper.sites import interfax, kremlin, rbc, sputnik, znua

RBC_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss xmlns:yandex="http://news.yandex.ru" xmlns:rbc_news="https://www.rbc.ru" version="2.0">
<channel>
<title>РБК - Все материалы</title>
<link>https://www.rbc.ru/</link>
<description>Главные новости</description>
<item>
  <title>Путин и Байден обсудили гарантии безопасности</title>
  <link>https://www.rbc.ru/politics/08/12/2021/61afd6ef9a79475ba2b59caa</link>
  <guid>61afd6ef9a79475ba2b59caa</guid>
  <pubDate>Wed, 08 Dec 2021 00:12:41 +0300</pubDate>
  <category>Политика</category>
  <enclosure url="https://s0.rbk.ru/v6_top_pics/media/img/1/23/756389.jpeg" type="image/jpeg"/>
  <yandex:full-text><![CDATA[<p>Президенты России и США провели видеоконференцию.</p>
    <div class="article__inline-item">
      <a href="https://www.rbc.ru/politics/07/12/2021/61af9d3b9a7947c2f4d6b9a1">Читайте также</a></div>
    <p>Разговор длился два часа.</p>]]></yandex:full-text>
  <rbc_news:news_id>61afd6ef9a79475ba2b59caa</rbc_news:news_id>
  <rbc_news:type>article</rbc_news:type>
</item>
<item>
  <title>Рубль укрепился к доллару</title>
  <link>https://www.rbc.ru/finances/08/12/2021/61b0461a9a7947b3d3d4f9c1?from=newsfeed</link>
  <guid>61b0461a9a7947b3d3d4f9c1</guid>
  <pubDate>Wed, 08 Dec 2021 09:30:00 +0300</pubDate>
  <yandex:full-text>Курс доллара опустился ниже 73 руб.</yandex:full-text>
</item>
<item>
  <title>Сюжет: отношения России и США</title>
  <link>https://www.rbc.ru/story/5e7ceff09a7947293fe73b75</link>
  <guid>5e7ceff09a7947293fe73b75</guid>
  <pubDate>Wed, 08 Dec 2021 10:00:00 +0300</pubDate>
</item>
<item>
  <title>Рубль укрепился к доллару (повтор)</title>
  <link>https://www.rbc.ru/finances/08/12/2021/61b0461a9a7947b3d3d4f9c1?utm_source=yxnews&amp;utm_medium=desktop</link>
  <guid>61b0461a9a7947b3d3d4f9c1-2</guid>
  <pubDate>Wed, 08 Dec 2021 11:00:00 +0300</pubDate>
</item>
</channel>
</rss>
""".encode()

ZNUA_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:yandex="http://news.yandex.ru" xmlns:media="http://search.yahoo.com/mrss/">
<channel>
<title>ZN.UA</title>
<link>https://zn.ua/</link>
<language>ru</language>
<item>
  <title>Зеленский провел разговор с Байденом</title>
  <link>https://zn.ua/POLITICS/zelenskij-provel-razgovor-s-bajdenom.html</link>
  <pdalink>https://zn.ua/amp/POLITICS/zelenskij-provel-razgovor-s-bajdenom.html</pdalink>
  <pubDate>Tue, 07 Dec 2021 21:12:00 +0200</pubDate>
  <author>Алла Котляр</author>
  <category>Политика</category>
  <enclosure url="https://zn.ua/img/forall/u/495/33/zelensky.jpg" type="image/jpeg"/>
  <yandex:full-text><![CDATA[<!DOCTYPE html><p>Президент рассказал о разговоре.</p>
    <p>Читайте также: <a href="https://zn.ua/POLITICS/other.html">другое</a></p>]]></yandex:full-text>
</item>
<item>
  <title>Зеленський провів розмову з Байденом</title>
  <link>/ukr/POLITICS/zelenskij-proviv-rozmovu-z-bajdenom.html</link>
  <pubDate>Tue, 07 Dec 2021 21:15:00 +0200</pubDate>
</item>
<item>
  <title>Новости компаний: скидки</title>
  <link>https://zn.ua/novosti-kompaniy/skidki.html</link>
  <pubDate>Tue, 07 Dec 2021 20:00:00 +0200</pubDate>
</item>
</channel>
</rss>
""".encode()

INTERFAX_FEED = """<?xml version="1.0" encoding="windows-1251"?>
<rss version="2.0">
<channel>
<title>Интерфакс</title>
<link>https://www.interfax.ru/</link>
<description>Новости Интерфакс</description>
<item>
  <title>Путин и Байден обсудили гарантии безопасности</title>
  <link>https://www.interfax.ru/world/813468</link>
  <guid>https://www.interfax.ru/world/813468</guid>
  <pubDate>Wed, 08 Dec 2021 00:12:00 +0300</pubDate>
  <category>В мире</category>
</item>
<item>
  <title>Фотогалерея: саммит</title>
  <link>https://www.interfax.ru/photo/7890</link>
  <pubDate>Wed, 08 Dec 2021 00:30:00 +0300</pubDate>
</item>
<item>
  <title>ЦБ сохранил ставку</title>
  <guid>https://www.interfax.ru/business/813500</guid>
  <pubDate>Wed, 08 Dec 2021 13:30:00 +0300</pubDate>
</item>
</channel>
</rss>
""".encode("cp1251")

KREMLIN_FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ru">
  <title>Президент России</title>
  <id>http://kremlin.ru/events/president/news/feed</id>
  <link rel="self" href="http://kremlin.ru/events/president/news/feed"/>
  <updated>2021-12-31T02:20:00+03:00</updated>
  <entry>
    <title>New Year Address to the Nation</title>
    <link rel="alternate" type="text/html" href="http://kremlin.ru/events/president/news/67500"/>
    <id>http://kremlin.ru/events/president/news/67500</id>
    <published>2021-12-31T23:55:00+03:00</published>
    <updated>2022-01-01T00:05:00+03:00</updated>
    <summary type="html">&lt;p&gt;The President's address.&lt;/p&gt;</summary>
  </entry>
  <entry>
    <title>Meeting with Government members</title>
    <link rel="alternate" type="text/html" href="/events/president/news/67490"/>
    <id>http://kremlin.ru/events/president/news/67490</id>
    <updated>2021-12-29T15:00:00Z</updated>
  </entry>
  <entry>
    <title>Photos</title>
    <link rel="alternate" type="text/html" href="http://kremlin.ru/events/president/news/67490/photos"/>
    <id>http://kremlin.ru/events/president/news/67490/photos</id>
    <updated>2021-12-29T15:00:00Z</updated>
  </entry>
</feed>
""".encode()

RIA_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss xmlns:rian="http://rian.ru/rss" version="2.0">
<channel>
<title>РИА Новости</title>
<link>https://ria.ru/</link>
<item>
  <title>Story one</title>
  <link>https://ria.ru/20211208/peregovory-1762893471.html</link>
  <guid>https://ria.ru/20211208/peregovory-1762893471.html</guid>
  <pubDate>Wed, 08 Dec 2021 12:05:00 +0300</pubDate>
  <rian:type>article</rian:type>
  <enclosure url="https://cdnn21.img.ria.ru/images/07e5/0c/08/1762893422_0:0:3072:1728_600x0.jpg" type="image/jpeg"/>
</item>
<item>
  <title>Video</title>
  <link>https://ria.ru/video/20211208/video-1762893500.html</link>
  <pubDate>Wed, 08 Dec 2021 12:10:00 +0300</pubDate>
</item>
<item>
  <title>Story one, AMP</title>
  <link>https://ria.ru/amp/20211208/peregovory-1762893471.html</link>
  <pubDate>Wed, 08 Dec 2021 12:20:00 +0300</pubDate>
</item>
</channel>
</rss>
""".encode()

RDF_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://sputnik-abkhazia.ru/export/rss1/index.xml">
    <title>Sputnik</title>
    <link>https://sputnik-abkhazia.ru/</link>
    <items><rdf:Seq>
      <rdf:li rdf:resource="https://sputnik-abkhazia.ru/20211208/vybory-1034567890.html"/>
      <rdf:li rdf:resource="https://sputnik-abkhazia.ru/20211207/more-1034560000.html"/>
    </rdf:Seq></items>
  </channel>
  <item rdf:about="https://sputnik-abkhazia.ru/20211208/vybory-1034567890.html">
    <title>Vybory</title>
    <link>https://sputnik-abkhazia.ru/20211208/vybory-1034567890.html</link>
    <dc:date>2021-12-08T12:05:00+03:00</dc:date>
  </item>
  <item rdf:about="https://sputnik-abkhazia.ru/20211207/more-1034560000.html">
    <title>More</title>
    <link>/20211207/more-1034560000.html</link>
    <dc:date>2021-12-07T18:00:00Z</dc:date>
  </item>
</rdf:RDF>
"""

SM = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'

RIA_INDEX = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex {SM}>
  <sitemap><loc>https://ria.ru/sitemap_article.xml?date_start=20211208&amp;date_end=20211208</loc>
    <lastmod>2021-12-08T12:30:00+03:00</lastmod></sitemap>
  <sitemap><loc>https://ria.ru/sitemap_article.xml?date_start=20211207&amp;date_end=20211207</loc></sitemap>
  <sitemap><loc>https://ria.ru/sitemap_article_index.xml</loc></sitemap>
  <sitemap><loc>file:///etc/passwd</loc></sitemap>
</sitemapindex>
""".encode()

RIA_NEWS_SITEMAP = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset {SM} {NEWS}>
  <url>
    <loc>https://ria.ru/20211208/peregovory-1762893471.html</loc>
    <lastmod>2021-12-08T12:30:00+03:00</lastmod>
    <news:news>
      <news:publication><news:name>РИА Новости</news:name><news:language>ru</news:language></news:publication>
      <news:publication_date>2021-12-08T12:05:00+03:00</news:publication_date>
      <news:title>Переговоры</news:title>
    </news:news>
  </url>
  <url>
    <loc>https://ria.ru/20211208/sport-1762893999.html</loc>
    <lastmod>2021-12-08</lastmod>
  </url>
  <url><loc>javascript:alert(1)</loc></url>
  <url><loc>/20211208/relative-1762894000.html</loc><lastmod>not a date</lastmod></url>
</urlset>
""".encode()

INTERFAX_SITEMAP = b"""<?xml version="1.0" encoding="utf-8"?>
<urlset xmlns="http://www.google.com/schemas/sitemap/0.84">
  <url><loc>https://www.interfax.ru/world/813468</loc><lastmod>2021-12-08T00:12:00+03:00</lastmod>
    <changefreq>hourly</changefreq></url>
  <url><loc>https://www.interfax.ru/russia/813470</loc><lastmod>2021-12-08T00:40:00</lastmod></url>
</urlset>
"""


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- feeds ---


def test_rbc_full_text_feed() -> None:
    links = feed_links(RBC_FEED, "https://rssexport.rbc.ru/rbcnews/news/30/full.rss")
    assert [link.url for link in links] == [
        "https://www.rbc.ru/politics/08/12/2021/61afd6ef9a79475ba2b59caa",
        "https://www.rbc.ru/finances/08/12/2021/61b0461a9a7947b3d3d4f9c1?from=newsfeed",
        "https://www.rbc.ru/story/5e7ceff09a7947293fe73b75",
        "https://www.rbc.ru/finances/08/12/2021/61b0461a9a7947b3d3d4f9c1?utm_source=yxnews&utm_medium=desktop",
    ]  # the links inside the full text are not items
    assert links[0].published == utc(2021, 12, 7, 21, 12, 41)  # +0300 -> UTC


def test_znua_feed_resolves_relative_links_and_keeps_cdata_doctype_harmless() -> None:
    links = feed_links(ZNUA_FEED, "https://zn.ua/ukr/rss/full.rss")
    assert [link.url for link in links] == [
        "https://zn.ua/POLITICS/zelenskij-provel-razgovor-s-bajdenom.html",
        "https://zn.ua/ukr/POLITICS/zelenskij-proviv-rozmovu-z-bajdenom.html",
        "https://zn.ua/novosti-kompaniy/skidki.html",
    ]
    assert links[1].published == utc(2021, 12, 7, 19, 15)


def test_interfax_windows_1251_feed_with_guid_only_item() -> None:
    links = feed_links(INTERFAX_FEED, "https://www.interfax.ru/rss.asp")
    assert [link.url for link in links] == [
        "https://www.interfax.ru/world/813468",
        "https://www.interfax.ru/photo/7890",
        "https://www.interfax.ru/business/813500",  # the guid is a permalink
    ]
    assert links[2].published == utc(2021, 12, 8, 10, 30)


def test_kremlin_atom_feed() -> None:
    links = feed_links(KREMLIN_FEED, "http://kremlin.ru/events/president/news/feed")
    assert links == [
        Link("http://kremlin.ru/events/president/news/67500", utc(2021, 12, 31, 20, 55)),  # published
        Link("http://kremlin.ru/events/president/news/67490", utc(2021, 12, 29, 15, 0)),  # updated only
        Link("http://kremlin.ru/events/president/news/67490/photos", utc(2021, 12, 29, 15, 0)),
    ]


def test_rdf_feed() -> None:
    links = feed_links(RDF_FEED, "https://sputnik-abkhazia.ru/export/rss1/index.xml")
    assert links == [
        Link("https://sputnik-abkhazia.ru/20211208/vybory-1034567890.html", utc(2021, 12, 8, 9, 5)),
        Link("https://sputnik-abkhazia.ru/20211207/more-1034560000.html", utc(2021, 12, 7, 18, 0)),
    ]


def test_guid_that_is_not_a_url_is_not_resolved_against_the_feed() -> None:
    feed = b"""<rss version="2.0"><channel><item><guid isPermaLink="false">61afd6ef9a79475ba2b59caa</guid>
        </item></channel></rss>"""
    assert feed_links(feed, "https://rssexport.rbc.ru/rbcnews/news/30/full.rss") == []


def test_feed_drops_links_that_are_not_http() -> None:
    items = "".join(
        f"<item><link>{url}</link></item>"
        for url in (
            "file:///etc/passwd",
            "ftp://ria.ru/20211208/a-1.html",
            "javascript:alert(1)",
            "mailto:editor@ria.ru",
            "data:text/html,&lt;b&gt;x&lt;/b&gt;",
            "http://[::1",
            "https://ria.ru/20211208/kept-1762893471.html",
        )
    )
    feed = f'<rss version="2.0"><channel>{items}</channel></rss>'.encode()
    assert [link.url for link in feed_links(feed, "https://ria.ru/export/rss2/index.xml")] == [
        "https://ria.ru/20211208/kept-1762893471.html"
    ]


@pytest.mark.parametrize(
    "body",
    [b"", b"   ", b"not xml at all", b"\x00\xff\xfe garbage", b"<rss><channel><item><link>", b"\x1f\x8b broken gzip"],
    ids=["empty", "blank", "text", "binary", "torn", "bad-gzip"],
)
def test_malformed_feed_gives_no_exception(body: bytes) -> None:
    assert isinstance(feed_links(body, "https://ria.ru/rss"), list)


def test_torn_feed_keeps_the_items_before_the_tear() -> None:
    torn = RIA_FEED[: RIA_FEED.index(b"<title>Video")]
    assert [link.url for link in feed_links(torn, "https://ria.ru/")] == [
        "https://ria.ru/20211208/peregovory-1762893471.html"
    ]


def test_utf16_feed() -> None:
    body = RIA_FEED.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert len(feed_links(body, "https://ria.ru/")) == 3


# --- sitemaps ---


def test_sitemap_index() -> None:
    result = sitemap_links(RIA_INDEX, "https://ria.ru/sitemap_article_index.xml")
    assert result == SitemapLinks(
        pages=[],
        sitemaps=[  # &amp; decoded; the index itself and file:// dropped
            "https://ria.ru/sitemap_article.xml?date_start=20211208&date_end=20211208",
            "https://ria.ru/sitemap_article.xml?date_start=20211207&date_end=20211207",
        ],
    )


def test_an_index_gives_its_newest_children_newest_first() -> None:
    listed = [
        ("a", "2021-12-06"),
        ("b", "2021-12-08T03:00:00+03:00"),
        ("c", ""),
        ("d", "2021-12-07"),
        ("e", "2021-12-08"),
    ]
    entries = "".join(f"<sitemap><loc>https://ria.ru/{n}.xml</loc><lastmod>{d}</lastmod></sitemap>" for n, d in listed)
    body = f"<sitemapindex {SM}>{entries}</sitemapindex>".encode()
    urls = {n: f"https://ria.ru/{n}.xml" for n, _ in listed}
    # b and e are the same instant (midnight UTC): in document order; one without a date last
    assert sitemap_links(body, "https://ria.ru/i.xml").sitemaps == [urls[n] for n in "bedac"]
    assert sitemap_links(body, "https://ria.ru/i.xml", children=2).sitemaps == [urls["b"], urls["e"]]
    assert sitemap_links(body, "https://ria.ru/i.xml", children=0).sitemaps == []


def test_news_sitemap_prefers_publication_date_then_lastmod() -> None:
    result = sitemap_links(RIA_NEWS_SITEMAP, "https://ria.ru/sitemap_article.xml")
    assert result.sitemaps == []
    assert result.pages == [
        Link("https://ria.ru/20211208/peregovory-1762893471.html", utc(2021, 12, 8, 9, 5)),
        Link("https://ria.ru/20211208/sport-1762893999.html", utc(2021, 12, 8)),  # a day: midnight UTC
        Link("https://ria.ru/20211208/relative-1762894000.html", None),  # resolved; bad date -> None
    ]


def test_lastmod_sitemap_in_the_old_google_namespace() -> None:
    result = sitemap_links(INTERFAX_SITEMAP, "https://www.interfax.ru/SEO_SiteMapLastChanges.xml")
    assert result.pages == [
        Link("https://www.interfax.ru/world/813468", utc(2021, 12, 7, 21, 12)),
        Link("https://www.interfax.ru/russia/813470", utc(2021, 12, 8, 0, 40)),  # no offset: UTC
    ]


def test_gzip_sitemap() -> None:
    result = sitemap_links(gzip.compress(RIA_NEWS_SITEMAP), "https://ria.ru/sitemap_article.xml.gz")
    assert len(result.pages) == 3


def test_cut_gzip_sitemap_gives_the_urls_before_the_cut() -> None:
    body = gzip.compress(RIA_NEWS_SITEMAP)
    # the shortest prefix of the stream that inflates past the second </url>: the third entry is torn
    cut = next(n for n in range(len(body)) if zlib.decompressobj(31).decompress(body[:n]).count(b"</url>") == 2)
    urls = [link.url for link in sitemap_links(body[:cut], "https://ria.ru/s.xml.gz").pages]
    assert urls == [
        "https://ria.ru/20211208/peregovory-1762893471.html",
        "https://ria.ru/20211208/sport-1762893999.html",
    ]


def test_gzip_bomb_is_cut_at_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discover, "MAX_XML_BYTES", 1024 * 1024)
    head = RIA_NEWS_SITEMAP[: RIA_NEWS_SITEMAP.index(b"</url>") + len(b"</url>")]
    bomb = gzip.compress(head + b" " * (64 * 1024 * 1024))  # 64 MiB of blanks, ~64 KB on the wire
    assert len(bomb) < 100_000
    started = time.monotonic()
    result = sitemap_links(bomb, "https://ria.ru/s.xml.gz")
    assert time.monotonic() - started < 5
    assert [link.url for link in result.pages] == ["https://ria.ru/20211208/peregovory-1762893471.html"]


@pytest.mark.parametrize(
    "body",
    [b"", b"<html><body>Not found</body></html>", b"<urlset><url><loc>https://ria.ru/x", b"\xff" * 100],
    ids=["empty", "html", "torn", "binary"],
)
def test_malformed_sitemap_gives_no_exception(body: bytes) -> None:
    assert isinstance(sitemap_links(body, "https://ria.ru/sitemap.xml"), SitemapLinks)


def test_torn_sitemap_keeps_the_urls_before_the_tear() -> None:
    torn = RIA_NEWS_SITEMAP[: RIA_NEWS_SITEMAP.index(b"sport-")]
    assert [link.url for link in sitemap_links(torn, "https://ria.ru/s.xml").pages] == [
        "https://ria.ru/20211208/peregovory-1762893471.html"
    ]


# --- hostile XML ---

LAUGHS = "\n".join(
    [f'<!ENTITY lol0 "{"lol" * 10}">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
)


def _rss(doctype: str, title: str, link: str = "https://ria.ru/20211208/a-1762893471.html") -> bytes:
    return (
        f'<?xml version="1.0"?>\n{doctype}\n<rss version="2.0"><channel><title>{title}</title>'
        f"<item><title>{title}</title><link>{link}</link><description>{title}</description></item>"
        "</channel></rss>"
    ).encode()


def _urlset(doctype: str, loc: str) -> bytes:
    return f'<?xml version="1.0"?>\n{doctype}\n<urlset {SM}><url><loc>{loc}</loc></url></urlset>'.encode()


def _peak_python_memory(call: object) -> int:
    tracemalloc.start()
    try:
        call()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "doctype",
    [
        f"<!DOCTYPE rss [\n{LAUGHS}\n]>",  # one declaration a line: what feedparser looks for
        f"<!DOCTYPE rss [{LAUGHS.replace(chr(10), '')}]>",  # all on one line
    ],
    ids=["lines", "one-line"],
)
def test_billion_laughs_feed_does_not_expand(doctype: str) -> None:
    links: list[Link] = []
    peak = _peak_python_memory(lambda: links.extend(feed_links(_rss(doctype, "&lol9;"), "https://ria.ru/")))
    assert peak < 20 * 1024 * 1024
    assert [link.url for link in links] == ["https://ria.ru/20211208/a-1762893471.html"]


def test_quadratic_blowup_feed_does_not_expand() -> None:
    # feedparser alone keeps a "safe" entity like this one and expands it in its fallback parser:
    # 10,000 uses of a 10 KB entity became a 100 MB title
    body = _rss(f'<!DOCTYPE rss [\n<!ENTITY a "{"A" * 10_000}">\n]>', "&a;" * 10_000)
    links: list[Link] = []
    peak = _peak_python_memory(lambda: links.extend(feed_links(body, "https://ria.ru/")))
    assert peak < 20 * 1024 * 1024
    assert len(links) == 1


def test_billion_laughs_sitemap_does_not_expand() -> None:
    started = time.monotonic()
    result = sitemap_links(_urlset(f"<!DOCTYPE urlset [\n{LAUGHS}\n]>", "https://ria.ru/&lol9;"), "https://ria.ru/")
    assert time.monotonic() - started < 2
    assert all(len(link.url) < 100 for link in result.pages)


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16"),
        lambda text: text.replace('version="1.0"', 'version="1.0" encoding="utf-7"').encode("utf-7"),
    ],
    ids=["utf-16", "utf-7"],
)
def test_entities_hidden_in_another_encoding_do_not_expand(encode: object) -> None:
    text = _rss(f'<!DOCTYPE rss [\n<!ENTITY a "{"A" * 10_000}">\n]>', "&a;" * 10_000).decode()
    body = encode(text)  # type: ignore[operator]
    peak = _peak_python_memory(lambda: feed_links(body, "https://ria.ru/"))
    assert peak < 20 * 1024 * 1024


def test_entity_declared_after_the_root_does_not_expand() -> None:
    body = (
        b'<rss version="2.0"><!DOCTYPE rss [\n<!ENTITY a "'
        + b"A" * 10_000
        + b'">\n]><channel><item><title>'
        + b"&a;" * 10_000
        + b"</title><link>https://ria.ru/20211208/a-1762893471.html</link></item></channel></rss>"
    )
    assert _peak_python_memory(lambda: feed_links(body, "https://ria.ru/")) < 20 * 1024 * 1024


def test_unterminated_doctype_gives_nothing() -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "x' + b"A" * 1000 + b"<rss><channel></channel></rss>"
    assert feed_links(body, "https://ria.ru/") == []
    assert sitemap_links(body, "https://ria.ru/") == SitemapLinks([], [])


def test_external_entities_and_dtds_are_never_read(tmp_path: pytest.TempPathFactory) -> None:
    secret = tmp_path / "secret.txt"  # type: ignore[operator]
    secret.write_text("SECRET-MARKER-42")
    routes = {"/evil.dtd": Route(b'<!ENTITY x "NETWORK-MARKER-42">'), "/x": Route(b"NETWORK-MARKER-42")}
    with serve(routes) as server:
        doctypes = [
            f'<!DOCTYPE rss [\n<!ENTITY x SYSTEM "file://{secret}">\n]>',
            f'<!DOCTYPE rss [\n<!ENTITY x SYSTEM "{server.origin}/x">\n]>',
            f'<!DOCTYPE rss SYSTEM "{server.origin}/evil.dtd">',
            f'<!DOCTYPE rss [\n<!ENTITY % p SYSTEM "{server.origin}/evil.dtd">\n%p;\n]>',
        ]
        results = []
        for doctype in doctypes:
            link = "https://ria.ru/20211208/a-1762893471.html?x=&x;"
            results += feed_links(_rss(doctype, "&x;", link), "https://ria.ru/")
            results += sitemap_links(_urlset(doctype.replace("rss", "urlset", 1), link), "https://ria.ru/").pages
        assert server.seen == []  # nothing was fetched
    assert results  # the documents were read ...
    assert not any("MARKER" in link.url for link in results)  # ... without the entity


# --- candidates ---


def test_candidates_rbc() -> None:
    links = candidates(feed_links(RBC_FEED, "https://rssexport.rbc.ru/rbcnews/news/30/full.rss"), rbc.SITE)
    assert links == [
        Link("https://www.rbc.ru/politics/08/12/2021/61afd6ef9a79475ba2b59caa", utc(2021, 12, 7, 21, 12, 41)),
        # ?from=newsfeed and ?utm_* are one article; the first one's date is kept; the story is no article
        Link("https://www.rbc.ru/finances/08/12/2021/61b0461a9a7947b3d3d4f9c1", utc(2021, 12, 8, 6, 30)),
    ]


def test_candidates_sputnik_family_amp_and_video() -> None:
    links = candidates(feed_links(RIA_FEED, "https://ria.ru/export/rss2/archive/index.xml"), sputnik.SITE)
    assert [link.url for link in links] == ["https://ria.ru/20211208/peregovory-1762893471.html"]


def test_candidates_kremlin_drops_photo_tabs() -> None:
    links = candidates(feed_links(KREMLIN_FEED, "http://kremlin.ru/events/president/news/feed"), kremlin.SITE)
    assert [link.url for link in links] == [
        "http://kremlin.ru/events/president/news/67500",
        "http://kremlin.ru/events/president/news/67490",
    ]


def test_candidates_interfax_and_znua() -> None:
    ifx = candidates(feed_links(INTERFAX_FEED, "https://www.interfax.ru/rss.asp"), interfax.SITE)
    assert [link.url for link in ifx] == [
        "https://www.interfax.ru/world/813468",
        "https://www.interfax.ru/photo/7890",  # a photo gallery: its description and captions are its text
        "https://www.interfax.ru/business/813500",
    ]
    zn = candidates(feed_links(ZNUA_FEED, "https://zn.ua/rus/rss/full.rss"), znua.SITE)
    assert [link.url for link in zn] == [
        "https://zn.ua/POLITICS/zelenskij-provel-razgovor-s-bajdenom.html",
        "https://zn.ua/ukr/POLITICS/zelenskij-proviv-rozmovu-z-bajdenom.html",
    ]  # paid placements are no article


def test_candidates_drop_other_hosts_and_non_http() -> None:
    links = [
        Link("https://lenta.ru/news/2021/12/08/meeting/", None),
        Link("ftp://www.interfax.ru/world/813468", None),
        Link("javascript:location='https://www.interfax.ru/world/813468'", None),
        Link("/world/813468", None),  # relative links are resolved by feed_links, never here
        Link("https://m.interfax.ru/world/813468?utm_source=rss", None),
        Link("https://www.interfax.ru/world/813468", utc(2021, 12, 8)),
    ]
    assert candidates(links, interfax.SITE) == [Link("https://www.interfax.ru/world/813468", None)]
