"""Every fixture, changed the way sites change: a new block inside the body, the date moved to
structured data, a capture date far from the layout's, subheadings added. The adapter must keep
the text clean, the date right, the layout right, and say what it met that it does not know."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import html
from test_sites import CASES, load
from textmatch import leaked, missing_in_order, norm

from scraper import Article, process
from scraper.extract import page
from scraper.extract.decode import decode_html
from scraper.models import Capture
from scraper.sites import site_for
from scraper.sites.base import Layout, Site

NEW_BOX = "Главное за день: подпишитесь на нашу новую рассылку о событиях недели"
SUBHEAD = "Что известно о решении к этому часу"
ARTICLES = [c for c in CASES if not json.loads(c.read_text(encoding="utf-8")).get("rejected")]
IDS = [f"{c.parent.name}/{c.stem}" for c in ARTICLES]
WITH_TEXT = [c for c in ARTICLES if not json.loads(c.read_text(encoding="utf-8")).get("headline_only")]
TEXT_IDS = [f"{c.parent.name}/{c.stem}" for c in WITH_TEXT]


def mutated(case: Path, change: str) -> tuple[dict[str, object], Capture, Site, Layout]:
    expected, stored = load(case)
    capture, site = stored.capture, site_for(stored.capture.url)
    result = process(capture, site)
    assert isinstance(result, Article)
    layout = next(layout for layout in site.layouts if layout.version == result.adapter_version)
    root = html.document_fromstring(decode_html(capture.body, capture.header("Content-Type")))
    body = page.containers(root, layout.body)
    assert body, "the fixture's body container"
    new = _block(layout, "div", NEW_BOX, "brand-new-box") if change == "box" else _block(layout, "h2", SUBHEAD, None)
    if layout.block_attribute:  # the body is a run of typed blocks: one more among them
        body[-1].addprevious(new)
    else:  # inside the main container, after one of the article's own paragraphs
        lines = {norm(str(line)) for line in expected["body"]}  # type: ignore[attr-defined]
        mine = [p for p in body[-1].iter("p") if norm(p.text_content()) in lines and not list(p.iterancestors("table"))]
        mine = mine or [p for p in body[-1].iter("div") if norm(p.text_content()) in lines]
        mine[len(mine) // 2].addnext(new)
    data = html.tostring(root, encoding="utf-8", doctype="<!DOCTYPE html>")
    headers = tuple((k, v) for k, v in capture.headers if k.lower() != "content-type")
    served = replace(capture, body=data, headers=(*headers, ("Content-Type", "text/html; charset=utf-8")))
    return expected, served, site, layout


def _block(layout: Layout, tag: str, text: str, css: str | None) -> html.HtmlElement:
    element = html.Element(tag, {"class": css} if css else {})
    element.text = text
    if layout.block_attribute is None:
        return element
    kind = "h2" if tag == "h2" else "summary"  # a kind the typed CMS has never shown
    block = html.Element("div", {"class": "article__block", layout.block_attribute: kind})
    block.append(element)
    return block


@pytest.mark.parametrize("case", WITH_TEXT, ids=TEXT_IDS)
def test_a_new_block_inside_the_body_is_reported(case: Path) -> None:
    expected, capture, site, layout = mutated(case, "box")
    article = process(capture, site)
    assert isinstance(article, Article)
    assert missing_in_order(article.text, expected["body"]) == []
    new = {signature: kept for signature, _, kept in article.new_inside}
    if layout.block_attribute:  # a typed CMS: a kind it does not list never leaks
        assert NEW_BOX not in article.text
        assert new.get(f"div[{layout.block_attribute}=summary]") is False
    else:
        assert new.get("div.brand-new-box") is True  # kept, and said: maybe a leak


@pytest.mark.parametrize("case", ARTICLES, ids=IDS)
def test_the_sentinel_is_quiet_on_the_fixtures(case: Path) -> None:
    expected, stored = load(case)
    article = process(stored.capture, site_for(stored.capture.url))
    assert isinstance(article, Article)
    # quiet, but for what a fixture shows on purpose (a kind of block its site never had)
    assert [signature for signature, _, _ in article.new_inside] == expected.get("new_inside", [])


@pytest.mark.parametrize("case", WITH_TEXT, ids=TEXT_IDS)
def test_subheadings_added_inside_the_body_are_kept(case: Path) -> None:
    expected, capture, site, _ = mutated(case, "subheading")
    article = process(capture, site)
    assert isinstance(article, Article)
    assert SUBHEAD in article.paragraphs
    assert leaked(article.text, expected.get("boilerplate", []), expected["body"]) == []


@pytest.mark.parametrize("case", ARTICLES, ids=IDS)
@pytest.mark.parametrize("when", [datetime(2001, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC)])
def test_a_capture_date_far_from_the_layouts_keeps_the_layout(case: Path, when: datetime) -> None:
    _, stored = load(case)
    site = site_for(stored.capture.url)
    right = process(stored.capture, site)
    moved = process(replace(stored.capture, fetched_at=when), site)
    assert isinstance(right, Article) and isinstance(moved, Article)
    assert (moved.adapter_version, moved.text, moved.fallback) == (right.adapter_version, right.text, False)


@pytest.mark.parametrize("case", [c for c in ARTICLES if json.loads(c.read_text()).get("published_date")], ids=str)
def test_a_date_only_in_json_ld_is_found(case: Path) -> None:
    expected, stored = load(case)
    capture, site = stored.capture, site_for(stored.capture.url)
    layout = site.layout_for(capture.fetched_at)
    root = html.document_fromstring(decode_html(capture.body, capture.header("Content-Type")))
    marks = ("//time", "//meta[contains(@property, 'published')]", "//*[@itemprop='datePublished']")
    for expression in (*layout.published, *marks):
        for node in page.select(root, expression):
            element = node if isinstance(node, html.HtmlElement) else getattr(node, "getparent", lambda: None)()
            if isinstance(element, html.HtmlElement) and element.getparent() is not None:
                element.drop_tree()
    for script in root.xpath("//script[@type='application/ld+json']"):
        script.drop_tree()
    ld = html.Element("script", {"type": "application/ld+json"})
    ld.text = json.dumps({"@type": "NewsArticle", "datePublished": f"{expected['published_date']}T12:00:00+03:00"})
    root.find("head").append(ld) if root.find("head") is not None else root.insert(0, ld)
    data = html.tostring(root, encoding="utf-8")
    headers = (("Content-Type", "text/html; charset=utf-8"),)
    article = process(replace(capture, body=data, headers=headers), site)
    assert isinstance(article, Article)
    assert article.published is not None and article.published.date().isoformat() == expected["published_date"]
    assert dict(article.sources)["published"] != "trafilatura"
    assert norm(article.title)


INTERFAX = [c for c in ARTICLES if c.parent.name == "interfax" or c.stem == "000_a72e8895582be283"]


@pytest.mark.parametrize("case", INTERFAX, ids=[c.stem for c in INTERFAX])
def test_interfax_survives_a_layout_miss(case: Path) -> None:
    """No real Interfax article page could be had: a redesign that renames the body container must
    still give the whole text, no furniture, and the date."""
    expected, stored = load(case)
    capture, site = stored.capture, site_for(stored.capture.url)
    root = html.document_fromstring(decode_html(capture.body, capture.header("Content-Type")))
    for element in page.containers(root, site.layout_for(capture.fetched_at).body):
        element.set("class", "renamed-by-a-redesign")
        element.attrib.pop("itemprop", None)
    served = replace(capture, body=html.tostring(root, encoding="utf-8"),
                     headers=(("Content-Type", "text/html; charset=utf-8"),))  # fmt: skip
    article = process(served, site)
    assert isinstance(article, Article)
    assert missing_in_order(article.text, expected["body"]) == []
    assert leaked(article.text, expected.get("boilerplate", []), expected["body"]) == []
    assert article.published is not None and article.published.date().isoformat() == expected["published_date"]
