"""``scraper fetch``: a list of URLs fetched once each, politely, into one new WARC file.

Each URL goes through the pipeline as a scheduled run's articles do; the text of the URL in
place NNN of the list is ``text/<warc name>/NNN_<hash>``. The WARC is made when the first record
is written (a batch that received nothing leaves no file), carries the ``.open`` marker while it
is written (so that the next fetch or run repairs it if this one is killed, or cannot write: a
full disk), and is indexed at the end. A stop request ends the batch after the record being
written, with the WARC closed: a page it cut short stays there, marked truncated, and counts among
the URLs not fetched, not as failed. At its start a batch repairs the files earlier ones left
open, as a run does, but never one that is being written: a run holds the archive lock
meanwhile, and a fetch a lock on its file's marker.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from scraper.archive.cdx import repaired
from scraper.archive.cdx_written import index_written
from scraper.archive.layout import Archive, open_marker
from scraper.capture.warc import WarcFile, Written, left_open, mark_open, new_warc_path
from scraper.config import Settings
from scraper.errors import ArchiveError, UsageError, WorkerError
from scraper.models import Capture, Outcome, RunReport
from scraper.pipeline.capture import Capturer, warcinfo
from scraper.pipeline.store import extract
from scraper.pipeline.workers import Extractors
from scraper.schedule.limits import Budget, archive_lock
from scraper.schedule.polite import CUT_SHORT, Polite
from scraper.sites import site_for
from scraper.urls import canonical


@dataclass(frozen=True, slots=True)
class BatchResult:
    warc: Path | None  # None: nothing was received, so no file was made
    texts: Path | None  # None: no text was written
    report: RunReport
    notes: tuple[str, ...] = ()
    not_reached: int = 0  # URLs a stop request came before, or cut short


class _LazyWarc:
    def __init__(self, archive: Archive, settings: Settings) -> None:
        self._archive, self._settings = archive, settings
        self.path = new_warc_path(archive.warcs, "fetch", datetime.now(UTC))
        self.file: WarcFile | None = None
        self.written: Written | None = None  # what the file was given, once it is closed
        self._marker: int | None = None  # the marker, open and locked while the file is written

    def __call__(self) -> WarcFile:
        if self.file is None:
            self._marker = mark_open(self.path, self._archive.root)
            self.file = WarcFile(self.path, self._archive.relative(self.path), root=self._archive.root)
            self.file.write_warcinfo(warcinfo(self._settings))
        return self.file

    def close(self) -> None:
        if self.file is not None:
            self.written = self.file.written()
            self.file.close()
            open_marker(self.path).unlink(missing_ok=True)
        self._release()

    def abandon(self) -> None:
        """After a failed write: the file closed if it still can be, its marker left for the next
        fetch or run to repair it."""
        if self.file is not None:
            with suppress(OSError, ArchiveError):
                self.file.close()
        self._release()

    def _release(self) -> None:
        if self._marker is not None:
            os.close(self._marker)
            self._marker = None


def fetch_batch(
    urls: list[str], settings: Settings, on_step: Callable[[Outcome], None], *, obey_robots: bool = True,
    stop: threading.Event | None = None,
) -> BatchResult:  # fmt: skip
    """Fetch each URL once (a URL given twice, once) and write a text per article, until ``stop``."""
    from scraper.capture.fetch import Fetcher  # httpx: imported by the commands that fetch only

    archive, stop = Archive.at(settings.out), stop or threading.Event()  # refused: a folder leading out
    warc = _LazyWarc(archive, settings)
    try:  # an output folder that cannot be written is said before anything is fetched
        archive.warcs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchiveError(f"{warc.path}: cannot create WARC file: {exc.strerror or exc}") from exc
    todo, again = _once(urls)
    notes, outcomes = [*_repair(archive), *_said_once(again)], list[Outcome]()
    try:
        # forked before the fetcher's threads exist; each page extracted under the time and memory limits
        with (
            Extractors(1, settings.extract_seconds, settings.extract_memory_mb) as workers,
            Fetcher(settings, stop=stop) as fetcher,
        ):
            capturer = Capturer(fetcher, warc, archive)
            polite = Polite(capturer, settings, Budget(None, None, stop), obey_robots)
            for seq, url in enumerate(todo):
                outcome = None if stop.is_set() else _one(capturer, polite, workers, warc.path, seq, url, stop)
                if outcome is None:  # a stop request: the records of the last page are whole
                    break
                outcomes.append(outcome)
                on_step(outcome)
        warc.close()
    except OSError as exc:  # a full disk, a file too big: the marker stays, the next fetch or run repairs
        warc.abandon()
        left = "; left marked open: the next fetch or run repairs it" if warc.file else ""
        raise ArchiveError(f"{warc.path}: cannot write: {exc.strerror or exc}{left}") from None
    except BaseException:
        warc.abandon()
        raise
    written = [o for o in outcomes if o.ok and not o.skipped]
    if warc.written is not None and (indexed := index_written(warc.written)).problem:  # for replay tools
        notes.append(f"not indexed: {indexed.note}")
    texts = archive.batch_folder(warc.path) if written else None
    result = BatchResult(warc.path if warc.file else None, texts, RunReport(tuple(outcomes)), tuple(notes))
    return replace(result, not_reached=len(todo) - len(outcomes)) if stop.is_set() else result


def _repair(archive: Archive) -> list[str]:
    """WARC files a killed fetch or run left marked open, repaired as ``scraper run`` does; not
    while a run holds the archive or a fetch is writing: their files are marked open as they grow."""
    if not left_open(archive.warcs):
        return []
    try:
        with archive_lock(archive.root):
            return repaired(archive.warcs)
    except UsageError:  # a run or re-clean holds the archive: the marked files are its own, growing
        return []


def _once(urls: list[str]) -> tuple[list[str], list[str]]:
    """Each article once: addresses that normalise alike (tracking parameters, a trailing slash,
    a mobile host) are one, the first given kept; and the others, left out."""
    seen: dict[str, str] = {}
    again = []
    for url in urls:
        key = canonical(url, site_for(url))
        if key in seen:
            again.append(url)
        else:
            seen[key] = url
    return list(seen.values()), again


def _said_once(again: list[str]) -> list[str]:
    if not again:
        return []
    more = f" and {len(again) - 3} more" if len(again) > 3 else ""
    said = "1 URL is an article" if len(again) == 1 else f"{len(again)} URLs are articles"
    return [f"fetched once: {said} given before ({', '.join(again[:3])}{more})"]


def _one(
    capturer: Capturer, polite: Polite, workers: Extractors, warc: Path, seq: int, url: str, stop: threading.Event
) -> Outcome | None:
    """What became of ``url``; None when a stop request came before it was fetched whole: while
    it waited its turn, or cut it (or its robots.txt) short, which is no fault of the page's. What
    came before the stop stays archived, marked truncated."""
    why = polite.forbidden(url)
    if why == CUT_SHORT:
        return None
    if why:  # unreadable robots.txt forbids the host: a failure, not a choice
        return Outcome(url, why.startswith("disallowed"), why, skipped=why.startswith("disallowed"))
    if not polite.wait(url):
        return None

    def stem_for(final: Capture) -> Path:
        return capturer.archive.batch_stem(warc, seq, final.url)

    got = capturer.page(url, stem_for)
    if got.error and stop.is_set():
        return None
    if got.error or got.final is None or got.ref is None or got.stem is None:
        return Outcome(url, False, got.error or "nothing received")
    try:
        outcome = workers.submit(extract, capturer.archive.root, got.final, got.ref, got.stem, got.truncated).result()
    except WorkerError as exc:  # past the time or memory limit: this page failed, archived all the same
        return Outcome(url, False, str(exc), record_id=got.ref.record_id)
    # asked for as an article: a page that is none (the site's "not found" page) failed
    return replace(outcome, ok=False, skipped=False) if outcome.skipped else outcome
