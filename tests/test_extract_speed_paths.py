"""The quicker ways extraction takes (issue 17) give what the plain ways gave: the XPath rewrites
select the same nodes, dropping the bare-tag expressions in one walk leaves the same tree, the meta
tags read in one pass and the structured data read a source at a time give the same fields, and a
layout's later date expressions are not evaluated once one gave a date. Checked on hand-written
cases and on every fixture page; no timing here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree, html

from scraper.capture.warc import Stored, read_responses
from scraper.extract import fields, page, xpath
from scraper.extract.decode import decode_html
from scraper.extract.facts import read_facts
from scraper.sites import GENERIC, SITES
from scraper.sites.base import COMMON_DROP, Layout, Site, has_class

FIXTURES = Path(__file__).parent / "fixtures"
WARCS = sorted(FIXTURES.glob("*/*.warc.gz"))
LAYOUTS = [layout for site in (*SITES, GENERIC) for layout in site.layouts]
_LAYOUT_FIELDS = ("body", "drop", "title", "published", "authors", "tags", "lead", "error_page")
EXPRESSIONS = sorted(
    {e for layout in LAYOUTS for name in _LAYOUT_FIELDS for e in getattr(layout, name)}
    | set(COMMON_DROP)
    | {fields._ITEMS, fields._PROPS, fields._LD_SCRIPTS, "//meta[@content]", "//h1", "//title", "//time/@datetime"}
)


def fixture_root(warc: Path) -> page.HtmlElement:
    stored = [r for r in read_responses(warc, warc.name, 50_000_000) if isinstance(r, Stored)]
    capture = stored[0].capture
    root = page.parse(decode_html(capture.body, capture.header("Content-Type")))
    assert root is not None
    return root


def recorded_selects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The expressions page.select is asked to evaluate from now on."""
    asked: list[str] = []
    select = page.select

    def recording(root: page.HtmlElement, expression: str) -> list[object]:
        asked.append(expression)
        return select(root, expression)

    monkeypatch.setattr(page, "select", recording)
    return asked


# --- the XPath rewrites ----------------------------------------------------------------------------


def test_the_sites_expressions_are_rewritten() -> None:
    rewritten = [e for e in EXPRESSIONS if xpath.faster(e) != e]
    assert len(rewritten) > 100
    assert all("/descendant::" in xpath.faster(e) for e in EXPRESSIONS if "[" in e and e.startswith("//div"))


@pytest.mark.parametrize("warc", WARCS, ids=[f"{w.parent.name}/{w.stem}" for w in WARCS])
def test_rewritten_expressions_select_the_same_nodes(warc: Path) -> None:
    root = fixture_root(warc)
    for expression in EXPRESSIONS:
        assert etree.XPath(xpath.faster(expression))(root) == etree.XPath(expression)(root), expression


LISTS = """<html><body><ul class="menu"><li>a<ul><li>b</li><li>c</li></ul></li><li class="x">d</li></ul>
<div id="n" class="lead  x&#9;y"><p>e</p></div><p data-u="//t.me/">f</p><div class="xy">g</div></body></html>"""


@pytest.mark.parametrize(
    ("expression", "rewritten"),
    [
        ("//li[1]", "//li[1]"),  # the first li of each list, not the first li of the page
        ("//li[last()]", "//li[last()]"),
        ("//li[position() < 2]", "//li[position() < 2]"),
        ("//ul[count(li)]", "//ul[count(li)]"),  # a number: a position
        ("//li[string-length(.)]", "//li[string-length(.)]"),  # unsure: left alone
        ("//p[a[@href]]", "//p[a[@href]]"),
        ("//li[@class]", "/descendant::li[@class]"),
        ("//li[not(ul)]", "/descendant::li[not(ul)]"),
        ("//li[count(ul) = 1]", "/descendant::li[count(ul) = 1]"),
        ("//p[@data-u='//t.me/']", "/descendant::p[@data-u='//t.me/']"),  # a string's "//" is no step
        ("//ul[@class]//li[2]", "/descendant::ul[@class]//li[2]"),
        ("(//li[@class or @id])[1]", "(/descendant::li[@class or @id])[1]"),
        ("//li[(@class)]", "/descendant::li[(@class)]"),
        ("//li[(@class) + 1]", "//li[(@class) + 1]"),
        ("//li[@class][1]", "//li[@class][1]"),
        ("//li[@class", "//li[@class"),  # not closed: left to the XPath compiler to refuse
    ],
)
def test_only_steps_whose_predicates_ignore_the_position_are_rewritten(expression: str, rewritten: str) -> None:
    assert xpath.faster(expression) == rewritten
    if expression.count("[") == expression.count("]"):
        root = html.document_fromstring(LISTS)
        assert etree.XPath(xpath.faster(expression))(root) == etree.XPath(expression)(root)


