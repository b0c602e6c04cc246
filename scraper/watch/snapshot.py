"""A page saved as a new test fixture (``scraper snapshot``), for a developer to review and commit.

``take_snapshot``: a page (from the archive when the catalog has it, else fetched) saved as
``<fixtures>/<site>/<name>.warc.gz`` (one response record) and ``<name>.json`` (today's adapter
output, in the format ``tests/test_sites.py`` reads).

Every WARC is read through ``scraper.capture.warc``'s public API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

from scraper import __version__
from scraper.archive.catalog import Catalog
from scraper.archive.layout import Archive, read_only_reason
from scraper.capture.fetch import Fetcher
from scraper.capture.warc import Stored, WarcFile, read_responses
from scraper.config import Settings
from scraper.errors import SnapshotError, UsageError
from scraper.extract.process import process
from scraper.models import Article, Capture, Exchange, Rejected
from scraper.pipeline.capture import archive_exchange
from scraper.sites import Site
from scraper.urls import canonical, url_hash
from scraper.watch.copies import archived_responses

_DROPPED_HEADERS = frozenset(
    (
        "content-encoding",
        "content-length",
        "transfer-encoding",
        "x-archive-orig-transfer-encoding",
        "x-archive-orig-content-length",
    )
)


@dataclass(frozen=True, slots=True)
class Snapshot:
    warc: Path
    expected: Path
    source: str  # where the page came from: an archived record or a live fetch
    article: Article


def take_snapshot(url: str, site: Site, settings: Settings, fixtures: Path, name: str | None) -> Snapshot:
    """Save the page as a fixture for ``site``; never overwrites one."""
    exchange, source = _from_archive(url, site, settings) or _fetched(url, settings)
    stem = name or f"{site.name}-{exchange.started_at.date().isoformat()}-{url_hash(exchange.url)[:8]}"
    folder = fixtures / site.name
    warc, expected = folder / f"{stem}.warc.gz", folder / f"{stem}.json"
    if warc.exists() or expected.exists():
        raise UsageError(f"{warc}: a fixture of this name exists; pass another --name")
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if why := read_only_reason(existing):
        raise UsageError(f"{existing}: read-only ({why}): the fixture cannot be written there (--fixtures)")
    with WarcFile(warc, warc.name) as out:
        out.write_warcinfo({"software": f"scraper/{__version__}", "description": f"test fixture: {source}"})
        archive_exchange(out, exchange, None, None)
    stored = next(s for s in read_responses(warc, warc.name, settings.max_body_bytes) if isinstance(s, Stored))
    result = process(stored.capture, site)  # the bytes as the fixture test will read them
    if isinstance(result, Rejected):
        warc.unlink()
        raise SnapshotError(f"{url}: no article to snapshot: {result.reason}")
    expected.write_text(json.dumps(_expected(result, source), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return Snapshot(warc, expected, source, result)


def _expected(article: Article, source: str) -> dict[str, object]:
    where = "the adapter's body container is NOT on this page (fallback): the test fails until the adapter learns it; "
    return {
        "site": article.site,
        "url": article.url,
        "title": article.title,
        "published_date": article.published.date().isoformat() if article.published else None,
        "language": article.language,
        "body": list(article.paragraphs),
        "boilerplate": [],
        "optional": [],
        "notes": (
            f"NEEDS REVIEW: written by `scraper snapshot` from {source}; the body is the output of adapter "
            f"{article.adapter}/{article.adapter_version} as it was that day. "
            f"{where if article.fallback else ''}Read the page: move every body line that is not article text "
            "to boilerplate, add what is missing, list the page's furniture under boilerplate, describe the "
            "page here, then commit."
        ),
    }


def _from_archive(url: str, site: Site, settings: Settings) -> tuple[Exchange, str] | None:
    archive = Archive(settings.out)
    if not archive.has_catalog():
        return None
    with Catalog(archive.catalog, read_only=True) as catalog:
        row = catalog.article(canonical(url, site))
    if row is None or row.warc_file is None or row.warc_offset is None:
        return None
    for stored in archived_responses(settings.out, row.warc_file, settings.max_body_bytes):
        if stored.ref.offset == row.warc_offset:
            return _replayed(stored.capture), f"{row.warc_file} at offset {row.warc_offset}"
        if stored.ref.offset > row.warc_offset:
            break
    return None


def _replayed(capture: Capture) -> Exchange:
    """An archived response as an exchange to write again: the body is kept decoded (as the
    archive reads it back), so the headers that described the wire form go."""
    headers = tuple((k, v) for k, v in capture.headers if k.lower() not in _DROPPED_HEADERS)
    return Exchange(
        url=capture.url,
        started_at=capture.fetched_at,
        method="GET",
        request_headers=(),
        http_version="HTTP/1.1",
        status=capture.status,
        reason=_reason(capture.status),
        response_headers=(*headers, ("Content-Length", str(len(capture.body)))),
        raw_body=capture.body,
    )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _fetched(url: str, settings: Settings) -> tuple[Exchange, str]:
    with Fetcher(settings) as fetcher:
        fetched = fetcher.fetch(url)
    if fetched.error or fetched.final is None or not fetched.exchanges:
        raise SnapshotError(f"{url}: {fetched.error or 'nothing received'}")
    final = fetched.exchanges[-1]
    return final, f"a fetch of {final.url} on {final.started_at.isoformat(timespec='seconds')}"
