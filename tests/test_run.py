"""Scheduled runs end to end: `scraper run` in a subprocess against one local HTTP server per
site (via connect_to), serving the sites' feeds and the fixture pages as the articles."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fixturepages import fixture_pages
from servers import Route, Server, serve
from warcio.archiveiterator import ArchiveIterator

from scraper.archive.cdx import index_path, is_current, read_index
from scraper.sites import SITES, Site
from scraper.urls import canonical


def rss(urls: list[str]) -> bytes:
    stamp = format_datetime(datetime(2024, 5, 1, 12, tzinfo=UTC))
    items = "".join(
        f"<item><title>item {i}</title><link>{u}</link><pubDate>{stamp}</pubDate></item>" for i, u in enumerate(urls)
    )
    channel = f"<channel><title>feed</title>{items}</channel>"
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0">{channel}</rss>'.encode()


class World:
    """Five stand-in sites; each feed lists the site's article fixtures."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.pages = fixture_pages()
        self.articles = {
            site.name: [u for u, _, _ in self.pages[site.name] if site.is_article_url(u)] for site in SITES
        }
        self.routes: dict[str, dict[str, Route]] = {site.name: self._routes(site) for site in SITES}
        self.servers: dict[str, Server] = {}

    def expected(self, site: Site) -> int:
        return len({canonical(u, site) for u in self.articles[site.name]})

    def _routes(self, site: Site) -> dict[str, Route]:
        # a page answers at its own address and at the canonical one discovery asks for
        routes = {
            _key(a): Route(body=b, headers=h) for u, h, b in self.pages[site.name] for a in (u, canonical(u, site))
        }
        for i, feed in enumerate(site.feeds):
            listed = self.articles[site.name] if i == 0 else []
            routes[_key(feed)] = Route(
                body=rss(listed), headers={"Content-Type": "application/rss+xml"}, etag=f'"{i}-v1"'
            )
        return routes

    def start(self, stack: ExitStack) -> None:
        for site in SITES:
            self.servers[site.name] = stack.enter_context(serve(self.routes[site.name]))
        config = ["[output]", 'dir = "out"', "[network]", "timeout = 1", "total_timeout = 5", "retries = 0",
                  "backoff = 0", "[politeness]", "delay = 0", "[run]", "use_sitemaps = false",
                  "[network.connect_to]"]  # fmt: skip
        for site in SITES:
            origins = {_origin(u) for u in [*self.routes_urls(site)]}
            config += [f'"{o}" = "{self.servers[site.name].origin}"' for o in sorted(origins)]
        (self.tmp / "run.toml").write_text("\n".join(config) + "\n")

    def routes_urls(self, site: Site) -> list[str]:
        return list(site.feeds) + [u for u, _, _ in self.pages[site.name]]

    def add_to_feed(self, site: Site, url: str, page: tuple[dict[str, str], bytes]) -> None:
        self.routes[site.name][_key(url)] = Route(body=page[1], headers=page[0])
        self.articles[site.name].append(url)
        self.routes[site.name][_key(site.feeds[0])] = Route(
            body=rss(self.articles[site.name]), headers={"Content-Type": "application/rss+xml"}, etag='"0-v2"'
        )

    def run(self, *args: str, timeout: float = 300) -> tuple[subprocess.CompletedProcess[str], dict]:  # type: ignore[type-arg]
        report = self.tmp / "report.json"
        report.unlink(missing_ok=True)
        done = subprocess.run(
            [sys.executable, "-m", "scraper", "run", "--config", "run.toml", "--report", "report.json", *args],
            cwd=self.tmp, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        return done, json.loads(report.read_text()) if report.exists() else {}

    def texts(self) -> list[Path]:
        return sorted((self.tmp / "out" / "text").rglob("*.txt"))


def _key(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def warcio_check(folder: Path) -> None:
    for warc in sorted(folder.glob("*.warc.gz")):
        check = subprocess.run(
            [sys.executable, "-c", "import sys; from warcio.cli import main; main(sys.argv[1:])", "check", str(warc)],
            capture_output=True, text=True,
        )  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr


def test_runs_pick_up_exactly_what_is_new(tmp_path: Path) -> None:
    world = World(tmp_path)
    total = sum(world.expected(site) for site in SITES)
    assert total >= 20
    with ExitStack() as stack:
        world.start(stack)
        day = datetime.now(UTC).date()
        first, report = world.run()
        assert first.returncode == 0, first.stderr
        assert {n: s["extracted"] for n, s in report["sites"].items()} == {s.name: world.expected(s) for s in SITES}
        assert len(world.texts()) == total
        for text in world.texts():  # text/<site>/<YYYY-MM-DD>/NNN_<hash>.txt
            site, day = text.parent.parent.name, text.parent.name
            assert site in world.articles and datetime.strptime(day, "%Y-%m-%d")
        # a run continues a site's WARC file of the same day: what the second run wrote is what was added
        sizes = {w: w.stat().st_size for w in (tmp_path / "out" / "warc").glob("*.warc.gz")}

        second, report = world.run()
        assert second.returncode == 0, second.stderr
        assert all(s["fetched"] == 0 for s in report["sites"].values())
        second_records = [
            rec
            for w in sorted((tmp_path / "out" / "warc").glob("*.warc.gz"))
            for rec in _records_of(w, sizes.get(w, 0))
        ]
        if datetime.now(UTC).date() == day:  # past midnight UTC a run starts the new day's file
            assert len(list((tmp_path / "out" / "warc").glob("*.warc.gz"))) == len(sizes)
        feeds = {f for site in SITES for f in site.feeds}
        assert {uri for kind, uri, _ in second_records if kind == "revisit"} == feeds
        assert all(profile.endswith("/server-not-modified") for kind, _, profile in second_records if kind == "revisit")
        assert not [
            r for r in second_records if r[0] == "response" and r[1] not in feeds and not r[1].endswith("robots.txt")
        ]
        conditional = [h for s in world.servers.values() for p, h in s.seen if h.get("If-None-Match")]
        assert len(conditional) == len(feeds)

        rbc = next(s for s in SITES if s.name == "rbc")
        headers, body = world.pages["rbc"][0][1], world.pages["rbc"][0][2]
        extra = "https://www.rbc.ru/politics/01/05/2024/6631f0a09a79470b2e6f3c11"
        world.add_to_feed(rbc, extra, (headers, body))
        third, report = world.run()
        assert third.returncode == 0, third.stderr
        assert {n: s["fetched"] for n, s in report["sites"].items()} == {s.name: int(s.name == "rbc") for s in SITES}
        assert len(world.texts()) == total + 1
        status = subprocess.run([sys.executable, "-m", "scraper", "status", "--config", "run.toml"], cwd=tmp_path,
                                capture_output=True, text=True)  # fmt: skip
        held = {line.split()[0]: int(line.split()[1]) for line in status.stdout.splitlines()[1:]}
        assert held == {s.name: world.expected(s) for s in SITES}  # the new rbc article included
    warcio_check(tmp_path / "out" / "warc")


def _records_of(warc: Path, start: int = 0) -> list[tuple[str, str | None, str | None]]:
    with open(warc, "rb") as fh:
        fh.seek(start)
        return [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r.rec_headers.get_header("WARC-Profile"))
                for r in ArchiveIterator(fh)]  # fmt: skip


def test_a_stalled_site_does_not_hold_up_the_others(tmp_path: Path) -> None:
    world = World(tmp_path)
    rbc = next(s for s in SITES if s.name == "rbc")
    world.routes["rbc"][_key(rbc.feeds[0])] = Route(body=rss(world.articles["rbc"]), stall=8)
    with ExitStack() as stack:
        world.start(stack)
        started = time.monotonic()
        done, report = world.run()
        elapsed = time.monotonic() - started
    assert done.returncode == 1
    assert report["sites"]["rbc"]["extracted"] == 0 and report["sites"]["rbc"]["failed"] >= 1
    assert any("timed out" in f or "timeout" in f for f in report["sites"]["rbc"]["failures"])
    assert all(report["sites"][s.name]["extracted"] == world.expected(s) for s in SITES if s.name != "rbc")
    assert elapsed < 30


def test_robots_txt_is_obeyed(tmp_path: Path) -> None:
    world = World(tmp_path)
    interfax = next(s for s in SITES if s.name == "interfax")
    world.routes["interfax"]["www.interfax.ru/robots.txt"] = Route(
        body=b"User-agent: *\nDisallow: /world/\n", headers={"Content-Type": "text/plain"}
    )
    blocked = [u for u in world.articles["interfax"] if "/world/" in u]
    assert blocked
    with ExitStack() as stack:
        world.start(stack)
        done, report = world.run()
        seen = [path for path, _ in world.servers["interfax"].seen]
    assert done.returncode == 0, done.stderr
    assert report["sites"]["interfax"]["skipped_robots"] == len(blocked)
    assert report["sites"]["interfax"]["extracted"] == world.expected(interfax) - len(blocked)
    assert not [p for p in seen if p.startswith("/world/")]


def test_a_second_run_on_the_same_archive_is_refused(tmp_path: Path) -> None:
    world = World(tmp_path)
    for site in SITES:  # slow every site down so the first run is still going
        world.routes[site.name][_key(site.feeds[0])].stall = 5
    with ExitStack() as stack:
        world.start(stack)
        config = tmp_path / "run.toml"
        config.write_text(config.read_text().replace("timeout = 1\n", "timeout = 10\n"))
        first = subprocess.Popen([sys.executable, "-m", "scraper", "run", "--config", "run.toml", "-q"], cwd=tmp_path)
        try:
            time.sleep(2)
            second, _ = world.run()
        finally:
            first.wait(timeout=120)
    assert second.returncode == 2
    assert "archive in use by pid " in second.stderr and len(second.stderr.strip().splitlines()) == 1


def test_extraction_workers_write_what_one_process_writes(tmp_path: Path) -> None:
    texts: dict[str, dict[str, bytes]] = {}
    for jobs in ("1", "2"):
        world = World(tmp_path / f"jobs{jobs}")
        world.tmp.mkdir()
        with ExitStack() as stack:
            world.start(stack)
            done, report = world.run("--jobs", jobs)
        assert done.returncode == 0, done.stderr
        assert sum(s["extracted"] for s in report["sites"].values()) == sum(world.expected(s) for s in SITES)
        # text/<site>/<day>/NNN_<hash>.txt: the day left out, in case the two runs straddle midnight
        texts[jobs] = {f"{t.parent.parent.name}/{t.name}": t.read_bytes() for t in world.texts()}
        # each site's WARC files are indexed (by a worker, with --jobs 2) once the site is done
        warcs = sorted((world.tmp / "out" / "warc").glob("*.warc.gz"))
        assert len(warcs) >= len(SITES) and all(is_current(w) and read_index(index_path(w)) for w in warcs)
    assert texts["1"] == texts["2"]


@pytest.mark.parametrize(("kill_after", "jobs"), [(0.8, "1"), (1.6, "1"), (2.4, "1"), (1.6, "2")])
def test_a_run_killed_midway_is_completed_by_the_next(tmp_path: Path, kill_after: float, jobs: str) -> None:
    world = World(tmp_path)
    total = sum(world.expected(site) for site in SITES)
    with ExitStack() as stack:
        world.start(stack)
        config = tmp_path / "run.toml"
        config.write_text(config.read_text().replace("delay = 0", "delay = 0.15"))
        argv = [sys.executable, "-m", "scraper", "run", "--config", "run.toml", "-q", "--jobs", jobs]
        victim = subprocess.Popen(argv, cwd=tmp_path)
        time.sleep(kill_after)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        done, _ = world.run()
        assert done.returncode == 0, done.stderr
    texts = world.texts()
    assert len(texts) == total  # nothing lost, nothing doubled
    assert len({t.name.split("_", 1)[1] for t in texts}) == total
    assert not list((tmp_path / "out" / "warc").glob("*.open"))
    warcio_check(tmp_path / "out" / "warc")


def test_ctrl_c_reaches_the_workers_too_and_fails_nothing(tmp_path: Path) -> None:
    """A terminal's Ctrl-C signals the whole process group: the extraction workers must let the run
    stop after its current records, not die under their pages (which would count as failures)."""
    world = World(tmp_path)
    with ExitStack() as stack:
        world.start(stack)
        config = tmp_path / "run.toml"
        config.write_text(config.read_text().replace("delay = 0", "delay = 0.5"))  # still running at 2 s
        argv = [sys.executable, "-m", "scraper", "run", "--config", "run.toml", "--jobs", "2", "--report", "r.json"]
        run = subprocess.Popen(argv, cwd=tmp_path, start_new_session=True, stderr=subprocess.PIPE, text=True)
        time.sleep(2)
        os.killpg(run.pid, signal.SIGINT)
        _, stderr = run.communicate(timeout=60)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["interrupted"] and run.returncode == 130, stderr
    assert all(site["failed"] == 0 for site in report["sites"].values()), stderr
    assert "Traceback" not in stderr