@pytest.mark.parametrize(
    "expression",
    [f"//div[{has_class('x')}]", f"//*[{has_class('x')} or {has_class('lead')}]", f"//div[{has_class('xy')}]",
     f"//div[{has_class('y')}]//p", f"concat(//div[{has_class('lead')}]/@id, '-', //li[{has_class('x')}])"],
)  # fmt: skip
def test_class_token_tests_read_the_class_attributes(expression: str) -> None:
    """A predicate of class tokens alone is tested on the class attributes, then their elements
    taken: "x" is a token of "lead  x<tab>y" and of "x", not of "xy"."""
    rewritten = xpath.faster(expression)
    assert "/@class[" in rewritten
    root = html.document_fromstring(LISTS)
    assert etree.XPath(rewritten)(root) == etree.XPath(expression)(root)


# --- dropping --------------------------------------------------------------------------------------


def drop_one_by_one(root: page.HtmlElement, expressions: tuple[str, ...]) -> None:
    for expression in expressions:
        for node in etree.XPath(expression)(root):
            if node.getparent() is not None:
                node.drop_tree()


@pytest.mark.parametrize("warc", WARCS, ids=[f"{w.parent.name}/{w.stem}" for w in WARCS])
def test_dropping_leaves_the_tree_dropping_one_expression_at_a_time_left(
    warc: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = recorded_selects(monkeypatch)
    for layout in LAYOUTS:
        expressions = COMMON_DROP + layout.drop + ("//p", "//span", "//a")
        ours, reference = fixture_root(warc), fixture_root(warc)
        page.drop(ours, expressions)
        drop_one_by_one(reference, expressions)
        assert html.tostring(ours) == html.tostring(reference), layout.version
    assert not set(asked) & {*COMMON_DROP, "//p", "//span", "//a"}  # walked, not selected


def test_nested_bare_tags_drop_in_one_walk_with_their_tails_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = recorded_selects(monkeypatch)
    text = "<html><body><form>a<button>b</button>c<nav>d</nav>e</form>f<nav>g</nav>h<p>i</p>j<b>k</b></body></html>"
    ours, reference = page.parse(text), page.parse(text)
    assert ours is not None and reference is not None
    page.drop(ours, ("//nav", "//form", "//button", "//p[.='i']", "//b"))
    drop_one_by_one(reference, ("//nav", "//form", "//button", "//p[.='i']", "//b"))
    assert html.tostring(ours) == html.tostring(reference) == b"<html><body>fhj</body></html>"
    assert asked == ["//p[.='i']"]  # the bare tags went in two walks of the tree, no XPath


# --- parsing ---------------------------------------------------------------------------------------


def test_form_elements_are_plain_elements() -> None:
    root = page.parse("<html><body><form><label>l</label><input name=i><select></select><textarea>t</textarea>"
                      "</form></body></html>")  # fmt: skip
    assert root is not None
    assert all(type(e) is page.HtmlElement for e in root.iter())
    page.drop(root, ("//form",))
    assert html.tostring(root) == b"<html><body></body></html>"


# --- structured data -------------------------------------------------------------------------------


def meta_by_xpath(root: page.HtmlElement) -> fields.Structured:
    """The meta tags read as they were before: an XPath for each key of each field."""

    def keyed(field: tuple[tuple[str, ...], str]) -> tuple[str, ...]:
        names, itemprop = field
        loose = f"//meta[@itemprop='{itemprop}'][not(ancestor::*[@itemscope])]/@content"
        return (*(f"//meta[@property='{n}' or @name='{n}']/@content" for n in names), loose)

    def first(field: tuple[tuple[str, ...], str]) -> fields.Field[str] | None:
        value = page.first(root, keyed(field))
        return fields.Field(fields._clean(value), "meta") if value else None

    authors = tuple(
        dict.fromkeys(fields._clean(a) for a in page.values(root, keyed(fields._META_AUTHORS)) if not fields._is_url(a))
    )
    return fields.Structured(
        title=first(fields._META_TITLE),
        published=first(fields._META_PUBLISHED),
        modified=first(fields._META_MODIFIED),
        authors=fields.Field(authors, "meta") if authors else None,
        lead=first(fields._META_LEAD),
    )


def eager(root: page.HtmlElement, name: str, only: str | None = None) -> fields.Field[object] | None:
    """The field as every source read at once gives it."""
    found = next((v for p in (fields._json_ld(root), fields._microdata(root), fields._meta(root))
                  if (v := getattr(p, name)) is not None), None)  # fmt: skip
    return None if found is None or (only is not None and found.source != only) else found


@pytest.mark.parametrize("warc", WARCS, ids=[f"{w.parent.name}/{w.stem}" for w in WARCS])
def test_structured_data_read_lazily_is_the_same(warc: Path) -> None:
    root = fixture_root(warc)
    assert fields._meta(root) == meta_by_xpath(root)
    for field in dataclass_fields(fields.Structured):
        for only in (None, "json-ld", "microdata", "meta"):
            assert fields.Sources(root).field(field.name, only) == eager(root, field.name, only), (field.name, only)


META = """<html><head>
<meta property="og:title" content=" Заголовок "><meta name="og:title" content="Второй">
<meta itemprop="headline" content="Свободный"><meta name="description" content="">
<meta property="og:description" content="Вводка"><meta property="article:author" content="https://a.example/1">
<meta name="article:author" content="Анна Петрова"><meta property="article:author" content="Анна  Петрова">
<meta name="date" content="2020-01-02"><meta property="pubdate" content="2020-01-01">
</head><body><div itemscope itemtype="https://schema.org/ImageObject"><meta itemprop="datePublished"
content="1999-01-01"></div><meta itemprop="datePublished" content="2020-01-03"><p>текст</p></body></html>"""


def test_meta_tags_in_one_pass_keep_the_keys_order_and_skip_items() -> None:
    root = page.parse(META)
    assert root is not None
    assert fields._meta(root) == meta_by_xpath(root)
    found = fields._meta(root)
    assert found.title == fields.Field("Заголовок", "meta")
    assert found.published == fields.Field("2020-01-01", "meta")  # pubdate is asked before date
    assert found.authors == fields.Field(("Анна Петрова",), "meta")
    assert found.lead == fields.Field("Вводка", "meta")


def test_a_field_json_ld_gives_reads_no_other_source(monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[str] = []

    def counting(source: str, reader: Callable[[page.HtmlElement], fields.Structured]) -> tuple[str, object]:
        def counted(root: page.HtmlElement) -> fields.Structured:
            read.append(source)
            return reader(root)

        return source, counted

    monkeypatch.setattr(fields, "_READERS", tuple(counting(s, r) for s, r in fields._READERS))
    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Из JSON-LD"}</script>'
    root = page.parse(f"<html><head>{ld}</head><body><p>текст</p></body></html>")
    assert root is not None
    sources = fields.Sources(root)
    assert sources.field("title") == fields.Field("Из JSON-LD", "json-ld")
    assert sources.field("lead", only="json-ld") is None
    assert read == ["json-ld"]
    assert sources.field("lead") is None
    assert read == ["json-ld", "microdata", "meta"]


# --- the printed date ------------------------------------------------------------------------------


def test_later_date_expressions_are_not_evaluated_once_one_gave_a_date(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = recorded_selects(monkeypatch)
    layout = Layout(version="t", body=("//article",), title=("//h1",),
                    published=("//time[@class='a']/@datetime", "//time[@class='b']/@datetime"))  # fmt: skip
    site = Site(name="t", hosts=("t.example",), timezone="UTC", layouts=(layout,))
    text = "<html><body><h1>Т</h1><time class='{}' datetime='{}'></time><article><p>т</p></article></body></html>"
    root = page.parse(text.format("a", "2024-05-06T07:08:00+00:00"))
    assert root is not None
    facts = read_facts(root, layout, site, "https://t.example/1")
    assert facts.published == datetime(2024, 5, 6, 7, 8, tzinfo=UTC)
    assert "//time[@class='b']/@datetime" not in asked
    root = page.parse(text.format("b", "2024-05-07T07:08:00+00:00"))
    assert root is not None
    assert read_facts(root, layout, site, "https://t.example/1").published == datetime(2024, 5, 7, 7, 8, tzinfo=UTC)
