"""Command line: parse options, call the pipeline, print, set the exit code. Nothing else.

Exit codes: 0 all went well, 1 some pages or records failed, 2 bad usage, config or output folder.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from scraper import __version__, pipeline
from scraper.catalog import Catalog
from scraper.config import Settings, load_settings, parse_connect_to, parse_duration
from scraper.errors import ScraperError
from scraper.models import Article, Outcome, Rejected, RunReport
from scraper.run import Budget, RunResult, scheduled_run
from scraper.sites import GENERIC, SITES
from scraper.urls import check_http

app = typer.Typer(
    help="Fetch news articles into WARC files and write their clean text beside them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="config.toml to read (default: ./config.toml).")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: archives/).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or per-page lines.")]


def _version(value: bool) -> None:
    if value:
        out.print(f"scraper {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Fetch news articles into WARC files and write their clean text beside them."""


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except ScraperError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None


@contextmanager
def _progress(total: int | None, label: str, quiet: bool) -> Iterator[Progress]:
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=quiet) as bar:
        bar.add_task(label, total=total)
        yield bar


def _step(bar: Progress, quiet: bool):  # type: ignore[no-untyped-def]
    def on_step(outcome: Outcome) -> None:
        bar.advance(bar.task_ids[0])
        if not outcome.ok and not quiet:
            bar.console.print(f"failed: {outcome.url}: {outcome.reason}", markup=False)

    return on_step


@app.command()
def fetch(
    urls: Annotated[list[str] | None, typer.Argument(help="Article URLs to fetch.", show_default=False)] = None,
    from_file: Annotated[Path | None, typer.Option("--from-file", "-f", help="File with one URL a line.")] = None,
    connect_to: Annotated[
        list[str] | None,
        typer.Option("--connect-to", help="ORIGIN=URL: send requests for ORIGIN to URL, keep the URL."),
    ] = None,
    user_agent: Annotated[str | None, typer.Option("--user-agent", help="User-Agent header.")] = None,
    max_body_bytes: Annotated[int | None, typer.Option("--max-body-bytes", help="Cut bodies past this.")] = None,
    retries: Annotated[int | None, typer.Option("--retries", help="Retries on errors, 429 and 5xx.")] = None,
    out_dir: OutOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Fetch pages into one new WARC file and write NNN_<hash>.txt/.json for each article."""
    with _errors():
        settings = load_settings(
            config, out=out_dir, user_agent=user_agent, max_body_bytes=max_body_bytes, retries=retries
        )
        settings = _with_connect_to(settings, connect_to)
        targets = [check_http(u) for u in _read_urls(urls or [], from_file)]
        if not targets:
            raise typer.BadParameter("give at least one URL, or --from-file")
        with _progress(len(targets), "fetching", quiet) as bar:
            result = pipeline.fetch_batch(targets, settings, _step(bar, quiet))
    _summary("fetched", result.report)
    if not quiet:
        err.print(f"WARC: {result.warc}\ntexts: {result.texts}", markup=False)
    raise typer.Exit(1 if result.report.failed else 0)


def _with_connect_to(settings: Settings, given: list[str] | None) -> Settings:
    """``--connect-to`` pairs are added to the config's, and win for the same origin."""
    if not given:
        return settings
    extra = dict(parse_connect_to(given, "--connect-to"))
    return replace(settings, connect_to=tuple((dict(settings.connect_to) | extra).items()))


def _read_urls(urls: list[str], from_file: Path | None) -> list[str]:
    found = list(urls)
    if from_file is not None:
        try:
            lines = from_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"{from_file}: cannot read: {exc}") from None
        found += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return found


