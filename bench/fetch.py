"""Scheduled-run throughput (issue 6): is fetching and writing the bottleneck, and do sites run in parallel?

Serves ``--pages`` article pages from local HTTP servers standing in for the five sites (one server
per site, reached through ``connect_to``; no delays): the fixture pages of ``tests/fixtures`` under
fresh article URLs of their own site, listed in each site's first feed. Then measures, in one run:

- pages/s of the full ``scraper run`` pipeline (discovery, fetch, WARC, extraction, texts, catalog,
  quality check), the command's start-up included;
- pages/s of extraction alone: ``scraper.process`` over the same page bytes, in this process.

Goal: the run reaches >= 80% of extraction alone. Then, with a per-host delay of ``--delay`` seconds
and ``--delay-pages`` pages per site, the run's time against the busiest site's share of delays
and against their sum over the five sites (goal: about the busiest site, not the sum).
Prints the figures, writes ``bench/results/fetch.json``, and ends with the line
``RATIO run/extract=X.XX delayed/busiest=Y.YY``.

    python bench/fetch.py [--pages 1000] [--delay 0.2] [--delay-pages 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers import Route, serve  # noqa: E402

from scraper import Capture, process  # noqa: E402
from scraper.sites import SITES, Site  # noqa: E402
from scraper.urls import canonical  # noqa: E402

Page = tuple[str, dict[str, str], bytes]


def fixture_pages() -> dict[str, list[Page]]:
    pages: dict[str, list[Page]] = {s.name: [] for s in SITES}
    for case in sorted((ROOT / "tests" / "fixtures").glob("*/*.json")):
        warc = case.with_suffix(".warc.gz")
        if not warc.exists():
            continue
        with open(warc, "rb") as fh:
            record = next(r for r in ArchiveIterator(fh) if r.rec_type == "response")
            url = record.rec_headers.get_header("WARC-Target-URI")
            headers = {k: v for k, v in record.http_headers.headers if k.lower() != "content-length"}
            pages[json.loads(case.read_text(encoding="utf-8"))["site"]].append((url, headers, record.content_stream().read()))
    return pages


def fresh_url(site: Site, url: str, n: int) -> str | None:
    """Another article address of the site: the fixture's last number moved on by ``n`` (or, with
    no number, ``-n`` added to its slug)."""
    found = list(re.finditer(r"\d{4,}", urlsplit(url).path))
    if found:
        digits = found[-1].group()
        start = url.rfind(digits)
        new = f"{url[:start]}{int(digits) + n:0{len(digits)}d}{url[start + len(digits):]}"
    else:
        new = re.sub(r"(\.html)?$", lambda m: f"-{n}{m.group(1) or ''}", url, count=1)
    return new if site.is_article_url(new) else None


def world(per_site: int) -> dict[str, list[Page]]:
    chosen: dict[str, list[Page]] = {}
    for site in SITES:
        pages = fixture_pages()[site.name]
        made: dict[str, Page] = {}
        for n in range(1, 10 * per_site):
            for url, headers, body in pages:
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


def run(pages: dict[str, list[Page]], work: Path, delay: float) -> tuple[float, dict[str, object]]:
    """One `scraper run` over the pages; (seconds, report)."""
    with ExitStack() as stack:
        config = ["[output]", 'dir = "out"', "[network]", "retries = 0", "[politeness]", f"delay = {delay}",
                  "[run]", "use_sitemaps = false", "[network.connect_to]"]  # fmt: skip
        for site in SITES:
            urls = [u for u, _, _ in pages[site.name]]
            routes = {_key(a): Route(body=b, headers=h) for u, h, b in pages[site.name] for a in (u, canonical(u, site))}
            for i, feed in enumerate(site.feeds):
                routes[_key(feed)] = Route(body=rss(urls if i == 0 else []), headers={"Content-Type": "application/rss+xml"})
            server = stack.enter_context(serve(routes))
            origins = {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in [*site.feeds, *urls, *(canonical(u, site) for u in urls)]}
            config += [f'"{o}" = "{server.origin}"' for o in sorted(origins)]
        (work / "run.toml").write_text("\n".join(config) + "\n")
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "scraper", "run", "-q", "--config", "run.toml",
                               "--report", "report.json"], cwd=work, capture_output=True, text=True)  # fmt: skip
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
    return seconds, json.loads((work / "report.json").read_text())


def extract_alone(pages: dict[str, list[Page]]) -> float:
    captures = [(Capture(u, datetime.now(UTC), 200, tuple(h.items()), b), s) for s in SITES for u, h, b in pages[s.name]]
    started = time.perf_counter()
    for capture, site in captures:
        process(capture, site)
    return len(captures) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--delay-pages", type=int, default=10)
    args = parser.parse_args()
    pages = world(args.pages // len(SITES))
    total = sum(len(p) for p in pages.values())
    with tempfile.TemporaryDirectory() as tmp:
        seconds, report = run(pages, Path(tmp), 0.0)
    extracted = sum(s["extracted"] for s in report["sites"].values())  # type: ignore[attr-defined]
    run_rate, alone = extracted / seconds, extract_alone(pages)
    print(f"full run:        {run_rate:7.1f} pages/s ({extracted} of {total} pages in {seconds:.2f}s, start-up included)")
    print(f"extraction only: {alone:7.1f} pages/s")
    few = {name: p[: args.delay_pages] for name, p in pages.items()}
    with tempfile.TemporaryDirectory() as tmp:
        delayed, report = run(few, Path(tmp), args.delay)
    # each site makes its robots.txt, feed and page requests one host at a time, `delay` apart
    requests = {s.name: 1 + len(s.feeds) + len(few[s.name]) for s in SITES}
    busiest, summed = max(requests.values()) * args.delay, sum(requests.values()) * args.delay
    print(f"delay {args.delay}s: run {delayed:.2f}s; busiest site's delays {busiest:.2f}s; all sites' delays {summed:.2f}s")
    figures = {
        "pages": total, "load_average": os.getloadavg(), "run_pages_per_s": run_rate, "extract_pages_per_s": alone,
        "run_over_extract": run_rate / alone, "delay": args.delay, "delayed_run_s": delayed,
        "busiest_site_delays_s": busiest, "all_sites_delays_s": summed, "delayed_over_busiest": delayed / busiest,
    }  # fmt: skip
    out = ROOT / "bench" / "results" / "fetch.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"goal run/extract >= 0.8: {figures['run_over_extract']:.2f}; goal delayed run ~ busiest site, far below the sum")
    print(f"RATIO run/extract={figures['run_over_extract']:.2f} delayed/busiest={figures['delayed_over_busiest']:.2f}")


if __name__ == "__main__":
    main()
