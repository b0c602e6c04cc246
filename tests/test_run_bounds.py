"""A scheduled run within its bounds (issue 15): a sitemap index of 50,000 sitemaps leaves time for
the articles, a 50 MB sitemap keeps the run small, and what goes wrong with one article, feed or
sitemap is its own failure, never the site's. Against one local server standing in for interfax.ru."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from servers import Route, Server, serve

from scraper.archive.catalog import Catalog
from scraper.config import load_settings
from scraper.errors import ArchiveError
from scraper.pipeline.capture import Capturer
from scraper.schedule import run as run_module
from scraper.schedule import sources
from scraper.schedule.limits import Budget
from scraper.schedule.report import RunResult
from scraper.schedule.run import scheduled_run
from scraper.sites import interfax

SM = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
HOST = "https://www.interfax.ru"
FEED, SITEMAP = "/rss.asp", "/SEO_SiteMapLastChanges.xml"
XML = {"Content-Type": "text/xml"}
ARTICLE = (
    "<html><head><meta charset='utf-8'><title>Новость</title></head><body><h1>Новость дня</h1>"
    "<article itemprop='articleBody'><p>Москва. ИНТЕРФАКС - Первый абзац новости, достаточно длинный.</p>"
    "<p>Второй абзац новости с подробностями о событии.</p></article></body></html>"
).encode()


def article(n: int) -> str:
    return f"{HOST}/russia/{n}"


def rss(*urls: str) -> bytes:
    items = "".join(f"<item><title>{u}</title><link>{u}</link></item>" for u in urls)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def urlset(*urls: str) -> bytes:
    return f"<urlset {SM}>{''.join(f'<url><loc>{u}</loc></url>' for u in urls)}</urlset>".encode()


def index(children: list[tuple[str, datetime]]) -> bytes:
    listed = "".join(f"<sitemap><loc>{u}</loc><lastmod>{d.isoformat()}</lastmod></sitemap>" for u, d in children)
    return f"<sitemapindex {SM}>{listed}</sitemapindex>".encode()


def config(tmp: Path, server: Server, *run: str, delay: float = 0) -> Path:
    path = tmp / "run.toml"
    path.write_text(
        "\n".join([
            "[output]", f'dir = "{tmp / "out"}"', "[network]", "timeout = 2", "total_timeout = 5", "retries = 0",
            "backoff = 0", "[politeness]", f"delay = {delay}", "[run]", "use_sitemaps = true", "retry_backoff = 0",
            *run, "[network.connect_to]", f'"{HOST}" = "{server.origin}"',
        ]) + "\n"
    )  # fmt: skip
    return path


def run_cli(tmp: Path, *args: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    command = ["run", "--config", "run.toml", "--site", "interfax", "--report", "report.json", *args]
    done = subprocess.run(
        [sys.executable, "-m", "scraper", *command], cwd=tmp, capture_output=True, text=True, timeout=timeout
    )
    report = tmp / "report.json"
    return done, json.loads(report.read_text()) if report.exists() else {}


# --- fan-out: 50,000 sitemaps -------------------------------------------------------------

CHILDREN = 50_000
OLDEST = datetime(2020, 1, 1, tzinfo=UTC)


def fan_out_routes() -> dict[str, Route]:
    """An index of 50,000 sitemaps, oldest first (as many sites list them); each lists one article."""
    routes = {FEED: Route(body=rss(), headers=XML)}
    children = [(f"{HOST}/sitemap/{i}.xml", OLDEST + timedelta(hours=i)) for i in range(CHILDREN)]
    routes[SITEMAP] = Route(body=index(children), headers=XML)
    for i in range(CHILDREN):
        routes[f"/sitemap/{i}.xml"] = Route(body=urlset(article(800_000 + i)), headers=XML)
        routes[f"/russia/{800_000 + i}"] = Route(body=ARTICLE)
    return routes


def sitemaps_asked(server: Server) -> list[int]:
    return [int(path.split("/")[-1].removesuffix(".xml")) for path, _ in server.seen if path.startswith("/sitemap/")]


@pytest.mark.parametrize(
    ("run", "delay", "cut_by"),
    [
        (["max_sitemaps = 30"], 0, "run.max_sitemaps"),  # fast sitemaps: their count ends discovery
        # 0.4 s a request: the 51 sitemaps an index gave before would take all of a 20 s budget
        ([], 0.4, "run.discovery_share"),
    ],
    ids=["max-sitemaps", "share-of-the-budget"],
)
def test_an_index_of_50000_sitemaps_leaves_time_for_the_articles(
    tmp_path: Path, run: list[str], delay: float, cut_by: str
) -> None:
    with serve(fan_out_routes()) as server:
        config(tmp_path, server, *run, delay=delay)
        started = time.monotonic()
        done, report = run_cli(tmp_path, "--time-budget", "20s")
        elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert elapsed < 20 + 10  # the budget, and the start-up and quality check around it
    asked = sitemaps_asked(server)
    assert 0 < len(asked) < 30  # with the index: at most 30 sitemaps, or 10 s of 0.4 s requests
    assert asked == list(range(CHILDREN - 1, CHILDREN - 1 - len(asked), -1))  # the newest first
    figures = report["sites"]["interfax"]
    assert figures["extracted"] >= 5 and figures["failed"] == 0, figures
    [note] = [n for n in report["notes"] if "discovery" in n]
    assert note.startswith("interfax: discovery cut: ") and cut_by in note


# --- memory: a sitemap of 50 MB in 1.7 MB of gzip --------------------------------------------

_MEASURED = """
import resource, subprocess, sys
cap = 1 << 30  # address space: far above what the run needs, far below the gigabyte a tree took
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
done = subprocess.run(sys.argv[1:], timeout=90)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)  # KiB -> MiB, the run's peak
sys.exit(done.returncode)
"""


def test_a_50_mb_gzip_sitemap_keeps_the_whole_run_small(tmp_path: Path) -> None:
    entry = "<url><loc>%s</loc><lastmod>2021-12-08</lastmod></url>\n"
    xml = f"<urlset {SM}>" + "".join(entry % article(100_000 + i) for i in range(600_000)) + "</urlset>"
    body = gzip.compress(xml.encode())
    assert len(body) < 2 * 1024 * 1024 and len(xml) > 50_000_000
    routes = {
        FEED: Route(body=rss(), headers=XML),
        SITEMAP: Route(body=body, headers={"Content-Type": "application/x-gzip"}),
    }
    routes |= {f"/russia/{100_000 + i}": Route(body=ARTICLE) for i in range(3)}
    with serve(routes) as server:
        config(tmp_path, server)
        command = [sys.executable, "-m", "scraper", "run", "--config", "run.toml", "--site", "interfax"]
        command += ["--max-articles", "3", "--report", "report.json"]
        done = subprocess.run(
            [sys.executable, "-c", _MEASURED, *command], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 0, done.stderr
    figures = json.loads((tmp_path / "report.json").read_text())["sites"]["interfax"]
    assert figures["discovered"] == 50_000 and figures["extracted"] == 3  # MAX_URLS_PER_SITEMAP of them
    assert int(done.stdout.split()[-1]) < 250, done.stdout  # read whole into one tree, it took ~1 GB


# --- one bad article, feed or sitemap ------------------------------------------------------


@dataclass
class Site:
    tmp: Path
    server: Server
    urls: list[str]

    def run(self) -> RunResult:
        settings = load_settings(self.tmp / "run.toml", env={})
        return scheduled_run(settings, [interfax.SITE], Budget(None, 60, threading.Event()), lambda _: None)

    def row(self, url: str) -> Any:
        with Catalog(self.tmp / "out" / "catalog.sqlite") as catalog:
            return catalog.article(url)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """Five articles in the feed; the sitemap index lists two sitemaps of two more articles each."""
    urls = [article(700_000 + i) for i in range(9)]
    newer = datetime(2024, 5, 2, tzinfo=UTC)
    routes = {
        FEED: Route(body=rss(*urls[:5]), headers=XML),
        SITEMAP: Route(body=index([(f"{HOST}/a.xml", newer), (f"{HOST}/b.xml", newer - timedelta(1))]), headers=XML),
        "/a.xml": Route(body=urlset(*urls[5:7]), headers=XML),
        "/b.xml": Route(body=urlset(*urls[7:]), headers=XML),
    }
    routes |= {url.removeprefix(HOST): Route(body=ARTICLE) for url in urls}
    with serve(routes) as server:
        config(tmp_path, server, "max_attempts = 3")
        yield Site(tmp_path, server, urls)


def raising_for(urls: set[str], error: Exception, real: Any) -> Any:
    def patched(*args: Any, **kwargs: Any) -> Any:
        if {str(a) for a in args} & urls or {getattr(a, "url", None) for a in args} & urls:
            raise error
        return real(*args, **kwargs)

    return patched


def failures(result: RunResult) -> dict[str, str]:
    return dict(result.sites["interfax"].failures)


def test_an_article_that_raises_is_its_own_failure_and_is_retried(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    in_fetch, in_extraction, in_catalog = site.urls[1], site.urls[2], site.urls[6]
    # the tester's case: a redirect to a host name with a label over 63 characters
    label = UnicodeError("encoding with 'idna' codec failed (UnicodeError: label too long)")
    monkeypatch.setattr(Capturer, "page", raising_for({in_fetch}, label, Capturer.page))
    monkeypatch.setattr(run_module, "extract", raising_for({in_extraction}, RuntimeError("lxml"), run_module.extract))
    monkeypatch.setattr(Catalog, "record_article", raising_for({in_catalog}, ValueError("no"), Catalog.record_article))
    first = site.run()
    assert failures(first) == {
        in_fetch: "fetch: unexpected UnicodeError: encoding with 'idna' codec failed (UnicodeError: label too long)",
        in_extraction: "extraction: unexpected RuntimeError: lxml",
        in_catalog: "recording the text: unexpected ValueError: no",
    }
    assert first.sites["interfax"].extracted == len(site.urls) - 3  # before and after each of them
    for url, reason in failures(first).items():
        row = site.row(url)
        assert (row.failures, row.last_failure, row.gave_up) == (1, reason, False)
        assert row.next_retry_at is not None and row.text_path is None

    monkeypatch.undo()  # the next run, as usual: the failed ones are due again (retry_backoff = 0)
    second = site.run()
    assert second.sites["interfax"].fetched == 3 and second.sites["interfax"].extracted == 3
    assert not failures(second)
    assert all(site.row(url).text_path for url in site.urls)


def test_an_archive_fault_ends_the_site_once(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    full = ArchiveError("out/warc/interfax.warc.gz: cannot write: No space left on device")
    monkeypatch.setattr(Capturer, "page", raising_for({site.urls[1]}, full, Capturer.page))
    result = site.run()
    assert failures(result) == {"interfax": f"site run stopped: {full}"}
    assert result.sites["interfax"].extracted == 1  # the article before; none after
    asked = [path for path, _ in site.server.seen]
    assert "/russia/700000" in asked and "/russia/700002" not in asked
    assert site.row(site.urls[1]).failures == 0  # the disk's fault, not the article's


def test_a_feed_or_sitemap_that_raises_stops_no_other(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "feed_links", raising_for({f"{HOST}{FEED}"}, KeyError("x"), sources.feed_links))
    broken = f"{HOST}/a.xml"
    monkeypatch.setattr(
        sources, "sitemap_links", raising_for({broken}, RecursionError("too deep"), sources.sitemap_links)
    )
    result = site.run()
    assert failures(result) == {
        f"{HOST}{FEED}": "feed: unexpected KeyError: 'x'",
        broken: "feed: unexpected RecursionError: too deep",
    }
    assert result.sites["interfax"].extracted == 2  # b.xml's articles
    monkeypatch.undo()  # neither is taken as unchanged by the next run: their links are read then
    assert site.run().sites["interfax"].extracted == 7
