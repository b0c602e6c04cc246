"""Parsing a saved page: an HTML file, or every response record of a WARC file, through the same
``judge`` as a run and a re-clean. Nothing is written."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from scraper.capture.warc import ReadProblem, is_warc, read_responses
from scraper.errors import UsageError
from scraper.extract import page
from scraper.extract.decode import decode_html
from scraper.models import Article, Capture, Rejected, Skipped
from scraper.pipeline.store import archived_as, judge
from scraper.urls import url_problem


def parse_path(
    path: Path, url: str | None, captured: datetime | None, max_body: int
) -> Iterator[Article | Rejected | Skipped | ReadProblem]:
    """Articles from a saved page: an HTML file, or every response record of a WARC file."""
    _regular(path)
    if is_warc(path):
        found = False
        for item in read_responses(path, path.name, max_body):
            found = True
            if isinstance(item, ReadProblem):
                yield item
            else:
                yield judge(item.capture, item.truncated, archived_as(item), item.undecodable)  # names its own URL
        if not found:
            raise UsageError(f"{path}: no HTTP response record in it: nothing to parse")
        return
    body = _page(path, max_body)
    when = captured or datetime.fromtimestamp(path.stat().st_mtime, UTC)
    yield judge(Capture(url or _canonical(path, body), when, 200, (), body), None)


_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
}


def _regular(path: Path) -> None:
    """``path`` is a regular file, told by its mode, never by opening it: the open of a FIFO waits
    for a writer, and a device's read never ends."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise UsageError(f"{path}: {kind}: parse reads one HTML page or one WARC file")


def _page(path: Path, max_body: int) -> bytes:
    """A saved page, read up to the size a fetch keeps of a body."""
    try:
        with path.open("rb") as file:
            body = file.read(max_body + 1)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(body) > max_body:
        raise UsageError(f"{path}: larger than max_body_bytes ({max_body} bytes): a fetch would not extract it either")
    return body


def _canonical(path: Path, body: bytes) -> str:
    """The page's canonical link, when it is an absolute http(s) URL: a relative one
    (``63953.html``) would pick the generic adapter and lose what the site's adapter knows."""
    root = page.parse(decode_html(body))
    link = (page.canonical_url(root) if root is not None else None) or ""
    if not link.strip():
        raise UsageError(f"{path}: the page has no canonical link; pass --url")
    if url_problem(link.strip()):
        raise UsageError(f"{path}: its canonical link {link[:200]!r} is no absolute http(s) URL; pass --url")
    return link.strip()
