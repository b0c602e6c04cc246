"""The site adapters: one test over every fixture page (a WARC with one response and the expected
JSON beside it), then the checks on the adapters' data (class matching, layout dates)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from lxml import html
from textmatch import leaked, missing_in_order, norm

from scraper import Article, Rejected, process
from scraper.capture.warc import Stored, read_responses
from scraper.sites import GENERIC, SITES, site_for
from scraper.sites.base import Layout, Site, has_class

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(p for p in FIXTURES.glob("*/*.json") if p.with_suffix(".warc.gz").exists())


def load(case: Path) -> tuple[dict[str, object], Stored]:
    expected = json.loads(case.read_text(encoding="utf-8"))
    warc = case.with_suffix(".warc.gz")
    records = [r for r in read_responses(warc, warc.name, 50_000_000) if isinstance(r, Stored)]
    assert len(records) == 1, f"{warc}: expected one response record"
    return expected, records[0]


def test_every_seed_has_a_fixture() -> None:
    seeds = sorted(p.stem for p in (FIXTURES / "seeds").glob("*.json"))
    assert len(seeds) == 5
    assert all((FIXTURES / "seeds" / f"{s}.warc.gz").exists() for s in seeds)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.stem}" for c in CASES])
def test_fixture(case: Path) -> None:
    expected, stored = load(case)
    capture = stored.capture
    site = site_for(capture.url)
    article = process(capture, site)
    assert site.name == expected["site"]
    if expected.get("rejected"):  # a page that is no article (an error page served with 200...)
        assert isinstance(article, Rejected), article
        assert article.reason.startswith(str(expected["rejected"])), article.reason
        return
    assert isinstance(article, Article), article
    assert not article.fallback, "body container not found"
    assert missing_in_order(article.text, expected["body"]) == []
    assert leaked(article.text, expected.get("boilerplate", []), expected["body"]) == []
    if expected.get("title"):
        assert norm(article.title) == norm(str(expected["title"]))
    else:
        assert article.title, "a title must be extracted even where the seed lost it"
    if expected.get("published_date"):
        assert article.published is not None
        assert article.published.date().isoformat() == expected["published_date"]
    if expected.get("language"):
        assert article.language == expected["language"]
    if expected.get("headline_only"):  # a title and a date, no text
        assert article.headline_only
        assert article.text == ""
    if "authors" in expected:
        assert list(article.authors) == expected["authors"]


def test_has_class_matches_whole_class_tokens() -> None:
    page = html.fromstring(
        "<div>"
        "<p id='only' class='lead'/><p id='among' class=' big\tlead  wide'/>"
        "<p id='prefix' class='lead-in'/><p id='bem' class='lead__text'/><p id='suffix' class='sublead'/>"
        "<p id='none'/>"
        "</div>"
    )
    assert [p.get("id") for p in page.xpath(f"//p[{has_class('lead')}]")] == ["only", "among"]


@pytest.mark.parametrize("name", ["", "two words", "it's"])
def test_has_class_refuses_what_is_not_one_token(name: str) -> None:
    with pytest.raises(ValueError, match="not a single class token"):
        has_class(name)


def _until(year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("layouts", "message"),
    [
        (
            (Layout("2018", valid_until=_until(2018)), Layout("2016", valid_until=_until(2016)), Layout("now")),
            "out of date order",
        ),
        (
            (Layout("a", valid_until=_until(2018)), Layout("b", valid_until=_until(2018)), Layout("now")),
            "out of date order",
        ),
        ((Layout("old"), Layout("now")), "only the last layout may be open-ended"),
        ((Layout("old", valid_until=datetime(2018, 1, 1)), Layout("now")), "timezone-aware"),
    ],
    ids=["reversed", "same-date", "two-open-ended", "naive-date"],
)
def test_layouts_out_of_date_order_are_refused(layouts: tuple[Layout, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Site(name="t", layouts=layouts)


def test_every_site_has_its_layouts_in_date_order() -> None:
    for site in (*SITES, GENERIC):
        *ended, current = site.layouts
        assert current.valid_until is None, site.name
        ends = [layout.valid_until for layout in ended if layout.valid_until is not None]
        assert len(ends) == len(ended), f"{site.name}: only the last layout may be open-ended"
        assert all(end.tzinfo is not None for end in ends), site.name
        assert all(a < b for a, b in pairwise(ends)), f"{site.name}: layouts out of date order"
