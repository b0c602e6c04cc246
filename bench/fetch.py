"""Scheduled-run throughput (issue 6): is fetching and writing the bottleneck, and do sites run in parallel?

Serves ``--pages`` article pages from local HTTP servers standing in for the five sites (one server
per site, reached through ``connect_to``; kept-open HTTP/1.1 connections, as real sites serve; no
delays): the fixture pages of ``tests/fixtures`` (10-50 KiB, hand-written) or, with ``--pages-from
shared``, the real article pages saved in ``../shared/pages`` (35-290 KiB; kremlin.ru and rbc.ru
only), under fresh article URLs of their own site, listed in each site's first feed. Then measures,
in each of ``--repeat`` rounds:

- the full ``scraper run --jobs N`` (discovery, fetch, WARC, extraction in N worker processes,
  texts, catalog, indexes), as pages/s of the pipeline (the run's own start and finish, from the
  catalog's runs table) and of the whole command (its start-up and the quality check after the
  run included);
- pages/s of extraction alone, right after the run: ``scraper.extract.process`` over the same page bytes,
  in this process (one core); once, for comparison, in N processes.

Before each run the disk is left to settle (``disk.settle``). This machine's speed swings by up to
half within seconds (another tenant's load), so each figure is the best of its rounds, as in
``reclean.py``, and every round is kept in the JSON. Goal: the run's pipeline reaches >= 80% of
extraction alone (one core). Then, with a per-host delay
of ``--delay`` seconds and ``--delay-pages`` pages per site, the run's time against the busiest
site's share of delays and against their sum over the five sites (goal: about the busiest site,
not the sum). Prints the figures, writes ``bench/results/fetch.json``, and ends with the line
``RATIO run/extract=X.XX delayed/busiest=Y.YY``.

    python bench/fetch.py [--pages 1000] [--repeat 3] [--jobs 2] [--delay 0.2] [--delay-pages 10] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from disk import settle  # bench/, the folder of this script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fixturepages import Page, fixture_pages  # noqa: E402
from servers import Route, serve  # noqa: E402

from scraper import Capture, process  # noqa: E402
from scraper.sites import SITES, Site, site_for  # noqa: E402
from scraper.urls import canonical  # noqa: E402


def fresh_url(site: Site, url: str, n: int) -> str | None:
    """Another article address of the site: the fixture's last number moved on by ``n`` (or, with
    no number, ``-n`` added to its slug)."""
    found = list(re.finditer(r"\d{4,}", urlsplit(url).path))
    if found:
        digits = found[-1].group()
        start = url.rfind(digits)
        new = f"{url[:start]}{int(digits) + n:0{len(digits)}d}{url[start + len(digits) :]}"
    else:
        new = re.sub(r"(\.html)?$", lambda m: f"-{n}{m.group(1) or ''}", url, count=1)
    return new if site.is_article_url(new) else None


def shared_pages(folder: Path) -> dict[str, list[Page]]:
    """The real article pages saved under ``../shared/pages`` (``SOURCES.md`` gives each one's
    address), by site; sites with none saved get none."""
    pages: dict[str, list[Page]] = {s.name: [] for s in SITES}
    for line in (folder / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        address = re.search(r"https?://[^\s)]+", cells[2]) if len(cells) > 2 else None
        if not cells[0].endswith(".html") or address is None:
            continue
        site = site_for(address.group())
        if site.is_article_url(address.group()):
            body = (folder / cells[0]).read_bytes()
            pages[site.name].append((address.group(), {"Content-Type": "text/html; charset=utf-8"}, body))
    return pages


def world(pages: dict[str, list[Page]], total: int) -> dict[str, list[Page]]:
    """``total`` pages under fresh addresses, shared evenly by the sites that have pages."""
    serving = [site for site in SITES if pages[site.name]]
    per_site = total // len(serving)
    chosen: dict[str, list[Page]] = {site.name: [] for site in SITES}
    for site in serving:
        made: dict[str, Page] = {}
        for n in range(1, 10 * per_site):
            for url, headers, body in pages[site.name]:
                new = fresh_url(site, url, n)
                if new and len(made) < per_site:
                    made.setdefault(canonical(new, site), (new, headers, body))
        chosen[site.name] = list(made.values())
    return chosen


def rss(urls: list[str]) -> bytes:
    items = "".join(f"<item><title>{i}</title><link>{u}</link></item>" for i, u in enumerate(urls))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>{items}</channel></rss>'.encode()


def _key(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class Run:
    seconds: float  # the command, start to exit
    pipeline_seconds: float  # the run's start to its finish, as the catalog has them
    report: dict[str, object]

    @property
    def extracted(self) -> int:
        return sum(s["extracted"] for s in self.report["sites"].values())  # type: ignore[attr-defined]


def run(pages: dict[str, list[Page]], work: Path, delay: float, jobs: int) -> Run:
    """One `scraper run` over the pages."""
    with ExitStack() as stack:
        config = ["[output]", 'dir = "out"', "[network]", "retries = 0", "[politeness]", f"delay = {delay}",
                  "[run]", "use_sitemaps = false", f"jobs = {jobs}", "[network.connect_to]"]  # fmt: skip
        for site in SITES:
            config += _serve_site(stack, site, pages[site.name])
        (work / "run.toml").write_text("\n".join(config) + "\n")
        argv = [sys.executable, "-m", "scraper", "run", "-q", "--config", "run.toml", "--report", "report.json"]
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=work, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
    with sqlite3.connect(work / "out" / "catalog.sqlite") as db:
        began, ended = db.execute("SELECT started_at, finished_at FROM runs ORDER BY id DESC").fetchone()
    pipeline = (_stamp(ended) - _stamp(began)).total_seconds()
    return Run(seconds, pipeline, json.loads((work / "report.json").read_text()))


@dataclass(frozen=True)
class Round:
    """One round: the run, then extraction alone over the same pages, right after it."""

    run: Run
    alone: float  # pages/s of extraction alone in one process
    create_us: float  # microseconds to create a file once the disk had settled, before the run

    @property
    def pipeline_rate(self) -> float:
        return self.run.extracted / self.run.pipeline_seconds

    @property
    def command_rate(self) -> float:
        return self.run.extracted / self.run.seconds

    def describe(self) -> str:
        return (
            f"pipeline {self.pipeline_rate:.1f} pages/s, command {self.command_rate:.1f} pages/s,"
            f" extraction alone {self.alone:.1f} pages/s (this round: {self.pipeline_rate / self.alone:.2f})"
        )

    def figures(self) -> dict[str, float]:
        return {
            "run_pipeline_pages_per_s": round(self.pipeline_rate, 2), "run_pages_per_s": round(self.command_rate, 2),
            "extract_pages_per_s": round(self.alone, 2), "file_create_us_before": round(self.create_us, 1),
        }  # fmt: skip


def _stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _serve_site(stack: ExitStack, site: Site, pages: list[Page]) -> list[str]:
    """Start the site's stand-in server; the connect_to lines that send the site's origins to it."""
    urls = [u for u, _, _ in pages]
    routes = {_key(a): Route(body=b, headers=h) for u, h, b in pages for a in (u, canonical(u, site))}
    for i, feed in enumerate(site.feeds):
        listed = rss(urls if i == 0 else [])
        routes[_key(feed)] = Route(body=listed, headers={"Content-Type": "application/rss+xml"})
    server = stack.enter_context(serve(routes, keep_alive=True))
    addresses = [*site.feeds, *urls, *(canonical(u, site) for u in urls)]
    origins = {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in addresses}
    return [f'"{o}" = "{server.origin}"' for o in sorted(origins)]


def startup() -> float:
    """Seconds for the command to start and import everything (best of three)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "scraper", "--version"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return min(times)


