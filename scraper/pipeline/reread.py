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
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path
from types import ModuleType

from scraper.archive.layout import Archive, Sizes, open_marker
from scraper.capture.framing import spans
from scraper.capture.warc import Stored, find_warcs, read_responses, written_as
from scraper.config import Settings
from scraper.errors import UsageError
from scraper.models import Outcome, RunReport
from scraper.pipeline.reclean_work import SPAN, File, in_workers
from scraper.pipeline.store import record_texts

OnStep = Callable[[Outcome], None]
OnNote = Callable[[str], None]  # a line to show that is no failure
OnRead = Callable[[int, int], None]  # bytes of the WARC files passed so far, and of them all


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
    files, sizes = _distinct(ordered, on_note), Sizes.of(ordered)
    done: Iterator[tuple[Outcome, int | None]] = (
        zip(cluster.reclean_on_cluster([f.path for f in files], settings, scheduler), repeat(None))
        if cluster
        else in_workers(files, settings, sizes, stop)
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


def _distinct(warcs: list[Path], on_note: OnNote) -> Iterator[File]:
    """The files to read (``warcs``, sorted by ``_copy_last``), each with the responses in it to pass
    over: a file met before under another name (a link, the same path twice) is not read again; a
    response read from an earlier file is passed over, and a file whose every response was is not
    read. Each says so, once."""
    if len(warcs) < 2:
        yield from map(File, warcs)
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


def _repeats(warc: Path, read_from: dict[bytes, Path], on_note: OnNote) -> File | None:
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
    return File(warc, frozenset(skip))


def _responses(warc: Path) -> Iterator[tuple[int, bytes]]:
    """Where each response that a re-clean of ``warc`` reads whole is, and its WARC-Record-ID
    digested (16 bytes, not a ~100-byte string: an archive of years holds millions of records).
    Read as ``_tasks`` reads the file, bodies left aside (a cap of 0 bytes)."""
    for part in spans(warc, SPAN):
        for item in read_responses(warc, warc.name, 0, part):
            if isinstance(item, Stored) and item.capture.record_id:
                yield item.ref.offset, hashlib.blake2b(item.capture.record_id.encode(), digest_size=16).digest()