@app.command()
def reclean(
    paths: Annotated[list[Path], typer.Argument(help="WARC files, or folders searched for them.")],
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Worker processes.")] = None,
    out_dir: OutOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Re-extract every response record with today's adapters and rewrite the text files. No network."""
    with _errors():
        settings = load_settings(config, out=out_dir, jobs=jobs)
        with _progress(None, "re-cleaning", quiet) as bar:
            report = pipeline.reclean(paths, settings, _step(bar, quiet))
    _summary("re-cleaned", report)
    raise typer.Exit(1 if report.failed else 0)


def _summary(verb: str, report: RunReport) -> None:
    done = [o for o in report.succeeded if not o.skipped]
    changed = sum(1 for o in done if o.changed)
    skipped = sum(1 for o in report.outcomes if o.skipped)
    err.print(
        f"{verb} {len(report.outcomes)}: {len(done)} articles ({changed} changed, {len(done) - changed} unchanged), "
        f"{len(report.failed)} failed, {skipped} skipped",
        markup=False,
    )


@app.command()
def parse(
    path: Annotated[Path, typer.Argument(help="A saved HTML page or a WARC file.")],
    url: Annotated[str | None, typer.Option("--url", help="The page's URL (default: its canonical link).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per article, one a line.")] = False,
    captured: Annotated[
        datetime | None, typer.Option("--captured", help="Capture date of an HTML file (default: its mtime).")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Extract the article(s) from a saved page, as text or JSON. Writes nothing."""
    failed = 0
    with _errors():
        settings = load_settings(config)
        when = captured.replace(tzinfo=captured.tzinfo or UTC) if captured else None
        for item in pipeline.parse_path(path, check_http(url) if url else None, when, settings.max_body_bytes):
            if isinstance(item, Article):
                out.print(json.dumps(article_json(item), ensure_ascii=False) if as_json else _show(item), markup=False)
                continue
            failed += 1
            where = item.url if isinstance(item, Rejected) else f"{item.path} at offset {item.offset}"
            err.print(f"no article: {where}: {item.reason}", markup=False)
    raise typer.Exit(1 if failed else 0)


def article_json(article: Article) -> dict[str, object]:
    return {
        "url": article.url,
        "site": article.site,
        "title": article.title,
        "published": article.published.isoformat() if article.published else None,
        "authors": list(article.authors),
        "language": article.language,
        "tags": list(article.tags),
        "lead": article.lead,
        "adapter": article.adapter,
        "adapter_version": article.adapter_version,
        "adapter_fallback": article.fallback,
        "text": article.text,
    }


def _show(article: Article) -> str:
    when = article.published.isoformat() if article.published else "no date"
    flag = "  [fallback: body container not found]" if article.fallback else ""
    head = f"# {article.title}\n{article.url}  ({article.site}/{article.adapter_version}, {when}){flag}"
    return f"{head}\n\n{article.text}\n"


@app.command()
def run(
    site: Annotated[list[str] | None, typer.Option("--site", help="Only this site (repeatable).")] = None,
    max_articles: Annotated[int | None, typer.Option("--max-articles", help="Fetch at most N articles.")] = None,
    time_budget: Annotated[str | None, typer.Option("--time-budget", help="Stop after e.g. 10m, 90s, 1h.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the run's figures as JSON.")] = None,
    connect_to: Annotated[
        list[str] | None,
        typer.Option("--connect-to", help="ORIGIN=URL: send requests for ORIGIN to URL, keep the URL."),
    ] = None,
    out_dir: OutOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Scheduled run: discover new articles in the sites' feeds and sitemaps, fetch, archive, extract."""
    with _errors():
        settings = _with_connect_to(load_settings(config, out=out_dir, sites=site or None), connect_to)
        chosen = [s for s in SITES if not settings.sites or s.name in settings.sites]
        seconds = parse_duration(time_budget, "--time-budget") if time_budget else None
        stop = threading.Event()
        with _stop_on_signals(stop), _progress(None, "articles", quiet) as bar:
            budget = Budget(max_articles, seconds, stop)
            result = scheduled_run(settings, chosen, budget, lambda _: bar.advance(bar.task_ids[0]))
    for name, figures in result.sites.items():
        for line in figures.failure_lines():
            err.print(f"failed: {name}: {line}", markup=False)
        if not quiet:  # --quiet (for cron) prints nothing when all went well
            counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in figures.counts().items())
            err.print(f"{name}: {counts}", markup=False)
    if result.interrupted:
        err.print("stopped early: the next run goes on from here", markup=False)
    if report is not None:
        _write_report(report, result)
    raise typer.Exit(1 if result.failed else 0)


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """The first Ctrl-C or SIGTERM asks the run to finish the record it is writing and stop."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _write_report(path: Path, result: RunResult) -> None:
    data = {
        "interrupted": result.interrupted,
        "sites": {
            name: {**r.counts(), "failures": [f"{url}: {reason}" for url, reason in r.failures]}
            for name, r in result.sites.items()
        },
        "warc_files": [str(p) for p in result.warc_files],
    }
    try:
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        err.print(f"error: {path}: cannot write report: {exc.strerror or exc}", markup=False)
        raise typer.Exit(2) from None


@app.command()
def status(out_dir: OutOpt = None, config: ConfigOpt = None) -> None:
    """Per site: articles held, last run, last success, failures pending."""
    with _errors():
        settings = load_settings(config, out=out_dir)
        path = settings.out / "catalog.sqlite"
        if not path.is_file():
            out.print(f"no scheduled run has written to {settings.out} yet", markup=False)
            return
        with Catalog(path) as catalog:
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


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") + "Z" if moment else "never"


@app.command()
def sites() -> None:
    """List the site adapters: hosts, layout versions and feeds."""
    for site in (*SITES, GENERIC):
        layouts = ", ".join(
            f"{lay.version} (until {lay.valid_until:%Y-%m-%d})" if lay.valid_until else f"{lay.version} (current)"
            for lay in site.layouts
        )
        lines = [
            site.name,
            f"  hosts:     {', '.join(site.hosts + site.host_patterns) or 'any other'}",
            f"  layouts:   {layouts}",
            f"  language:  {', '.join([site.language or 'any', *(lang for _, lang in site.languages)])}",
            f"  time zone: {site.timezone}",
            *(f"  feed:      {feed}" for feed in site.feeds),
            *(f"  sitemap:   {sitemap}" for sitemap in site.sitemaps),
        ]
        out.print("\n".join(lines), markup=False)


def main() -> None:
    app()


__all__ = ["Settings", "app", "main"]
