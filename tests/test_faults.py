"""Hostile sites and feeds, served by tests/faultserver.py on 127.0.0.1: every fault ends as a
one-line reason, the run goes on, memory stays bounded, no request leaves for a place it must not,
and `scraper verify` finds the archive sound (and finds it out when it is not)."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import faultserver
import pytest
from faultserver import EXPECTED, FEED_FAULTS, PARAGRAPHS, Faults, FaultServer, run_config, run_faults, serve

from scraper import Article, process
from scraper.archive.catalog import Catalog
from scraper.capture.fetch import Fetcher
from scraper.config import Settings
from scraper.errors import WorkerError
from scraper.pipeline.workers import Extractors
from scraper.schedule.discover import candidates, feed_links, sitemap_links
from scraper.sites import site_for
from scraper.urls import canonical

QUICK = {"stall_seconds": 5.0, "drip_seconds": 10, "bomb_mib": 512}
EXTRACT_SECONDS = 5.0


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with serve(Faults(**QUICK)) as running:  # type: ignore[arg-type]
        yield running


def settings(origin: str, **changes: object) -> Settings:
    """The fault server's run settings (tests/faultserver.run_config), every run origin mapped to it."""
    mapped = tuple((o, origin) for o in faultserver.RUN_ORIGINS)
    base = Settings(timeout=2, total_timeout=4, retries=1, backoff=0.2, retry_after_max=5, connect_to=mapped)
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def workers() -> Iterator[Extractors]:
    with Extractors(1, EXTRACT_SECONDS) as pool:  # as a run extracts: in a worker, under the time limit
        yield pool


def outcome(fetcher: Fetcher, url: str, workers: Extractors) -> Article | str:
    """What a run makes of a URL: the article, or the one-line reason it has none."""
    fetched = fetcher.fetch(url)
    if fetched.error or fetched.final is None:
        return fetched.error or "nothing received"
    try:
        result = workers.submit(process, fetched.final, site_for(fetched.final.url)).result()
    except WorkerError as exc:
        return str(exc)
    return result if isinstance(result, Article) else result.reason


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_every_page_fault_ends_as_a_one_line_reason(server: FaultServer, workers: Extractors, mode: str) -> None:
    with Fetcher(settings(server.origin)) as fetcher:
        result = outcome(fetcher, f"https://www.interfax.ru/{mode}/1", workers)
    expected = EXPECTED[mode]
    if expected is None:
        assert isinstance(result, Article), result
        assert PARAGRAPHS[0] in result.text or mode == "badutf"
        assert "\0" not in result.text and "<" not in result.text
    else:
        assert isinstance(result, str) and "\n" not in result
        assert re.search(expected, result), result


def test_bodies_stay_within_the_cap(server: FaultServer) -> None:
    cap = 2_000_000
    with Fetcher(settings(server.origin, max_body_bytes=cap)) as fetcher:
        bomb = fetcher.fetch("https://www.interfax.ru/gzipbomb/2")
        huge = fetcher.fetch("https://www.interfax.ru/huge/2")
    assert bomb.final is not None and len(bomb.final.body) <= cap  # 512 MiB when inflated
    assert len(bomb.exchanges[0].raw_body) < cap and bomb.exchanges[0].truncated is None  # kept whole, as sent
    assert len(huge.exchanges[0].raw_body) == cap and huge.exchanges[0].truncated == "length"


def test_retry_after_is_waited_for_up_to_the_ceiling(server: FaultServer, workers: Extractors) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    with Fetcher(settings(server.origin, retries=2), sleep=sleep) as fetcher:
        assert isinstance(outcome(fetcher, "https://www.interfax.ru/ratesec/7", workers), Article)
        assert slept == [1.0]
        assert isinstance(outcome(fetcher, "https://www.interfax.ru/ratedate/7", workers), Article)
        assert 0.0 < slept[1] <= 2.0
        started = time.monotonic()
        reason = outcome(fetcher, "https://www.interfax.ru/ratelong/7", workers)
        assert time.monotonic() - started < 1.0 and len(slept) == 2  # a day is past the 5 s ceiling
    assert isinstance(reason, str) and "Retry-After 86400 s is past the 5 s ceiling" in reason
    for path, wait in (("/ratesec/7", 1.0), ("/ratedate/7", slept[1])):
        first, second = server.asked(path)
        assert second.at - first.at >= wait - 0.05
    assert len(server.asked("/ratelong/7")) == 1


