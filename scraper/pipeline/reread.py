"""Re-reading the archive: re-clean WARC files with today's adapters, or parse a saved page.

No network here. A re-clean writes each text back to the path its capture's metadata record
names (a WARC from another tool names none: its responses are numbered in file order under
``text/<warc name>/``), leaves unchanged files untouched, restores deleted ones, and updates the
catalog's rows of the texts it rewrote.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from scraper.archive.layout import Archive
from scraper.capture.framing import Span, spans
from scraper.capture.warc import ReadProblem, Stored, find_warcs, is_warc, read_responses
from scraper.config import Settings
from scraper.errors import ArchiveError, UsageError
from scraper.extract import page
from scraper.extract.decode import decode_html
from scraper.models import Article, Capture, Outcome, Rejected, RunReport, Skipped
from scraper.pipeline.store import Archived, extract, judge, record_texts
from scraper.pipeline.workers import worker_pool

OnStep = Callable[[Outcome], None]


@dataclass(frozen=True, slots=True)
class _Task:
    stored: Stored | ReadProblem
    stem: Path  # the text and JSON files are this path plus .txt / .json
    archived: Archived


def _ignore(_: Outcome) -> None:
    return None


def reclean(
    paths: list[Path], settings: Settings, on_step: OnStep = _ignore, scheduler: str | None = None
) -> RunReport:
    """Re-extract every response record of the WARC files with today's adapters."""
    warcs = find_warcs(paths)
    if scheduler:
        done: Iterator[Outcome] = _cluster(scheduler).reclean_on_cluster(warcs, settings, scheduler)
    elif settings.jobs <= 1:
        done = map(_reclean_task, _tasks(warcs, settings))
    else:
        done = _in_workers(warcs, settings)
    outcomes = []
    for outcome in done:
        outcomes.append(outcome)
        on_step(outcome)
    record_texts(Archive(settings.out), outcomes, datetime.now(UTC))
    return RunReport(tuple(outcomes))


def archive_of(paths: list[Path]) -> Path | None:
    """The archive the WARCs belong to, when they all lie in one ``<archive>/warc`` folder (or are
    that folder): their texts are written beside them, not into the default output folder."""
    roots = set()
    for path in paths:
        folder = path if path.is_dir() else path.parent
        roots.add(folder.parent if folder.name == "warc" else None)
    return roots.pop() if len(roots) == 1 else None


def _cluster(scheduler: str) -> ModuleType:
    try:
        from scraper.pipeline import distributed  # an optional extra: imported only when asked for
    except ImportError:
        raise UsageError(f"--scheduler {scheduler}: Dask is not installed (pip install 'scraper[dask]')") from None
    return distributed


def reclean_file(warc: Path, settings: Settings, span: Span | None = None) -> list[Outcome]:
    """Re-clean one WARC file (or a span of it, from ``framing.spans``) in this process: the unit of
    work of the worker processes and of a distributed re-clean. Spans of one file, re-cleaned in
    any order or place, write the same files as the whole file."""
    return [_reclean_task(task) for task in _tasks([warc], settings, span)]


def _tasks(warcs: list[Path], settings: Settings, span: Span | None = None) -> Iterator[_Task]:
    """A whole file is read span by span, as the worker processes read it: a damaged record then
    costs the records of its span only, and one process and several write the same files."""
    archive = Archive(settings.out)
    for warc in warcs:
        parts = spans(warc, _SPAN) if span is None else (span,)
        name, cap = archive.relative(warc), settings.max_body_bytes
        for item in (found for part in parts for found in read_responses(warc, name, cap, part)):
            if isinstance(item, ReadProblem):
                yield _Task(item, archive.batch_folder(warc), "article")
                continue
            try:
                said = archive.said_stem(item.text_stem, item.capture.url)
                stem = said or archive.batch_stem(warc, item.ordinal, item.capture.url)
            except ArchiveError as exc:
                yield _Task(ReadProblem(str(warc), item.ref.offset, str(exc)), archive.batch_folder(warc), "article")
                continue
            yield _Task(item, stem, _archived(item))


def _reclean_task(task: _Task) -> Outcome:
    item = task.stored
    if isinstance(item, ReadProblem):
        return Outcome(item.path, False, f"at offset {item.offset}: {item.reason}")
    return extract(item.capture, item.ref, task.stem, item.truncated, task.archived)


def _archived(item: Stored) -> Archived:
    if item.text_stem is not None:
        return "article"
    return "no article" if item.described else "unknown"


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
) -> Iterator[Article | Rejected | Skipped | ReadProblem]:
    """Articles from a saved page: an HTML file, or every response record of a WARC file."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    if is_warc(path):
        for item in read_responses(path, path.name, max_body):
            if isinstance(item, ReadProblem):
                yield item
            else:
                yield judge(item.capture, item.truncated, _archived(item))  # a record names its own URL
        return
    body = path.read_bytes()
    root = None if url else page.parse(decode_html(body))
    target = url or (page.canonical_url(root) if root is not None else None)
    if not target:
        raise UsageError(f"{path}: the page has no canonical link; pass --url")
    when = captured or datetime.fromtimestamp(path.stat().st_mtime, UTC)
    yield judge(Capture(target, when, 200, (), body), None)
