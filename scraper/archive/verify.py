"""``scraper verify``: check that an archive is what it says it is. Reads only; writes nothing.

Every byte of every WARC file is accounted for (scraper.capture.warc.checker): each record read to
its end, its WARC-Block-Digest and WARC-Payload-Digest recomputed, its Content-Length checked
against its gzip member or the record after it; bytes that hold no whole record, an empty file,
a record without a field WARC 1.1 requires (WARC-Record-ID, WARC-Date, WARC-Type, Content-Length,
and WARC-Target-URI where its type needs one), an HTTP response with no status line, and a file
that does not begin with a warcinfo record are problems. Then every
text's JSON (under ``text/``) must name a WARC file inside the archive and, at its offset, the
response record with its ID and its payload digest; the text's SHA-256 must be the one the JSON
holds. A catalog must be an SQLite file with every table and column this scraper needs, every
value in it must be what its column holds (no text in a count, no 'yesterday' for a time), and
every archived article in it must point at such a record, and a finished one at its text and JSON.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from scraper.archive.catalog import Catalog
from scraper.archive.layout import Archive, Sizes, catalog_present
from scraper.archive.schema import ArticleRow
from scraper.capture.warc import ReadProblem, check_records, is_warc, record_at, warcs_under
from scraper.errors import ArchiveError, CatalogError, UsageError

OnProblem = Callable[[str], None]
OnProgress = Callable[[str, int, int], None]  # what is being checked, how far (bytes or items), of how many


def _unheard(*_: object) -> None:
    return None


@dataclass
class Summary:
    warc_files: int = 0
    records: int = 0
    texts: int = 0
    catalog_entries: int = 0
    problems: int = 0
    archive: bool = False  # an archive folder was checked: its texts and catalog too, not WARC files alone


def verify(path: Path, on_problem: OnProblem, on_progress: OnProgress = _unheard) -> Summary:
    """Check a WARC file, or an archive folder (its WARC files, texts and catalog); a path that is
    neither, or a folder with none of them, is a UsageError. ``on_progress`` hears how far each
    part is: the WARC files in bytes, then the texts, then the catalog's articles."""
    summary = Summary()

    def problem(line: str) -> None:
        summary.problems += 1
        on_problem(line)

    warcs = _warcs(path)
    root = _archive_root(path)
    if not warcs and root is None:
        raise UsageError(f"{path}: no WARC files, texts or catalog in it: nothing to verify")
    summary.archive = root is not None
    sizes = Sizes.of(warcs)
    for warc in warcs:
        summary.warc_files += 1
        if warc.with_name(warc.name + ".open").exists():
            problem(f"{warc}: left open by a run that is still going or was killed (the next run repairs it)")
        _check_warc(warc, summary, problem, partial(_in_bytes, on_progress, sizes, warc))
    on_progress("WARC files", sizes.total, sizes.total)
    if root is not None:
        metas = sorted(Archive(root).texts.rglob("*.json"))
        for done, meta in enumerate(metas):
            on_progress("texts", done, len(metas))
            summary.texts += 1
            _check_text(meta, root, problem)
        on_progress("texts", len(metas), len(metas))
        if Archive(root).catalog.exists():
            _check_catalog(root, summary, problem, on_progress)
    return summary


def _in_bytes(on_progress: OnProgress, sizes: Sizes, warc: Path, offset: int) -> None:
    on_progress("WARC files", sizes.at(warc, offset), sizes.total)


def _warcs(path: Path) -> list[Path]:
    if path.is_dir():
        return warcs_under(path)
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder")
    if not is_warc(path):
        raise UsageError(f"{path}: not a WARC file (.warc or .warc.gz) or an archive folder")
    if not path.is_file():  # a FIFO would block the read for ever
        raise UsageError(f"{path}: not a regular file")
    return [path]


def _check_warc(warc: Path, summary: Summary, problem: OnProblem, at: Callable[[int], None]) -> None:
    try:
        for item in check_records(warc):
            at(item.offset)
            if isinstance(item, ReadProblem):
                problem(f"{warc}: offset {item.offset}: {item.reason}")
                continue
            summary.records += 1
            for issue in item.problems:
                problem(f"{warc}: offset {item.offset}: {item.rec_type} record: {issue}")
    except OSError as exc:
        problem(f"{warc}: cannot read: {exc.strerror or exc}")


