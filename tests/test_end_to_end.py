"""End to end through the installed CLI, in a subprocess, against a real HTTP server on
127.0.0.1 standing in for the five sites via --connect-to. The pages served are the seed
fixtures, byte for byte, with their recorded headers."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from servers import Route, serve
from warcio.archiveiterator import ArchiveIterator

SEEDS = Path(__file__).parent / "fixtures" / "seeds"


def seed_pages() -> list[tuple[str, dict[str, str], bytes]]:
    pages = []
    for warc in sorted(SEEDS.glob("*.warc.gz")):
        with open(warc, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response":
                    headers = {k: v for k, v in record.http_headers.headers if k.lower() != "content-length"}
                    pages.append(
                        (record.rec_headers.get_header("WARC-Target-URI"), headers, record.content_stream().read())
                    )
    return pages


def scraper(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scraper", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def fetched(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    pages = seed_pages()
    assert len(pages) == 5
    routes = {urlsplit(url).path: Route(body=body, headers=headers) for url, headers, body in pages}
    work = tmp_path_factory.mktemp("e2e")
    with serve(routes) as server:
        mapping = [arg for url, _, _ in pages for arg in ("--connect-to", f"{origin(url)}={server.origin}")]
        result = scraper("fetch", "--out", "out", *mapping, *(url for url, _, _ in pages), cwd=work)
    return work, pages, result


def test_fetch_writes_a_valid_warc_and_a_text_per_article(fetched) -> None:  # type: ignore[no-untyped-def]
    work, pages, result = fetched
    assert result.returncode == 0, result.stderr
    assert "fetched 5 URLs: 5 articles, 0 failed" in result.stderr
    warc = next((work / "out" / "warc").glob("fetch-*.warc.gz"))
    check = subprocess.run(
        [sys.executable, "-c", "import sys; from warcio.cli import main; main(sys.argv[1:])", "check", str(warc)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    with open(warc, "rb") as fh:
        records = [(r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read()) for r in ArchiveIterator(fh)]
    # robots.txt is asked for first (each of the 5 hosts once); its exchanges are archived too
    records = [r for r in records if not (r[1].get_header("WARC-Target-URI") or "").endswith("/robots.txt")]
    assert records[0][0] == "warcinfo" and records[0][1].protocol == "WARC/1.1"
    assert [r[0] for r in records[1:]] == ["response", "request", "metadata"] * 5
    for (url, _, body), i in zip(pages, range(1, 16, 3), strict=True):
        response, request, metadata = records[i : i + 3]
        assert response[1].get_header("WARC-Target-URI") == url  # the original URL, not 127.0.0.1
        assert response[3] == body  # the bytes as served
        assert request[2].protocol == "GET" and request[2].statusline.endswith(" HTTP/1.1")
        assert request[2].get_header("Host") == urlsplit(url).netloc
        response_id = response[1].get_header("WARC-Record-ID")
        assert request[1].get_header("WARC-Concurrent-To") == response_id
        assert metadata[1].get_header("WARC-Concurrent-To") == response_id
        assert b"adapter: " in metadata[3] and b"extractor: trafilatura/" in metadata[3]


def test_text_files_are_named_and_described(fetched) -> None:  # type: ignore[no-untyped-def]
    work, pages, _ = fetched
    texts = sorted((work / "out" / "text").rglob("*.txt"))
    assert [re.fullmatch(r"\d{3}_[0-9a-f]{16}\.txt", p.name) is not None for p in texts] == [True] * 5
    assert [p.name[:3] for p in texts] == ["000", "001", "002", "003", "004"]
    for path, (url, _, _) in zip(texts, pages, strict=True):
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        text = path.read_text(encoding="utf-8")
        assert meta["url"] == url and meta["http_status"] == 200
        assert text.startswith(meta["title"] + "\n\n")
        assert meta["warc_file"].startswith("warc/fetch-") and meta["warc_record_id"].startswith("<urn:uuid:")
        assert meta["payload_digest"].startswith("sha1:") and len(meta["text_sha256"]) == 64
        assert meta["published"] is None or re.search(r"[+-]\d\d:\d\d$", meta["published"])
        assert meta["adapter"] in {"interfax", "kremlin", "sputnik", "znua", "rbc"}
        with open(work / "out" / meta["warc_file"], "rb") as fh:
            fh.seek(meta["warc_offset"])
            record = next(iter(ArchiveIterator(fh)))
            assert record.rec_headers.get_header("WARC-Record-ID") == meta["warc_record_id"]


def test_reclean_reproduces_the_files_byte_for_byte(fetched) -> None:  # type: ignore[no-untyped-def]
    work, _, _ = fetched
    before = snapshot(work / "out" / "text")
    first = scraper("reclean", "--out", "out", "out/warc", cwd=work)
    assert first.returncode == 0, first.stderr
    assert "5 articles (0 changed, 5 unchanged), 0 failed" in first.stderr
    second = scraper("reclean", "--out", "out", "--jobs", "2", "out/warc", cwd=work)
    assert second.returncode == 0, second.stderr
    assert snapshot(work / "out" / "text") == before


def test_reclean_rewrites_texts_that_were_lost(fetched) -> None:  # type: ignore[no-untyped-def]
    work, _, _ = fetched
    before = snapshot(work / "out" / "text")
    victim = sorted((work / "out" / "text").rglob("*.txt"))[2]
    victim.unlink()
    result = scraper("reclean", "--out", "out", "out/warc", cwd=work)
    assert "5 articles (1 changed, 4 unchanged)" in result.stderr
    assert snapshot(work / "out" / "text") == before


def test_parse_prints_each_archived_article(fetched) -> None:  # type: ignore[no-untyped-def]
    work, pages, _ = fetched
    warc = next((work / "out" / "warc").glob("fetch-*.warc.gz"))
    result = scraper("parse", str(warc), "--json", cwd=work)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["url"] for row in rows] == [url for url, _, _ in pages]
    texts = sorted((work / "out" / "text").rglob("*.txt"))
    for row, path in zip(rows, texts, strict=True):
        assert path.read_text(encoding="utf-8") == f"{row['title']}\n\n{row['text']}\n"


def test_gzip_response_is_archived_encoded_and_extracted_decoded(tmp_path: Path) -> None:
    url, headers, body = next(p for p in seed_pages() if "interfax" in p[0])
    route = Route(body=gzip.compress(body), headers={**headers, "Content-Encoding": "gzip"})
    with serve({urlsplit(url).path: route}) as server:
        result = scraper("fetch", "--out", "out", "--connect-to", f"{origin(url)}={server.origin}", url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with open(next((tmp_path / "out" / "warc").glob("*.warc.gz")), "rb") as fh:
        response = next(
            r
            for r in ArchiveIterator(fh)
            if r.rec_type == "response" and not r.rec_headers.get_header("WARC-Target-URI").endswith("/robots.txt")
        )
        assert response.http_headers.get_header("Content-Encoding") == "gzip"
        assert response.raw_stream.read() == route.body  # stored as served, still compressed
    text = next((tmp_path / "out" / "text").rglob("*.txt")).read_text(encoding="utf-8")
    assert "ИНТЕРФАКС" in text