def test_links_to_other_schemes_and_private_addresses_are_never_followed(server: FaultServer) -> None:
    links = faultserver.hostile_links("https://www.interfax.ru", server.origin)
    before = len(server.hits)
    with Fetcher(settings(server.origin, retries=0)) as fetcher:
        reasons = [fetcher.fetch(link).error or "" for link in links]
    for link, reason in zip(links, reasons, strict=True):
        assert reason.startswith(("not an http(s) URL", "blocked: ")), (link, reason)
    assert len(server.hits) == before  # the server itself (127.0.0.1, not via connect_to) saw nothing
    assert "not a public address (loopback)" in reasons[links.index(f"{server.origin}/world/3")]


def test_every_address_of_a_name_is_checked(server: FaultServer) -> None:
    asked: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return {"mixed.example": ["93.184.216.34", "10.1.2.3"], "local.example": ["127.0.0.1"]}[host]

    with Fetcher(settings(server.origin, retries=0), resolver=resolver) as fetcher:
        mixed = fetcher.fetch("http://mixed.example/world/1").error
        local = fetcher.fetch(f"http://local.example:{server.port}/ok/1").error
    assert mixed == "blocked: mixed.example resolves to 10.1.2.3, not a public address (private)"
    assert local == "blocked: local.example resolves to 127.0.0.1, not a public address (loopback)"
    assert asked == ["mixed.example", "local.example"]
    assert not [h for h in server.hits if h.host.startswith("local.example")]


