"""Reliability table: run the fault server (tests/faultserver.py) and the tool against it, and write
docs/reliability.md from what was observed. Nothing in the table is written by hand: each row is
the reason the tool gave, its exit code, what the WARC holds and what the server saw, with a
verdict computed against the expected outcome (tests/faultserver.EXPECTED, which tests/test_faults.py
asserts too).

1. One ``scraper run`` through every fault at once (Interfax's feed lists every fault page, its
   sitemap index lists itself, three Kremlin feeds are hostile): reason per URL in the run report
   and in the catalog, WARC records per URL, requests the server received, peak memory.
2. ``scraper fetch URL`` for each page fault alone: exit code, the printed reason, the WARC records.
3. Bad input on the command line and in files, ``scraper verify`` on everything written, and a
   run killed with SIGKILL ``--kills`` times at random moments, then completed.
4. From bench/faults_more.py: commands stopped by SIGTERM and SIGINT whatever they wait on, runs
   under a time budget, faults of the archive itself (a zero-byte catalog, a read-only archive, a
   damaged record in a file left open, a WARC under two names, a file-size limit), and the highest
   peak memory of every command the bench ran.

    python bench/faults.py [--out docs/reliability.md] [--kills 10] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import faults_more  # noqa: E402
import faultserver  # noqa: E402
from faults_more import Done, Started, scraper  # noqa: E402
from faultserver import EXPECTED, FEED_FAULTS, PAGE_MODES, Faults, run_config, run_faults  # noqa: E402

from scraper import __version__  # noqa: E402
from scraper.archive.catalog import Catalog  # noqa: E402
from scraper.capture.warc import ReadProblem, check_records, read_responses  # noqa: E402
from scraper.sites import site_for  # noqa: E402
from scraper.urls import canonical  # noqa: E402

FAULTS = {"stall_seconds": 30.0, "drip_seconds": 60, "bomb_mib": 2048}
NETWORK = {"timeout": 2, "total_timeout": 5, "retries": 1, "backoff": 0.5, "retry_after_max": 10}


# --- reading what was written ------------------------------------------------------------------


def records_by_url(out: Path) -> dict[str, list[str]]:
    """Per URL, its response records in file order: "200", "302", "200 cut: disconnect"..."""
    found: dict[str, list[str]] = {}
    for warc in sorted((out / "warc").glob("*.warc.gz")):
        for item in read_responses(warc, warc.name, 1 << 20):
            if isinstance(item, ReadProblem):
                found.setdefault("(problems)", []).append(item.reason)
                continue
            cut = f" cut: {item.truncated}" if item.truncated else ""
            found.setdefault(item.capture.url, []).append(f"{item.capture.status}{cut}")
    return found


def shown(records: list[str]) -> str:
    """``200 cut: disconnect ×2`` for repeats; a chain joined with arrows."""
    parts: list[str] = []
    for record in records:
        if parts and parts[-1].split(" ×")[0] == record:
            count = int(parts[-1].split(" ×")[1]) + 1 if " ×" in parts[-1] else 2
            parts[-1] = f"{record} ×{count}"
        else:
            parts.append(record)
    return " → ".join(parts) or "nothing"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# --- 1. one scheduled run through everything ---------------------------------------------------


@dataclass
class RunSeen:
    done: Done
    report: dict  # type: ignore[type-arg]
    failures: dict[str, str]
    catalog: dict[str, str | None]  # url -> last_failure (None: text written)
    records: dict[str, list[str]]
    hits: list[str]
    hit_times: dict[str, list[float]]
    out: Path
    texts: dict[str, str]  # url -> its text file, for the articles extracted


def scheduled_run(work: Path) -> RunSeen:
    folder = work / "run"
    folder.mkdir()
    with faultserver.serve(run_faults(**FAULTS)) as server:
        (folder / "run.toml").write_text(run_config(server.origin, **NETWORK))
        done = scraper(folder, "run", "--config", "run.toml", "--report", "report.json")
        hits = [h.path for h in server.hits]
        times = {p: [h.at for h in server.hits if h.path == p] for p in set(hits)}
    report = json.loads((folder / "report.json").read_text())
    failures: dict[str, str] = {}
    for site in report["sites"].values():
        failures |= dict(line.split(": ", 1) for line in site["failures"])
    urls = [f"https://www.interfax.ru/{m}/1" for m in PAGE_MODES] + [g for _, g in FEED_FAULTS.values()]
    catalog, texts = {}, {}
    with Catalog(folder / "out" / "catalog.sqlite") as db:
        for url in urls:
            row = db.article(canonical(url, site_for(url)))
            catalog[url] = "(not in the catalog)" if row is None else (None if row.text_path else row.last_failure)
            if row is not None and row.text_path:
                texts[url] = (folder / "out" / row.text_path).read_text(encoding="utf-8")
    out = folder / "out"
    return RunSeen(done, report, failures, catalog, records_by_url(out), hits, times, out, texts)


def page_rows(seen: RunSeen, fetched: dict[str, Done]) -> list[str]:
    rows = []
    for mode, what in PAGE_MODES.items():
        url = f"https://www.interfax.ru/{mode}/1"
        reason = seen.failures.get(url)
        in_catalog = seen.catalog[url]
        one = fetched[mode]
        fetch_reason = next((ln.split(": ", 2)[-1] for ln in one.err.splitlines() if ln.startswith("failed: ")), "")
        ok = _held(mode, reason, in_catalog, one, fetch_reason, seen)
        records = seen.records.get(url, [])
        if mode == "otherhost":  # the redirect's target is archived under its own URL
            records = records + seen.records.get("https://news.example.org/ok/1", [])
        right = faultserver.PARAGRAPHS[0] in seen.texts.get(url, "")
        written = "text written, " + ("reads right" if right else "NOT as served")
        catalog = written if in_catalog is None else "same" if in_catalog == reason else cell(in_catalog)
        fetch = f"{one.code}: {cell(fetch_reason or 'article written')}"
        said = cell(reason or "— (article extracted)")
        times = seen.hit_times.get(f"/{mode}/1", [])
        waited = f" ({times[1] - times[0]:.1f} s apart)" if mode.startswith("rate") and len(times) == 2 else ""
        warc = cell(shown(records)) + waited
        cells = (cell(what), f"`/{mode}/1`", said, catalog, warc, fetch, str(one.peak_mb), _mark(ok))
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _held(mode: str, reason: str | None, in_catalog: str | None, one: Done, fetch_reason: str, seen: RunSeen) -> bool:
    expected = EXPECTED.get(mode)
    if expected is None:
        text = seen.texts.get(f"https://www.interfax.ru/{mode}/1", "")
        good = reason is None and in_catalog is None and one.code == 0 and faultserver.PARAGRAPHS[0] in text
        if mode in ("ratesec", "ratedate"):  # the second request came after the wait asked for
            times = seen.hit_times.get(f"/{mode}/1", [])
            good = good and len(times) == 2 and times[1] - times[0] >= 1.0
        return good
    return bool(
        reason and re.search(expected, reason) and in_catalog == reason and one.code == 1
        and re.search(expected, fetch_reason)
    )  # fmt: skip


FEED_WHAT = {
    "entitybomb": "feed with an XML entity-expansion bomb (billion laughs)",
    "xxe": "feed with external entities (file:///etc/passwd, an http URL, an external DTD)",
    "schemes": "feed linking to file://, ftp://, javascript:, data: and private, loopback, link-local addresses",
}


def discovery_rows(seen: RunSeen) -> list[str]:
    extracted = {u for u, why in seen.catalog.items() if why is None}
    written = b"".join(p.read_bytes() for p in (seen.out / "text").rglob("*") if p.is_file())
    rows = []
    for mode, (path, good) in FEED_FAULTS.items():
        feed_failed = [r for u, r in seen.failures.items() if u.endswith(path)]
        notes = [f"feed read: {'no' if feed_failed else 'yes'}",
                 f"its good link extracted: {'yes' if good in extracted else 'no'}"]  # fmt: skip
        ok = not feed_failed and good in extracted
        if mode == "entitybomb":
            notes.append(f"no entity expanded in any text; peak memory of the whole run {seen.done.peak_mb} MB")
            ok = ok and b"lollol" not in written
        elif mode == "xxe":
            probes = [h for h in seen.hits if h.startswith("/xxe/")]
            leaked = b"root:x:0:0" in written
            notes.append(f"requests for the external entities: {len(probes)}")
            notes.append(f"/etc/passwd in any text: {'yes' if leaked else 'no'}")
            ok = ok and not probes and not leaked
        else:
            hostile = [h for h in seen.hits if h.startswith("/world/")]
            notes.append(f"requests for its 10 hostile links: {len(hostile)}")
            ok = ok and not hostile
        rows.append(f"| {FEED_WHAT[mode]} | `http://kremlin.ru{path}` | {cell('; '.join(notes))} | {_mark(ok)} |")
    sitemaps = {h: seen.hits.count(h) for h in seen.hits if h.startswith(("/sitemap/", "/SEO_"))}
    good = "https://www.interfax.ru/ok/2001"
    ok = bool(sitemaps) and all(n == 1 for n in sitemaps.values()) and good in seen.records
    counts = ", ".join(f"`{p}` ×{n}" for p, n in sorted(sitemaps.items()))
    found = "yes" if good in seen.records else "no"
    rows.append(
        "| sitemap index that lists itself (and one that lists it back) "
        f"| `https://www.interfax.ru/SEO_SiteMapLastChanges.xml` "
        f"| requests: {counts}; the page its urlset lists was fetched: {found} | {_mark(ok)} |"
    )
    return rows


# --- 2. scraper fetch, one fault at a time ----------------------------------------------------


def fetch_each(work: Path) -> dict[str, Done]:
    folder = work / "fetch"
    folder.mkdir()
    done = {}
    with faultserver.serve(Faults(**FAULTS)) as server:
        (folder / "fetch.toml").write_text(run_config(server.origin, **NETWORK))
        for mode in PAGE_MODES:
            url = f"https://www.interfax.ru/{mode}/1"
            done[mode] = scraper(folder, "fetch", "--config", "fetch.toml", "--out", mode, url)
    return done


# --- 3. bad input, verify, crashes ------------------------------------------------------------


def bad_input_rows(work: Path, sound: Path) -> list[str]:
    folder = work / "bad"
    folder.mkdir()
    (folder / "unknown.toml").write_text("[network]\nspeed = 3\n")
    (folder / "junk.warc.gz").write_bytes(b"this is not a WARC file")
    source = next((sound / "warc").glob("*.warc.gz"))
    (folder / "torn.warc.gz").write_bytes(source.read_bytes()[:-150])
    (folder / "page.html").write_bytes(faultserver.PDF)
    (folder / "noise.html").write_bytes(random.Random(1).randbytes(100_000))
    cases: list[tuple[str, list[str], int]] = [
        ("a URL that is not http(s)", ["fetch", "ftp://www.interfax.ru/world/1"], 2),
        ("a URL with a javascript: scheme", ["fetch", "javascript:alert(1)"], 2),
        ("an unknown config key", ["run", "--config", "unknown.toml"], 2),
        ("a time budget that is no duration", ["run", "--time-budget", "soon"], 2),
        ("verify on a path that does not exist", ["verify", "nowhere"], 2),
        ("verify on a file that is not a WARC", ["verify", "junk.warc.gz"], 1),
        ("verify on a WARC with a torn last record", ["verify", "torn.warc.gz"], 1),
        ("parse on a PDF saved as .html", ["parse", "--url", "https://www.interfax.ru/world/1", "page.html"], 1),
        ("parse on 100 kB of random bytes", ["parse", "--url", "https://www.interfax.ru/world/1", "noise.html"], 1),
    ]
    rows = []
    for what, args, expected in cases:
        done = scraper(folder, *args)
        lines = [ln for ln in (done.out + done.err).splitlines() if ln.strip()]
        said = (done.out.strip().splitlines() or lines or [""])[0]
        ok = done.code == expected and len(lines) <= 2 and "Traceback" not in done.err
        rows.append(f"| {what} | `scraper {' '.join(args)}` | {done.code} | {cell(said)} | {_mark(ok)} |")
    return rows


def verify_rows(work: Path, run_out: Path) -> list[str]:
    done = scraper(run_out.parent, "verify", run_out.name)
    said = (done.err.strip().splitlines() or [""])[-1]
    rows = [f"| `scraper verify` on what the run wrote | {done.code} | {cell(said)} | {_mark(done.code == 0)} |"]
    fetches = [d for d in sorted((work / "fetch").iterdir()) if d.is_dir()]
    results = [(d.name, scraper(d.parent, "verify", d.name)) for d in fetches]
    bad = [name for name, one in results if one.code != 0 or one.out.strip()]
    worst = max((one.code for _, one in results), default=0)
    clean = f"{len(results) - len(bad)} clean" + (f", not clean: {', '.join(bad)}" if bad else "")
    what = f"`scraper verify` on each of the {len(results)} `scraper fetch` archives"
    rows.append(f"| {what} | {worst} | {clean} | {_mark(not bad)} |")
    return rows


def kill_rows(work: Path, count: int, seed: int) -> list[str]:
    """SIGKILL ``count`` runs at random moments on one archive (the feed grows each round), then a
    clean run: what was torn, what was set aside, what is held."""
    folder = work / "kill"
    folder.mkdir()
    rng = random.Random(seed)
    faults = Faults(aliases={"/rss.asp": "/feed/many?n=6"})
    articles, torn = 6, set()
    with faultserver.serve(faults) as server:
        (folder / "run.toml").write_text(run_config(server.origin, '["interfax"]', False, 0.5, retries=0, timeout=5))
        for _ in range(count):
            articles += 4
            faults.aliases["/rss.asp"] = f"/feed/many?n={articles}"
            child = Started(folder, "run", "--config", "run.toml", "-q")
            time.sleep(rng.uniform(1.0, 4.5))
            child.send(signal.SIGKILL)
            child.finish()
            torn |= {w.name for w in (folder / "out" / "warc").glob("*.warc.gz") if _torn(w)}
        final = scraper(folder, "run", "--config", "run.toml", "-q", "--report", "report.json")
    out = folder / "out"
    texts = list((out / "text").rglob("*.txt"))
    unique = {t.name.split("_", 1)[1] for t in texts}
    set_aside = list((out / "warc").glob("*.torn"))
    check = scraper(folder, "verify", "out")
    ok = final.code == 0 and len(texts) == len(unique) == articles and check.code == 0 and len(set_aside) == len(torn)
    why = "" if final.code == 0 else f" ({cell((final.err.strip().splitlines() or [''])[-1])})"
    return [
        f"| SIGKILL at {count} random moments (seed {seed}) of runs on one archive, the feed growing by 4 "
        f"articles a round, then one run left to finish | WARC files with a torn last record after a kill: "
        f"{len(torn)}; set aside as `.torn` by the next run: {len(set_aside)}; the last run: exit {final.code}{why}; "
        f"texts: {len(texts)} for {articles} articles, {len(unique)} distinct; `scraper verify`: exit {check.code} "
        f"| {_mark(ok)} |",
        _repair_row(folder, out, texts),
    ]


def _torn(warc: Path) -> bool:
    return any(isinstance(item, ReadProblem) for item in check_records(warc))


def _repair_row(folder: Path, out: Path, texts: list[Path]) -> str:
    """A torn tail made by hand the way a kill leaves it (half a record, the file marked open): the
    next run must cut it off, keep it beside the file, say so, and leave the archive sound."""
    warc = max((out / "warc").glob("*.warc.gz"), key=lambda w: w.stat().st_size)
    data = warc.read_bytes()
    last = [r.offset for r in check_records(warc) if not isinstance(r, ReadProblem)][-1]
    torn = data[last : last + (len(data) - last) // 2]  # a record's first half, as a kill leaves it
    warc.write_bytes(data + torn)
    warc.with_name(warc.name + ".open").touch()
    with faultserver.serve(Faults(aliases={"/rss.asp": "/feed/empty"})) as server:
        (folder / "run.toml").write_text(run_config(server.origin, '["interfax"]', False, retries=0))
        done = scraper(folder, "run", "--config", "run.toml", "--report", "report.json")
    report = json.loads((folder / "report.json").read_text()) if (folder / "report.json").exists() else {}
    said = [n for n in report.get("notes", []) if "repaired" in n] + [
        ln for ln in done.err.splitlines() if "repaired" in ln or "torn" in ln
    ]  # fmt: skip
    now = warc.read_bytes()
    # cut back to ``data``; a run may go on writing after it (verify then reads every record whole)
    kept = warc.with_name(warc.name + ".torn")
    restored = now.startswith(data) and kept.exists() and kept.read_bytes() == torn
    went_on = f" (then {len(now) - len(data):,} bytes of this run's records)" if len(now) > len(data) else ""
    check = scraper(folder, "verify", "out")
    ok = restored and bool(said) and check.code == 0
    return (
        f"| a WARC left open with half a record at its end (as a kill leaves it), then `scraper run` "
        f"| file cut back to its last complete record: {'yes' if restored else 'no'}{went_on}; the cut bytes kept as "
        f"`.torn`: {'yes' if kept.exists() and kept.read_bytes() == torn else 'no'}; the run said so: "
        f"{cell(said[0]) if said else 'no (pending: the run report does not carry repairs yet)'}; "
        f"`scraper verify`: exit {check.code} | {_mark(ok)} |"
    )


def property_rows() -> list[str]:
    """Pages the property test (tests/test_process_property.py) found or keeps trying: each through
    process(), observed here."""
    from scraper import (
        Article,
        Capture,
        process,  # the pure core, called as the test calls it
    )

    cases = [
        ("an unclosed `<title>` in the body (found by the property test)",
         b"<html><head><title>t</title></head><body><title></body></html>"),
        ("100 kB of random bytes", random.Random(2).randbytes(100_000)),
        ("a page of nothing but NUL bytes", b"\0" * 10_000),
        ("tags never closed, 10,000 deep", b"<html><body>" + b"<p><b><i>" * 3_333 + b"text"),
    ]  # fmt: skip
    rows = []
    for what, body in cases:
        url = "https://www.interfax.ru/world/1"
        capture = Capture(url, datetime(2024, 5, 1, tzinfo=UTC), 200, (("Content-Type", "text/html"),), body)
        result = process(capture, site_for(url))
        markup = isinstance(result, Article) and re.search(r"</?[A-Za-z][A-Za-z0-9]*[\s/>]", result.text)
        said = f"an article: {result.text[:30]!r}" if isinstance(result, Article) else f"no article: {result.reason}"
        note = " (pending: scraper/extract/clean.py to drop lines of nothing but tags)" if markup else ""
        rows.append(f"| {what} | {cell(said)}{note} | {_mark(not markup)} |")
    return rows


def _mark(ok: bool) -> str:
    return "✅" if ok else "❌"


# --- the document ------------------------------------------------------------------------------


def write_doc(path: Path, sections: dict[str, list[str]], seen: RunSeen, started: datetime, took: float) -> None:
    heads = {
        "pages": "| fault | path | `scraper run`: reason in the report | in the catalog | WARC responses | "
        "`scraper fetch` alone: exit, reason | its peak memory, MB | held |\n|---|---|---|---|---|---|---|---|",
        "discovery": "| fault | where | observed | held |\n|---|---|---|---|",
        "bad": "| bad input | command | exit | what it said | held |\n|---|---|---|---|---|",
        "verify": "| check | exit | summary | held |\n|---|---|---|---|",
        "kills": "| crash | observed | held |\n|---|---|---|",
        "property": "| page | what `process()` returned | held |\n|---|---|---|",
    }
    failed = sum(row.endswith("❌ |") for rows in sections.values() for row in rows)
    pending = sum(row.endswith("❌ |") and "pending" in row for rows in sections.values() for row in rows)
    total = sum(len(rows) for rows in sections.values())
    counts = seen.report["sites"]["interfax"]
    settings = ", ".join(f"{k} = {v}" for k, v in NETWORK.items())
    text = f"""# Reliability: what was tried and what the tool did

