"""Fields from a page's structured data (JSON-LD, microdata, meta), a date from its URL and a bare
printed time: on small hand-written pages, and on the real pages in ../shared, where they must
never raise."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from scraper.extract import page
from scraper.extract.decode import decode_html
from scraper.extract.fields import Field, Structured, structured, time_only, url_date

PAGES = Path(__file__).resolve().parents[2] / "shared" / "pages"

RBC = r"/(?P<d>\d{2})/(?P<m>\d{2})/(?P<y>\d{4})/"
RIA = r"/(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})/"


def read(head: str, body: str = "") -> Structured:
    root = page.parse(f"<html><head>{head}</head><body>{body}<p>text</p></body></html>")
    assert root is not None
    return structured(root)


def ld(json_text: str) -> str:
    return f'<script type="application/ld+json">{json_text}</script>'


# --- JSON-LD ---------------------------------------------------------------------------------------


def test_json_ld_single_object() -> None:
    found = read(
        ld(
            """{"@context": "https://schema.org", "@type": "NewsArticle",
            "headline": "  Центробанк   снизил ставку ", "datePublished": "2024-06-07T13:30:00+03:00",
            "dateModified": "2024-06-07T14:02:00+03:00", "author": {"@type": "Person", "name": "Ирина Петрова"},
            "description": "Регулятор снизил ключевую ставку до 16%."}"""
        )
    )
    assert found == Structured(
        title=Field("Центробанк снизил ставку", "json-ld"),
        published=Field("2024-06-07T13:30:00+03:00", "json-ld"),
        modified=Field("2024-06-07T14:02:00+03:00", "json-ld"),
        authors=Field(("Ирина Петрова",), "json-ld"),
        lead=Field("Регулятор снизил ключевую ставку до 16%.", "json-ld"),
    )


def test_json_ld_list_graph_and_type_list() -> None:
    as_list = ld('[{"@type": "BreadcrumbList", "name": "Главная"}, {"@type": "Article", "headline": "Из списка"}]')
    assert read(as_list).title == Field("Из списка", "json-ld")
    graph = ld(
        '{"@context": "https://schema.org", "@graph": [{"@type": "Organization", "name": "Издание"},'
        ' {"@type": "WebSite", "name": "Сайт"}, {"@type": "NewsArticle", "headline": "Из графа",'
        ' "datePublished": "2023-01-02"}]}'
    )
    assert read(graph).title == Field("Из графа", "json-ld")
    assert read(graph).published == Field("2023-01-02", "json-ld")
    typed = ld('{"@type": ["ReportageNewsArticle", "schema:Thing"], "headline": "Два типа"}')
    assert read(typed).title == Field("Два типа", "json-ld")


def test_an_article_wins_over_an_earlier_web_page() -> None:
    page_first = ld('{"@type": "WebPage", "name": "Раздел - Сайт", "description": "О разделе"}') + ld(
        '{"@type": "BlogPosting", "headline": "Запись"}'
    )
    found = read(page_first)
    assert found.title == Field("Запись", "json-ld")
    assert found.lead == Field("О разделе", "json-ld")  # the page fills what the article lacks


@pytest.mark.parametrize(
    ("author", "names"),
    [
        ('"Анна Смирнова"', ("Анна Смирнова",)),
        ('{"name": "Анна Смирнова"}', ("Анна Смирнова",)),
        ('[{"@type": "Person", "name": "А. Б."}, "В. Г.", {"@type": "Person", "name": "А. Б."}]', ("А. Б.", "В. Г.")),
        ('[{"@type": "Organization", "name": "Редакция"}, {"@type": "Person", "name": "Анна"}]', ("Анна",)),
        ('{"@type": "NewsMediaOrganization", "name": "Редакция"}', ("Редакция",)),
        ('["https://example.org/authors/anna", {"name": ""}]', None),
        ("42", None),
    ],
    ids=["string", "object", "list-deduplicated", "person-over-organization", "organization-alone", "no-name", "odd"],
)
def test_json_ld_author_forms(author: str, names: tuple[str, ...] | None) -> None:
    found = read(ld(f'{{"@type": "NewsArticle", "headline": "H", "author": {author}}}'))
    assert found.authors == (Field(names, "json-ld") if names else None)


def test_broken_json_ld_is_repaired() -> None:
    raw_newlines = '{"@type": "NewsArticle", "headline": "Первая строка\nвторая строка",}'
    assert read(ld(raw_newlines)).title == Field("Первая строка вторая строка", "json-ld")
    commented = """<!--
    {"@type": "NewsArticle", // the CMS's note
     "headline": "Ссылка https://example.org/a // не комментарий", /* block */
     "author": ["Анна", ],}
    -->"""
    found = read(ld(commented))
    assert found.title == Field("Ссылка https://example.org/a // не комментарий", "json-ld")
    assert found.authors == Field(("Анна",), "json-ld")
    escaped = "{&quot;@type&quot;: &quot;Article&quot;, &quot;headline&quot;: &quot;Tom &amp;amp; Jerry&quot;}"
    assert read(ld(escaped)).title == Field("Tom & Jerry", "json-ld")


@pytest.mark.parametrize(
    "json_text",
    ['{"@type": "NewsArticle", "headline": "unterminated', "[" * 100_000 + "]" * 100_000,
     '{"@type": "NewsArticle", "headline": "' + "x" * 600_000 + '"}', '"\\', "null", "{}", "[1, [2], {}]",
     '{"@type": {"nested": 1}, "headline": 5}', '{"@graph": "no"}', '"' + '\\"' * 50_000],
    ids=["unterminated", "deep", "huge", "lone-backslash", "null", "empty", "no-objects", "odd-types", "odd-graph",
         "unbalanced-quotes"],
)  # fmt: skip
def test_hopeless_json_ld_is_skipped(json_text: str) -> None:
    assert read(ld(json_text), "<h1>Заголовок</h1>").title is None


def test_non_article_json_ld_is_ignored() -> None:
    head = ld('{"@type": "Organization", "name": "РБК", "description": "Медиахолдинг"}') + ld(
        '{"@type": "BreadcrumbList", "itemListElement": [{"@type": "ListItem", "name": "Политика"}]}'
    )
    assert read(head) == Structured()


# --- microdata -------------------------------------------------------------------------------------

MICRODATA = """
<article itemscope itemtype="https://schema.org/NewsArticle">
  <h1 itemprop="headline">Заголовок   статьи</h1>
  <time itemprop="datePublished" datetime="2025-06-03T20:14:01+03:00">3 июня, 20:14</time>
  <meta itemprop="dateModified" content="2025-06-03T20:18:40+03:00">
  <div itemprop="author" itemscope itemtype="https://schema.org/Person">
    <meta itemprop="name" content="Валентина Шварцман"><meta itemprop="url" content="https://example.org/a/1">
  </div>
  <span itemprop="author">Пётр Иванов</span>
  <div itemprop="description">Вводка статьи.</div>
  <div itemprop="image" itemscope itemtype="https://schema.org/ImageObject">
    <meta itemprop="datePublished" content="2001-01-01"><span itemprop="description">Подпись к фото</span>
  </div>
