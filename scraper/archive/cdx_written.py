"""Indexes of the WARC files this process has just written (``run``, ``fetch``), made from what
the writer wrote, not by reading the files again: reading back cost a tenth of a run's time on real
pages. The only module that imports surt.

The lines are the ones cdxj-indexer writes of the same records (``tests/test_validators.py`` and
``tests/test_index.py`` hold the two byte for byte). A file continued from an earlier run keeps the
lines of its index when that index is the one written of the file as it was then; otherwise, and
when a record would read back otherwise than it was written, the whole file is read, as ``scraper
index`` does (``cdx``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import surt

from scraper.archive.cdx import Indexed, index_all, index_entry, index_path
from scraper.capture.warc import Listed, Written

_MIME_END = re.compile(r"[;\s]")  # a Content-Type's parameters, or what follows a space, are not its mime


def index_written(done: Written) -> Indexed:
    """Bring the index of a WARC this process has written and closed up to date, from ``done``."""
    index = index_path(done.path)
    kept = [] if done.continued is None else _kept_lines(index, done.path.name, done.continued)
    if done.torn or kept is None or not all(map(_read_as_written, done.listed)):
        return next(index_all([done.path], force=True))
    lines = sorted([*kept, *(_line(listed, done.path.name) for listed in done.listed)])
    temp = index.with_name(f".{index.name}.{os.getpid()}.tmp")
    try:
        seen = done.path.stat()
        temp.write_text("".join(lines), encoding="utf-8")
        os.utime(temp, ns=(seen.st_atime_ns, seen.st_mtime_ns))
        os.replace(temp, index)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        return Indexed(done.path, index, False, problem=f"{done.path}: cannot index: {exc.strerror or exc}")
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return Indexed(done.path, index, True, len(lines))


def _read_as_written(listed: Listed) -> bool:
    """Whether a reader takes the record as the writer saw it: not for a URI with a space (warcio
    writes it escaped), nor one whose scheme no reader takes for HTTP, nor for bytes beyond printable
    ASCII. Such a file is read back as it lies (a record verify calls damaged is then left out)."""
    if not listed.url.startswith(("http://", "https://")) or any(c.isspace() for c in listed.url):
        return False
    return all(
        text.isascii() and text.isprintable() for text in (listed.url, listed.status_line, listed.content_type or "")
    )


def _kept_lines(index: Path, name: str, continued: tuple[int, int]) -> list[str] | None:
    """The lines of the index of a file as it was before it was continued, if that index is the one
    an indexer wrote of the file in that state: its modification time set to the file's (an index
    edited since has another), every line of that file and before where it was continued."""
    try:
        if index.stat().st_mtime_ns != continued[1]:
            return None
        lines = index.read_text(encoding="utf-8").splitlines(keepends=True)
        if not all((entry := index_entry(line)).offset < continued[0] and entry.filename == name for line in lines):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return lines


def _line(listed: Listed, filename: str) -> str:
    """The line cdxj-indexer writes for the record (its default fields, in its order)."""
    try:
        key = surt.surt(listed.url)
    except Exception:  # as cdxj-indexer does: a URL surt cannot take is its own key
        key = listed.url
    fields = {"url": listed.url}
    if listed.rec_type == "revisit":
        fields["mime"] = "warc/revisit"
    elif listed.content_type is not None:
        fields["mime"] = _MIME_END.split(listed.content_type.strip(), maxsplit=1)[0].strip()
    fields["status"] = listed.status_line.split(" ", 1)[0]
    if listed.digest is not None:
        fields["digest"] = listed.digest
    fields |= {"length": str(listed.length), "offset": str(listed.offset), "filename": filename}
    stamp = re.sub(r"\D", "", listed.date)[:14]
    return f"{key} {stamp} {json.dumps(fields)}\n"
