"""Scheduled runs: run, status."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import typer

from scraper.archive.catalog import Catalog
from scraper.archive.layout import Archive
from scraper.cli.common import (
    ConfigOpt,
    ConnectToOpt,
    OutOpt,
    QuietOpt,
    config_used,
    err,
    errors,
    one_line,
    out,
    progress,
    said_left_out,
    stop_on_signals,
    stoppable,
    with_connect_to,
)
from scraper.config import Settings, load_settings, parse_duration
from scraper.errors import ScraperError, UsageError
from scraper.sites import SITES

if TYPE_CHECKING:
    from scraper.schedule.report import RunResult
    from scraper.schedule.run import Progressed


def register(app: typer.Typer) -> None:
    for command in (run, status, failures):
        app.command()(command)


def run(
    site: Annotated[list[str] | None, typer.Option("--site", help="Only this site (repeatable).")] = None,
    max_articles: Annotated[int | None, typer.Option("--max-articles", help="Fetch at most N articles.")] = None,
    time_budget: Annotated[str | None, typer.Option("--time-budget", help="Stop after e.g. 10m, 90s, 1h.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the run's figures as JSON.")] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", help="Worker processes extracting the texts (default 1).")
    ] = None,
    connect_to: ConnectToOpt = None,
    out_dir: OutOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Scheduled run: discover new articles in the sites' feeds and sitemaps, fetch, archive, extract."""
    # imported here: httpx, feedparser and protego are for runs only, not every command's start-up
    from scraper.schedule.limits import Budget
    from scraper.schedule.run import scheduled_run

    with errors():
        settings = with_connect_to(load_settings(config, out=out_dir, sites=site or None, run_jobs=jobs), connect_to)
        Archive.at(settings.out).refuse_read_only("run")
        if max_articles is not None and max_articles < 0:
            raise UsageError(f"--max-articles must be 0 or more, got {max_articles}")
        if report is not None:
            _check_report(report)
        chosen = [s for s in SITES if not settings.sites or s.name in settings.sites]
        seconds = parse_duration(time_budget, "--time-budget") if time_budget else None
        stop = threading.Event()
        with stop_on_signals(stop), progress(None, "articles", quiet) as bar:
            shown = RunBar(bar, max_articles)
            result = scheduled_run(settings, chosen, Budget(max_articles, seconds, stop), shown)
        if not result.interrupted:  # a stop asks for an end within seconds: the check waits for the next run
            result = _with_quality(result, settings, [s.name for s in chosen], config)
    for name, figures in result.sites.items():
        for line in figures.failure_lines():
            err.print(f"failed: {name}: {line}", markup=False)
        if not quiet:  # --quiet (for cron) prints nothing when all went well
            counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in figures.counts().items())
            err.print(f"{name}: {counts}", markup=False)
    for check in result.quality.sites if result.quality else ():
        if check.verdict != "ok":  # printed even with --quiet: cron mails it
            err.print(f"quality: {check.site} {check.verdict}: {'; '.join(check.reasons)}", markup=False)
    for note in result.notes:
        err.print(note, markup=False)
    if result.interrupted:
        err.print(f"stopped: {shown.left()}; the next run goes on from here", markup=False)
    if report is not None:
        _write_report(report, result)
    raise typer.Exit(130 if result.interrupted else 1 if result.failed else 0)


class _Bar(Protocol):
    """What ``RunBar`` uses of the progress bar."""

    @property
    def task_ids(self) -> list[Any]: ...

    def update(self, task_id: Any, *, total: float | None = None, advance: float | None = None) -> None: ...


class RunBar:
    """The run's progress: its total, the articles found due, grows as each site's discovery ends
    (up to ``--max-articles``, past which none is fetched); it moves on as each is fetched or passed
    over. Called from the site threads, several at a time. At a stop it says what was left."""

    def __init__(self, bar: _Bar, most: int | None) -> None:
        self._bar, self._most, self._due, self._done = bar, most, 0, 0
        self._lock = threading.Lock()

    def __call__(self, event: Progressed) -> None:
        with self._lock:  # the total is read, grown and set by one thread at a time
            self._due += event.due
            self._done += event.done
            total = self._due if self._most is None else min(self._due, self._most)
            self._bar.update(self._bar.task_ids[0], total=total, advance=event.done)

    def left(self) -> str:
        """The due articles not fetched, for the stop line; a site stopped in its discovery has
        found none due yet (the notes say its discovery was cut)."""
        if not self._due:
            return "no article was found due yet"
        return f"{self._due - self._done} of {self._due} due articles not fetched"


