"""The WARC a re-clean benchmark reads: site pages repeated under distinct URLs of their own site.

The pages come from the fixtures (every 2xx response of ``tests/fixtures/*/*.warc.gz``, ~21 KiB) or
from the real article pages saved in ``../shared/pages`` (35-290 KiB), each with the URL and date that
``bench/pages.py`` gives it (the hand label's, else the page's own canonical link and the date in its
file name): the date is the WARC-Date, so the adapter picks the layout of the page's year. Homepages
and listings are left out, as ``bench/fetch.py --pages-from shared`` leaves them: a re-clean of years
of archives is mostly articles. So is a page the pipeline gives no article for (a fixture of a "not
found" page served with status 200): every figure counts the pages extracted.

Each page is written as ``scraper run`` lays it out: a response, a request and a metadata record
that names the page's text (``text/<site>/<day>/NNN_<hash>``), so that a re-clean writes every page's
text (a metadata record of this tool naming no text says "not an article").
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from pages import real_pages  # bench/, the folder of this script
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from scraper import __version__
from scraper.archive.layout import Archive, stem_name
from scraper.capture.warc import Stored, read_responses
from scraper.models import Article, Capture
from scraper.pipeline.capture import metadata
from scraper.pipeline.store import judge
from scraper.sites import site_for

USER_AGENT = f"scraper/{__version__} (bench)"
_ARCHIVE = Archive(Path("archive"))  # the text paths in metadata records are relative to the root


@dataclass(frozen=True, slots=True)
class PageWarc:
    path: Path
    pages: int
    body_bytes: int  # of the response bodies, as served: what MB/s counts


def articles(captures: list[Capture], source: Path) -> list[Capture]:
    """The captures the pipeline's one rule (``judge``) gives an article for; the others are named."""
    kept = []
    for capture in captures:
        result = judge(capture, None)
        if isinstance(result, Article):
            kept.append(capture)
        else:
            print(f"left out: {capture.url}: {result.reason}")
    if not kept:
        raise SystemExit(f"{source}: no page that gives an article")
    return kept


def fixture_captures(fixtures: Path) -> list[Capture]:
    captures = []
    for warc in sorted(fixtures.glob("*/*.warc.gz")):
        captures += [r.capture for r in read_responses(warc, warc.name, 50_000_000) if isinstance(r, Stored)]
    return articles(captures, fixtures)


def shared_captures(folder: Path, labels: Path) -> list[Capture]:
    found, notes = real_pages(folder, labels)
    for note in notes:
        print(f"left out: {note}")
    return articles([p.capture for p in found if site_for(p.capture.url).is_article_url(p.capture.url)], folder)


def variant_url(url: str, n: int) -> str:
    """The same page under a URL of its own: the host (so the adapter) stays; courlan's
    normalisation keeps ``id``, so every variant has its own text file name too."""
    return f"{url}{'&' if '?' in url else '?'}id={n}"


def text_fields(capture: Capture, url: str, serial: int) -> bytes:
    """The metadata record's fields, as a scheduled run writes them."""
    site, when = site_for(url), capture.fetched_at
    stem = _ARCHIVE.texts / site.name / when.date().isoformat() / stem_name(serial, url)
    return "".join(f"{k}: {v}\r\n" for k, v in metadata(site, when, stem, _ARCHIVE).items()).encode()


def exchange_records(writer: WARCWriter, capture: Capture, url: str, serial: int) -> list[object]:
    """Response, request and metadata records of one page, as ``scraper run`` lays them out."""
    date = capture.fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # same layout version
    response = writer.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(capture.body),  # neither source's bodies carry a Content-Encoding
        length=len(capture.body),
        http_headers=StatusAndHeaders(f"{capture.status} OK", list(capture.headers), protocol="HTTP/1.1"),
        warc_headers_dict={"WARC-Date": date},
    )
    concurrent = {"WARC-Date": date, "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")}
    target = "/" + url.split("://", 1)[-1].partition("/")[2]
    request = writer.create_warc_record(
        url,
        "request",
        http_headers=StatusAndHeaders(f"GET {target} HTTP/1.1", [("User-Agent", USER_AGENT)], is_http_request=True),
        warc_headers_dict=concurrent,
    )
    described = writer.create_warc_record(
        url,
        "metadata",
        payload=io.BytesIO(text_fields(capture, url, serial)),
        warc_content_type="application/warc-fields",
        warc_headers_dict=concurrent,
    )
    return [response, request, described]


def build_warc(path: Path, captures: list[Capture], pages: int) -> PageWarc:
    """A gzip WARC of ``pages`` pages cycling through the captures."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body_bytes = 0
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="WARC/1.1")
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": USER_AGENT}))
        for n in range(pages):
            capture = captures[n % len(captures)]
            body_bytes += len(capture.body)
            for record in exchange_records(writer, capture, variant_url(capture.url, n), n):
                writer.write_record(record)
    return PageWarc(path, pages, body_bytes)


def response_records(warc: Path) -> Iterator[tuple[str, bytes]]:
    with warc.open("rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "response":
                yield record.rec_headers.get_header("WARC-Target-URI"), record.content_stream().read()
