"""End to end: ``scraper replay`` starts a real pywb on 127.0.0.1 over an archive two scheduled
runs wrote. Every archived article is served with status 200 and, unrewritten (``id_``), the very
bytes the site sent; every feed revisit, of either profile, resolves to its original capture."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_index import Archive, build_archive, records
from test_run import _key

from scraper.archive.catalog import Catalog
from scraper.archive.cdx import IndexEntry, index_path, read_index
from scraper.sites import SITES, site_for

START_TIMEOUT = 60.0  # pywb imports gevent and its templates: slow on a cold machine


@dataclass(frozen=True)
class Served:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Replay:
    archive: Archive
    base: str  # http://127.0.0.1:PORT/archive/

    def get(self, path: str) -> Served:
        try:
            with urllib.request.urlopen(self.base + path, timeout=30) as answer:
                return Served(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as exc:
            return Served(exc.code, dict(exc.headers), exc.read())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(server: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"pywb exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.25)
    raise AssertionError(f"pywb did not answer at {url} within {START_TIMEOUT}s")


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replay]:
    archive = build_archive(tmp_path_factory.mktemp("replay"))
    port = free_port()
    log = open(archive.root / "pywb.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "scraper", "replay", "--port", str(port), "--config", "run.toml"],
        cwd=archive.root, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until_up(server, f"http://127.0.0.1:{port}/")
        yield Replay(archive, f"http://127.0.0.1:{port}/archive/")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


def entries(archive: Archive) -> dict[tuple[str, int], IndexEntry]:
    return {(e.filename, e.offset): e for w in archive.warcs() for e in read_index(index_path(w))}


def sent(archive: Archive, url: str) -> bytes:
    """The body the stand-in site sent for this URL."""
    return archive.world.routes[site_for(url).name][_key(url)].body


def test_every_archived_article_is_served_as_the_site_sent_it(replay: Replay) -> None:
    archive = replay.archive
    index = entries(archive)
    with Catalog(archive.out / "catalog.sqlite") as catalog:
        articles = list(catalog.articles())
    assert len(articles) == sum(archive.world.expected(s) for s in SITES)
    for article in articles:
        meta = json.loads((archive.out / (article.json_path or "")).read_text(encoding="utf-8"))
        entry = index[(Path(meta["warc_file"]).name, meta["warc_offset"])]
        raw = replay.get(f"{entry.timestamp}id_/{entry.url}")
        assert raw.status == 200, (entry.url, raw.body[:300])
        assert raw.body == sent(archive, entry.url), entry.url  # byte-equal payload
        page = replay.get(f"{entry.timestamp}mp_/{entry.url}")  # what a browser's frame loads
        assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
        assert b"<!-- WB Insert -->" in page.body  # pywb's replay banner and link rewriting went in
        latest = replay.get(f"id_/{entry.url}")  # no timestamp: the latest capture
        assert latest.status == 200 and latest.body == raw.body


def test_every_revisit_resolves_to_its_original(replay: Replay) -> None:
    archive = replay.archive
    revisits = [r for w in archive.warcs() for r in records(w) if r.kind == "revisit"]
    profiles = {r.profile.rsplit("/", 1)[-1] for r in revisits if r.profile}
    assert profiles == {"server-not-modified", "identical-payload-digest"}
    originals = {(r.url, r.record_id): r for w in archive.warcs() for r in records(w) if r.kind == "response"}
    for revisit in revisits:
        original = next(o for (url, _), o in originals.items() if url == revisit.url and o.date < revisit.date)
        stamp = _stamp(revisit.date)
        assert stamp > _stamp(original.date)  # so the capture asked for below is the revisit itself
        served = replay.get(f"{stamp}id_/{revisit.url}")
        assert served.status == 200, (revisit.profile, revisit.url, served.status)
        assert served.body == sent(archive, revisit.url) and served.body.startswith(b"<?xml")


def test_the_collection_answers_with_a_not_found_for_what_was_never_archived(replay: Replay) -> None:
    assert replay.get("20240101000000id_/https://www.interfax.ru/never/archived").status == 404


def test_bad_port_and_empty_archive_are_usage_errors(tmp_path: Path) -> None:
    for args in (["--port", "0"], ["--port", "70000"], ["--out", str(tmp_path / "nothing")]):
        done = subprocess.run(
            [sys.executable, "-m", "scraper", "replay", *args], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("error:") and len(done.stderr.strip().splitlines()) == 1


def _stamp(warc_date: str) -> str:
    return "".join(c for c in warc_date if c.isdigit())[:14]


def test_a_cut_off_capture_replays_whole_and_at_once(tmp_path: Path) -> None:
    """A body cut off at max_body_bytes or a lost connection: its header no longer promises the
    server's length (kept as X-Archive-Orig-Content-Length), so pywb serves what there is, without
    waiting for bytes that never come."""
    from test_warc_fields import _exchange

    from scraper.capture.warc import WarcFile

    warc = tmp_path / "out" / "warc" / "cut.warc.gz"
    warc.parent.mkdir(parents=True)
    with WarcFile(warc, warc.name) as file:
        file.write_warcinfo({"software": "test"})
        file.write_exchange(_exchange("length"), {"software": "test"})
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "scraper", "replay", "--port", str(port), "--out", "out"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_up(server, f"http://127.0.0.1:{port}/")
        url = f"http://127.0.0.1:{port}/archive/20261205000000id_/https://www.interfax.ru/world/1"
        with urllib.request.urlopen(url, timeout=15) as answer:
            assert (answer.status, answer.read()) == (200, b"<html><body><p>cut</p>")
    finally:
        server.terminate()
        server.wait(timeout=10)
