"""Extract and store: a capture in, its text and JSON out, and the catalog told.

``judge`` is the one rule of what gives a text, whatever the command (fetch, run, reclean,
parse): a cut-off body never does; an error status, a redirect, a feed, a sitemap or robots.txt
is no article and is skipped; a body that could not be decoded fails with the reason ``fetch``
gave for it; everything else goes through the pure core, ``process``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from scraper.archive.catalog import Catalog
from scraper.archive.layout import Archive
from scraper.archive.texts import write_article
from scraper.capture.warc import Stored
from scraper.errors import StoreError
from scraper.extract.process import ERROR_PAGE, NOT_AN_ARTICLE, process
from scraper.models import Article, Capture, Outcome, RecordRef, Rejected, Skipped
from scraper.sites import site_for

_PAGE_TYPES = ("text/html", "application/xhtml+xml")


# How a capture was archived: as an article (fetched as one, or its metadata record names its
# text), as no article (this tool's metadata record names no text: a feed, a sitemap, robots.txt,
# a redirect hop), or unknown (another tool's WARC, no metadata record of ours).
Archived = Literal["article", "no article", "unknown"]


def archived_as(item: Stored) -> Archived:
    """What the archive says a re-read response was: an article, no article, or unknown (another tool's)."""
    if item.text_stem is not None:
        return "article"
    return "no article" if item.described else "unknown"


def judge(
    capture: Capture, truncated: str | None, archived: Archived = "article", undecodable: str | None = None
) -> Article | Rejected | Skipped:
    """What a capture gives: the one rule, whatever the command. ``undecodable``: why its body
    could not be decoded (``Stored.undecodable``)."""
    if truncated:
        return Rejected(capture.url, f"truncated record (WARC-Truncated: {truncated}): a cut-off body gives no text")
    if not 200 <= capture.status < 300:
        return Skipped(capture.url, f"HTTP {capture.status}")
    if archived == "no article":
        return Skipped(capture.url, "no text named for it (not archived as an article)")
    if archived == "unknown" and (why := not_an_article(capture)):
        return Skipped(capture.url, f"not an article: {why}")
    if undecodable:
        return Rejected(capture.url, undecodable)
    result = process(capture, site_for(capture.url))
    if isinstance(result, Rejected) and result.reason.startswith((ERROR_PAGE, NOT_AN_ARTICLE)):
        return Skipped(result.url, result.reason)  # "not found", or a front page: no article, no fault
    return result


def not_an_article(capture: Capture) -> str | None:
    if urlsplit(capture.url).path == "/robots.txt":
        return "robots.txt"
    kind = (capture.header("Content-Type") or "").split(";")[0].strip().lower()
    return kind if kind and kind not in _PAGE_TYPES else None


def extract(
    root: Path, capture: Capture, ref: RecordRef, stem: Path, truncated: str | None = None,
    archived: Archived = "article", undecodable: str | None = None,
) -> Outcome:  # fmt: skip
    """Judge the capture and write its text and JSON at ``stem``, inside the archive at ``root``
    (unchanged files are not touched)."""
    result = judge(capture, truncated, archived, undecodable)
    if isinstance(result, Skipped):
        return Outcome(capture.url, True, result.reason, skipped=True, record_id=ref.record_id)
    if isinstance(result, Rejected):
        return Outcome(capture.url, False, result.reason, record_id=ref.record_id)
    try:
        written = write_article(root, stem, result, capture, ref)
    except StoreError as exc:
        return Outcome(capture.url, False, str(exc), record_id=ref.record_id)
    return Outcome(
        capture.url, True, text_file=str(written.text_path), text_sha256=written.text_sha256,
        changed=written.changed, record_id=ref.record_id, adapter=f"{result.adapter}/{result.adapter_version}",
    )  # fmt: skip


def record_texts(archive: Archive, outcomes: list[Outcome], now: datetime) -> int:
    """Tell the catalog (when the archive has one) about texts a re-clean wrote; returns how many
    catalog rows changed. Rows are found by the response record the text came from."""
    written = [o for o in outcomes if o.ok and not o.skipped and o.text_file and o.record_id]
    if not written or not archive.has_catalog():
        return 0
    with Catalog(archive.catalog) as catalog, catalog.transaction():
        return sum(
            catalog.record_text(
                o.record_id or "", text_path=archive.relative(Path(o.text_file or "")), text_sha256=o.text_sha256 or "",
                adapter=o.adapter or "", extracted_at=now if o.changed else None,
            )
            for o in written
        )  # fmt: skip