def test_the_connection_goes_to_the_address_that_was_checked(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 127.0.0.1 passes for public here; the name resolves nowhere else, so a hit proves the check's
    # answer is the one connected to (no second lookup a DNS rebinding could answer differently)
    monkeypatch.setattr("scraper.capture.sockets.non_public", lambda address: None)
    with Fetcher(settings(server.origin, retries=0), resolver=lambda host, port: ["127.0.0.1"]) as fetcher:
        fetched = fetcher.fetch(f"http://pinned.example:{server.port}/ok/31")
    assert fetched.error is None and fetched.final is not None and fetched.final.status == 200
    assert [h.host for h in server.asked("/ok/31")] == [f"pinned.example:{server.port}"]


def test_allow_private_addresses_lifts_the_block(server: FaultServer) -> None:
    with Fetcher(settings(server.origin, retries=0, allow_private_addresses=True)) as fetcher:
        fetched = fetcher.fetch(f"{server.origin}/ok/32")
    assert fetched.error is None and len(server.asked("/ok/32")) == 1


def test_hostile_feeds_give_their_good_links_only(server: FaultServer) -> None:
    site = site_for(faultserver.KREMLIN_NEWS)
    hostile = faultserver.hostile_links("http://kremlin.ru", server.origin)
    makers = {
        "entitybomb": faultserver.entity_bomb,
        "xxe": lambda good: faultserver.external_entity(good, server.origin),
        "schemes": lambda good: faultserver.rss([*hostile, good]),
    }
    for mode, (path, good) in FEED_FAULTS.items():
        started = time.monotonic()
        links = feed_links(makers[mode](good).encode(), f"http://kremlin.ru{path}")
        assert time.monotonic() - started < 2.0, mode  # no billion laughs
        assert [link.url for link in candidates(links, site)] == [canonical(good, site)], mode
        assert all("lol" not in link.url and "root:" not in link.url for link in links), mode
    assert not server.asked("/xxe/")


def test_a_sitemap_index_that_lists_itself_is_read_once() -> None:
    with serve(run_faults(**QUICK)) as running, Fetcher(settings(running.origin)) as fetcher:  # type: ignore[arg-type]
        fetched = fetcher.fetch("https://www.interfax.ru/SEO_SiteMapLastChanges.xml")
    assert fetched.final is not None
    found = sitemap_links(fetched.final.body, "https://www.interfax.ru/SEO_SiteMapLastChanges.xml")
    assert "https://www.interfax.ru/SEO_SiteMapLastChanges.xml" not in found.sitemaps


# --- a scheduled run through all of it -----------------------------------------------------------


def _tree(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


# the run's peak, as its own parent sees it: a child of this test process would carry the test
# process's own high-water mark (the kernel keeps it across fork and exec), hundreds of MB late in a suite
_MEASURED = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)  # KiB -> MiB
sys.exit(done.returncode)
"""


def _run(tmp: Path, *args: str) -> tuple[int, int, dict]:  # type: ignore[type-arg]
    """`scraper run` in tmp: exit code, peak memory (MB) and the report."""
    command = [sys.executable, "-m", "scraper", "run", "--config", "run.toml", "--report", "report.json", "-q", *args]
    done = subprocess.run([sys.executable, "-c", _MEASURED, *command], cwd=tmp, capture_output=True, text=True)
    return done.returncode, int(done.stdout.split()[-1]), json.loads((tmp / "report.json").read_text())


def test_a_run_through_every_fault_goes_on_and_says_why(tmp_path: Path) -> None:
    with serve(run_faults(**QUICK)) as running:  # type: ignore[arg-type]
        (tmp_path / "run.toml").write_text(run_config(running.origin, max_body_bytes=9_000_000))
        code, peak_mb, report = _run(tmp_path)
        hits = [h.path for h in running.hits]
    assert code == 1
    failures = dict(line.split(": ", 1) for line in report["sites"]["interfax"]["failures"])
    with Catalog(tmp_path / "out" / "catalog.sqlite") as catalog:
        for mode, expected in EXPECTED.items():
            url = f"https://www.interfax.ru/{mode}/1"
            row = catalog.article(canonical(url, site_for(url)))
            assert row is not None, mode
            if expected is None:
                assert url not in failures and row.text_path is not None, (mode, failures.get(url))
            else:
                assert re.search(expected, failures[url]) and row.last_failure == failures[url], mode
    assert report["sites"]["kremlin"]["extracted"] == len(FEED_FAULTS) and not report["sites"]["kremlin"]["failed"]
    assert report["sites"]["interfax"]["extracted"] == 1 + sum(1 for e in EXPECTED.values() if e is None)
    assert not [p for p in hits if p.startswith(("/xxe/", "/world/"))]  # no entity loaded, no hostile link
    assert all(hits.count(p) == 1 for p in hits if p.startswith(("/sitemap/", "/SEO_")))
    assert peak_mb < 400, f"peak memory {peak_mb} MB"
    assert {p.parts[0] for p in _tree(tmp_path)} == {"out", "run.toml", "report.json"}  # nothing outside
    names = [p.name for p in (tmp_path / "out" / "text").rglob("*") if p.is_file()]
    assert names and all(re.fullmatch(r"\d{3}_[0-9a-f]{16}\.(txt|json)", n) for n in names)
    assert not Path("/tmp/scraper-escape").exists()
    check = subprocess.run([sys.executable, "-m", "scraper", "verify", "out"], cwd=tmp_path, capture_output=True)
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
    _catalog_pointing_wrong_is_found(tmp_path / "out")


def _catalog_pointing_wrong_is_found(out: Path) -> None:
    with sqlite3.connect(out / "catalog.sqlite") as db:
        canonical_, offset = db.execute(
            "SELECT canonical, warc_offset FROM articles WHERE text_path IS NOT NULL ORDER BY canonical"
        ).fetchone()
        db.execute("UPDATE articles SET warc_offset = ? WHERE canonical = ?", (offset + 1, canonical_))
        missing = db.execute("SELECT text_path FROM articles WHERE text_path IS NOT NULL AND canonical != ?",
                             (canonical_,)).fetchone()[0]  # fmt: skip
    (out / missing).unlink()
    code, lines = verify(out)
    assert code == 1 and len(lines) == 3, lines  # the text's JSON is checked too: its text is gone
    assert any(f"catalog.sqlite: {canonical_}: points at " in line for line in lines), lines
    assert any(line.endswith(f"{missing} is missing") for line in lines), lines
    assert any("cannot be read" in line for line in lines), lines


# --- scraper verify ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sound archive, written by `scraper fetch` from the fault server."""
    tmp = tmp_path_factory.mktemp("archive")
    with serve(Faults(**QUICK)) as running:  # type: ignore[arg-type]
        urls = [f"https://www.interfax.ru/ok/{n}" for n in range(3)] + ["https://www.interfax.ru/pdf/1"]
        subprocess.run(
            [sys.executable, "-m", "scraper", "fetch", "-q", "--out", "out",
             "--connect-to", f"https://www.interfax.ru={running.origin}", *urls],
            cwd=tmp, capture_output=True, check=False,
        )  # fmt: skip
    return tmp / "out"


def verify(path: Path) -> tuple[int, list[str]]:
    done = subprocess.run([sys.executable, "-m", "scraper", "verify", str(path)], capture_output=True, text=True)
    return done.returncode, done.stdout.splitlines()


def test_verify_is_clean_on_a_sound_archive(archive: Path) -> None:
    code, lines = verify(archive)
    assert (code, lines) == (0, [])
    warc = next((archive / "warc").glob("*.warc.gz"))
    assert verify(warc) == (0, [])


def test_verify_reads_uncompressed_warcs_too(archive: Path, tmp_path: Path) -> None:
    warc = next((archive / "warc").glob("*.warc.gz"))
    plain = tmp_path / "x.warc"
    plain.write_bytes(gzip.decompress(warc.read_bytes()))
    assert verify(plain) == (0, [])


def _copy(archive: Path, tmp: Path) -> tuple[Path, Path, Path]:
    root = tmp / "out"
    shutil.copytree(archive, root)
    meta = sorted((root / "text").rglob("*.json"))[0]
    return root, meta, next((root / "warc").glob("*.warc.gz"))


def test_verify_finds_a_changed_body(archive: Path, tmp_path: Path) -> None:
    root, meta, warc = _copy(archive, tmp_path)
    offset = json.loads(meta.read_text())["warc_offset"]
    data = warc.read_bytes()
    inflater = zlib.decompressobj(31)
    record = inflater.decompress(data[offset:])
    changed = gzip.compress(record.replace("Москва".encode(), "Масква".encode(), 1))
    warc.write_bytes(data[:offset] + changed + data[len(data) - len(inflater.unused_data) :])
    code, lines = verify(root)
    assert code == 1
    assert any(f"offset {offset}: response record: payload digest does not match" in line for line in lines)
    assert any(line.startswith(str(meta)) and "damaged record" in line for line in lines)


def test_verify_finds_a_torn_tail(archive: Path, tmp_path: Path) -> None:
    _, _, warc = _copy(archive, tmp_path)
    warc.write_bytes(warc.read_bytes()[:-200])
    code, lines = verify(warc)
    assert code == 1 and len(lines) == 1 and "torn last record" in lines[0]


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("warc_record_id", "<urn:uuid:00000000-0000-0000-0000-000000000000>", "not the response"),
        ("warc_offset", 1, "where no whole record starts"),
        ("warc_file", "../../../etc/passwd", "a path outside the archive"),
        ("payload_digest", "sha1:AAAA", "is not the record's"),
        ("text_sha256", "0" * 64, "text_sha256 is not the SHA-256"),
    ],
)
def test_verify_finds_a_json_that_points_wrong(
    archive: Path, tmp_path: Path, field: str, value: object, said: str
) -> None:
    root, meta, _ = _copy(archive, tmp_path)
    data = json.loads(meta.read_text())
    meta.write_text(json.dumps(data | {field: value}))
    code, lines = verify(root)
    assert code == 1 and len(lines) == 1 and said in lines[0] and lines[0].startswith(str(meta)), lines


def test_verify_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scraper", "verify", str(tmp_path / "nothing")], capture_output=True, text=True
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    junk = tmp_path / "junk.warc.gz"
    junk.write_bytes(b"not gzip at all")
    code, lines = verify(junk)
    assert code == 1 and len(lines) == 1 and "corrupt record" in lines[0]
