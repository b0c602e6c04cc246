"""The quality watch: check (per-site verdicts over the archive), snapshot (a page as a test fixture)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from scraper.archive.catalog import Catalog
from scraper.archive.layout import Archive
from scraper.cli.common import (
    ConfigOpt,
    ConnectToOpt,
    OutOpt,
    config_used,
    err,
    errors,
    out,
    said_left_out,
    stoppable,
    with_connect_to,
)
from scraper.config import load_settings, parse_since, unknown_site
from scraper.errors import SnapshotError, UsageError
from scraper.sites import GENERIC, Site, by_name, site_for
from scraper.urls import check_http
from scraper.watch.quality import CheckReport, check_run, pace
from scraper.watch.sentinel import snapshot_command
from scraper.watch.verdict import OK, SiteCheck, Thresholds

_SHOWN = 10  # flagged articles listed per site; --json lists them all
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def register(app: typer.Typer) -> None:
    for command in (check, snapshot):
        app.command()(command)


def check(
    site: Annotated[list[str] | None, typer.Option("--site", help="Only this site (repeatable).")] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="From this date (2026-11-22, UTC), time (2026-11-22T06:00; 06:00 is today's, or yesterday's if still"
            " to come) or this long ago (36h).",
        ),
    ] = None,
    history_days: Annotated[
        int, typer.Option("--history-days", help="Days before --since the figures compare with.")
    ] = 14,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON.")] = False,
    out_dir: OutOpt = None,
    config: ConfigOpt = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Nothing when every site is ok; else only the sites that are not.")
    ] = False,
) -> None:
    """Per site: body container found, length against its history (headline-only items aside), agreement
    with independent copies, repeated lines, markup new to the adapter inside the body, silence against its
    usual pace; a verdict (ok, degraded, broken, or no data: never an article archived). Exits 1 unless
    every site is ok: "no data", a fresh archive's, is no all-clear."""
    bad: list[str] = []  # catalog rows with a value of the wrong kind: left out of the check, said, exit 1
    with stoppable(lambda: "the check was not finished and not stored; nothing was changed"):
        settings = load_settings(config, out=out_dir)
        now = datetime.now(UTC)
        start = parse_since(since, now) if since else None
        names = [_known(name).name for name in site] if site else None
        if history_days < 1:
            raise UsageError(f"--history-days: {history_days}: give 1 or more")
        archive = Archive.at(settings.out)
        if not archive.has_catalog():
            raise UsageError(f"{settings.out}: no catalog here: no scheduled run has written to it")
        # on a read-only archive (a mounted backup) the check is made all the same, and not stored
        with Catalog(archive.catalog, read_only=archive.read_only() is not None, on_bad_row=bad.append) as catalog:
            thresholds = Thresholds(history_days=history_days)
            # absolute paths: the snapshot commands printed work from any folder, as cron mails them
            report = check_run(catalog, settings.out.resolve(), now, since=start, sites=names, thresholds=thresholds,
                               max_body=settings.max_body_bytes, config=config_used(config))  # fmt: skip
    for line in dict.fromkeys(line for s in report.sites for line in s.missing_warcs):  # said even with --quiet
        err.print(f"warning: {line}", markup=False)
    if as_json:
        out.print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2), markup=False)
    elif not (quiet and not report.failed):  # --quiet (for cron) prints nothing when every site is ok
        _print(report, quiet)
    said_left_out(bad)
    raise typer.Exit(1 if report.failed or bad else 0)


def _known(name: str) -> Site:
    try:
        return by_name(name)
    except KeyError:
        raise unknown_site(name, "--site") from None


def _print(report: CheckReport, quiet: bool) -> None:
    if not report.sites:
        out.print("no data: the catalog holds no article and no run of any site yet, so nothing was checked "
                  "(exit 1: a fresh archive is not a healthy one)", markup=False)  # fmt: skip
        return
    out.print(f"articles archived since {report.since.isoformat(timespec='minutes')}", markup=False)
    out.print(
        f"{'site':10} {'verdict':9} {'articles':>8} {'fallback':>8} {'length (usual)':>15} "
        f"{'paragraphs (usual)':>18} {'outliers':>8} {'copies':>6} {'truncated':>9} {'leaked':>6} {'repeated':>8} "
        f"{'headlines':>9} {'new inside':>10}",
        markup=False,
    )
    for s in report.sites:
        out.print(
            f"{s.site:10} {s.verdict:9} {s.articles:>8} {s.fallback:>8} "
            f"{_pair(s.median_chars, s.usual_chars):>15} {_pair(s.median_paragraphs, s.usual_paragraphs):>18} "
            f"{s.outliers:>8} {s.compared:>6} {s.truncated:>9} {s.leaked:>6} {len(s.repeated):>8} "
            f"{s.headline_only:>9} {len(s.new_inside):>10}",
            markup=False,
        )
    for s in report.sites:
        if not (quiet and s.verdict == OK):
            _details(s, report.snapshot_options)


