"""Extraction quality on every fixture and every hand-labelled real page: our site adapters against
plain trafilatura.

Two groups of cases:

- fixtures: each ``tests/fixtures/<site>/<case>.json`` with its ``.warc.gz`` beside it (the response
  record is the page);
- real pages: each ``tests/labels/<site>/<page>.json``, a hand label of a real page saved in
  ``../shared/pages`` (``page`` in the label names the file). The pages are never copied into this
  repository: when ``../shared/pages`` or a page is absent, those cases are skipped with a note.

Each page is extracted twice:

- ours: ``scraper.process`` with the adapter ``scraper.sites.site_for`` picks for the URL (a real page
  gets a capture dated the day after its publication, in the page's year, UTC);
- plain: ``trafilatura.bare_extraction`` on the same body bytes, ``with_metadata=True``, URL given, its
  default date search asked for the full timestamp (``outputformat``) so that the offset can be compared.

Both are scored with the metrics of ``../shared/tools/quality_eval.py``: paragraph recall (expected
body paragraphs found, in order), boilerplate leaks, title equal, published date equal; and, where the
label gives them, the full timestamp (``published``: the same instant and the same UTC offset) and the
authors (the same names, case and order aside). The matching rules are the tests' own
(``tests/textmatch.py``). Prints a table per group and per site, a ``SUMMARY`` line per group (fixtures,
real pages, all), and writes the figures to ``bench/results/quality.json``.

    python bench/quality.py [--fixtures tests/fixtures] [--labels tests/labels] [--pages ../shared/pages]
                            [--out bench/results/quality.json] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import trafilatura
from trafilatura.settings import DEFAULT_CONFIG, Document, set_date_params

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from textmatch import leaked, missing_in_order, norm  # noqa: E402

from scraper import Article, process  # noqa: E402
from scraper.capture.warc import Stored, read_responses  # noqa: E402
from scraper.models import Capture  # noqa: E402
from scraper.sites import site_for  # noqa: E402

EXTRACTORS = ("ours", "plain")
FIXTURES, REAL = "fixtures", "real pages"
GROUPS = (FIXTURES, REAL)
PAGES = ROOT.parent / "shared" / "pages"

# plain trafilatura's own date search, asked for the time and offset too (its default gives the day only)
PLAIN_DATES = set_date_params(DEFAULT_CONFIG.getboolean("DEFAULT", "EXTENSIVE_DATE_SEARCH")) | {
    "outputformat": "%Y-%m-%dT%H:%M:%S%z"
}
HTML_UTF8 = (("Content-Type", "text/html; charset=utf-8"),)


@dataclass(frozen=True, slots=True)
class Output:
    """What an extractor gave for one page, in the shape the metrics need."""

    text: str
    title: str | None
    date: str | None  # ISO 8601: its first ten characters are the day, the whole of it the timestamp
    authors: tuple[str, ...] = ()
    error: str | None = None


@dataclass(slots=True)
class Score:
    paragraphs: int = 0
    found: int = 0
    leaks: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    title_ok: bool | None = None  # None when the expectation gives no title
    date_ok: bool | None = None  # None when it gives no published_date
    stamp_ok: bool | None = None  # None when it gives no full timestamp (published)
    authors_ok: bool | None = None  # None when it names no author
    date_found: str | None = None
    authors_found: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def recall(self) -> float:
        return self.found / self.paragraphs if self.paragraphs else 1.0


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    group: str
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
    stamps: int = 0
    stamps_given: int = 0
    authors: int = 0
    authors_given: int = 0

    def add(self, score: Score) -> None:
        self.pages += 1
        self.paragraphs += score.paragraphs
        self.found += score.found
        self.leaks += len(score.leaks)
        self.titles += score.title_ok is True
        self.titles_given += score.title_ok is not None
        self.dates += score.date_ok is True
        self.dates_given += score.date_ok is not None
        self.stamps += score.stamp_ok is True
        self.stamps_given += score.stamp_ok is not None
        self.authors += score.authors_ok is True
        self.authors_given += score.authors_ok is not None

    @property
    def recall(self) -> float:
        return self.found / self.paragraphs if self.paragraphs else 1.0

    def summary(self) -> str:
        return (
            f"pages={self.pages} recall={self.recall:.3f} leaks={self.leaks} "
            f"titles={self.titles}/{self.titles_given} dates={self.dates}/{self.dates_given} "
            f"stamps={self.stamps}/{self.stamps_given} authors={self.authors}/{self.authors_given}"
        )


# ---------------------------------------------------------------------------------------- the pages


def fixture_cases(fixtures: Path) -> list[Path]:
    return sorted(p for p in fixtures.glob("*/*.json") if p.with_suffix(".warc.gz").exists())


def response_of(case: Path) -> Capture:
    warc = case.with_suffix(".warc.gz")
    records = [r for r in read_responses(warc, warc.name, 50_000_000) if isinstance(r, Stored)]
    if len(records) != 1:
        raise SystemExit(f"{warc}: expected one response record, found {len(records)}")
    return records[0].capture


def label_files(labels: Path) -> list[Path]:
    return sorted(labels.glob("*/*.json"))


def fetched_at(label: dict[str, Any], path: Path) -> datetime:
    """A capture the day after publication, kept in the page's year (adapters pick layouts by it)."""
    if not label.get("published_date"):
        raise SystemExit(f"{path}: a label needs published_date (the capture is dated from it)")
    day = date.fromisoformat(str(label["published_date"]))
    after = datetime(day.year, day.month, day.day, 12, tzinfo=UTC) + timedelta(days=1)
    return min(after, datetime(day.year, 12, 31, 23, 59, tzinfo=UTC))


