"""Extraction time page by page: the site adapters against plain trafilatura, on every fixture, every
real page in ``../shared/pages`` and long transcripts built from them (issue 17).

The pages:

- fixtures: every response record of ``tests/fixtures/*/*.warc.gz`` (read with
  ``scraper.capture.warc.read_responses``: its URL, WARC-Date, headers and body);
- real pages: every ``../shared/pages/**/*.html`` (skipped with a note when the folder is absent). The
  URL is the hand label's (``tests/labels/*/*.json``), else the page's absolute canonical link or
  og:url, else the one ``SOURCES.md`` gives; the capture is dated the day after the label's publication
  date, else from the date in the file name, so that the adapter picks the layout of the page's year;
- long pages: the en.kremlin.ru Valdai transcript with its body paragraphs repeated, in memory only,
  until the body holds ``--long`` paragraphs (1,000 and 2,000 by default).

Each page is extracted, in this one process, by

- ours: ``scraper.process(capture, scraper.sites.site_for(url))``, from the body bytes;
- plain: ``trafilatura.extract(html_text)`` with trafilatura's defaults, on the same bytes decoded
  beforehand by trafilatura's own ``decode_file`` (outside the timer: the stricter comparison, since
  ours decodes inside its time);
- plain-bytes: ``trafilatura.extract(body_bytes)``, the decoding inside the timer, for reference.

Each figure is the best of ``--rounds`` rounds, the extractors taking turns within a round, after one
untimed warm-up of each. Prints, per page, ms ours, ms plain and the ratio plain/ours (and the
plain-bytes figures), then the minimum and the median ratio over all pages and over the pages that
give an article (a front page gets none, at little cost), and writes
``bench/results/pages.json``. Goal (issue 17): every page >= 1.0, the median >= 3.0. ``--profile N``
adds a cProfile of ours on the N slowest pages (its top functions, printed and in the JSON).

    python bench/pages.py [--rounds 7] [--long 1000 2000] [--profile 3] [--only SUBSTRING]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import trafilatura
from lxml import html as lxml_html
from trafilatura.utils import decode_file

from scraper import Article, process
from scraper.capture.warc import Stored, read_responses
from scraper.models import Capture
from scraper.sites import site_for

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT.parent / "shared" / "pages"
TRANSCRIPT = "kremlin/en-kremlin-news-55882-2017-valdai.html"
HTML = (("Content-Type", "text/html"),)  # no charset: each page's own <meta charset> decides
_DATE_IN_NAME = re.compile(r"-((?:19|20)\d\d)(?:-(\d\d))?(?:-(\d\d))?(?=[-.])")
_SOURCE_URL = re.compile(r"^\|\s*([\w./-]+\.html)\s*\|[^|]*\|\s*(https?://\S+)", re.M)


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    group: str  # fixture, real, long
    capture: Capture
    text: str  # the body as trafilatura decodes it, for plain


@dataclass(frozen=True, slots=True)
class Timing:
    name: str
    group: str
    url: str
    kib: float
    paragraphs: int  # <p> elements in the page
    ours_ms: float
    plain_ms: float
    plain_bytes_ms: float
    outcome: str  # "article: N lines" or the Rejected reason

    @property
    def ratio(self) -> float:
        return self.plain_ms / self.ours_ms

    @property
    def ratio_bytes(self) -> float:
        return self.plain_bytes_ms / self.ours_ms


# ---------------------------------------------------------------------------------------- the pages


def page_of(name: str, group: str, capture: Capture) -> Page:
    return Page(name, group, capture, decode_file(capture.body))


def fixture_pages(fixtures: Path) -> list[Page]:
    pages = []
    for warc in sorted(fixtures.glob("*/*.warc.gz")):
        stored = [r for r in read_responses(warc, warc.name, 50_000_000) if isinstance(r, Stored)]
        for n, record in enumerate(stored):
            suffix = f"#{n}" if len(stored) > 1 else ""
            pages.append(page_of(f"{warc.parent.name}/{warc.name.removesuffix('.warc.gz')}{suffix}", "fixture",
                                 record.capture))  # fmt: skip
    return pages


def labels_by_page(labels: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(labels.glob("*/*.json")):
        label = json.loads(path.read_text(encoding="utf-8"))
        found[str(label["page"])] = label
    return found


def listed_urls(pages: Path) -> dict[str, str]:
    """The page URL of each file in SOURCES.md's table."""
    sources = pages / "SOURCES.md"
    text = sources.read_text(encoding="utf-8") if sources.is_file() else ""
    return {m.group(1): m.group(2).rstrip(").,") for m in _SOURCE_URL.finditer(text)}


def own_url(body: bytes) -> str | None:
    root = lxml_html.document_fromstring(body)
    for expression in ("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content"):
        for value in root.xpath(expression):
            if str(value).startswith(("http://", "https://")):
                return str(value)
    return None


