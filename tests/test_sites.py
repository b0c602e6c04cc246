"""One test over every fixture page: a WARC with one response and the expected JSON beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textmatch import leaked, missing_in_order, norm

from scraper import Article, process
from scraper.capture.warc import Stored, read_responses
from scraper.sites import site_for

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
    assert isinstance(article, Article), article
    assert site.name == expected["site"]
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
