"""Article tables for analysis tools: JSON Lines, CSV, and Parquet (the only module that imports
pyarrow, an optional extra: ``pip install '.[parquet]' in the checkout``).

One row per article the catalog holds a text for, by first capture: every field of the article's
JSON metadata file, in its order, then ``text``, the text file's content exactly (title, blank
line, one paragraph per line). Rows stream from the catalog, so an export of years of articles
never holds them all in memory.

CSV: lists (authors, tags) as JSON arrays, booleans as ``true``/``false``, null as an empty cell.
Parquet: lists as ``list<string>``, numbers as ``int64``, flags as ``bool``, the rest as strings
(dates stay ISO 8601 text, so ``published`` keeps the site's UTC offset).
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from scraper.archive.catalog import Catalog
from scraper.archive.layout import Archive
from scraper.archive.schema import ArticleRow
from scraper.errors import ArchiveError, UsageError
from scraper.sites import SITES

FORMATS = ("jsonl", "csv", "parquet")


def format_for(output: Path | None) -> str:
    """The format a file's suffix names (``rows.csv``), else JSON Lines: for an export given no
    --format."""
    suffix = output.suffix.lower().removeprefix(".") if output is not None else ""
    return suffix if suffix in FORMATS else "jsonl"


_LISTS = frozenset({"authors", "tags"})
_INTS = frozenset({"http_status", "warc_offset"})
_BOOLS = frozenset({"adapter_fallback", "headline_only"})
_BATCH = 1000  # parquet rows per row group write

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Exported:
    rows: int
    without_text: int  # archived, but no text was written (the page gave no article)
    problems: tuple[str, ...]  # articles left out because their files could not be read
    missing_warcs: tuple[str, ...] = ()  # exported rows name these WARC files, which are not in the archive


def export(
    root: Path, fmt: str, output: Path | None, stdout: TextIO, sites: list[str] | None = None,
    since: datetime | None = None, tally: Tally | None = None,
) -> Exported:  # fmt: skip
    """Write the rows to ``output`` (atomically), or to ``stdout`` when it is None (not for parquet).
    ``tally`` counts them as they go: what an interrupted export had done."""
    if fmt not in FORMATS:
        raise UsageError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    known = {s.name for s in SITES}
    if unknown := [name for name in sites or () if name not in known]:
        raise UsageError(f"--site: unknown site {unknown[0]!r} (known: {', '.join(sorted(known))})")
    if fmt == "parquet" and output is None:
        raise UsageError("--format parquet writes a binary file: give --output FILE.parquet")
    archive = Archive(root)
    if not archive.has_catalog():
        raise UsageError(f"{archive.catalog}: no catalog: export reads the articles scheduled runs recorded")
    tally = tally or Tally()
    if tally.on_step is not None:
        tally.total = _count(archive, sites, since)
    # a row with a bad value is left out and said as a problem: never exported as it stands
    with Catalog(archive.catalog, read_only=True, on_bad_row=tally.problems.append) as catalog:
        rows = article_rows(root, catalog.articles(sites or None, since), tally)
        if output is None:
            _write(fmt, rows, stdout)
        else:
            _atomic(output, lambda fh: _write_file(fmt, rows, fh))
    return Exported(tally.rows, tally.without_text, tuple(tally.problems), tally.missing_warcs())


def _count(archive: Archive, sites: list[str] | None, since: datetime | None) -> int:
    """The articles an export will go through; a bad row is said by the export itself."""
    with Catalog(archive.catalog, read_only=True, on_bad_row=lambda _: None) as catalog:
        return catalog.article_count(sites or None, since)


class Tally:
    """The rows written so far, and what was left out; ``on_step`` hears (articles gone through, of
    ``total``) after each."""

    def __init__(self) -> None:
        self.rows = self.without_text = self.seen = 0
        self.total = 0
        self.on_step: Callable[[int, int], None] | None = None
        self.problems: list[str] = []
        self.warcs: dict[str, str | None] = {}  # each WARC file the rows name: None, or why it cannot be read
        self.naming: dict[str, int] = {}  # rows naming each of those that cannot

    def named(self, archive: Archive, name: object) -> None:
        """A row names the WARC file ``name``: its offsets are good only in that very file, so a row
        naming one that is missing (a WARC gunzipped since, say) is counted, to be said once per file."""
        if not isinstance(name, str):
            return
        if name not in self.warcs:
            try:
                archive.warc_file(name)
                self.warcs[name] = None
            except ArchiveError as exc:
                self.warcs[name] = str(exc)
        if self.warcs[name] is not None:
            self.naming[name] = self.naming.get(name, 0) + 1

    def stepped(self) -> None:
        self.seen += 1
        if self.on_step is not None:
            self.on_step(self.seen, max(self.total, self.seen))  # rows a run added since they were counted

    def missing_warcs(self) -> tuple[str, ...]:
        return tuple(f"{self.warcs[name]} ({count} exported articles name it)" for name, count in self.naming.items())


def article_rows(root: Path, articles: Iterable[ArticleRow], tally: Tally | None = None) -> Iterator[Row]:
    """Each article's JSON metadata plus ``text``; an unreadable one is noted in ``tally`` and skipped."""
    tally = tally or Tally()
    for article in articles:
        tally.stepped()
        if article.json_path is None or article.text_path is None:
            tally.without_text += 1
            continue
        try:
            pair = Archive(root).read_pair(article.json_path)
        except ArchiveError as exc:
            tally.problems.append(f"{article.url}: {exc}")
            continue
        if pair.meta.get("warc_record_id") != article.warc_record_id:  # a row pointing at another's files
            named = pair.meta.get("warc_record_id")
            tally.problems.append(
                f"{article.url}: {article.json_path} names record {named}, not {article.warc_record_id}"
            )
            continue
        tally.rows += 1
        tally.named(Archive(root), pair.meta.get("warc_file"))
        yield {**pair.meta, "text": pair.text}


