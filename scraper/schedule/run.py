"""Scheduled runs (``scraper run``): the pipeline for cron and systemd timers.

Per site: discover article URLs in its feeds and sitemaps (fetched conditionally, archived, a 304
or an unchanged body kept as a revisit record), skip what the catalog already holds, fetch the
rest politely, archive, extract and store under ``text/<site>/<YYYY-MM-DD>/NNN_<hash>``.
Each site runs in its own thread with its own fetcher and WARC files, so a slow site does not
hold up the others. A stop request (Ctrl-C, SIGTERM) or a spent budget ends each site after the
record it is writing; the catalog marks a page archived only after its records are on disk.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scraper.archive.catalog import Catalog
from scraper.archive.cdx import Indexed, index_all
from scraper.archive.texts import stem
from scraper.capture.fetch import Fetched, Fetcher
from scraper.capture.warc import Original, WarcSink, payload_digest, repair_unclosed, warc_date
from scraper.config import Settings
from scraper.errors import ScraperError, WorkerError
from scraper.models import Exchange, Outcome, RecordRef
from scraper.pipeline import archive_fetched, extract_and_store, metadata, warcinfo
from scraper.schedule.discover import Link, candidates, feed_links, sitemap_links
from scraper.schedule.limits import Budget, HostPacer, archive_lock
from scraper.schedule.report import RunResult, SiteReport
from scraper.schedule.robots import Robots
from scraper.sites import Site, site_for
from scraper.urls import canonical
from scraper.watch.quality import check_run
from scraper.workers import Extractors, Pending

# reasons that a later run would only repeat: the URL is given up at once instead of retried
_PERMANENT = ("HTTP 404", "HTTP 410", "not HTML")
_MAX_SITEMAP_DEPTH = 2  # an index of indexes at most; a self-referencing index stops here too
_Ended = tuple[str, str, datetime, Outcome]  # (canonical, url, when fetched, what extraction gave)


def scheduled_run(settings: Settings, sites: list[Site], budget: Budget, on_event: Callable[[str], None]) -> RunResult:
    root = settings.out
    with archive_lock(root), Catalog(root / "catalog.sqlite") as catalog:
        notes = [f"repaired: {line}" for line in repair_unclosed(root / "warc")]  # left open by a killed run
        run_id = catalog.start_run(datetime.now(UTC))
        # the extraction workers start before the site threads do: they are forked (workers.py)
        with (
            Extractors(settings.run_jobs) as extract,
            ThreadPoolExecutor(max_workers=max(1, len(sites)), thread_name_prefix="site") as pool,
        ):
            shared = _Shared(settings, catalog, budget, on_event, extract)
            futures = {site.name: pool.submit(_SiteRun(site, shared).run) for site in sites}
            reports = {name: future.result() for name, future in futures.items()}
            notes += [note for indexing in shared.indexing for note in _index_notes(indexing)]
        result = RunResult(reports, tuple(shared.warc_files), budget.stop.is_set(), tuple(notes))
        status = "interrupted" if result.interrupted else ("failed" if result.failed else "ok")
        catalog.finish_run(run_id, datetime.now(UTC), status, {n: r.counts() for n, r in reports.items()})
        try:  # a check that cannot be made is said, never a failed run
            quality = check_run(
                catalog, root, datetime.now(UTC), sites=[s.name for s in sites], max_body=settings.max_body_bytes
            )
            result = replace(result, quality=quality)
        except ScraperError as exc:
            result = replace(result, notes=(*result.notes, f"quality check not made: {exc}"))
    return result


class _Shared:
    """What the site threads share (the catalog is safe to use from several threads)."""

    def __init__(
        self, settings: Settings, catalog: Catalog, budget: Budget, on_event: Callable[[str], None], extract: Extractors
    ):
        self.settings, self.catalog, self.budget, self.on_event = settings, catalog, budget, on_event
        self.extract = extract
        self.lock = threading.Lock()
        self.warc_files: list[Path] = []
        self.indexing: list[Pending[list[Indexed]]] = []  # each site's WARC files, indexed once closed


class _SiteRun:
    def __init__(self, site: Site, shared: _Shared) -> None:
        self.site, self.shared, self.s = site, shared, shared.settings
        self.report = SiteReport()
        self._robots_errors: dict[str, str] = {}  # host -> why its robots.txt could not be read
        self._feed_states: list[dict[str, Any]] = []  # feed responses to remember once their links are stored
        self._pending: deque[tuple[str, str, datetime, Pending[Outcome]]] = deque()  # extractions under way

    def run(self) -> SiteReport:
        s = self.s
        try:
            with (
                Fetcher(s, sleep=self.shared.budget.sleep) as fetcher,
                WarcSink(
                    s.out / "warc", s.out, self.site.name, s.warc_max_bytes, warcinfo(s), lambda: datetime.now(UTC)
                ) as sink,
            ):
                self.fetcher, self.sink = fetcher, sink
                self.robots = Robots(self._fetch_robots) if s.obey_robots else None
                self.polite = HostPacer(s.delay, self.robots, s.user_agent, self.shared.budget.stop)
                self._visit()
            # the site's WARC files are closed: a worker indexes them for replay tools while the
            # other sites go on
            indexing = self.shared.extract.submit(_index, list(sink.paths))
            with self.shared.lock:
                self.shared.warc_files.extend(sink.paths)
                self.shared.indexing.append(indexing)
        except Exception as exc:
            self.report.fail(self.site.name, f"site run stopped: {type(exc).__name__}: {exc}")
        return self.report

    def _visit(self) -> None:
        links = self._discover()
        found = candidates(links, self.site)
        self.report.discovered = len(found)
        pairs = [(canonical(link.url, self.site), link.url) for link in found]
        now = datetime.now(UTC)
        catalog = self.shared.catalog
        new = catalog.to_fetch(self.site.name, pairs, now, self.s.max_attempts)
        # only now that their links are in the catalog: a run killed before this point must not
        # leave a feed looking unchanged (304) to the next run with its links never stored
        for state in self._feed_states:
            catalog.record_feed(**state)
        retries = catalog.due_retries(self.site.name, now, self.s.max_attempts)
        self.report.new = len(new)
        urls, planned = dict(pairs), set(new)
        todo = [(c, urls[c]) for c in new] + [(c, u) for c, u in retries if c not in planned]
        try:
            for key, url in todo:
                if not self.shared.budget.take():
                    break
                self._article(key, url)
        finally:
            ended = [self._wait(*pending) for pending in self._pending]
            self._pending.clear()
            self._settle(ended)

    # --- discovery -------------------------------------------------------------------------

    def _discover(self) -> list[Link]:
        sources = list(self.site.feeds) + (list(self.site.sitemaps) if self.s.use_sitemaps else [])
        links: list[Link] = []
        seen: set[str] = set()
        for source in sources:
            links += self._source(source, 0, seen)
        return links

    def _source(self, url: str, depth: int, seen: set[str]) -> list[Link]:
        if url in seen or depth > _MAX_SITEMAP_DEPTH or self.shared.budget.spent():
            return []
        seen.add(url)
        body = self._fetch_source(url)
        if body is None:
            return []
        if url in self.site.feeds:
            return feed_links(body, url)
        found = sitemap_links(body, url)
        links = list(found.pages)
        for child in found.sitemaps:
            links += self._source(child, depth + 1, seen)
        return links

    def _forbidden(self, url: str) -> bool:
        """robots.txt forbids the URL: counted as skipped, or as failed when robots.txt could not be
        read at all (then nothing may be fetched from that host, RFC 9309)."""
        if self.robots is None or self.robots.allowed(url, self.s.user_agent):
            return False
        unreachable = self._robots_errors.get(urlsplit(url).netloc)
        if unreachable:
            self.report.fail(url, f"robots.txt unreachable: {unreachable}")
        else:
            self.report.skipped_robots += 1
        return True

    def _fetch_source(self, url: str) -> bytes | None:
        """The feed's body when it changed since the last run; None when it did not or failed."""
        if self._forbidden(url):
            return None
        state = self.shared.catalog.feed_state(url)
        headers = {}
        if state and state.etag:
            headers["If-None-Match"] = state.etag
        if state and state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        self.polite.wait(url)
        fetched = self.fetcher.fetch(url, headers)
        *hops, last = fetched.exchanges or (None,)
        for hop in hops:
            self._write(hop)
        if last is None:
            self.report.fail(url, f"feed: {fetched.error}")
            return None
        digest = payload_digest(last.raw_body)
        unchanged = last.status == 304 or (last.status == 200 and state is not None and digest == state.payload_digest)
        if unchanged and state is not None:
            original = Original(state.warc_record_id, state.target_uri, warc_date(state.warc_date))
            self.sink.current().write_revisit(last, original, metadata(self.site, last.started_at, None, self.s.out))
            self.report.feeds_unchanged += 1
            return None
        ref = self._write(last)
        if fetched.error or fetched.final is None or not 200 <= last.status < 300:
            self.report.fail(url, f"feed: {fetched.error or f'HTTP {last.status}'}")
            return None
        self._feed_states.append(
            {"url": url, "site": self.site.name, "etag": _header(last, "etag"),
             "last_modified": _header(last, "last-modified"), "payload_digest": digest, "warc_file": ref.warc_file,
             "warc_record_id": ref.record_id, "warc_date": last.started_at, "target_uri": last.url}
        )  # fmt: skip
        return fetched.final.body

    def _fetch_robots(self, robots_url: str) -> tuple[int, bytes] | None:
        fetched = self.fetcher.fetch(robots_url)
        for exchange in fetched.exchanges:
            self._write(exchange)
        if fetched.final is None:
            self._robots_errors[urlsplit(robots_url).netloc] = fetched.error or "no answer"
            return None
        if fetched.final.status >= 500:
            self._robots_errors[urlsplit(robots_url).netloc] = f"HTTP {fetched.final.status}"
        return fetched.final.status, fetched.final.body

    # --- articles --------------------------------------------------------------------------

    def _article(self, key: str, url: str) -> None:
        if self._forbidden(url):
            return
        self.polite.wait(url)
        fetched = self.fetcher.fetch(url)
        self.report.fetched += 1
        final_stem = self._text_stem(key, fetched)
        ref = archive_fetched(fetched, self.sink.current(), final_stem, self.s.out)
        catalog, now = self.shared.catalog, datetime.now(UTC)
        if ref is None or fetched.final is None or fetched.error or final_stem is None:
            self._failed(key, url, fetched.error or "nothing received", now)
            return
        self.report.archived += 1
        final = replace(fetched.final, record_id=ref.record_id)
        self._pending.append((key, url, now, self.shared.extract.submit(extract_and_store, final, ref, final_stem)))
        # with N workers, up to N-1 pages of this site are extracted while it fetches the next one
        ended = [self._wait(*self._pending.popleft()) for _ in range(len(self._pending) - self.shared.extract.jobs + 1)]
        # the capture only now, with the records on disk (write_exchange fsyncs before it returns)
        self._settle(ended, lambda: catalog.record_capture(
            key, url=url, site=self.site.name, fetched_at=final.fetched_at, http_status=final.status,
            etag=final.header("ETag"), last_modified=final.header("Last-Modified"),
            payload_digest=ref.payload_digest, warc_file=ref.warc_file, warc_record_id=ref.record_id,
            warc_offset=ref.offset,
        ))  # fmt: skip

    def _settle(self, ended: list[_Ended], capture: Callable[[], None] | None = None) -> None:
        """One catalog commit for a page's capture and the extractions that ended meanwhile; then
        the progress display, with the catalog free again."""
        with self.shared.catalog.transaction():
            if capture is not None:
                capture()
            for item in ended:
                self._extracted(*item)
        for _, url, _, outcome in ended:
            if outcome.ok:
                self.shared.on_event(f"{self.site.name}: {url}")

    def _wait(self, key: str, url: str, now: datetime, pending: Pending[Outcome]) -> _Ended:
        try:
            return key, url, now, pending.result()
        except WorkerError as exc:
            return key, url, now, Outcome(url, False, str(exc))

    def _extracted(self, key: str, url: str, now: datetime, outcome: Outcome) -> None:
        if not outcome.ok:
            self._failed(key, url, outcome.reason, now)
            return
        self.report.extracted += 1
        text = Path(outcome.text_file or "")
        self.shared.catalog.record_article(
            key, text_path=os.path.relpath(text, self.s.out),
            json_path=os.path.relpath(text.with_suffix(".json"), self.s.out),
            text_sha256=outcome.text_sha256 or "",
        )  # fmt: skip

    def _text_stem(self, key: str, fetched: Fetched) -> Path | None:
        if fetched.final is None:
            return None
        day = fetched.final.fetched_at.astimezone(UTC).date()
        serial = self.shared.catalog.next_serial(self.site.name, day, key)
        return self.s.out / "text" / self.site.name / day.isoformat() / stem(serial, fetched.final.url)

    def _failed(self, key: str, url: str, reason: str, now: datetime) -> None:
        self.report.fail(url, reason)
        self.shared.catalog.record_failure(
            key, url=url, site=self.site.name, reason=reason, now=now, backoff=timedelta(seconds=self.s.retry_backoff),
            max_attempts=self.s.max_attempts, give_up=reason.startswith(_PERMANENT),
        )  # fmt: skip

    def _write(self, exchange: Exchange) -> RecordRef:
        """A feed, sitemap or robots.txt exchange: archived, with no text of its own."""
        fields = metadata(site_for(exchange.url), exchange.started_at, None, self.s.out)
        return self.sink.current().write_exchange(exchange, fields)


def _index(warcs: list[Path]) -> list[Indexed]:
    return list(index_all(warcs))


def _index_notes(indexing: Pending[list[Indexed]]) -> list[str]:
    """What could not be indexed: said in the run's notes, never a failed run."""
    try:
        done = indexing.result()
    except WorkerError as exc:
        return [f"not indexed: {exc}"]
    return [f"not indexed: {i.warc}: {i.problem}" for i in done if i.problem]


def _header(exchange: Exchange, name: str) -> str | None:
    return next((v for k, v in exchange.response_headers if k.lower() == name), None)