def _archive_root(path: Path) -> Path | None:
    """The output folder: the one given, if it holds a text or WARC folder or a catalog, or the one
    holding the ``text/`` folder it is inside."""
    if path.is_file():
        return None
    archive = Archive(path)
    if archive.texts.is_dir() or archive.catalog.exists() or archive.warcs.is_dir():
        return path
    for parent in path.resolve().parents:
        if parent.name == "text":
            return parent.parent
    return None


def _inside(root: Path, relative: str) -> Path | None:
    target = (root / relative).resolve()
    return target if target.is_relative_to(root.resolve()) else None


def _check_pointer(root: Path, warc_file: str, offset: Any, record_id: str, digest: str | None) -> str | None:
    """Why (warc_file, offset) does not hold the response ``record_id`` with payload ``digest``."""
    try:
        warc = Archive(root).warc_file(warc_file)
    except ArchiveError as exc:
        return f"names {warc_file!r}: {exc}"
    if not isinstance(offset, int) or offset < 0:
        return f"has no usable WARC offset ({offset!r})"
    record = record_at(warc, offset)
    if isinstance(record, ReadProblem):
        return f"points at {warc_file} offset {offset}, where no whole record starts"
    if record.record_id != record_id or record.rec_type != "response":
        found = f"{record.rec_type} {record.record_id}"
        return f"points at {warc_file} offset {offset}, which holds {found}, not the response {record_id}"
    if record.problems:
        return f"points at a damaged record: {'; '.join(record.problems)}"
    if digest is not None and record.payload_digest != digest:
        return f"payload digest {digest} is not the record's ({record.payload_digest})"
    return None


def _check_text(meta: Path, root: Path, problem: OnProblem) -> None:
    try:
        data = Archive(root).read_meta(Archive(root).relative(meta))
    except ArchiveError as exc:
        problem(f"{meta}: unreadable: {exc}")
        return
    why = _check_pointer(
        root, str(data.get("warc_file", "")), data.get("warc_offset"), str(data.get("warc_record_id", "")),
        data.get("payload_digest"),
    )  # fmt: skip
    if why:
        problem(f"{meta}: {why}")
    text = meta.with_suffix(".txt")
    try:
        actual = hashlib.sha256(text.read_bytes()).hexdigest()
    except OSError as exc:
        problem(f"{meta}: its text {text.name} cannot be read: {exc.strerror or exc}")
        return
    if actual != data.get("text_sha256"):
        problem(f"{meta}: text_sha256 is not the SHA-256 of {text.name}")


def _check_catalog(root: Path, summary: Summary, problem: OnProblem, on_progress: OnProgress) -> None:
    where = Archive(root).catalog
    try:  # an empty or foreign file is not opened: SQLite would take it for a new database
        present = catalog_present(where)
    except CatalogError as exc:
        problem(str(exc))  # it names the file
        return
    if not present:
        return
    try:  # damage() tells each bad value; articles() then skips the rows that hold one
        with Catalog(where, read_only=True, on_bad_row=lambda _: None) as catalog:
            for line in catalog.damage():
                problem(line)
            total = catalog.article_count()
            for done, row in enumerate(catalog.articles()):
                on_progress("catalog", done, max(total, done))
                summary.catalog_entries += 1
                _check_row(root, row, problem, where)
            on_progress("catalog", summary.catalog_entries, summary.catalog_entries)
    except CatalogError as exc:
        problem(str(exc))  # it names the file


def _check_row(root: Path, row: ArticleRow, problem: OnProblem, where: Path) -> None:
    said = f"{where}: {row.canonical}"
    why = _check_pointer(root, row.warc_file or "", row.warc_offset, row.warc_record_id or "", row.payload_digest)
    if why:
        problem(f"{said}: {why}")
    for name in (row.text_path, row.json_path):
        if name and not ((found := _inside(root, name)) and found.is_file()):
            there = os.path.lexists(root / name)  # a symlink out, say: the text check says what it is
            problem(f"{said}: {name} is {'no regular file in the archive' if there else 'missing'}")
    if row.json_path and (found := _inside(root, row.json_path)) and found.is_file():
        try:
            named = Archive(root).read_meta(row.json_path).get("warc_record_id")
        except ArchiveError:
            return  # the text check reports an unreadable JSON
        if named != row.warc_record_id:
            problem(f"{said}: the catalog names record {row.warc_record_id}, its JSON {named}")
