"""Parsing a saved page: an HTML file, or every response record of a WARC file, through the same
``judge`` as a run and a re-clean. Nothing is written."""

from __future__ import annotations

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
    if path.is_dir():
        raise UsageError(f"{path}: a folder: parse reads one HTML page or one WARC file")
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
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
    body = path.read_bytes()
    when = captured or datetime.fromtimestamp(path.stat().st_mtime, UTC)
    yield judge(Capture(url or _canonical(path, body), when, 200, (), body), None)


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