</article>
<ul itemscope itemtype="https://schema.org/ItemList">
  <li itemprop="itemListElement" itemscope itemtype="https://schema.org/NewsArticle">
    <span itemprop="headline">Другая статья</span></li>
</ul>
"""


def test_microdata_reads_the_articles_own_properties() -> None:
    assert read("", MICRODATA) == Structured(
        title=Field("Заголовок статьи", "microdata"),
        published=Field("2025-06-03T20:14:01+03:00", "microdata"),
        modified=Field("2025-06-03T20:18:40+03:00", "microdata"),
        authors=Field(("Валентина Шварцман", "Пётр Иванов"), "microdata"),
        lead=Field("Вводка статьи.", "microdata"),
    )


def test_loose_microdata_counts_when_no_article_item_has_it() -> None:
    body = '<div class="date"><time itemprop="datePublished">12.03.2019 10:15</time></div>'
    assert read("", body).published == Field("12.03.2019 10:15", "microdata")


# --- meta ------------------------------------------------------------------------------------------


def test_meta_tags() -> None:
    head = """
    <meta property="og:title" content="Заголовок &amp; подзаголовок">
    <meta property="article:published_time" content="2021-12-30T23:20:00+00:00">
    <meta property="article:modified_time" content="2021-12-31T08:00:00+00:00">
    <meta property="article:author" content="https://example.org/authors/1">
    <meta property="article:author" content="Мария Кузнецова">
    <meta name="description" content="Описание  страницы">
    """
    assert read(head) == Structured(
        title=Field("Заголовок & подзаголовок", "meta"),
        published=Field("2021-12-30T23:20:00+00:00", "meta"),
        modified=Field("2021-12-31T08:00:00+00:00", "meta"),
        authors=Field(("Мария Кузнецова",), "meta"),
        lead=Field("Описание страницы", "meta"),
    )


@pytest.mark.parametrize(
    "tag",
    ['<meta name="pubdate" content="2020-05-05">', '<meta name="date" content="2020-05-05">',
     '<meta itemprop="datePublished" content="2020-05-05">'],
)  # fmt: skip
def test_meta_published_forms(tag: str) -> None:
    assert read(tag).published == Field("2020-05-05", "meta")


def test_og_description_before_description_and_empty_skipped() -> None:
    head = '<meta property="og:description" content=""><meta name="description" content="Описание">'
    assert read(head).lead == Field("Описание", "meta")
    head = '<meta name="description" content="Описание"><meta property="og:description" content="OG">'
    assert read(head).lead == Field("OG", "meta")


# --- precedence ------------------------------------------------------------------------------------


def test_json_ld_over_microdata_over_meta_field_by_field() -> None:
    head = (
        ld('{"@type": "NewsArticle", "headline": "Из JSON-LD"}')
        + '<meta property="og:title" content="Из meta"><meta property="article:published_time" content="2020-01-03">'
        + '<meta property="og:description" content="Вводка из meta">'
    )
    body = """<div itemscope itemtype="http://schema.org/Article"><h1 itemprop="headline">Из microdata</h1>
      <time itemprop="datePublished" datetime="2020-01-02">2 января</time></div>"""
    assert read(head, body) == Structured(
        title=Field("Из JSON-LD", "json-ld"),
        published=Field("2020-01-02", "microdata"),
        lead=Field("Вводка из meta", "meta"),
    )


# --- the URL and a printed time --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.rbc.ru/politics/03/06/2025/683eb8659a7947eb72d0d6d9", date(2025, 6, 3)),
        ("https://ria.ru/20211207/peregovory-1762584734.html", date(2021, 12, 7)),
        ("https://www.rbc.ru/politics/31/02/2025/683eb8659a7947eb72d0d6d9", None),
        ("https://ria.ru/20211331/x.html", None),
        ("https://www.interfax.ru/world/813468", None),
        ("https://example.org/10000101/x", None),  # a number that reads as a date, not of the web's years
    ],
    ids=["rbc", "ria", "rbc-31-february", "ria-month-13", "none", "implausible-year"],
)
def test_url_date(url: str, expected: date | None) -> None:
    assert url_date(url, (RBC, RIA)) == expected


def test_url_date_takes_the_first_pattern_with_a_real_date() -> None:
    url = "https://example.org/31/02/2025/20240229/x"
    assert url_date(url, (RBC, RIA)) == date(2024, 2, 29)
    assert url_date(url, ()) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("14:31", time(14, 31)), ("14:31:05", time(14, 31, 5)), ("9:05", time(9, 5)), (" 00:00\xa0", time(0, 0)),
     ("23:59", time(23, 59)), ("24:00", None), ("14:60", None), ("14.31", None), ("3 июня, 14:31", None),
     ("2025-06-03T14:31", None), ("", None), ("٢:٣٠", None)],
)  # fmt: skip
def test_time_only(value: str, expected: time | None) -> None:
    assert time_only(value) == expected


# --- the real pages --------------------------------------------------------------------------------

SHARED = sorted(PAGES.glob("**/*.html")) if PAGES.is_dir() else []


@pytest.mark.skipif(not SHARED, reason="../shared/pages is not beside the checkout")
@pytest.mark.parametrize("path", SHARED, ids=[p.name for p in SHARED])
def test_real_pages_never_raise(path: Path) -> None:
    root = page.parse(decode_html(path.read_bytes()))
    assert root is not None
    found = structured(root)
    for field in (found.title, found.published, found.modified, found.lead):
        assert field is None or (field.value and field.value == " ".join(field.value.split()))
    for text in page.values(root, ("//time/@datetime", "//time", "//link[@rel='canonical']/@href")):
        time_only(text)
        url_date(text, (RBC, RIA))
