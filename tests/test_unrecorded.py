"""A run killed after writing a capture's records and before the catalog learned of it leaves a
response whose metadata names the text of a capture the catalog holds. A re-clean must not put
that capture's text under the catalog's: the text stays the one the catalog and its JSON name,
whatever the number of worker processes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_quality import page, paragraphs, url_of

from scraper.archive import layout
from scraper.config import Settings
from scraper.pipeline.capture import metadata
from scraper.pipeline.reread import reclean
from scraper.sites import site_for
from scraper.urls import canonical


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_capture_the_catalog_never_recorded_does_not_overwrite_its_text(archive: Any, jobs: int) -> None:
    url, at = url_of("interfax", 1), datetime(2026, 12, 5, 10, tzinfo=UTC)
    text = archive.article("interfax", url, at, page("interfax", "Первая", paragraphs("kept"), paragraphs("kept")))
    stem = text.with_suffix("")
    later = at + timedelta(minutes=5)  # the killed run's capture of the same page, the same day: the same stem
    body = page("interfax", "Вторая", paragraphs("lost"), paragraphs("lost"))
    fields = metadata(site_for(url), later, stem, layout.Archive(archive.root))
    archive.warc("interfax", at).write_exchange(archive.exchange(url, later, body), fields)
    archive.close()
    before = text.read_text(encoding="utf-8")
    report = reclean([archive.root / "warc"], Settings(out=archive.root, jobs=jobs))
    assert text.read_text(encoding="utf-8") == before
    meta = json.loads(text.with_suffix(".json").read_text(encoding="utf-8"))
    row = archive.catalog.article(canonical(url, site_for(url)))
    assert row is not None and row.warc_record_id == meta["warc_record_id"]
    skipped = [o for o in report.outcomes if o.skipped and "never recorded" in o.reason]
    assert len(skipped) == 1 and not report.failed
