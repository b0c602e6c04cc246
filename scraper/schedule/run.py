"""Scheduled runs (``scraper run``): the scheduler for cron and systemd timers. It decides what to
fetch, when and how politely; the pipeline fetches, archives, extracts and stores.

Per site: discover article URLs in its feeds and sitemaps, skip what the catalog already holds,
fetch the rest politely (robots.txt, a per-host delay), within the run's budget. Each site runs
in its own thread with its own fetcher and WARC sink, so a slow site does not hold up the others.
A stop request (Ctrl-C, SIGTERM) or a spent budget ends each site after the record it is
writing; the catalog marks a page archived only after its records are on disk.

Discovery reads at most ``max_sitemaps`` sitemaps and, under a time budget, takes at most its
``discovery_share``, so that articles are still fetched. Whatever goes wrong with one feed,
sitemap or article is recorded against it and the site goes on; only a fault of the archive itself
(``_ARCHIVE_FAULTS``: disk full, a broken catalog) ends the site, and a half-written WARC with it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scraper.archive.catalog import Catalog
from scraper.archive.cdx import Indexed, repaired
from scraper.archive.cdx_written import index_written
from scraper.archive.layout import Archive
from scraper.archive.schema import CaptureRow, FeedRow
from scraper.capture.fetch import Fetcher
from scraper.capture.warc import WarcSink, Written
from scraper.config import Settings
from scraper.errors import ArchiveError, CatalogError, ScraperError, WorkerError
from scraper.models import Capture, Outcome, RecordRef
from scraper.pipeline.capture import Captured, Capturer, warcinfo
from scraper.pipeline.store import extract
from scraper.pipeline.workers import Extractors, Pending
from scraper.schedule.discover import candidates
from scraper.schedule.limits import Budget, archive_lock
from scraper.schedule.polite import CUT_SHORT, Polite
from scraper.schedule.report import RunResult, SiteReport
from scraper.schedule.sources import Discovering
from scraper.sites import Site
from scraper.urls import canonical

# reasons that a later run would only repeat: the URL is given up at once instead of retried
_PERMANENT = ("HTTP 404", "HTTP 410", "not HTML", "error page")
_Ended = tuple[str, str, datetime, Outcome]  # (canonical, url, when fetched, what extraction gave)
# the archive's own faults: the WARC or text cannot be written (OSError: disk full, file too big) or
# the catalog is broken. Writing on after one would put records after a torn one: the site ends.
_ARCHIVE_FAULTS = (ArchiveError, OSError)


@dataclass(frozen=True, slots=True)
class Progressed:
    """What a site's thread tells the progress display: the articles it found due, once its
    discovery has ended, or one of them fetched (its extraction may still be under way) or passed over."""

    due: int = 0
    done: int = 0


OnEvent = Callable[[Progressed], None]


def scheduled_run(settings: Settings, sites: list[Site], budget: Budget, on_event: OnEvent) -> RunResult:
    archive = Archive(settings.out)
    with archive_lock(archive.root), Catalog(archive.catalog) as catalog:
        notes = repaired(archive.warcs)  # files a killed run left open
        run_id = catalog.start_run(datetime.now(UTC))
        # the extraction workers start before the site threads do: they are forked (workers.py)
        with (
            Extractors(settings.run_jobs, settings.extract_seconds, settings.extract_memory_mb) as extract_in,
            ThreadPoolExecutor(max_workers=max(1, len(sites)), thread_name_prefix="site") as pool,
        ):
            shared = _Shared(settings, archive, catalog, budget, on_event, extract_in)
            futures = {site.name: pool.submit(_SiteRun(site, shared).run) for site in sites}
            reports = {name: future.result() for name, future in futures.items()}
            notes += [f"{name}: discovery cut: {r.discovery_cut}" for name, r in reports.items() if r.discovery_cut]
            notes += [note for indexing in shared.indexing for note in _index_notes(indexing)]
        result = RunResult(reports, tuple(shared.warc_files), budget.stop.is_set(), tuple(notes))
        status = "interrupted" if result.interrupted else ("failed" if result.failed else "ok")
        catalog.finish_run(run_id, datetime.now(UTC), status, {n: r.counts() for n, r in reports.items()})
    return result


class _Shared:
    """What the site threads share (the catalog is safe to use from several threads)."""

    def __init__(
        self, settings: Settings, archive: Archive, catalog: Catalog, budget: Budget,
        on_event: OnEvent, extract_in: Extractors,
    ):  # fmt: skip
        self.settings, self.archive, self.catalog, self.budget = settings, archive, catalog, budget
        self.on_event, self.extract = on_event, extract_in
        self.lock = threading.Lock()
        self.warc_files: list[Path] = []
        self.indexing: list[Pending[list[Indexed]]] = []  # each site's WARC files, indexed once closed


class _SiteRun(Discovering):
    shared: _Shared

    def __init__(self, site: Site, shared: _Shared) -> None:
        self.site, self.shared, self.s = site, shared, shared.settings
        self.report = SiteReport()
        self._feed_states: dict[str, FeedRow] = {}  # feed responses to remember once their links are stored
        self._pending: deque[tuple[str, str, datetime, Pending[Outcome]]] = deque()  # extractions under way
        self._halted = False  # a wait for the host's turn was cut short or would pass the time budget

    def run(self) -> SiteReport:
        s, archive, budget = self.s, self.shared.archive, self.shared.budget
        sink = WarcSink(archive.warcs, archive.root, self.site.name, s.warc_max_bytes, warcinfo(s), _now)
        try:
            with Fetcher(s, sleep=budget.wait, stop=budget.stop, left=budget.left) as fetcher, sink:
                self.capturer = Capturer(fetcher, sink.current, archive)
                self.polite = Polite(self.capturer, s, budget, s.obey_robots)
                self._visit()
        except CatalogError:  # a catalog the run cannot trust: every site stops, the run is refused (exit 2)
            self.shared.budget.stop.set()
            raise
        except Exception as exc:  # our own errors say what they are; another's class name tells what it was
            why = str(exc) if isinstance(exc, ScraperError) else f"{type(exc).__name__}: {exc}"
            self.report.fail(self.site.name, f"site run stopped: {why}")
        # the site's files closed, even after a fault: a worker indexes them for replay tools while
        # the other sites go on
        indexing = self.shared.extract.submit_untimed(_index, sink.written)
        with self.shared.lock:
            self.shared.warc_files.extend(sink.paths)
            self.shared.indexing.append(indexing)
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
        for state in self._feed_states.values():
            catalog.record_feed(state)
        retries = catalog.due_retries(self.site.name, now, self.s.max_attempts)
        self.report.new = len(new)
        urls, planned = dict(pairs), set(new)
        todo = [(c, urls[c]) for c in new] + [(c, u) for c, u in retries if c not in planned]
        self.shared.on_event(Progressed(due=len(todo)))
        try:
            for key, url in todo:
                if self._halted or not self.shared.budget.take():
                    break
                with self._alone(url, "fetch", key):
                    self._article(key, url)
                if not self._halted:  # a halted one was not fetched: the run ends here
                    self.shared.on_event(Progressed(done=1))
        finally:
            ended = [self._wait(*pending) for pending in self._pending]
            self._pending.clear()
            self._settle(ended)

    def _forbidden(self, url: str) -> bool:
        """robots.txt forbids the URL: counted as skipped, or as failed when robots.txt could not be
        read at all (then nothing may be fetched from that host, RFC 9309)."""
        why = self.polite.forbidden(url)
        if why is None:
            return False
        if why == CUT_SHORT:
            self._halted = True
        elif why.startswith("robots.txt unreachable"):
            self.report.fail(url, why)
        else:
            self.report.skipped_robots += 1
        return True

    # --- articles --------------------------------------------------------------------------

    def _article(self, key: str, url: str) -> None:
        if self._forbidden(url):
            return
        if not self.polite.wait(url):
            self._halted = True
            return
        got = self.capturer.page(url, lambda final: self._text_stem(key, final))
        self.report.fetched += 1
        now = datetime.now(UTC)
        if got.error and self.shared.budget.spent():  # cut by a stop or the budget: no fault of the page's
            self._halted = True
            return
        if got.error or got.final is None or got.ref is None or got.stem is None:
            self._failed(key, url, got.error or "nothing received", now)
            return
        self.report.archived += 1
        args = (self.shared.archive.root, got.final, got.ref, got.stem, got.truncated)
        self._pending.append((key, url, now, self.shared.extract.submit(_extract, *args)))
        # with N workers, up to N-1 pages of this site are extracted while it fetches the next one
        ended = [self._wait(*self._pending.popleft()) for _ in range(len(self._pending) - self.shared.extract.jobs + 1)]
        # the capture only now, with the records on disk (write_exchange fsyncs before it returns)
        self._settle(ended, self._capture_row(key, url, got))

    def _capture_row(self, key: str, url: str, got: Captured) -> CaptureRow:
        final, ref = got.final, got.ref
        assert final is not None and ref is not None  # checked by the caller
        return CaptureRow(
            canonical=key, url=url, site=self.site.name, fetched_at=final.fetched_at, http_status=final.status,
            etag=final.header("ETag"), last_modified=final.header("Last-Modified"),
            payload_digest=ref.payload_digest, warc_file=ref.warc_file, warc_record_id=ref.record_id,
            warc_offset=ref.offset,
        )  # fmt: skip

    def _settle(self, ended: list[_Ended], capture: CaptureRow | None = None) -> None:
        """One catalog commit for a page's capture and the extractions that ended meanwhile."""
        with self.shared.catalog.transaction():
            if capture is not None:
                self.shared.catalog.record_capture(capture)
            for item in ended:
                self._extracted(*item)

    def _wait(self, key: str, url: str, now: datetime, pending: Pending[Outcome]) -> _Ended:
        try:
            return key, url, now, pending.result()
        except WorkerError as exc:
            return key, url, now, Outcome(url, False, str(exc))

    def _extracted(self, key: str, url: str, now: datetime, outcome: Outcome) -> None:
        if not outcome.ok or outcome.skipped:
            self._failed(key, url, outcome.reason, now)
            return
        with self._alone(url, "recording the text", key):
            text = self.shared.archive.relative(Path(outcome.text_file or ""))
            self.shared.catalog.record_article(
                key, text_path=text, text_sha256=outcome.text_sha256 or "", adapter=outcome.adapter or "",
                extracted_at=now,
            )  # fmt: skip
            self.report.extracted += 1

    @contextmanager
    def _alone(self, url: str, stage: str, key: str | None = None) -> Iterator[None]:
        """Whatever goes wrong with one feed, sitemap or article (``key``) is its failure, with the
        reason; an article's is recorded, then retried or given up as any other. The site goes on;
        only the archive's own faults end it."""
        try:
            yield
        except _ARCHIVE_FAULTS:
            raise
        except Exception as exc:
            if key is None:
                self.report.fail(url, _unexpected(stage, exc))
            else:
                self._failed(key, url, _unexpected(stage, exc), datetime.now(UTC))

    def _text_stem(self, key: str, final: Capture) -> Path:
        day = final.fetched_at.astimezone(UTC).date()
        serial = self.shared.catalog.next_serial(self.site.name, day, key)
        return self.shared.archive.run_stem(self.site.name, day, serial, final.url)

    def _failed(self, key: str, url: str, reason: str, now: datetime) -> None:
        self.report.fail(url, reason)
        self.shared.catalog.record_failure(
            key, url=url, site=self.site.name, reason=reason, now=now, backoff=timedelta(seconds=self.s.retry_backoff),
            max_attempts=self.s.max_attempts, give_up=reason.startswith(_PERMANENT),
        )  # fmt: skip


def _now() -> datetime:
    return datetime.now(UTC)


def _unexpected(stage: str, exc: Exception) -> str:
    return f"{stage}: unexpected {type(exc).__name__}: {str(exc)[:300]}"  # a reason, not a dump of the page


def _extract(root: Path, final: Capture, ref: RecordRef, stem: Path, truncated: str | None) -> Outcome:
    """``extract``, where an error nobody expected is the page's failure (in a worker process too);
    a text that cannot be written (StoreError) is the archive's fault and ends the site."""
    try:
        return extract(root, final, ref, stem, truncated)
    except _ARCHIVE_FAULTS:
        raise
    except Exception as exc:
        return Outcome(final.url, False, _unexpected("extraction", exc))


def _index(written: list[Written]) -> list[Indexed]:
    return [index_written(done) for done in written]


def _index_notes(indexing: Pending[list[Indexed]]) -> list[str]:
    """What could not be indexed: said in the run's notes, never a failed run."""
    try:
        done = indexing.result()
    except WorkerError as exc:
        return [f"not indexed: {exc}"]
    return [f"not indexed: {i.note}" for i in done if i.problem]
