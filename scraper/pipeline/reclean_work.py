"""The work of a re-clean, record by record: each record read, judged and written, in worker
processes that each read their own span of a WARC file (``framing.spans``), or in this process
for a distributed re-clean's task."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from itertools import chain, islice
from pathlib import Path

from scraper.archive.catalog import Catalog
from scraper.archive.layout import Archive, Sizes
from scraper.capture.framing import Span, spans
from scraper.capture.warc import ReadProblem, Stored, read_responses
from scraper.config import Settings
from scraper.errors import ArchiveError, WorkerError
from scraper.models import Outcome
from scraper.pipeline.store import Archived, archived_as, extract
from scraper.pipeline.workers import CLOCK, Clock, Extractors, Pending, Streamed


@dataclass(frozen=True, slots=True)
class _Task:
    stored: Stored | ReadProblem
    stem: Path  # the text and JSON files are this path plus .txt / .json
    root: Path  # the archive's, which the text files stay inside
    archived: Archived
    owner: str | None = None  # the record the catalog says this text came from, when it names one


@dataclass(frozen=True, slots=True)
class File:
    """A WARC file to re-clean, with the responses in it that are read from another file."""

    path: Path
    skip: frozenset[int] = field(default_factory=frozenset)  # offsets of responses read from another file


def reclean_file(
    warc: Path, settings: Settings, span: Span | None = None, skip: frozenset[int] = frozenset()
) -> list[Outcome]:
    """Re-clean one WARC file (or a span of it, from ``framing.spans``) in this process, passing
    over the responses at the offsets in ``skip``: the unit of work of a distributed re-clean.
    Spans of one file, re-cleaned in any order or place, write the same files as the whole file."""
    return [_reclean_task(task) for task in _tasks(File(warc, skip), settings, span)]


def _tasks(
    file: File, settings: Settings, span: Span | None = None, owners: Mapping[str, str] | None = None
) -> Iterator[_Task]:
    """A whole file is read span by span, as the worker processes read it: a damaged record then
    costs the records of its span only, and one process and several write the same files.
    ``owners``: the catalog's record of each text it holds (``Catalog.text_owners``)."""
    archive = Archive(settings.out)
    name, cap = archive.relative(file.path), settings.max_body_bytes
    for part in spans(file.path, SPAN) if span is None else (span,):
        for item in read_responses(file.path, name, cap, part):
            if isinstance(item, ReadProblem) or item.ref.offset not in file.skip:
                task = _task(archive, file.path, item)
                yield replace(task, owner=(owners or {}).get(archive.relative(task.stem)))


def _task(archive: Archive, warc: Path, item: Stored | ReadProblem) -> _Task:
    if isinstance(item, ReadProblem):
        return _Task(item, archive.batch_folder(warc), archive.root, "article")
    try:
        said = archive.said_stem(item.text_stem, item.capture.url)
        stem = said or archive.batch_stem(warc, item.ordinal, item.capture.url)
    except ArchiveError as exc:
        return _Task(
            ReadProblem(str(warc), item.ref.offset, str(exc)), archive.batch_folder(warc), archive.root, "article"
        )
    return _Task(item, stem, archive.root, archived_as(item))


def _reclean_task(task: _Task) -> Outcome:
    item = task.stored
    if isinstance(item, ReadProblem):
        return Outcome(item.path, False, f"at offset {item.offset}: {item.reason}")
    if task.owner is not None and item.capture.record_id != task.owner:
        # a capture the catalog never recorded (a run killed before it could) names the text of one
        # it did: written, it would put another record's text under the catalog's
        reason = f"not written: its text is the catalog's record {task.owner}'s (this capture was never recorded)"
        return Outcome(item.capture.url, True, reason, skipped=True, record_id=item.ref.record_id)
    return extract(task.root, item.capture, item.ref, task.stem, item.truncated, task.archived, item.undecodable)


SPAN = 16  # HTTP responses per span: a damaged record costs its span's records only


_Done = tuple[Outcome, int]  # a record's outcome, and its offset in its file


