"""Re-reading the archive: re-clean WARC files with today's adapters.

No network here. A re-clean writes each text back to the path its capture's metadata record
names (a WARC from another tool names none: its responses are numbered in file order under
``text/<warc name>/``), leaves unchanged files untouched, restores deleted ones, and updates the
catalog's rows of the texts it rewrote.

The same WARC may be there under two names (a copy, a link, the gunzipped file beside its
``.warc.gz``): a response record, known by its WARC-Record-ID, is extracted from the first file
that holds it only, so its text is written once and its catalog row names one file. The file
under the name it was written as comes first, so that the one this tool wrote is the one that
counts.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import accumulate, repeat
from pathlib import Path
from types import ModuleType

from scraper.archive.catalog import Catalog
from scraper.archive.layout import Archive, open_marker
from scraper.capture.framing import Span, spans
from scraper.capture.warc import ReadProblem, Stored, find_warcs, read_responses, written_as
from scraper.config import Settings
from scraper.errors import ArchiveError, UsageError, WorkerError
from scraper.models import Outcome, RunReport
from scraper.pipeline.store import Archived, archived_as, extract, record_texts
from scraper.pipeline.workers import Extractors, Pending

OnStep = Callable[[Outcome], None]
OnNote = Callable[[str], None]  # a line to show that is no failure
OnRead = Callable[[int, int], None]  # bytes of the WARC files passed so far, and of them all


@dataclass(frozen=True, slots=True)
class _Task:
    stored: Stored | ReadProblem
    stem: Path  # the text and JSON files are this path plus .txt / .json
    archived: Archived
    owner: str | None = None  # the record the catalog says this text came from, when it names one


@dataclass(frozen=True, slots=True)
class _File:
    path: Path
    skip: frozenset[int] = field(default_factory=frozenset)  # offsets of responses read from another file


def _ignore(*_: object) -> None:
    return None


def reclean(
    paths: list[Path], settings: Settings, on_step: OnStep = _ignore, scheduler: str | None = None,
    on_note: OnNote = _ignore, on_read: OnRead = _ignore, stop: threading.Event | None = None,
) -> RunReport:  # fmt: skip
    """Re-extract every response record of the WARC files with today's adapters; ``on_note`` is
    told of each file skipped, or partly skipped, as a duplicate of another or as marked open;
    ``on_read``, after each record, how far into the files the re-clean is (not on a cluster: its
    files end in any order, each all at once). Once ``stop`` is set no record is started; those
    under way are finished, and the catalog learns of every text written before this returns."""
    stop = stop or threading.Event()
    cluster = _cluster(scheduler) if scheduler else None
    ordered = sorted(_closed(_found(paths), on_note), key=_copy_last)
    if not ordered:  # every file is still being written: said by on_note
        return RunReport(())
    files, sizes = _distinct(ordered, on_note), _Sizes.of(ordered)
    done: Iterator[tuple[Outcome, int | None]] = (
        zip(cluster.reclean_on_cluster([f.path for f in files], settings, scheduler), repeat(None))
        if cluster
        else _in_workers(files, settings, sizes, stop)
    )
    outcomes: list[Outcome] = []
    try:
        for outcome, read in done:
            outcomes.append(outcome)
            on_step(outcome)
            if read is not None:
                on_read(read, sizes.total)
            if cluster and stop.is_set():
                break
        if not stop.is_set():  # the last record read to its end
            on_read(sizes.total, sizes.total)
    finally:  # a stop or a fault part-way: the texts written so far are the catalog's all the same
        record_texts(Archive(settings.out), outcomes, datetime.now(UTC))
    return RunReport(tuple(outcomes))


@dataclass(frozen=True, slots=True)
class _Sizes:
    """The WARC files end to end, in the order they are read: how far a re-clean is, in bytes. Known
    at once, where a count of records would read an archive of years twice before the first record."""

    starts: dict[Path, int]
    total: int

    @classmethod
    def of(cls, warcs: list[Path]) -> _Sizes:
        unique = list(dict.fromkeys(warcs))
        ends = list(accumulate(map(_size, unique)))
        return cls(dict(zip(unique, [0, *ends], strict=False)), ends[-1])

    def at(self, warc: Path, item: Stored | ReadProblem) -> int:
        """The bytes before ``item``, a record of ``warc``; a file passed over counts as read."""
        return min(self.starts[warc] + (item.offset if isinstance(item, ReadProblem) else item.ref.offset), self.total)


def _size(warc: Path) -> int:
    try:
        return warc.stat().st_size
    except OSError:  # reading it says what is wrong with it
        return 0


def _found(paths: list[Path]) -> list[Path]:
    if found := find_warcs(paths):
        return found
    raise UsageError(f"{', '.join(map(str, paths))}: no WARC file (.warc or .warc.gz) in it: nothing to re-clean")


def _closed(warcs: list[Path], on_note: OnNote) -> list[Path]:
    """The files no run or fetch is writing: one marked open grows as it is read, or ends torn
    where a killed run left it, until the next run or fetch repairs it."""
    marked = [warc for warc in warcs if open_marker(warc).exists()]
    for warc in marked:
        on_note(
            f"{warc}: skipped, still being written (or left open by a killed run: the next run or fetch repairs it)"
        )
    return [warc for warc in warcs if warc not in marked]


def archive_warcs(paths: list[Path], root: Path | None) -> list[Path]:
    """The WARC files of ``paths`` for a re-clean into the archive ``root`` (None: none was given,
    and they are in no archive's warc/ folder), refused before any work unless each is inside it,
    as named and with its symlinks resolved: a text's JSON names its WARC within the archive."""
    found = _found(paths)
    if root is None:
        raise UsageError(
            f"{', '.join(map(str, paths))}: not in one archive's warc/ folder: give --out, the archive folder "
            "that holds them (its texts are written there); nothing done"
        )
    if outside := [warc for warc in dict.fromkeys(found) if _outside(warc, root)]:
        more = f" (and {len(outside) - 1} more)" if len(outside) > 1 else ""
        raise UsageError(
            f"{outside[0]}{more}: not inside the archive {root} (symlinks followed): a re-clean writes the "
            f"texts of the archive's own WARCs only; copy them into {root / 'warc'}, or give --out the archive "
            "that holds them; nothing done"
        )
    return found


def _outside(warc: Path, root: Path) -> bool:
    named = (os.path.abspath(warc), os.path.abspath(root))
    real = (os.path.realpath(warc), os.path.realpath(root))
    return any(os.path.commonpath((path, base)) != base for path, base in (named, real))


def archive_of(paths: list[Path]) -> Path | None:
    """The archive the WARCs belong to, when they all lie in one ``<archive>/warc`` folder (or are
    that folder, or the archive folder itself): their texts are written beside them, not into the
    default output folder."""
    roots: set[Path | None] = set()
    for path in paths:
        folder = path if path.is_dir() else path.parent
        if folder.name in ("", ".."):  # "." or "..": re-cleaned from inside warc/
            folder = Path(os.path.abspath(folder))
        if folder.name == "warc":
            roots.add(folder.parent)
        else:  # the archive folder itself (archives/): its warc/ folder holds the WARCs
            roots.add(folder if path.is_dir() and (folder / "warc").is_dir() else None)
    return roots.pop() if len(roots) == 1 else None


# what dask.distributed's Client takes for a scheduler over TCP: [tcp://]HOST:PORT
_SCHEDULER = re.compile(r"(?:tcp://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})")


def _cluster(scheduler: str) -> ModuleType:
    """The module that re-cleans on a Dask cluster; the address checked first, so that a typo is
    one line, not Dask's traceback."""
    address = _SCHEDULER.fullmatch(scheduler)
    if address is None or not 0 < int(address[1]) < 65536:
        raise UsageError(f"--scheduler {scheduler}: not a Dask scheduler address: give tcp://HOST:PORT")
    try:
        from scraper.pipeline import distributed  # an optional extra: imported only when asked for
    except ImportError:
        raise UsageError(
            f"--scheduler {scheduler}: Dask is not installed (pip install '.[dask]' in the checkout)"
        ) from None
    return distributed


def reclean_file(
    warc: Path, settings: Settings, span: Span | None = None, skip: frozenset[int] = frozenset()
) -> list[Outcome]:
    """Re-clean one WARC file (or a span of it, from ``framing.spans``) in this process, passing
    over the responses at the offsets in ``skip``: the unit of work of the worker processes and of
    a distributed re-clean. Spans of one file, re-cleaned in any order or place, write the same
    files as the whole file."""
    return [_reclean_task(task) for task in _tasks(_File(warc, skip), settings, span)]


def _tasks(
    file: _File, settings: Settings, span: Span | None = None, owners: Mapping[str, str] | None = None
) -> Iterator[_Task]:
    """A whole file is read span by span, as the worker processes read it: a damaged record then
    costs the records of its span only, and one process and several write the same files.
    ``owners``: the catalog's record of each text it holds (``Catalog.text_owners``)."""
    archive = Archive(settings.out)
    name, cap = archive.relative(file.path), settings.max_body_bytes
    for part in spans(file.path, _SPAN) if span is None else (span,):
        for item in read_responses(file.path, name, cap, part):
            if isinstance(item, ReadProblem) or item.ref.offset not in file.skip:
                task = _task(archive, file.path, item)
                yield replace(task, owner=(owners or {}).get(archive.relative(task.stem)))


def _task(archive: Archive, warc: Path, item: Stored | ReadProblem) -> _Task:
    if isinstance(item, ReadProblem):
        return _Task(item, archive.batch_folder(warc), "article")
    try:
        said = archive.said_stem(item.text_stem, item.capture.url)
        stem = said or archive.batch_stem(warc, item.ordinal, item.capture.url)
    except ArchiveError as exc:
        return _Task(ReadProblem(str(warc), item.ref.offset, str(exc)), archive.batch_folder(warc), "article")
    return _Task(item, stem, archived_as(item))


def _reclean_task(task: _Task) -> Outcome:
    item = task.stored
    if isinstance(item, ReadProblem):
        return Outcome(item.path, False, f"at offset {item.offset}: {item.reason}")
    if task.owner is not None and item.capture.record_id != task.owner:
        # a capture the catalog never recorded (a run killed before it could) names the text of one
        # it did: written, it would put another record's text under the catalog's
        reason = f"not written: its text is the catalog's record {task.owner}'s (this capture was never recorded)"
        return Outcome(item.capture.url, True, reason, skipped=True, record_id=item.ref.record_id)
    return extract(item.capture, item.ref, task.stem, item.truncated, task.archived, item.undecodable)


_SPAN = 16  # HTTP responses per span: a damaged record costs its span's records only


def _in_workers(
    files: Iterator[_File], settings: Settings, sizes: _Sizes, stop: threading.Event
) -> Iterator[tuple[Outcome, int]]:
    """Outcomes in file order, each with the bytes before its record (``sizes``), each record
    extracted in one of ``settings.jobs`` worker processes under the per-page time and memory
    limits (one process too: a page past them fails alone, and the re-clean goes on). A bounded
    window of records in flight lets a large archive stream through instead of loading into memory;
    at a stop the records in it are finished (their workers may have written their texts already)."""
    owners = _text_owners(Archive(settings.out))
    tasks = (
        (task, sizes.at(file.path, task.stored)) for file in files for task in _tasks(file, settings, owners=owners)
    )
    with Extractors(settings.jobs, settings.extract_seconds, settings.extract_memory_mb) as workers:
        window: deque[tuple[_Task, Pending[Outcome], int]] = deque()
        for task, read in tasks:
            if stop.is_set():
                break
            window.append((task, workers.submit(_reclean_task, task), read))
            if len(window) >= settings.jobs * 4:
                yield _settled(*window.popleft())
        while window:
            yield _settled(*window.popleft())


def _text_owners(archive: Archive) -> dict[str, str]:
    if not archive.has_catalog():
        return {}
    with Catalog(archive.catalog, read_only=True) as catalog:
        return catalog.text_owners()


def _settled(task: _Task, pending: Pending[Outcome], read: int) -> tuple[Outcome, int]:
    try:
        return pending.result(), read
    except WorkerError as exc:  # past the time or memory limit, or the worker died: this page only
        item = task.stored
        if isinstance(item, ReadProblem):
            return Outcome(item.path, False, str(exc)), read
        return Outcome(item.capture.url, False, str(exc), record_id=item.ref.record_id), read


def _distinct(warcs: list[Path], on_note: OnNote) -> Iterator[_File]:
    """The files to read (``warcs``, sorted by ``_copy_last``), each with the responses in it to pass
    over: a file met before under another name (a link, the same path twice) is not read again; a
    response read from an earlier file is passed over, and a file whose every response was is not
    read. Each says so, once."""
    if len(warcs) < 2:
        yield from map(_File, warcs)
        return
    first: dict[tuple[int, int], Path] = {}  # the file at each (device, inode)
    files = []
    for warc in warcs:
        try:
            found = warc.stat()
        except OSError:  # reading it says what is wrong with it
            files.append(warc)
            continue
        same = first.setdefault((found.st_dev, found.st_ino), warc)
        if same is warc:
            files.append(warc)
        else:
            on_note(f"{warc}: skipped, the same file as {same}")
    read_from: dict[bytes, Path] = {}  # the file each response record is read from, by its id
    for warc in files:
        if (file := _repeats(warc, read_from, on_note)) is not None:
            yield file


def _copy_last(warc: Path) -> tuple[bool, bool, bool]:
    """The file this tool wrote before its copies: one under the name its warcinfo record gives
    it, then a regular file before a symlink, a .warc.gz before a .warc (its texts' JSONs name it)."""
    return written_as(warc) != warc.name, warc.is_symlink(), not warc.name.endswith(".gz")


def _repeats(warc: Path, read_from: dict[bytes, Path], on_note: OnNote) -> _File | None:
    """``warc`` with its responses that earlier files hold; None when they hold all of them."""
    held = list(_responses(warc))
    earlier: dict[Path, int] = {}
    skip = set()
    for offset, key in held:
        if (other := read_from.setdefault(key, warc)) != warc:
            earlier[other] = earlier.get(other, 0) + 1
            skip.add(offset)
    names = ", ".join(map(str, earlier))
    if skip and len(skip) == len(held):
        on_note(f"{warc}: skipped, a copy of {names}: its {len(held)} responses were read from there")
        return None
    if skip:
        on_note(f"{warc}: {len(skip)} of its {len(held)} responses skipped, read from {names}")
    return _File(warc, frozenset(skip))


def _responses(warc: Path) -> Iterator[tuple[int, bytes]]:
    """Where each response that a re-clean of ``warc`` reads whole is, and its WARC-Record-ID
    digested (16 bytes, not a ~100-byte string: an archive of years holds millions of records).
    Read as ``_tasks`` reads the file, bodies left aside (a cap of 0 bytes)."""
    for part in spans(warc, _SPAN):
        for item in read_responses(warc, warc.name, 0, part):
            if isinstance(item, Stored) and item.capture.record_id:
                yield item.ref.offset, hashlib.blake2b(item.capture.record_id.encode(), digest_size=16).digest()
