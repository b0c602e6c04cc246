"""Fetch and archive: the one place that turns a URL into WARC records.

Every exchange of a fetch (redirect hops, retried 5xx, the last response) becomes a ``response``
record with its ``request`` and a ``metadata`` record (adapter, versions, and for an article's last
response the stem of its text). A feed, sitemap or robots.txt is a *source*: fetched with
conditional headers, and a 304 or a body identical to the last one is kept as a ``revisit``
record that refers to the last full copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from scraper import __version__
from scraper.archive.layout import Archive
from scraper.archive.schema import FeedRow
from scraper.capture.warc import TEXT_FIELD, Original, WarcFile, payload_digest, warc_date
from scraper.config import Settings
from scraper.extract.body import TRAFILATURA_VERSION
from scraper.models import Capture, Exchange, RecordRef
from scraper.sites import Site, site_for

if TYPE_CHECKING:
    from scraper.capture.fetch import Fetched, Fetcher

StemFor = Callable[[Capture], Path]  # where the text of a page goes, once its response is known


@dataclass(frozen=True, slots=True)
class Captured:
    """A page fetched and archived: its last response (``record_id`` set), where its record is,
    where its text goes, or why there is nothing to extract."""

    url: str
    final: Capture | None
    ref: RecordRef | None
    stem: Path | None
    error: str | None
    truncated: str | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """A feed, sitemap or robots.txt: its body when it changed, else why not."""

    url: str
    status: int | None
    body: bytes | None
    unchanged: bool = False
    error: str | None = None
    state: FeedRow | None = None  # to remember once what the body led to is stored


class Capturer:
    """Fetches through ``fetcher`` and writes into the WARC that ``warc()`` gives at each write
    (a sink may start a new file past a size)."""

    def __init__(self, fetcher: Fetcher, warc: Callable[[], WarcFile], archive: Archive) -> None:
        self._fetcher, self._warc, self.archive = fetcher, warc, archive

    def page(self, url: str, stem_for: StemFor | None) -> Captured:
        fetched = self._fetcher.fetch(url)
        final = fetched.final
        stem = stem_for(final) if final is not None and stem_for is not None else None
        ref = self._write_all(fetched, stem)
        if final is None or ref is None:
            return Captured(url, None, None, None, fetched.error or "nothing received")
        # a page asked for as an article that answers with an error status failed; read back, the
        # same record is merely no article (``store.judge``)
        error = fetched.error or (None if 200 <= final.status < 300 else f"HTTP {final.status}")
        truncated = fetched.exchanges[-1].truncated
        return Captured(url, replace(final, record_id=ref.record_id), ref, stem, error, truncated)

    def source(self, url: str, site: Site, state: FeedRow | None) -> Source:
        """A conditional GET; an unchanged answer is archived as a revisit of ``state``'s record."""
        headers = {}
        if state and state.etag:
            headers["If-None-Match"] = state.etag
        if state and state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        fetched = self._fetcher.fetch(url, headers)
        *hops, last = fetched.exchanges or (None,)
        for hop in hops:
            self.write(hop, None)
        if last is None:
            return Source(url, None, None, error=fetched.error or "nothing received")
        digest = payload_digest(last.raw_body)
        unchanged = last.status == 304 or (last.status == 200 and state is not None and digest == state.payload_digest)
        if unchanged and state is not None:
            original = Original(state.warc_record_id, state.target_uri, warc_date(state.warc_date))
            self._warc().write_revisit(last, original, metadata(site_for(last.url), last.started_at, None, None))
            return Source(url, last.status, None, unchanged=True)
        ref = self.write(last, None)
        if fetched.error or fetched.final is None:
            return Source(url, last.status, None, error=fetched.error or f"HTTP {last.status}")
        row = FeedRow(url, site.name, last.header("ETag"), last.header("Last-Modified"), digest, ref.warc_file,
                      ref.record_id, last.started_at, last.url)  # fmt: skip
        body = fetched.final.body if 200 <= last.status < 300 else None
        return Source(url, last.status, body, state=row if body is not None else None, error=_status(last))

    def robots(self, url: str) -> Source:
        """robots.txt, every exchange archived; ``status`` None when no answer came."""
        fetched = self._fetcher.fetch(url)
        for exchange in fetched.exchanges:
            self.write(exchange, None)
        if fetched.final is None:
            return Source(url, None, None, error=fetched.error or "no answer")
        return Source(url, fetched.final.status, fetched.final.body)

    def write(self, exchange: Exchange, stem: Path | None) -> RecordRef:
        return archive_exchange(self._warc(), exchange, stem, self.archive)

    def _write_all(self, fetched: Fetched, stem: Path | None) -> RecordRef | None:
        ref = None
        final_url = fetched.final.url if fetched.final is not None else None
        for exchange in fetched.exchanges:
            ref = self.write(exchange, stem if exchange.url == final_url else None)
        return ref


def archive_exchange(warc: WarcFile, exchange: Exchange, stem: Path | None, archive: Archive | None) -> RecordRef:
    """One exchange and its metadata record; ``stem`` names where its text goes (relative to
    ``archive``'s root)."""
    return warc.write_exchange(exchange, metadata(site_for(exchange.url), exchange.started_at, stem, archive))


def _status(last: Exchange) -> str | None:
    return None if 200 <= last.status < 300 else f"HTTP {last.status}"


def metadata(site: Site, when: datetime, stem: Path | None, archive: Archive | None) -> dict[str, str]:
    """The fields of a response's metadata record."""
    fields = {
        "software": f"scraper/{__version__}",
        "adapter": site.name,
        "adapter-version": site.layout_for(when).version,
        "extractor": f"trafilatura/{TRAFILATURA_VERSION}",
    }
    if stem is not None and archive is not None:
        fields[TEXT_FIELD] = archive.relative(stem)
    return fields


def warcinfo(settings: Settings) -> dict[str, str]:
    info = {
        "software": f"scraper/{__version__} (trafilatura/{TRAFILATURA_VERSION})",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "http-header-user-agent": settings.user_agent,
        "max-body-bytes": str(settings.max_body_bytes),
        "max-redirects": str(settings.max_redirects),
    }
    if settings.connect_to:  # a field name holds no space or colon (WARC 1.1, 4): the pairs go in the value
        info["connect-to"] = ", ".join(f"{origin}={target}" for origin, target in settings.connect_to)
    return info
