"""``scraper fetch``: a list of URLs fetched once each, politely, into one new WARC file.

Each URL goes through the pipeline as a scheduled run's articles do; the text of the URL in
place NNN of the list is ``text/<warc name>/NNN_<hash>``. The WARC is made when the first record
is written (a batch that received nothing leaves no file), carries the ``.open`` marker while it
is written (so that the next run repairs it if this one is killed), and is indexed at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from scraper.archive.cdx import index_all
from scraper.archive.layout import Archive, open_marker
from scraper.capture.warc import WarcFile, new_warc_path
from scraper.config import Settings
from scraper.errors import ArchiveError
from scraper.models import Capture, Outcome, RunReport
from scraper.pipeline.capture import Capturer, warcinfo
from scraper.pipeline.store import extract
from scraper.schedule.polite import Polite
from scraper.sites import site_for
from scraper.urls import canonical


@dataclass(frozen=True, slots=True)
class BatchResult:
    warc: Path | None  # None: nothing was received, so no file was made
    texts: Path | None  # None: no text was written
    report: RunReport
    notes: tuple[str, ...] = ()


class _LazyWarc:
    def __init__(self, archive: Archive, settings: Settings) -> None:
        self._archive, self._settings = archive, settings
        self.path = new_warc_path(archive.warcs, "fetch", datetime.now(UTC))
        self.file: WarcFile | None = None

    def __call__(self) -> WarcFile:
        if self.file is None:
            marker = open_marker(self.path)
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()  # removed on a clean close: one left behind names a file to repair
            self.file = WarcFile(self.path, self._archive.relative(self.path))
            self.file.write_warcinfo(warcinfo(self._settings))
        return self.file

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            open_marker(self.path).unlink(missing_ok=True)


def fetch_batch(
    urls: list[str], settings: Settings, on_step: Callable[[Outcome], None], *, obey_robots: bool = True
) -> BatchResult:
    """Fetch each URL once (a URL given twice, once) and write a text per article."""
    from scraper.capture.fetch import Fetcher  # httpx: imported by the commands that fetch only

    archive, stop = Archive(settings.out), threading.Event()
    warc = _LazyWarc(archive, settings)
    try:  # an output folder that cannot be written is said before anything is fetched
        archive.warcs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchiveError(f"{warc.path}: cannot create WARC file: {exc.strerror or exc}") from exc
    outcomes = []
    try:
        with Fetcher(settings) as fetcher:
            capturer = Capturer(fetcher, warc, archive)
            polite = Polite(capturer, settings, stop, obey_robots)
            for seq, url in enumerate(_once(urls)):
                outcome = _one(capturer, polite, archive, warc.path, seq, url)
                outcomes.append(outcome)
                on_step(outcome)
    finally:
        warc.close()
    written = [o for o in outcomes if o.ok and not o.skipped]
    notes = []
    if warc.file is not None:  # indexed for replay tools
        notes = [f"not indexed: {i.warc}: {i.problem}" for i in index_all([warc.path]) if i.problem]
    texts = archive.batch_folder(warc.path) if written else None
    return BatchResult(warc.path if warc.file else None, texts, RunReport(tuple(outcomes)), tuple(notes))


def _once(urls: list[str]) -> list[str]:
    """Each article once: addresses that normalise alike (tracking parameters, a trailing slash,
    a mobile host) are one, the first given kept."""
    seen: dict[str, str] = {}
    for url in urls:
        seen.setdefault(canonical(url, site_for(url)), url)
    return list(seen.values())


def _one(capturer: Capturer, polite: Polite, archive: Archive, warc: Path, seq: int, url: str) -> Outcome:
    if why := polite.forbidden(url):  # unreadable robots.txt forbids the host: a failure, not a choice
        return Outcome(url, why.startswith("disallowed"), why, skipped=why.startswith("disallowed"))
    polite.wait(url)

    def stem_for(final: Capture) -> Path:
        return archive.batch_stem(warc, seq, final.url)

    got = capturer.page(url, stem_for)
    if got.error or got.final is None or got.ref is None or got.stem is None:
        return Outcome(url, False, got.error or "nothing received")
    outcome = extract(got.final, got.ref, got.stem, got.truncated)
    # asked for as an article: a page that is none (the site's "not found" page) failed
    return replace(outcome, ok=False, skipped=False) if outcome.skipped else outcome
