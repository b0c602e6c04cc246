"""Extraction quality on every fixture page: our site adapters against plain trafilatura.

For each ``tests/fixtures/<site>/<case>.json`` with its ``.warc.gz`` beside it, the response record
is extracted twice:

- ours: ``scraper.extract.process`` with the adapter ``scraper.sites.site_for`` picks for the record's URL;
- plain: ``trafilatura.bare_extraction`` on the same body bytes, ``with_metadata=True``, URL given.

Both are scored with the metrics of ``../shared/tools/quality_eval.py``: paragraph recall (expected
body paragraphs found, in order), boilerplate leaks, title equal, published date equal. The matching
rules are the tests' own (``tests/textmatch.py``). Prints a table per fixture and per site, then a
last ``SUMMARY`` line, and writes the figures to ``bench/results/quality.json``.

    python bench/quality.py [--fixtures tests/fixtures] [--out bench/results/quality.json] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import trafilatura
from trafilatura.settings import Document

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from textmatch import leaked, missing_in_order, norm  # noqa: E402

from scraper import Article, process  # noqa: E402
from scraper.capture.warc import Stored, read_responses  # noqa: E402
from scraper.models import Capture  # noqa: E402
from scraper.sites import site_for  # noqa: E402

EXTRACTORS = ("ours", "plain")


@dataclass(frozen=True, slots=True)
class Output:
    """What an extractor gave for one page, in the shape the metrics need."""

    text: str
    title: str | None
    date: str | None  # ISO 8601, only the first ten characters are compared
    error: str | None = None


@dataclass(slots=True)
class Score:
    paragraphs: int = 0
    found: int = 0
    leaks: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    title_ok: bool | None = None  # None when the fixture gives no title
    date_ok: bool | None = None  # None when the fixture gives no date
    error: str | None = None

    @property
    def recall(self) -> float:
        return self.found / self.paragraphs if self.paragraphs else 1.0


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    site: str
    url: str
    scores: dict[str, Score]


@dataclass(slots=True)
class Totals:
    """Sums over a set of cases for one extractor."""

    pages: int = 0
    paragraphs: int = 0
    found: int = 0
    leaks: int = 0
    titles: int = 0
    titles_given: int = 0
    dates: int = 0
    dates_given: int = 0

    def add(self, score: Score) -> None:
        self.pages += 1
        self.paragraphs += score.paragraphs
        self.found += score.found
        self.leaks += len(score.leaks)
        self.titles += score.title_ok is True
        self.titles_given += score.title_ok is not None
        self.dates += score.date_ok is True
        self.dates_given += score.date_ok is not None

    @property
    def recall(self) -> float:
        return self.found / self.paragraphs if self.paragraphs else 1.0

    def summary(self) -> str:
        return (
            f"recall={self.recall:.3f} leaks={self.leaks} "
            f"titles={self.titles}/{self.titles_given} dates={self.dates}/{self.dates_given}"
        )


def fixture_cases(fixtures: Path) -> list[Path]:
    return sorted(p for p in fixtures.glob("*/*.json") if p.with_suffix(".warc.gz").exists())


def response_of(case: Path) -> Capture:
    warc = case.with_suffix(".warc.gz")
    records = [r for r in read_responses(warc, warc.name, 50_000_000) if isinstance(r, Stored)]
    if len(records) != 1:
        raise SystemExit(f"{warc}: expected one response record, found {len(records)}")
    return records[0].capture


def run_ours(capture: Capture) -> Output:
    result = process(capture, site_for(capture.url))
    if not isinstance(result, Article):
        return Output("", None, None, error=result.reason)
    published = result.published.isoformat() if result.published else None
    return Output(result.text, result.title, published)


def run_plain(capture: Capture) -> Output:
    try:
        doc = trafilatura.bare_extraction(capture.body, url=capture.url, with_metadata=True)
    except Exception as exc:  # a crash is a result to report, not a reason to stop the benchmark
        return Output("", None, None, error=f"{type(exc).__name__}: {exc}")
    if not isinstance(doc, Document):
        return Output("", None, None, error="no extraction")
    return Output(doc.text or "", doc.title, doc.date)


def score(output: Output, expected: dict[str, object]) -> Score:
    body = [str(p) for p in expected.get("body", [])]  # type: ignore[attr-defined]
    boilerplate = [str(b) for b in expected.get("boilerplate", [])]  # type: ignore[attr-defined]
    missing = missing_in_order(output.text, body)
    title, date = expected.get("title"), expected.get("published_date")
    return Score(
        paragraphs=len(body),
        found=len(body) - len(missing),
        leaks=leaked(output.text, boilerplate, body),
        missing=missing,
        title_ok=None if not title else norm(output.title or "") == norm(str(title)),
        date_ok=None if not date else (output.date or "")[:10] == str(date),
        error=output.error,
    )


def evaluate(path: Path) -> Case:
    expected = json.loads(path.read_text(encoding="utf-8"))
    capture = response_of(path)
    outputs = {"ours": run_ours(capture), "plain": run_plain(capture)}
    scores = {name: score(out, expected) for name, out in outputs.items()}
    return Case(f"{path.parent.name}/{path.stem}", str(expected.get("site")), capture.url, scores)


def totals(cases: Iterable[Case]) -> dict[str, Totals]:
    sums = {name: Totals() for name in EXTRACTORS}
    for case in cases:
        for name in EXTRACTORS:
            sums[name].add(case.scores[name])
    return sums


def by_site(cases: list[Case]) -> dict[str, dict[str, Totals]]:
    sites = sorted({c.site for c in cases})
    return {site: totals(c for c in cases if c.site == site) for site in sites}


def _flag(ok: bool | None) -> str:
    return "-" if ok is None else ("ok" if ok else "NO")


def _cell(s: Score) -> str:
    return f"{s.found:>3}/{s.paragraphs:<3} {len(s.leaks):>5} {_flag(s.title_ok):>5} {_flag(s.date_ok):>5}"


def _site_cell(t: Totals) -> str:
    return (
        f"{t.found:>4}/{t.paragraphs:<4} {t.recall:6.3f} {t.leaks:>5} "
        f"{t.titles:>2}/{t.titles_given:<2} {t.dates:>2}/{t.dates_given:<2}"
    )


def print_table(first: str, head: str, rows: list[tuple[str, str, str]]) -> None:
    """Rows of (label, ours, plain) under a two-line heading."""
    width = len(head)
    print(f"{'':{len(first)}} | {'ours':^{width}} | {'plain':^{width}}")
    print(f"{first} | {head} | {head}")
    for label, ours, plain in rows:
        print(f"{label} | {ours} | {plain}")


def print_cases(cases: list[Case], verbose: bool) -> None:
    head = f"{'paras':>7} {'leaks':>5} {'title':>5} {'date':>5}"
    for case in cases:
        if verbose:
            print_details(case)
    rows = [(f"{c.name[:58]:58} {c.site:8}", _cell(c.scores["ours"]), _cell(c.scores["plain"])) for c in cases]
    print_table(f"{'fixture':58} {'site':8}", head, rows)


def print_details(case: Case) -> None:
    for name in EXTRACTORS:
        s = case.scores[name]
        for line in ([f"error: {s.error}"] if s.error else []) + [f"leak: {x}" for x in s.leaks]:
            print(f"{case.name} {name:5} {line[:110]}")
        for line in s.missing:
            print(f"{case.name} {name:5} miss: {line[:104]}")


def print_sites(sites: dict[str, dict[str, Totals]]) -> None:
    head = f"{'paras':>9} {'recall':>6} {'leaks':>5} {'title':>5} {'date':>5}"
    rows = [
        (f"{site:8} {s['ours'].pages:>5}", _site_cell(s["ours"]), _site_cell(s["plain"])) for site, s in sites.items()
    ]
    print()
    print_table(f"{'site':8} {'pages':>5}", head, rows)


def results(cases: list[Case], sites: dict[str, dict[str, Totals]], overall: dict[str, Totals]) -> dict[str, object]:
    def totals_json(t: Totals) -> dict[str, object]:
        return asdict(t) | {"recall": round(t.recall, 4)}

    def score_json(s: Score) -> dict[str, object]:
        return asdict(s) | {"recall": round(s.recall, 4)}

    return {
        "trafilatura_version": trafilatura.__version__,
        "summary": {name: totals_json(t) for name, t in overall.items()},
        "sites": {site: {n: totals_json(t) for n, t in sums.items()} for site, sums in sites.items()},
        "fixtures": [
            {"fixture": c.name, "site": c.site, "url": c.url} | {n: score_json(s) for n, s in c.scores.items()}
            for c in cases
        ],
    }


def write_json(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    temp.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=ROOT / "tests" / "fixtures", help="folder of <site>/ folders")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "quality.json", help="JSON results")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every leak, miss and error")
    args = parser.parse_args()
    cases = [evaluate(path) for path in fixture_cases(args.fixtures)]
    if not cases:
        raise SystemExit(f"{args.fixtures}: no fixtures (<site>/<case>.json with .warc.gz beside it)")
    sites, overall = by_site(cases), totals(cases)
    print_cases(cases, args.verbose)
    print_sites(sites)
    write_json(args.out, results(cases, sites, overall))
    print(f"\nwritten: {args.out}")
    print(f"SUMMARY ours: {overall['ours'].summary()} | plain: {overall['plain'].summary()}")


if __name__ == "__main__":
    main()