def in_workers(
    files: Iterator[File], settings: Settings, sizes: Sizes, stop: threading.Event
) -> Iterator[tuple[Outcome, int]]:
    """Outcomes in file order, each with the bytes before its record (``sizes``). Each span of a file
    is read and re-cleaned in one of ``settings.jobs`` worker processes, record by record under the
    per-page time and memory limits (one process too): the worker is told where the records are,
    not sent their bodies, which would cost this process a third of a worker's time. A page past a
    limit fails alone (``_Rest``). A bounded window of spans in flight lets a large archive stream
    through instead of loading into memory; at a stop the spans in it are finished (their workers
    may have written texts already)."""
    owners = _text_owners(Archive(settings.out))
    parts = ((file, span) for file in files for span in spans(file.path, SPAN))
    limits = (settings.extract_seconds, settings.extract_memory_mb)
    with Extractors(settings.jobs, *limits, context=owners) as workers:
        rest = _Rest(settings, owners, workers)
        window: deque[tuple[File, Span, Pending[Streamed[_Done]]]] = deque()
        for file, span in parts:
            if stop.is_set():
                break
            skip = frozenset(o for o in file.skip if o >= span.start and (span.stop is None or o < span.stop))
            window.append((file, span, workers.stream(_reclean_span, file.path, settings, span, skip)))
            if len(window) >= settings.jobs * 2:
                yield from _span_done(*window.popleft(), rest, sizes)
        while window:
            yield from _span_done(*window.popleft(), rest, sizes)


def _reclean_span(
    owners: Mapping[str, str], warc: Path, settings: Settings, span: Span, skip: frozenset[int]
) -> Iterator[_Done | Clock]:
    """A worker's share: the records of one span, read and re-cleaned in the worker, as they end; the
    per-page time limit counts each record's re-clean, not the reading of it."""
    for task in _tasks(File(warc, skip), settings, span, owners):
        yield CLOCK
        yield _reclean_task(task), _offset(task.stored)


def _offset(item: Stored | ReadProblem) -> int:
    return item.offset if isinstance(item, ReadProblem) else item.ref.offset


@dataclass(frozen=True, slots=True)
class _Rest:
    """Where the records of a span after one past a limit go: read here, and handed to the workers
    one by one, so that the page that broke the limit fails alone."""

    settings: Settings
    owners: Mapping[str, str]
    workers: Extractors

    def after(self, file: File, span: Span, done: int, error: Exception) -> Iterator[_Done]:
        """The span's records after the first ``done``, which its worker ended: the reading is the
        same here, item for item (not in offset order: a damaged request may be said before the
        response it follows). The next one is the one its worker was on when ``error`` came."""
        rest = islice(_tasks(file, self.settings, span, self.owners), done, None)
        if (culprit := next(rest, None)) is not None:
            yield _failed(culprit, error), _offset(culprit.stored)
        for task in rest:  # one at a time: a span's bodies are not held at once
            yield _settled(task, self.workers.submit(_reclean_task, task)), _offset(task.stored)


def _span_done(
    file: File, span: Span, pending: Pending[Streamed[_Done]], rest: _Rest, sizes: Sizes
) -> Iterator[tuple[Outcome, int]]:
    done = pending.result()
    if done.error is not None and not isinstance(done.error, WorkerError):
        raise done.error  # no limit: what reading here would raise too
    ended: Iterable[_Done] = done.items
    if done.error is not None:
        ended = chain(done.items, rest.after(file, span, len(done.items), done.error))
    for outcome, offset in ended:
        yield outcome, sizes.at(file.path, offset)


def _text_owners(archive: Archive) -> dict[str, str]:
    if not archive.has_catalog():
        return {}
    with Catalog(archive.catalog, read_only=True) as catalog:
        return catalog.text_owners()


def _settled(task: _Task, pending: Pending[Outcome]) -> Outcome:
    try:
        return pending.result()
    except WorkerError as exc:  # past the time or memory limit, or the worker died: this page only
        return _failed(task, exc)


def _failed(task: _Task, exc: Exception) -> Outcome:
    item = task.stored
    if isinstance(item, ReadProblem):
        return Outcome(item.path, False, str(exc))
    return Outcome(item.capture.url, False, str(exc), record_id=item.ref.record_id)