def _pair(value: int | None, usual: int | None) -> str:
    return f"{'-' if value is None else value} ({'-' if usual is None else usual})"


def _details(s: SiteCheck, options: tuple[str, ...]) -> None:
    if s.verdict == OK and not (s.flagged or s.unreadable or s.new_inside) and s.silent_since is None:
        return
    out.print(f"\n{s.site}: {s.verdict}", markup=False)
    for reason in s.reasons:
        out.print(f"  - {reason}", markup=False)
    if s.verdict == OK and s.silent_since is not None:  # an empty window that its history does not condemn
        why = (
            "too little history to judge that"
            if s.usual_per_day is None
            else f"not yet unusual for it (usually about {pace(s.usual_per_day)})"
        )
        out.print(f"  - no articles since {s.silent_since:%Y-%m-%dT%H:%MZ}; {why}", markup=False)
    if s.unreadable:
        out.print(f"  - {s.unreadable} articles in the catalog have no readable text or JSON file", markup=False)
    for n in s.new_inside:
        if not n.degraded:  # a degrading one is a reason already
            out.print(f"  - note: {n.line}", markup=False)
    if s.headline_only:
        items = "item" if s.headline_only == 1 else "items"
        out.print(
            f"  - {s.headline_only} headline-only {items} (a title, no body on purpose): not measured", markup=False
        )
    for r in s.repeated:
        out.print(f"  repeated on {r.day.isoformat()} in {r.count} of {r.articles} articles: {r.line}", markup=False)
    for flagged in s.flagged[:_SHOWN]:
        command = snapshot_command(flagged.url, s.site, options)
        out.print(f"  {flagged.url}: {'; '.join(flagged.reasons)}\n    {command}", markup=False)
    if len(s.flagged) > _SHOWN:
        out.print(f"  ... and {len(s.flagged) - _SHOWN} more flagged articles (--json lists all)", markup=False)


def snapshot(
    url: Annotated[str, typer.Argument(help="The page's URL.", show_default=False)],
    site: Annotated[str | None, typer.Option("--site", help="The site the page belongs to (a check).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Fixture file stem (default: site-date-hash).")] = None,
    fixtures: Annotated[
        Path | None, typer.Option("--fixtures", help="Fixture folder (default: tests/fixtures of the checkout run in).")
    ] = None,
    connect_to: ConnectToOpt = None,
    out_dir: OutOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Save a page (from the archive when the catalog has it, else fetched) as a test fixture:
    <fixtures>/<site>/<name>.warc.gz and the expected JSON of today's adapter, to review and commit."""
    from scraper.watch.snapshot import take_snapshot  # httpx: imported when the command runs

    with errors():
        settings = with_connect_to(load_settings(config, out=out_dir), connect_to)
        Archive.at(settings.out)  # refuses an --out that is no folder
        target = check_http(url)
        adapter = site_for(target)
        if site is not None and _known(site) is not adapter:
            raise UsageError(f"{target}: the page belongs to {adapter.name}, not {site}")
        if name is not None and not _NAME.fullmatch(name):
            raise UsageError(f"--name: {name!r}: use letters, digits, '.', '_' and '-'")
        try:
            shot = take_snapshot(target, adapter, settings, fixtures or _checkout_fixtures(), name)
        except SnapshotError as exc:
            err.print(f"failed: {exc}", markup=False)
            raise typer.Exit(1) from None
    out.print(f"{shot.warc}\n{shot.expected}", markup=False)
    err.print(f"from {shot.source}; review the expected JSON by hand before committing it", markup=False)
    if shot.article.fallback:
        err.print("note: the adapter's body container is not on this page: the fixture test fails until it is")
    elif adapter is GENERIC:
        err.print("note: no adapter serves this host: the fixture tests the generic extractor", markup=False)


def _checkout_fixtures() -> Path:
    """The fixture folder of the checkout of this project that the command runs in (here or above):
    where the adapter test reads fixtures. Anywhere else, a default would leave a tests/ folder in
    whatever folder cron or a shell happened to be in."""
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "scraper" / "__init__.py").is_file():
            return folder / "tests" / "fixtures"
    raise UsageError(f"{here}: not inside a checkout of scraper: give the folder to write the fixture to (--fixtures)")
