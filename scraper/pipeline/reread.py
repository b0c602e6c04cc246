"""The one module that wires the stages: fetch -> archive -> process -> store, and re-clean."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from os import path as ospath
from pathlib import Path
from typing import TYPE_CHECKING

from scraper import __version__
from scraper.archive.cdx import index_all
from scraper.archive.texts import stem, write_article
from scraper.capture.framing import WHOLE, Span, spans
from scraper.capture.warc import (
    TEXT_FIELD,
    WARC_SUFFIXES,
    ReadProblem,
    Stored,
    WarcFile,
    find_warcs,
    is_warc,
    new_warc_path,
    read_responses,
)
from scraper.config import Settings
from scraper.errors import StoreError, UsageError
from scraper.extract import page
from scraper.extract.body import TRAFILATURA_VERSION
from scraper.extract.decode import decode_html
from scraper.extract.process import process
from scraper.models import Article, Capture, Outcome, RecordRef, Rejected, RunReport
from scraper.sites import Site, site_for
from scraper.workers import worker_pool

if TYPE_CHECKING:
    from scraper.capture.fetch import Fetched

OnStep = Callable[[Outcome], None]


@dataclass(frozen=True, slots=True)
class BatchResult:
    warc: Path
    texts: Path
    report: RunReport
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Task:
    stored: Stored | ReadProblem
    text_stem: Path  # the text and JSON files are this path plus .txt / .json


# where a metadata record may say a text goes: under text/, named NNN_<16 hex> (never from page content)
_SAFE_STEM = re.compile(r"text(?:/[A-Za-z0-9][A-Za-z0-9._-]*)+/\d{3,}_[0-9a-f]{16}")


def _ignore(_: Outcome) -> None:
    return None


def fetch_batch(urls: list[str], settings: Settings, on_step: OnStep = _ignore) -> BatchResult:
    """Fetch each URL into one new WARC and write a text per article, numbered in input order."""
    from scraper.capture.fetch import Fetcher  # httpx: imported by the commands that fetch, not by a re-clean

    out = settings.out
    warc_path = new_warc_path(out / "warc", "fetch", datetime.now(UTC))
    texts = text_folder(out, warc_path)
    outcomes = []
    with WarcFile(warc_path, _relative(warc_path, out)) as warc, Fetcher(settings) as fetcher:
        warc.write_warcinfo(warcinfo(settings))
        for seq, url in enumerate(urls):
            fetched = fetcher.fetch(url)
            final_stem = texts / stem(seq, fetched.final.url) if fetched.final else None
            ref = archive_fetched(fetched, warc, final_stem, out)
            if fetched.error or fetched.final is None or ref is None or final_stem is None:
                outcome = Outcome(url, False, fetched.error or "nothing received")
            else:
                outcome = extract_and_store(replace(fetched.final, record_id=ref.record_id), ref, final_stem)
            outcomes.append(outcome)
            on_step(outcome)
    notes = [f"not indexed: {i.warc}: {i.problem}" for i in index_all([warc_path]) if i.problem]  # for replay tools
    return BatchResult(warc_path, texts, RunReport(tuple(outcomes)), tuple(notes))


def archive_fetched(fetched: Fetched, warc: WarcFile, final_stem: Path | None, out: Path) -> RecordRef | None:
    """Write every exchange of a fetch (redirects, retries, the page); the final page's metadata
    record says where its text goes. Returns the final page's record."""
    ref = None
    for exchange in fetched.exchanges:
        is_final = fetched.final is not None and exchange.url == fetched.final.url
        fields = metadata(site_for(exchange.url), exchange.started_at, final_stem if is_final else None, out)
        ref = warc.write_exchange(exchange, fields)
    return ref


def extract_and_store(capture: Capture, ref: RecordRef, text_stem: Path) -> Outcome:
    result = process(capture, site_for(capture.url))
    if isinstance(result, Rejected):
        return Outcome(capture.url, False, result.reason)
    try:
        written = write_article(text_stem, result, capture, ref)
    except StoreError as exc:
        return Outcome(capture.url, False, str(exc))
    return Outcome(
        capture.url, True, text_file=str(written.text_path), text_sha256=written.text_sha256, changed=written.changed
    )


def reclean(paths: list[Path], settings: Settings, on_step: OnStep = _ignore) -> RunReport:
    """Re-extract every response record of the WARC files with today's adapters. No network."""
    warcs = find_warcs(paths)
    if settings.jobs <= 1:
        done: Iterator[Outcome] = map(_reclean_task, _tasks(warcs, settings))
    else:
        done = _in_workers(warcs, settings)
    outcomes = []
    for outcome in done:
        outcomes.append(outcome)
        on_step(outcome)
    return RunReport(tuple(outcomes))