def dated(label: dict[str, Any] | None, name: str) -> datetime:
    """The day after a labelled page's publication, kept in its year; else the date in the file name."""
    if label and label.get("published_date"):
        day = date.fromisoformat(str(label["published_date"]))
        after = datetime(day.year, day.month, day.day, 12, tzinfo=UTC) + timedelta(days=1)
        return min(after, datetime(day.year, 12, 31, 23, 59, tzinfo=UTC))
    match = _DATE_IN_NAME.search(name)
    if not match:
        return datetime(2025, 1, 1, 12, tzinfo=UTC)
    year, month, day_ = (int(g) if g else 1 for g in match.groups())
    return datetime(year, month if match.group(2) else 7, day_, 12, tzinfo=UTC)


def real_pages(pages: Path, labels: Path) -> tuple[list[Page], list[str]]:
    if not pages.is_dir():
        return [], [f"real pages: {pages} is absent"]
    by_page, listed = labels_by_page(labels), listed_urls(pages)
    found, notes = [], []
    for path in sorted(pages.glob("**/*.html")):
        relative = path.relative_to(pages).as_posix()
        body = path.read_bytes()
        label = by_page.get(relative)
        url = str(label["url"]) if label else own_url(body) or listed.get(relative)
        if not url:
            notes.append(f"{relative}: no URL (no label, canonical link, og:url or SOURCES.md entry)")
            continue
        capture = Capture(url, dated(label, path.name), 200, HTML, body)
        found.append(page_of(relative.removesuffix(".html"), "real", capture))
    return found, notes


def long_pages(pages: Path, labels: Path, sizes: list[int]) -> list[Page]:
    """The transcript with its body paragraphs repeated until the body holds ``size`` of them."""
    source = pages / TRANSCRIPT
    if not source.is_file() or not sizes:
        return []
    label = labels_by_page(labels).get(TRANSCRIPT, {})
    url = str(label.get("url", "http://en.kremlin.ru/events/president/news/55882"))
    built = []
    for size in sizes:
        root = lxml_html.document_fromstring(source.read_bytes())
        body = root.xpath("//div[@itemprop='articleBody']")[0]
        paragraphs = body.xpath("./p")
        anchor = paragraphs[-1]
        for n in range(size - len(paragraphs)):
            copy = lxml_html.fromstring(lxml_html.tostring(paragraphs[n % len(paragraphs)], encoding="unicode"))
            copy.tail = " "
            anchor.addnext(copy)
            anchor = copy
        data = lxml_html.tostring(root, doctype="<!doctype html>", encoding="utf-8")
        capture = Capture(url, dated(label, TRANSCRIPT), 200, (("Content-Type", "text/html; charset=utf-8"),), data)
        built.append(page_of(f"long/valdai-x{size}p", "long", capture))
    return built


# ---------------------------------------------------------------------------------------- timing


def run_ours(capture: Capture) -> object:
    return process(capture, site_for(capture.url))


def best_of(rounds: int, jobs: dict[str, Callable[[], object]]) -> dict[str, float]:
    """The best time in ms of each job, the jobs taking turns within each round."""
    for job in jobs.values():
        job()  # warm-up: caches, compiled XPaths, lazy imports
    best = dict.fromkeys(jobs, float("inf"))
    for _ in range(rounds):
        for name, job in jobs.items():
            gc.collect()
            start = time.perf_counter()
            job()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: seconds * 1000 for name, seconds in best.items()}


def outcome(result: object) -> str:
    if isinstance(result, Article):
        return f"article: {result.text.count(chr(10)) + 1} lines"
    return f"rejected: {getattr(result, 'reason', result)}"


def time_page(page: Page, rounds: int) -> Timing:
    capture = page.capture
    ms = best_of(
        rounds,
        {
            "ours": lambda: run_ours(capture),
            "plain": lambda: trafilatura.extract(page.text),
            "plain_bytes": lambda: trafilatura.extract(capture.body),
        },
    )
    return Timing(
        page.name, page.group, capture.url, len(capture.body) / 1024, len(re.findall(r"<p[\s>]", page.text)),
        ms["ours"], ms["plain"], ms["plain_bytes"], outcome(run_ours(capture)),
    )  # fmt: skip