def _write_file(fmt: str, rows: Iterator[Row], fh: BinaryIO) -> None:
    if fmt == "parquet":
        write_parquet(rows, fh)
        return
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
    _write(fmt, rows, text)
    text.flush()
    text.detach()  # the caller closes fh


def _write(fmt: str, rows: Iterator[Row], out: TextIO) -> None:
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        write_csv(rows, out)
    else:
        raise UsageError("--format parquet writes a binary file: give --output FILE.parquet")


def write_csv(rows: Iterator[Row], out: TextIO) -> None:
    first = next(rows, None)
    if first is None:
        return
    columns = list(first)  # the metadata's own order, text last
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in _chain(first, rows):
        writer.writerow({k: _cell(row.get(k)) for k in columns})


def _cell(value: Any) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value if isinstance(value, str | int | float) else str(value)


def write_parquet(rows: Iterator[Row], path: Path | BinaryIO) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise UsageError("parquet export needs pyarrow: pip install '.[parquet]' in the checkout") from None
    first = next(rows, None)
    columns = list(first) if first is not None else ["url", "text"]
    schema = pa.schema([(name, _arrow_type(pa, name)) for name in columns])
    with pq.ParquetWriter(str(path) if isinstance(path, Path) else path, schema) as writer:
        batch: list[Row] = []
        for row in _chain(first, rows) if first is not None else ():
            batch.append({k: _typed(k, row.get(k)) for k in columns})
            if len(batch) >= _BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch = []
        if batch or first is None:  # an empty export still gets a file with the columns
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))


def _arrow_type(pa: Any, name: str) -> Any:
    if name in _LISTS:
        return pa.list_(pa.string())
    if name in _INTS:
        return pa.int64()
    if name in _BOOLS:
        return pa.bool_()
    return pa.string()


def _typed(name: str, value: Any) -> Any:
    if value is None or name in _LISTS or name in _INTS or name in _BOOLS:
        return value
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _chain(first: Row, rest: Iterator[Row]) -> Iterator[Row]:
    yield first
    yield from rest


def _atomic(path: Path, write: Callable[[BinaryIO], None]) -> None:
    with replacing(path) as temp, open(temp, "xb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A new path to write the output file at, put in place of ``path`` in one rename when the block
    ends well, and removed when it does not: a partial file never looks complete. The destination
    is ``path``, or the file a symlink there names: the link stays a link. Anything but a regular
    file or a new path (a directory, a FIFO, a device) is refused before any work: a rename would
    replace it with a regular file. An output that cannot be written is a UsageError."""
    target = _destination(path)
    try:
        # a private folder beside the destination (the rename stays on one file system): nobody can
        # put a file or a link at the temporary name
        scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {_no_scratch(exc, target.parent)}") from None
    try:
        yield scratch / target.name
        if _destination(path) != target:  # swapped while the file was written
            raise UsageError(f"{path}: changed while the file was written; nothing written")
        os.replace(scratch / target.name, target)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {_reason(exc, scratch)}") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _no_scratch(exc: OSError, folder: Path) -> str:
    """Why nothing can be made in ``folder``: the system's words, unless they say that it does not
    exist while it does (a kernel's folder, /proc, answers so)."""
    if exc.errno == errno.ENOENT and folder.is_dir():
        return f"no new file can be made in {folder}"
    return exc.strerror or str(exc)


def _reason(exc: OSError, scratch: Path) -> str:
    """The system's words, and the file they are about when that is not the one being written (a
    file the writer reads)."""
    reason = exc.strerror or str(exc)
    about = Path(os.fsdecode(exc.filename)) if exc.filename else None
    return f"{reason} ({about})" if about is not None and scratch not in (about, *about.parents) else reason


def _destination(path: Path) -> Path:
    """The path to replace: ``path`` when it is a regular file or new; for a symlink, the file it
    leads to, when that is a regular file or new."""
    target = path
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            target = Path(os.path.realpath(path))
            info = os.stat(target)
    except FileNotFoundError:
        return target  # a new file, or one a link names yet to be written
    except OSError as exc:  # a loop of links, a folder that cannot be searched
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{path}: {_kind(info.st_mode)}: the output must be a regular file or a new path")
    return target


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