def reclean_file(warc: Path, settings: Settings, span: Span = WHOLE) -> list[Outcome]:
    """Re-clean one WARC file (or a span of it, from ``framing.spans``) in this process: the unit of
    work of the worker processes and of a distributed re-clean. Spans of one file, re-cleaned in
    any order or place, write the same files as the whole file."""
    return [_reclean_task(task) for task in _tasks([warc], settings, span)]


def _tasks(warcs: list[Path], settings: Settings, span: Span = WHOLE) -> Iterator[_Task]:
    for warc in warcs:
        texts = text_folder(settings.out, warc)
        relative = _relative(warc, settings.out)
        for item in read_responses(warc, relative, settings.max_body_bytes, span):
            if isinstance(item, ReadProblem):
                yield _Task(item, texts)
                continue
            said = item.text_stem
            safe = said is not None and _SAFE_STEM.fullmatch(said) is not None
            # a WARC of another tool has no such field: its responses are numbered in file order
            where = settings.out / said if safe and said else texts / stem(item.ordinal, item.capture.url)
            yield _Task(item, where)


def _reclean_task(task: _Task) -> Outcome:
    item = task.stored
    if isinstance(item, ReadProblem):
        return Outcome(item.path, False, f"at offset {item.offset}: {item.reason}")
    capture = item.capture
    if not 200 <= capture.status < 300 or item.truncated:
        why = f"WARC-Truncated: {item.truncated}" if item.truncated else f"HTTP {capture.status}"
        return Outcome(capture.url, True, why, skipped=True)
    return extract_and_store(capture, item.ref, task.text_stem)


_SPAN = 16  # HTTP responses per task sent to a worker: ~80 ms of work, so the last task ends soon


def _in_workers(warcs: list[Path], settings: Settings) -> Iterator[Outcome]:
    """Outcomes in file order, the work done by ``settings.jobs`` worker processes. Each worker
    reads its own span of a file: this process only cuts files into spans (``framing.spans``: gzip
    framing, no parsing), so it leaves the cores to the workers. A bounded window of spans in
    flight lets a large archive stream through instead of loading into memory."""
    parts = ((warc, span) for warc in warcs for span in spans(warc, _SPAN))
    with worker_pool(settings.jobs) as pool:
        window: deque[Future[list[Outcome]]] = deque()
        for warc, span in parts:
            window.append(pool.submit(reclean_file, warc, settings, span))
            if len(window) >= settings.jobs * 2:
                yield from window.popleft().result()
        while window:
            yield from window.popleft().result()


def parse_path(
    path: Path, url: str | None, captured: datetime | None, max_body: int
) -> Iterator[Article | Rejected | ReadProblem]:
    """Articles from a saved page: an HTML file, or every response record of a WARC file."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    if is_warc(path):
        for item in read_responses(path, path.name, max_body):
            if isinstance(item, ReadProblem):
                yield item
            elif 200 <= item.capture.status < 300:
                yield process(item.capture, site_for(url or item.capture.url))
        return
    body = path.read_bytes()
    root = None if url else page.parse(decode_html(body))
    target = url or (page.canonical_url(root) if root is not None else None)
    if not target:
        raise UsageError(f"{path}: the page has no canonical link; pass --url")
    when = captured or datetime.fromtimestamp(path.stat().st_mtime, UTC)
    yield process(Capture(target, when, 200, (), body), site_for(target))


def text_folder(out: Path, warc: Path) -> Path:
    name = warc.name
    for suffix in WARC_SUFFIXES[::-1]:
        name = name.removesuffix(suffix)
    return out / "text" / name


def _relative(path: Path, out: Path) -> str:
    # the path as the run names it, as WarcSink does: resolving symlinks cost a stat per folder on
    # every page, and a symlinked text folder would turn into a path outside the output folder
    return Path(ospath.relpath(path, out)).as_posix()


def metadata(site: Site, when: datetime, text_stem: Path | None, out: Path) -> dict[str, str]:
    fields = {
        "software": f"scraper/{__version__}",
        "adapter": site.name,
        "adapter-version": site.layout_for(when).version,
        "extractor": f"trafilatura/{TRAFILATURA_VERSION}",
    }
    if text_stem is not None:
        fields[TEXT_FIELD] = _relative(text_stem, out)
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
    for origin, target in settings.connect_to:
        info[f"connect-to {origin}"] = target
    return info