def page_capture(label: dict[str, Any], path: Path, pages: Path) -> Capture | None:
    """The labelled page as a capture, or None when it is not saved in ``pages``."""
    saved = pages / str(label["page"])
    if not saved.is_file():
        return None
    return Capture(str(label["url"]), fetched_at(label, path), 200, HTML_UTF8, saved.read_bytes())


# ---------------------------------------------------------------------------------------- extractors


def run_ours(capture: Capture) -> Output:
    result = process(capture, site_for(capture.url))
    if not isinstance(result, Article):
        return Output("", None, None, error=result.reason)
    published = result.published.isoformat() if result.published else None
    return Output(result.text, result.title, published, tuple(result.authors))


def run_plain(capture: Capture) -> Output:
    try:
        doc = trafilatura.bare_extraction(
            capture.body, url=capture.url, with_metadata=True, date_extraction_params=dict(PLAIN_DATES)
        )
    except Exception as exc:  # a crash is a result to report, not a reason to stop the benchmark
        return Output("", None, None, error=f"{type(exc).__name__}: {exc}")
    if not isinstance(doc, Document):
        return Output("", None, None, error="no extraction")
    authors = tuple(a.strip() for a in (doc.author or "").split(";") if a.strip())
    return Output(doc.text or "", doc.title, doc.date, authors)


# ---------------------------------------------------------------------------------------- metrics


def same_moment(found: str | None, expected: str) -> bool:
    """The same instant and the same UTC offset; a timestamp without an offset is never right."""
    want = datetime.fromisoformat(expected)
    try:
        got = datetime.fromisoformat(found or "")
    except ValueError:
        return False
    return got.tzinfo is not None and got == want and got.utcoffset() == want.utcoffset()


def same_people(found: Iterable[str], expected: Iterable[str]) -> bool:
    return sorted(norm(a) for a in found) == sorted(norm(a) for a in expected)