def _process(page: tuple[str, dict[str, str], bytes]) -> None:
    url, headers, body = page
    process(Capture(url, datetime.now(UTC), 200, tuple(headers.items()), body), site_for(url))


def extract_alone(pages: dict[str, list[Page]], jobs: int = 1) -> float:
    """Pages/s of ``process`` over the pages: in this process, or spread over ``jobs`` processes."""
    flat = [page for s in SITES for page in pages[s.name]]
    if jobs <= 1:
        started = time.perf_counter()
        for page in flat:
            _process(page)
        return len(flat) / (time.perf_counter() - started)
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        pool.map(_process, flat[:jobs])  # workers started and warm before the clock starts
        started = time.perf_counter()
        pool.map(_process, flat, chunksize=16)
        return len(flat) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="article pages over the five sites")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="scraper run --jobs (default: cores)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of run and extraction; the best of each counts")
    parser.add_argument("--delay", type=float, default=0.2, help="per-host delay of the second run, seconds")
    parser.add_argument("--delay-pages", type=int, default=10, help="pages per site in the second run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "fetch.json", help="JSON results")
    parser.add_argument(
        "--pages-from", choices=("fixtures", "shared"), default="fixtures",
        help="the fixture pages of all five sites, or the real article pages saved in --shared",
    )  # fmt: skip
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "pages", help="real saved pages")
    parser.add_argument("--workdir", type=Path, help="where the runs write (default: the system's temp folder)")
    args = parser.parse_args()
    if args.pages_from == "shared" and not (args.shared / "SOURCES.md").is_file():
        parser.error(f"--pages-from shared: no {args.shared / 'SOURCES.md'} (pass --shared FOLDER)")
    fixtures = fixture_pages()
    pages = world(fixtures if args.pages_from == "fixtures" else shared_pages(args.shared), args.pages)
    total = sum(len(p) for p in pages.values())
    mean_kib = sum(len(b) for p in pages.values() for _, _, b in p) / total / 1024
    load = os.getloadavg()
    rounds: list[Round] = []
    for n in range(args.repeat):
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            create_us = settle(Path(tmp))
            full = run(pages, Path(tmp), 0.0, args.jobs)
        rounds.append(Round(full, extract_alone(pages), create_us))
        print(f"  round {n + 1}/{args.repeat}: {rounds[-1].describe()}", flush=True)
    best_run = max(rounds, key=lambda r: r.pipeline_rate)
    best_command = max(rounds, key=lambda r: r.command_rate)
    alone = max(r.alone for r in rounds)
    start, alone_jobs = startup(), extract_alone(pages, args.jobs)
    pipeline_rate, command_rate = best_run.pipeline_rate, best_command.command_rate
    print(
        f"scraper run --jobs {args.jobs}: {best_run.run.extracted} of {total} {args.pages_from} pages ({mean_kib:.0f} KiB on average); best of {args.repeat} rounds"
    )
    print(
        f"  pipeline:     {pipeline_rate:7.1f} pages/s ({best_run.run.pipeline_seconds:.2f}s, the run's start to finish)"
    )
    print(
        f"  command:      {command_rate:7.1f} pages/s ({best_command.run.seconds:.2f}s: start-up {start:.2f}s and the quality check too)"
    )
    print(f"extraction alone: {alone:7.1f} pages/s in one process; {alone_jobs:.1f} pages/s in {args.jobs} processes")
    few = world(fixtures, args.delay_pages * len(SITES))  # all five sites, whatever --pages-from says
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        delayed = run(few, Path(tmp), args.delay, args.jobs).seconds
    # each site makes its robots.txt, feed and page requests one host at a time, `delay` apart
    requests = {s.name: 1 + len(s.feeds) + len(few[s.name]) for s in SITES}
    busiest, summed = max(requests.values()) * args.delay, sum(requests.values()) * args.delay
    print(
        f"delay {args.delay}s: run {delayed:.2f}s; busiest site's delays {busiest:.2f}s; all sites' delays {summed:.2f}s"
    )
    figures = {
        "pages": total, "pages_from": args.pages_from, "page_kib_mean": round(mean_kib, 1), "jobs": args.jobs, "cpus": os.cpu_count(), "load_average_before": load,
        "workdir": str(args.workdir or tempfile.gettempdir()), "repeat": args.repeat,
        "rounds": [r.figures() for r in rounds], "load_average_after": os.getloadavg(), "startup_s": start,
        "run_s": best_command.run.seconds, "run_pipeline_s": best_run.run.pipeline_seconds,
        "run_pages_per_s": command_rate, "run_pipeline_pages_per_s": pipeline_rate,
        "extract_pages_per_s": alone, f"extract_pages_per_s_{args.jobs}_processes": alone_jobs,
        "run_over_extract": pipeline_rate / alone, "command_over_extract": command_rate / alone,
        "delay": args.delay, "delayed_run_s": delayed, "busiest_site_delays_s": busiest,
        "all_sites_delays_s": summed, "delayed_over_busiest": delayed / busiest,
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    ratio, command = figures["run_over_extract"], figures["command_over_extract"]
    verdict = "met" if pipeline_rate / alone >= 0.8 else "MISSED"
    print(f"goal pipeline/extraction >= 0.8: {ratio:.2f} {verdict} (the whole command: {command:.2f})")
    print("goal delayed run ~ busiest site, far below the sum:", "met" if delayed < summed / 2 else "MISSED")
    print(f"RATIO run/extract={ratio:.2f} delayed/busiest={figures['delayed_over_busiest']:.2f}")


if __name__ == "__main__":
    main()