def _with_quality(result: RunResult, settings: Settings, sites: list[str], config: Path | None) -> RunResult:
    """The quality watch over the last 24 hours, after every run; a check that cannot be made is
    said in the notes, never a failed run."""
    from scraper.watch.quality import check_run

    try:
        with Catalog(Archive(settings.out).catalog) as catalog:
            quality = check_run(  # absolute paths: the snapshot commands printed work from anywhere
                catalog, settings.out.resolve(), datetime.now(UTC), sites=sites, max_body=settings.max_body_bytes,
                config=config_used(config),
            )  # fmt: skip
    except ScraperError as exc:
        return replace(result, notes=(*result.notes, f"quality check not made: {exc}"))
    except Exception as exc:  # the run's own figures and report come first, whatever the check met
        return replace(result, notes=(*result.notes, f"quality check not made: {type(exc).__name__}: {exc}"))
    return replace(result, quality=quality)


def _check_report(path: Path) -> None:
    """Refused before the run, not found out after it: a folder, a missing folder, no write access."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError(f"--report {path}: a folder, not a file")
    if path.exists() and not path.is_file():  # a FIFO would hold the finished run forever, a device eat it
        raise UsageError(f"--report {path}: not a regular file (a FIFO, device or socket): give a file to write")
    if not folder.is_dir():
        raise UsageError(f"--report {path}: no such folder {folder}")
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise UsageError(f"--report {path}: cannot be written (no write permission)")


def _write_report(path: Path, result: RunResult) -> None:
    data = {
        "interrupted": result.interrupted,
        "notes": list(result.notes),
        "sites": {
            name: {**r.counts(), "failures": [f"{url}: {reason}" for url, reason in r.failures]}
            for name, r in result.sites.items()
        },
        "warc_files": [str(p) for p in result.warc_files],
        "quality": result.quality.to_dict() if result.quality else None,
    }
    try:
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        err.print(f"error: {path}: cannot write report: {exc.strerror or exc}", markup=False)
        raise typer.Exit(2) from None


def status(out_dir: OutOpt = None, config: ConfigOpt = None) -> None:
    """Per site: articles held, last run, last success, failures pending."""
    bad: list[str] = []  # catalog rows with a value of the wrong kind: left out, said, exit 1
    with stoppable(lambda: "status not shown in full; nothing was changed"):
        settings = load_settings(config, out=out_dir)
        archive = Archive.at(settings.out)
        if not archive.root.exists():
            raise UsageError(f"{settings.out}: no such folder: no archive there")
        if not archive.has_catalog():
            raise UsageError(f"{settings.out}: no catalog here: no scheduled run has written to it")
        with Catalog(archive.catalog, read_only=True, on_bad_row=bad.append) as catalog:
            rows = catalog.status()
    out.print(
        f"{'site':10} {'articles':>8} {'pending':>7} {'gave up':>7}  last run          last success", markup=False
    )
    for row in rows:
        out.print(
            f"{row.site:10} {row.articles:>8} {row.failures_pending:>7} {row.gave_up:>7}  "
            f"{_when(row.last_run):17} {_when(row.last_success)}",
            markup=False,
        )
    said_left_out(bad)
    if bad:
        raise typer.Exit(1)


def failures(
    site: Annotated[list[str] | None, typer.Option("--site", help="Only this site (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per article, one a line.")] = False,
    out_dir: OutOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Articles that failed and have no text: URL, site, attempts, last reason, next try (or given up)."""
    bad: list[str] = []
    with stoppable(lambda: "the list is not complete; nothing was changed"):
        settings = load_settings(config, out=out_dir, sites=site or None)
        archive = Archive.at(settings.out)
        if not archive.has_catalog():
            raise UsageError(f"{settings.out}: no catalog: failures are what scheduled runs recorded")
        with Catalog(archive.catalog, read_only=True, on_bad_row=bad.append) as catalog:
            rows = catalog.failures(settings.sites if site else ())
    if not as_json and not rows:  # on stderr: stdout stays a table (of none), or JSON lines
        err.print("no failures" + (f" for {', '.join(settings.sites)}" if site else ""), markup=False)
    elif not as_json:
        out.print(f"{'site':10} {'attempts':>8}  {'next try':17}  url  reason", markup=False)
    for row in rows:
        when = "given up" if row.gave_up else _when(row.next_try) if row.next_try else "next run"
        if as_json:
            fields = asdict(row) | {"next_try": row.next_try.isoformat() if row.next_try else None}
            out.print(json.dumps(fields, ensure_ascii=False), markup=False, soft_wrap=True)
        else:
            out.print(one_line(f"{row.site:10} {row.attempts:>8}  {when:17}  {row.url}  {row.reason}"), markup=False)
    said_left_out(bad)
    if bad:
        raise typer.Exit(1)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") + "Z" if moment else "never"