def profile(page: Page, rounds: int, top: int = 25) -> dict[str, Any]:
    """cProfile of ours on one page over ``rounds`` runs: the functions with the most cumulative and
    the most own time, as shares of the total."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        run_ours(page.capture)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    total = max(stats.total_tt, 1e-9)  # type: ignore[attr-defined]

    def rows(key: int) -> list[dict[str, Any]]:
        entries = sorted(stats.stats.items(), key=lambda kv: kv[1][key], reverse=True)[:top]  # type: ignore[attr-defined]
        return [
            {"function": f"{Path(f).name}:{line}({fn})", "calls": v[1], "own_pct": round(100 * v[2] / total, 1),
             "cum_pct": round(100 * v[3] / total, 1)}
            for (f, line, fn), v in entries
        ]  # fmt: skip

    return {"page": page.name, "runs": rounds, "ms_per_run": round(1000 * total / rounds, 2),
            "by_cumulative": rows(3), "by_own": rows(2)}  # fmt: skip


# ---------------------------------------------------------------------------------------- report


def print_table(timings: list[Timing]) -> None:
    print(f"{'page':62} {'KiB':>6} {'<p>':>5} {'ours ms':>8} {'plain ms':>8} {'ratio':>6} {'bytes ms':>8} {'ratio':>6}")
    for t in timings:
        print(
            f"{t.name[:62]:62} {t.kib:6.0f} {t.paragraphs:5d} {t.ours_ms:8.2f} {t.plain_ms:8.2f} {t.ratio:6.2f} "
            f"{t.plain_bytes_ms:8.2f} {t.ratio_bytes:6.2f}"
        )


def summary(timings: list[Timing]) -> dict[str, Any]:
    def of(values: list[float]) -> dict[str, float]:
        return {"min": round(min(values), 3), "median": round(statistics.median(values), 3)} if values else {}

    groups = sorted({t.group for t in timings})
    slowest = min(timings, key=lambda t: t.ratio)
    return {
        "pages": len(timings),
        "ratio": of([t.ratio for t in timings]),
        "ratio_bytes": of([t.ratio_bytes for t in timings]),
        "by_group": {g: of([t.ratio for t in timings if t.group == g]) for g in groups},
        "worst_page": slowest.name,
        "below_1": [t.name for t in timings if t.ratio < 1.0],
        # a front page or a listing gets no text at all, at a fraction of an extraction's cost: the
        # figure over the pages that give an article is the fairer one, and is said beside the goal's
        "articles_only": of([t.ratio for t in timings if t.outcome.startswith("article")]),
        "not_articles": [t.name for t in timings if not t.outcome.startswith("article")],
        "goal_met": min(t.ratio for t in timings) >= 1.0 and statistics.median(t.ratio for t in timings) >= 3.0,
    }


def timing_json(t: Timing) -> dict[str, object]:
    return {"page": t.name, "group": t.group, "url": t.url, "kib": round(t.kib, 1), "paragraphs": t.paragraphs,
            "ours_ms": round(t.ours_ms, 3), "plain_ms": round(t.plain_ms, 3),
            "plain_bytes_ms": round(t.plain_bytes_ms, 3), "ratio": round(t.ratio, 3),
            "ratio_bytes": round(t.ratio_bytes, 3), "ours": t.outcome}  # fmt: skip


def write_json(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    temp.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=ROOT / "tests" / "fixtures")
    parser.add_argument("--labels", type=Path, default=ROOT / "tests" / "labels")
    parser.add_argument("--pages", type=Path, default=PAGES, help="the saved real pages (skipped when absent)")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per page; the best counts")
    parser.add_argument("--long", type=int, nargs="*", default=[1000, 2000], help="paragraphs of each long page")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile ours on the N slowest pages")
    parser.add_argument("--only", help="only the pages whose name holds this")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "pages.json")
    args = parser.parse_args()

    real, notes = real_pages(args.pages, args.labels)
    pages = fixture_pages(args.fixtures) + real + long_pages(args.pages, args.labels, args.long)
    if args.only:
        pages = [p for p in pages if args.only in p.name]
    if not pages:
        raise SystemExit("no pages to time")
    timings = []
    for page in pages:
        timings.append(time_page(page, args.rounds))
        print(f"  {page.name}: {timings[-1].ours_ms:.1f} ms", file=sys.stderr)
    print_table(timings)
    for note in notes:
        print(f"skipped: {note}")
    figures = summary(timings)
    profiles = []
    if args.profile:
        slowest = sorted(timings, key=lambda t: t.ours_ms, reverse=True)[: args.profile]
        by_name = {p.name: p for p in pages}
        profiles = [profile(by_name[t.name], max(3, args.rounds // 2)) for t in slowest]
        for found in profiles:
            print(f"\nPROFILE {found['page']} ({found['ms_per_run']} ms per run under cProfile)")
            for row in found["by_own"][:15]:
                print(f"  own {row['own_pct']:5.1f}%  cum {row['cum_pct']:5.1f}%  {row['calls']:>8}  {row['function']}")
    write_json(
        args.out,
        {
            "measured": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg()},
            "trafilatura_version": trafilatura.__version__,
            "rounds": args.rounds,
            "summary": figures,
            "pages": [timing_json(t) for t in timings],
            "profiles": profiles,
            "skipped": notes,
        },
    )
    r, rb = figures["ratio"], figures["ratio_bytes"]
    print(f"\nRATIO plain/ours min={r['min']:.2f} median={r['median']:.2f} (goal: min >= 1.0, median >= 3.0)"
          f"  plain-bytes/ours min={rb['min']:.2f} median={rb['median']:.2f}  pages={figures['pages']}")  # fmt: skip
    a, none = figures["articles_only"], figures["not_articles"]
    print(f"the {figures['pages'] - len(none)} pages that give an article: min={a.get('min', 0):.2f} "
          f"median={a.get('median', 0):.2f}; no article: {', '.join(none) or 'none'}")  # fmt: skip


if __name__ == "__main__":
    main()