def score(output: Output, expected: dict[str, Any]) -> Score:
    body = [str(p) for p in expected.get("body", [])]
    boilerplate = [str(b) for b in expected.get("boilerplate", [])]
    missing = missing_in_order(output.text, body)
    title, day, stamp = expected.get("title"), expected.get("published_date"), expected.get("published")
    authors = [str(a) for a in expected.get("authors") or []]
    return Score(
        paragraphs=len(body),
        found=len(body) - len(missing),
        leaks=leaked(output.text, boilerplate, body),
        missing=missing,
        title_ok=None if not title else norm(output.title or "") == norm(str(title)),
        date_ok=None if not day else (output.date or "")[:10] == str(day),
        stamp_ok=None if not stamp else same_moment(output.date, str(stamp)),
        authors_ok=None if not authors else same_people(output.authors, authors),
        date_found=output.date,
        authors_found=list(output.authors),
        error=output.error,
    )


def evaluate(name: str, group: str, capture: Capture, expected: dict[str, Any]) -> Case:
    outputs = {"ours": run_ours(capture), "plain": run_plain(capture)}
    scores = {extractor: score(out, expected) for extractor, out in outputs.items()}
    return Case(name, group, str(expected.get("site")), capture.url, scores)


def evaluate_fixture(path: Path) -> Case:
    expected = json.loads(path.read_text(encoding="utf-8"))
    return evaluate(f"{path.parent.name}/{path.stem}", FIXTURES, response_of(path), expected)


def evaluate_labels(labels: Path, pages: Path) -> tuple[list[Case], list[str]]:
    """The labelled real pages that are saved, and a note for each one that is not."""
    files = label_files(labels)
    if files and not pages.is_dir():
        return [], [f"{len(files)} labelled real pages: {pages} is absent"]
    cases, skipped = [], []
    for path in files:
        label = json.loads(path.read_text(encoding="utf-8"))
        capture = page_capture(label, path, pages)
        if capture is None:
            skipped.append(f"{path.parent.name}/{path.stem}: {pages / str(label['page'])} is absent")
            continue
        cases.append(evaluate(f"{path.parent.name}/{path.stem}", REAL, capture, label))
    return cases, skipped


def totals(cases: Iterable[Case]) -> dict[str, Totals]:
    sums = {name: Totals() for name in EXTRACTORS}
    for case in cases:
        for name in EXTRACTORS:
            sums[name].add(case.scores[name])
    return sums


def by_site(cases: list[Case]) -> dict[str, dict[str, Totals]]:
    sites = sorted({c.site for c in cases})
    return {site: totals(c for c in cases if c.site == site) for site in sites}


def by_group(cases: list[Case]) -> dict[str, dict[str, Totals]]:
    return {group: totals(c for c in cases if c.group == group) for group in GROUPS} | {"all": totals(cases)}


# ---------------------------------------------------------------------------------------- report


def _flag(ok: bool | None) -> str:
    return "-" if ok is None else ("ok" if ok else "NO")


def _cell(s: Score) -> str:
    flags = (s.title_ok, s.date_ok, s.stamp_ok, s.authors_ok)
    return f"{s.found:>3}/{s.paragraphs:<3} {len(s.leaks):>5} " + " ".join(f"{_flag(f):>5}" for f in flags)


def _site_cell(t: Totals) -> str:
    return (
        f"{t.found:>4}/{t.paragraphs:<4} {t.recall:6.3f} {t.leaks:>5} {t.titles:>2}/{t.titles_given:<2} "
        f"{t.dates:>2}/{t.dates_given:<2} {t.stamps:>2}/{t.stamps_given:<2} {t.authors:>2}/{t.authors_given:<2}"
    )


def print_table(first: str, head: str, rows: list[tuple[str, str, str]]) -> None:
    """Rows of (label, ours, plain) under a two-line heading."""
    width = len(head)
    print(f"{'':{len(first)}} | {'ours':^{width}} | {'plain':^{width}}")
    print(f"{first} | {head} | {head}")
    for label, ours, plain in rows:
        print(f"{label} | {ours} | {plain}")