Generated by `python bench/faults.py` on {started:%Y-%m-%d %H:%M} UTC (scraper {__version__}, Python \
{sys.version.split()[0]}, {took:.0f} s); every cell below is observed, none written by hand.

The fault server is `tests/faultserver.py` on 127.0.0.1, reached through `connect_to`, so the URLs
stay the sites' own; `tests/test_faults.py`, `tests/test_kill.py` and
`tests/test_process_property.py` assert the same outcomes. Settings: {settings} (seconds),
max_body_bytes 20000000. The stall lasts {FAULTS["stall_seconds"]:.0f} s, the drip
{FAULTS["drip_seconds"]} s; the gzip bomb inflates to {FAULTS["bomb_mib"] // 1024} GiB.

**{total - failed} of {total} rows held**{f"; {pending} not yet, pending a change named in its row" if pending else ""}.
{faults_more.peak_line()}

## Pages: one `scraper run` through all of them, and `scraper fetch` on each alone

The run went on past every fault: exit {seen.done.code} (1: some URLs failed), {seen.done.seconds:.0f} s,
peak memory {seen.done.peak_mb} MB; Interfax: discovered {counts["discovered"]}, fetched {counts["fetched"]},
extracted {counts["extracted"]}, failed {counts["failed"]}. Each failure is one line in the run report
and the same line is the article's `last_failure` in the catalog ("same"). "cut:" is the record's
`WARC-Truncated`; every response received is archived, retries included. "Reads right": the text
file holds the page's first paragraph as the server meant it, whatever the charset label said.

{heads["pages"]}
{chr(10).join(sections["pages"])}

## Feeds and sitemaps (same run)

XML is read without a DOCTYPE (`scraper/schedule/discover.py` cuts prolog declarations before any parser sees
the document), so no entity is defined, expanded or loaded. Links are kept only when http(s) and
the site's own; a redirect or a name that leads to a loopback, private or link-local address is
refused before connecting (`blocked: ...` above), unless it is a `connect_to` target.

{heads["discovery"]}
{chr(10).join(sections["discovery"])}

## Bad input

{heads["bad"]}
{chr(10).join(sections["bad"])}

## Bytes no page should hold, through `process()`

`tests/test_process_property.py` feeds `process()` random bytes, generated pages and fixture pages
with bytes flipped, cut, doubled and spliced: it must return an article or a reason, and an
article's text must hold no markup.

{heads["property"]}
{chr(10).join(sections["property"])}

## The archives written above

{heads["verify"]}
{chr(10).join(sections["verify"])}

## Crashes

{heads["kills"]}
{chr(10).join(sections["kills"])}

{faults_more.doc(sections)}"""
    path.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "reliability.md")
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--workdir", type=Path, default=None, help="keep everything written here")
    args = parser.parse_args()
    started, clock = datetime.now(UTC), time.monotonic()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="faults-"))
    work.mkdir(parents=True, exist_ok=True)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    try:
        step: Callable[[str], None] = lambda s: print(f"[{time.monotonic() - clock:5.0f} s] {s}", flush=True)  # noqa: E731
        step("scheduled run through every fault")
        seen = scheduled_run(work)
        step("scraper fetch, one fault at a time")
        fetched = fetch_each(work)
        step("bad input, verify, pages the property test tries")
        sections = {
            "pages": page_rows(seen, fetched),
            "discovery": discovery_rows(seen),
            "bad": bad_input_rows(work, seen.out),
            "property": property_rows(),
            "verify": verify_rows(work, seen.out),
        }
        step(f"{args.kills} kills")
        sections["kills"] = kill_rows(work, args.kills, seed)
        sections |= faults_more.sections(work, work / "kill", step)
        sections["memory"] = faults_more.memory_rows()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_doc(args.out, sections, seen, started, time.monotonic() - clock)
        failed = [row for rows in sections.values() for row in rows if row.endswith("❌ |")]
        step(f"wrote {args.out}: {sum(map(len, sections.values()))} rows, {len(failed)} not held")
        for row in failed:
            print("NOT HELD:", row)
        return 1 if failed else 0
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
