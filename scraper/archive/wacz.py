"""WACZ packages of the archive: the only module that imports the ``wacz`` package (py-wacz).

A WACZ is a zip that ReplayWeb.page opens as it is: ``archive/`` holds the WARC files unchanged,
``indexes/index.cdx.gz`` + ``index.idx`` the compressed CDXJ index py-wacz builds over them,
``pages/pages.jsonl`` the list of articles (URL, capture time, title) a reader starts from, and
``datapackage.json`` the hash of every file. The pages come from the articles' JSON files and the
per-WARC CDXJ indexes: each JSON names the record its text came from, the index gives that
record's URL and time exactly as the WARC has them. Packing only reads the archive: an index that
cannot be written beside its WARC (a read-only archive) is made beside the package being written,
and goes with the rest of its temporary files.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import threading
import zipfile
from collections.abc import Callable, Iterable
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from scraper.archive.cdx import Indexed, IndexEntry, index_all, read_index
from scraper.archive.export import replacing
from scraper.archive.layout import Archive
from scraper.capture.warc import find_warcs
from scraper.errors import ArchiveError, UsageError


@dataclass(frozen=True, slots=True)
class Page:
    url: str
    timestamp: str  # 14 digits, UTC, as in the index
    title: str

    def as_json(self) -> dict[str, str]:
        t = self.timestamp
        return {
            "url": self.url,
            "ts": f"{t[:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}Z",
            "title": self.title,
        }


@dataclass(frozen=True, slots=True)
class Packed:
    path: Path
    warcs: tuple[Path, ...]
    pages: int
    problems: tuple[str, ...]  # WARCs left out (could not be indexed), one line each


Progress = Callable[[int, int], None]  # (steps done, steps in all): each WARC indexed, then writing, validating


def pack(
    root: Path, output: Path, title: str = "scraper archive", stop: threading.Event | None = None,
    on_progress: Progress | None = None,
) -> Packed:  # fmt: skip
    """Write ``output`` (a .wacz) from every closed WARC under ``<root>/warc``, then validate it.
    The package is put in place whole or not at all, and not once ``stop`` is set."""
    if importlib.util.find_spec("wacz") is None:
        raise UsageError("pack needs the wacz package: pip install '.[wacz]' in the checkout")
    if output.suffix.lower() != ".wacz":
        raise UsageError(f"{output}: the package's name must end in .wacz")
    warc_dir = Archive(root).warcs
    if not warc_dir.is_dir():
        raise UsageError(f"{root}: no warc/ folder: nothing archived here yet")
    tell = on_progress or (lambda done, steps: None)
    with replacing(output) as temp:  # an output that cannot be written is refused here, before the work
        indexed = _indexed(find_warcs([warc_dir]), temp.parent / "indexes", tell)
        steps = len(indexed) + 2
        usable = [i for i in indexed if i.problem is None]
        problems = tuple(f"{i.warc}: {i.problem}" for i in indexed if i.problem is not None)
        if not usable:
            raise UsageError(f"{warc_dir}: no WARC file to pack")
        entries = {(e.filename, e.offset): e for i in usable for e in read_index(i.index)}
        pages = sorted(set(_pages(root, entries)), key=lambda p: (p.timestamp, p.url))
        _create(temp, [i.warc for i in usable], pages, title)
        tell(steps - 1, steps)
        if not validate(temp):
            raise ArchiveError(f"{output}: the package failed WACZ validation")
        tell(steps, steps)
        if stop is not None and stop.is_set():  # py-wacz's bare except: clauses can swallow the interrupt
            raise KeyboardInterrupt
    return Packed(output, tuple(i.warc for i in usable), len(pages), problems)


def _indexed(warcs: list[Path], elsewhere: Path, tell: Progress) -> list[Indexed]:
    """Every WARC's index brought up to date, or made in ``elsewhere`` where it cannot be written."""
    indexed = []
    for done in index_all(warcs, elsewhere=elsewhere):
        indexed.append(done)
        tell(len(indexed), len(warcs) + 2)
    return indexed


def validate(path: Path) -> bool:
    """py-wacz's own validation: required files, datapackage schema, paths and every file's hash."""
    from wacz.main import main as wacz_main

    try:
        return _quiet(wacz_main, ["validate", "--file", str(path)]) == 0
    except OSError:  # no room to unpack the package into, say: a fault of this machine, not of the package
        raise
    except Exception:  # py-wacz raises, rather than reports, on some damage (a broken gzip member)
        return False


def _create(output: Path, warcs: list[Path], pages: list[Page], title: str) -> None:
    """py-wacz's ``create``; ``output`` is in a private folder, which takes its page list too."""
    from wacz.main import main as wacz_main

    args = ["create", "--output", str(output), "--title", title]
    if pages:
        listing = output.with_name("pages.jsonl")
        lines = [{"format": "json-pages-1.0", "id": "pages", "title": "Articles"}] + [p.as_json() for p in pages]
        listing.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
        args += ["--pages", str(listing)]
    else:  # no article texts (a fetch of non-articles): let py-wacz list the HTML pages itself
        args += ["--detect-pages"]
    try:
        made = _quiet(wacz_main, [*args, *map(str, warcs)])
    except BaseException as exc:
        _close_left_open(exc.__traceback__)
        raise
    if made != 0:
        raise ArchiveError(f"{output.name}: py-wacz could not create the package")


def _close_left_open(tb: TracebackType | None) -> None:
    """py-wacz leaves its zip file open when writing it fails (a full disk). Closed here, its second
    failure ignored: else the interpreter's exit tries again and prints a traceback."""
    while tb is not None:
        for value in tb.tb_frame.f_locals.values():
            if isinstance(value, zipfile.ZipFile):
                with contextlib.suppress(Exception):
                    value.close()
        tb = tb.tb_next


def _pages(root: Path, entries: dict[tuple[str, int], IndexEntry]) -> Iterable[Page]:
    """One page per article JSON whose record is in the packed WARCs."""
    text_dir = Archive(root).texts
    for path in sorted(text_dir.rglob("*.json")) if text_dir.is_dir() else ():
        meta = _meta(root, path)
        if not meta or not isinstance(meta.get("warc_file"), str) or not isinstance(meta.get("warc_offset"), int):
            continue
        entry = entries.get((Path(meta["warc_file"]).name, meta["warc_offset"]))
        if entry is not None:
            yield Page(entry.url, entry.timestamp, str(meta.get("title") or entry.url))


def _meta(root: Path, path: Path) -> dict[str, Any] | None:
    archive = Archive(root)
    try:
        return archive.read_meta(archive.relative(path))
    except ArchiveError:
        return None  # not an article's metadata: nothing to list


def _quiet(main: Any, args: list[str]) -> int:
    """py-wacz reports on stdout, which belongs to the command's own output: kept out of it."""
    with redirect_stdout(io.StringIO()):
        return int(main(args) or 0)
