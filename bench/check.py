#!/usr/bin/env python3
"""How long ``scraper check`` takes over a catalog of 10,000 articles (issue 8: "in seconds").

Builds, in a temporary folder, an archive the way ``scraper run`` leaves one: ``--articles``
articles spread over ``--days`` days and the five sites, one WARC file per site and day (a
response, a request and a metadata record per article; the pages carry a JSON-LD ``articleBody``
and ``--page-kb`` of page furniture, so reading a record costs what a real page costs), the text
and JSON files under ``text/<site>/<day>/``, and the catalog rows. On the last day one site keeps
a news ticker in every text and another loses a paragraph of every text, so the check has
something to find.

Then it times, with the ``scraper check`` command (start-up included) and in-process:

- cold: the first check of the last 24 hours (no figures kept yet: every history text is read,
  every window text is compared with its JSON-LD copy);
- warm: the same check again (figures and comparisons come from the catalog): the check that
  follows every scheduled run;
- all: a check of every day (``--since`` the first day): the whole catalog in the window, at most
  ``max_compare`` comparisons per site.

Prints the figures, writes ``bench/results/check.json`` and ends with the line
``CHECK articles=N cold=Xs warm=Ys all=Zs``.

    python bench/check.py [--articles 10000] [--days 30] [--page-kb 60] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scraper.archive.catalog import Catalog  # noqa: E402
from scraper.archive.layout import Archive, stem_name  # noqa: E402
from scraper.archive.schema import CaptureRow  # noqa: E402
from scraper.archive.texts import render_meta, render_text  # noqa: E402
from scraper.capture.warc import WarcFile  # noqa: E402
from scraper.models import Article, Capture, Exchange  # noqa: E402
from scraper.pipeline.capture import metadata  # noqa: E402
from scraper.sites import by_name  # noqa: E402
from scraper.urls import canonical  # noqa: E402
from scraper.watch.quality import check_run  # noqa: E402

SITES = {
    "interfax": "https://www.interfax.ru/russia/{n}",
    "kremlin": "http://kremlin.ru/events/president/news/{n}",
    "sputnik": "https://ria.ru/20261101/tema-{n}.html",
    "znua": "https://zn.ua/POLITICS/novost-{n}.html",
    "rbc": "https://www.rbc.ru/politics/01/11/2026/{n:024x}",
}
TICKER = "Курс доллара на Мосбирже 92,51 руб., евро 98,40 руб."
NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
_VOCABULARY = (
    "правительство заявило сегодня новые меры поддержки регионов экономика рост цены рынок банк ставка министр "
    "встреча президент решение совет проект закон бюджет доходы расходы компания выборы губернатор области "
    "города жители строительство дороги школы больницы отопление зима энергия газ нефть экспорт"
)
_WORDS = _VOCABULARY.split()


def paragraphs(rng: random.Random) -> list[str]:
    # lengths vary as news items and long reads do: 2 to 20 paragraphs
    return [
        " ".join(
            " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 18))).capitalize() + "."
            for _ in range(rng.randint(1, 3))
        )
        for _ in range(rng.randint(2, 20))
    ]


def page(title: str, body: list[str], copy: list[str], furniture: str) -> bytes:
    data = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "articleBody": "\n".join(copy)}
    ld = json.dumps(data, ensure_ascii=False)
    text = "".join(f"<p>{p}</p>" for p in body)
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>'
        f'<script type="application/ld+json">{ld}</script></head><body>{furniture}'
        f"<main><h1>{title}</h1><article>{text}</article></main>{furniture}</body></html>"
    ).encode()


def build(root: Path, articles: int, days: int, page_kb: int) -> None:
    rng = random.Random(8)
    furniture = "".join(
        f'<div class="news-feed__item"><a href="/n/{i}">{" ".join(rng.choice(_WORDS) for _ in range(8))}</a></div>'
        for i in range(page_kb * 1024 // 2 // 120)
    )
    per_day = articles // days
    n = 0
    with Catalog(root / "catalog.sqlite") as catalog:
        for day in range(days):
            start = NOW - timedelta(days=days - day)
            for index, name in enumerate(SITES):
                count = per_day // len(SITES) + (1 if index < per_day % len(SITES) else 0)
                with catalog.transaction():  # one commit per site and day, as a run's many commits are not the point
                    write_day(root, catalog, name, start, count, n, last=day == days - 1, rng=rng, furniture=furniture)
                n += count


def write_day(root: Path, catalog: Catalog, name: str, start: datetime, count: int, first: int, *, last: bool,
              rng: random.Random, furniture: str) -> None:  # fmt: skip
    site = by_name(name)
    relative = f"warc/{name}-{start:%Y%m%dT%H%M%SZ}-00000.warc.gz"
    with WarcFile(root / relative, relative) as warc:
        warc.write_warcinfo({"software": "bench/check.py"})
        for i in range(count):
            at = start + timedelta(seconds=i * 80_000 // max(count, 1))
            url = SITES[name].format(n=900_000 + first + i)
            copy = paragraphs(rng)
            body = [*copy[:1], TICKER, *copy[1:]] if last and name == "interfax" else copy
            body = body[:-1] if last and name == "kremlin" and len(body) > 2 else body
            exchange = Exchange(url, at, "GET", (), "HTTP/1.1", 200, "OK", (("Content-Type", "text/html"),),
                                page(f"Новость {first + i}", body, copy, furniture))  # fmt: skip
            text_stem = root / "text" / name / at.date().isoformat() / stem_name(i, url)
            ref = warc.write_exchange(exchange, metadata(site, at, text_stem, Archive(root)))
            article = Article(url, name, f"Новость {first + i}", "\n".join(body), at, "ru", name, "bench")
            capture = Capture(url, at, 200, exchange.response_headers, b"")
            text = render_text(article)
            text_stem.parent.mkdir(parents=True, exist_ok=True)
            text_stem.with_suffix(".txt").write_text(text, encoding="utf-8")
            text_stem.with_suffix(".json").write_text(render_meta(article, capture, ref, text), encoding="utf-8")
            key = canonical(url, site)
            catalog.record_capture(CaptureRow(
                key, url=url, site=name, fetched_at=at, http_status=200, etag=None, last_modified=None,
                payload_digest=ref.payload_digest, warc_file=ref.warc_file, warc_record_id=ref.record_id,
                warc_offset=ref.offset,
            ))  # fmt: skip
            catalog.record_article(
                key, text_path=str(text_stem.with_suffix(".txt").relative_to(root)), text_sha256="",
                adapter=f"{name}/bench", extracted_at=at,
            )  # fmt: skip


def command(root: Path, since: datetime) -> tuple[float, int, str]:
    started = time.perf_counter()
    args = [sys.executable, "-m", "scraper", "check", "--out", str(root), "--since", since.isoformat()]
    done = subprocess.run(args, capture_output=True, text=True, cwd=root)
    return time.perf_counter() - started, done.returncode, done.stdout


def in_process(root: Path, since: datetime) -> tuple[float, dict[str, str]]:
    with Catalog(root / "catalog.sqlite") as catalog:
        started = time.perf_counter()
        report = check_run(catalog, root, NOW, since=since)
        return time.perf_counter() - started, {s.site: s.verdict for s in report.sites}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--page-kb", type=int, default=60)
    parser.add_argument("--keep", type=Path, help="build the archive here and keep it")
    options = parser.parse_args()
    root = options.keep or Path(tempfile.mkdtemp(prefix="bench-check-"))
    try:
        started = time.perf_counter()
        build(root, options.articles, options.days, options.page_kb)
        built = time.perf_counter() - started
        size = sum(p.stat().st_size for p in (root / "warc").glob("*.warc.gz"))
        print(f"built {options.articles} articles over {options.days} days in {built:.1f}s; WARCs {size / 1e6:.0f} MB")
        day, first = NOW - timedelta(days=1), NOW - timedelta(days=options.days)
        cold, code, table = command(root, day)
        print(table, end="")
        warm, _, _ = command(root, day)
        inside, verdicts = in_process(root, day)
        every, _, _ = command(root, first)
        print(f"scraper check, last day: cold {cold:.2f}s (exit {code}), warm {warm:.2f}s, in-process {inside:.2f}s")
        print(f"scraper check, all {options.days} days: {every:.2f}s")
        results = {"articles": options.articles, "days": options.days, "page_kb": options.page_kb,
                   "warc_mb": round(size / 1e6), "build_s": round(built, 2), "cold_s": round(cold, 2),
                   "warm_s": round(warm, 2), "in_process_warm_s": round(inside, 2), "all_days_s": round(every, 2),
                   "verdicts": verdicts}  # fmt: skip
        out = ROOT / "bench" / "results" / "check.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"CHECK articles={options.articles} cold={cold:.2f}s warm={warm:.2f}s all={every:.2f}s")
    finally:
        if options.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
