"""The fixture pages as their sites served them: (url, response headers, body) per site, read from
each fixture's WARC. Shared by the tests and by ``bench/fetch.py``."""

from __future__ import annotations

import json
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from scraper.sites import SITES

FIXTURES = Path(__file__).parent / "fixtures"

Page = tuple[str, dict[str, str], bytes]


def fixture_pages() -> dict[str, list[Page]]:
    """Every article fixture with an expected JSON, by the site that JSON names (an error page the
    adapter must reject is none); headers without Content-Length, which a server sets for the body
    it sends."""
    pages: dict[str, list[Page]] = {s.name: [] for s in SITES}
    for case in sorted(FIXTURES.glob("*/*.json")):
        warc = case.with_suffix(".warc.gz")
        expected = json.loads(case.read_text(encoding="utf-8"))
        if not warc.exists() or expected.get("rejected"):
            continue
        with open(warc, "rb") as fh:
            record = next(r for r in ArchiveIterator(fh) if r.rec_type == "response")
            url = record.rec_headers.get_header("WARC-Target-URI")
            headers = {k: v for k, v in record.http_headers.headers if k.lower() != "content-length"}
            pages[expected["site"]].append((url, headers, record.content_stream().read()))
    return pages