def print_cases(group: str, cases: list[Case], verbose: bool) -> None:
    head = f"{'paras':>7} {'leaks':>5} {'title':>5} {'date':>5} {'stamp':>5} {'auth':>5}"
    if verbose:
        for case in cases:
            print_details(case)
    rows = [(f"{c.name[:58]:58} {c.site:8}", _cell(c.scores["ours"]), _cell(c.scores["plain"])) for c in cases]
    print()
    print_table(f"{group:58} {'site':8}", head, rows)


def print_details(case: Case) -> None:
    for name in EXTRACTORS:
        s = case.scores[name]
        lines = [f"error: {s.error}"] if s.error else []
        lines += [f"leak: {x}" for x in s.leaks] + [f"miss: {x}" for x in s.missing]
        if s.stamp_ok is False or (s.stamp_ok is None and s.date_ok is False):
            lines.append(f"date found: {s.date_found}")
        if s.authors_ok is False:
            lines.append(f"authors found: {s.authors_found}")
        for line in lines:
            print(f"{case.name} {name:5} {line[:110]}")


def print_sites(sites: dict[str, dict[str, Totals]]) -> None:
    head = f"{'paras':>9} {'recall':>6} {'leaks':>5} {'title':>5} {'date':>5} {'stamp':>5} {'auth':>5}"
    rows = [
        (f"{site:8} {s['ours'].pages:>5}", _site_cell(s["ours"]), _site_cell(s["plain"])) for site, s in sites.items()
    ]
    print()
    print_table(f"{'site':8} {'pages':>5}", head, rows)


def results(
    cases: list[Case], sites: dict[str, dict[str, Totals]], groups: dict[str, dict[str, Totals]], skipped: list[str]
) -> dict[str, object]:
    def totals_json(t: Totals) -> dict[str, object]:
        return asdict(t) | {"recall": round(t.recall, 4)}

    def score_json(s: Score) -> dict[str, object]:
        return asdict(s) | {"recall": round(s.recall, 4)}

    def cases_json(group: str, key: str) -> list[dict[str, object]]:
        return [
            {key: c.name, "site": c.site, "url": c.url} | {n: score_json(s) for n, s in c.scores.items()}
            for c in cases
            if c.group == group
        ]

    return {
        "trafilatura_version": trafilatura.__version__,
        "summary": {name: totals_json(t) for name, t in groups["all"].items()},
        "groups": {group: {n: totals_json(t) for n, t in sums.items()} for group, sums in groups.items()},
        "sites": {site: {n: totals_json(t) for n, t in sums.items()} for site, sums in sites.items()},
        "fixtures": cases_json(FIXTURES, "fixture"),
        "real_pages": cases_json(REAL, "page"),
        "skipped": skipped,
    }


def write_json(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    temp.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=ROOT / "tests" / "fixtures", help="folder of <site>/ folders")
    parser.add_argument("--labels", type=Path, default=ROOT / "tests" / "labels", help="hand labels of real pages")
    parser.add_argument("--pages", type=Path, default=PAGES, help="the saved real pages the labels name")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "quality.json", help="JSON results")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every leak, miss, wrong date and error")
    args = parser.parse_args()
    fixtures = [evaluate_fixture(path) for path in fixture_cases(args.fixtures)]
    if not fixtures:
        raise SystemExit(f"{args.fixtures}: no fixtures (<site>/<case>.json with .warc.gz beside it)")
    real, skipped = evaluate_labels(args.labels, args.pages)
    cases = fixtures + real
    sites, groups = by_site(cases), by_group(cases)
    print_cases(FIXTURES, fixtures, args.verbose)
    if real:
        print_cases(REAL, real, args.verbose)
    for note in skipped:
        print(f"skipped: {note}")
    print_sites(sites)
    write_json(args.out, results(cases, sites, groups, skipped))
    print(f"\nwritten: {args.out}")
    for group, sums in groups.items():
        if not sums["ours"].pages:
            print(f"SUMMARY {group}: no pages ({'; '.join(skipped) or 'none labelled'})")
            continue
        print(f"SUMMARY {group}: ours: {sums['ours'].summary()} | plain: {sums['plain'].summary()}")


if __name__ == "__main__":
    main()
