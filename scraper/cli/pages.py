"""Commands on single pages and WARC files: fetch, reclean, parse."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from scraper.archive.layout import Archive
from scraper.archive.texts import article_fields
from scraper.cli.common import (
    ConfigOpt,
    ConnectToOpt,
    OutOpt,
    QuietOpt,
    err,
    errors,
    one_line,
    out,
    progress,
    step,
    stop_on_signals,
    stoppable,
    with_connect_to,
)
from scraper.config import load_settings
from scraper.errors import UsageError
from scraper.models import Article, Outcome, Rejected, RunReport, Skipped
from scraper.pipeline.parse import parse_path
from scraper.pipeline.reread import archive_of, archive_warcs
from scraper.pipeline.reread import reclean as reclean_warcs
from scraper.schedule.limits import archive_lock
from scraper.urls import check_http


def register(app: typer.Typer) -> None:
    for command in (fetch, reclean, parse):
        app.command()(command)


def fetch(
    urls: Annotated[list[str] | None, typer.Argument(help="Article URLs to fetch.", show_default=False)] = None,
    from_file: Annotated[
        Path | None, typer.Option("--from-file", "-f", help="File with one URL a line (at most 100,000, 16 MiB).")
    ] = None,
    connect_to: ConnectToOpt = None,
    user_agent: Annotated[str | None, typer.Option("--user-agent", help="User-Agent header.")] = None,
    max_body_bytes: Annotated[int | None, typer.Option("--max-body-bytes", help="Cut bodies past this.")] = None,
    retries: Annotated[int | None, typer.Option("--retries", help="Retries on errors, 429 and 5xx.")] = None,
    ignore_robots: Annotated[
        bool, typer.Option("--ignore-robots", help="Fetch even what robots.txt disallows (a one-off; off by default).")
    ] = False,
    out_dir: OutOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Fetch pages politely (robots.txt, the per-host delay) into one new WARC file and write
    NNN_<hash>.txt/.json for each article."""
    from scraper.schedule.batch import fetch_batch  # httpx: for the commands that fetch only

    with errors():
        settings = load_settings(
            config, out=out_dir, user_agent=user_agent, max_body_bytes=max_body_bytes, retries=retries
        )
        settings = with_connect_to(settings, connect_to)
        targets = [check_http(u) for u in _read_urls(urls or [], from_file)]
        if not targets:
            # a Path keeps one slash of "https://": -o took a URL
            url_as_out = str(out_dir).lower().startswith(("http:/", "https:/"))
            took = " (-o/--out is the archive folder, and it took the URL)" if url_as_out else ""
            raise UsageError(f"give at least one URL, or --from-file FILE{took}")
        stop = threading.Event()
        with stop_on_signals(stop), progress(len(targets), "fetching", quiet) as bar:
            result = fetch_batch(targets, settings, step(bar), obey_robots=not ignore_robots, stop=stop)
    if not quiet:
        _summary("fetched", result.report, changes=False)
    for note in result.notes:
        err.print(note, markup=False)
    if stop.is_set():
        texts = f"; texts: {result.texts}" if result.texts else ""
        err.print(
            f"stopped: {_count(result.not_reached, 'URL')} not fetched; WARC: {result.warc or 'none'}{texts}",
            markup=False,
        )
        raise typer.Exit(130)
    if not quiet:
        for outcome in result.report.outcomes:
            if outcome.skipped:
                err.print(f"skipped: {outcome.url}: {outcome.reason}", markup=False)
        err.print(f"WARC: {result.warc or 'none written (nothing received)'}", markup=False)
        if result.texts:
            err.print(f"texts: {result.texts}", markup=False)
    raise typer.Exit(1 if result.report.failed else 0)


MAX_URLS = 100_000  # a day of every site many times over; a longer list is split
MAX_URL_FILE_BYTES = 16 << 20  # 100,000 URLs of 160 bytes: /dev/zero or a log file stops here
_MAX_LINE = 64 << 10  # bytes: no URL is this long (urls.MAX_URL), and a file of NULs stops at once


def _read_urls(urls: list[str], from_file: Path | None) -> list[str]:
    """The URLs given and those of ``from_file`` (one a line, # comments), read line by line and
    bounded, so that a FIFO or device that never ends stops with a UsageError, not at the OOM killer."""
    found = list(urls)
    if from_file is not None:
        try:
            with from_file.open("rb") as file:
                read = number = 0
                for number, line in enumerate(iter(lambda: file.readline(_MAX_LINE + 1), b""), 1):
                    read += len(line)
                    if read > MAX_URL_FILE_BYTES:
                        raise UsageError(f"{from_file}: more than {MAX_URL_FILE_BYTES} bytes: not a list of URLs")
                    if len(line) > _MAX_LINE and not line.endswith(b"\n"):
                        raise UsageError(f"{from_file}: line {number} is longer than {_MAX_LINE} bytes: not a URL")
                    text = line.decode("utf-8").removeprefix("\ufeff").strip()  # a BOM on line 1
                    if text and not text.startswith("#"):
                        found.append(text)
                    if len(found) > MAX_URLS:
                        break
        except OSError as exc:
            raise UsageError(f"{from_file}: cannot read: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise UsageError(f"{from_file}: line {number} is not UTF-8 text") from None
    if len(found) > MAX_URLS:
        raise UsageError(f"more than {MAX_URLS} URLs: split the list into several fetches")
    return found


def reclean(
    paths: Annotated[list[Path], typer.Argument(help="WARC files, or folders searched for them.")],
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Worker processes.")] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler (tcp://HOST:PORT): re-clean on its workers."),
    ] = None,
    out_dir: OutOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Re-extract every response record with today's adapters and rewrite the text files in place.
    No network. The archive is --out, else the folder that holds the WARCs' warc/ folder; WARCs
    outside it are refused, and so is a re-clean while a run holds the archive; WARC files still
    being written are skipped."""
    seen: list[Outcome] = []
    stop = threading.Event()
    with stoppable(
        lambda: f"re-cleaned {_count(len(seen), 'record')}; the others keep the texts they had (run it again)", stop
    ):
        root = out_dir or archive_of(paths)
        settings = load_settings(config, out=root, jobs=jobs)
        archive = Archive.at(settings.out)
        warcs = archive_warcs(paths, archive.root if root else None)
        archive.refuse_read_only("reclean")
        notes: list[str] = []  # files skipped as copies of others or still open: said once each, after the summary
        # the bar counts the WARC files' bytes (a total known at once), set after step() counts each record;
        # a cluster's files end in any order, all at once: there it counts records, with no total
        # a stop finishes the records under way, so that the count said and the catalog match the texts
        with (
            archive_lock(archive.root),
            stop_on_signals(stop),
            progress(None, "re-cleaning", quiet, in_bytes=not scheduler) as bar,
        ):
            report = reclean_warcs(
                warcs, settings, _counted(seen, step(bar)), scheduler, on_note=notes.append,
                on_read=lambda read, total: bar.update(bar.task_ids[0], completed=read, total=total), stop=stop,
            )  # fmt: skip
    if not quiet:
        _summary("re-cleaned", report)
        for note in notes:
            err.print(one_line(note), markup=False)
    raise typer.Exit(1 if report.failed else 0)


def _counted(seen: list[Outcome], on_step: Callable[[Outcome], None]) -> Callable[[Outcome], None]:
    def counted(outcome: Outcome) -> None:
        seen.append(outcome)
        on_step(outcome)

    return counted


def _summary(verb: str, report: RunReport, *, changes: bool = True) -> None:
    """``re-cleaned 7 records: 5 articles (1 changed, 4 unchanged), 1 failed, 1 skipped``; a fetch
    writes every text anew, so it says no changes."""
    done = [o for o in report.succeeded if not o.skipped]
    changed = sum(1 for o in done if o.changed)
    skipped = sum(1 for o in report.outcomes if o.skipped)
    articles = _count(len(done), "article") + (
        f" ({changed} changed, {len(done) - changed} unchanged)" if changes else ""
    )
    what = _count(len(report.outcomes), "record" if changes else "URL")
    err.print(
        f"{verb} {what}: {articles}, {len(report.failed)} failed, {skipped} skipped",
        markup=False,
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def parse(
    path: Annotated[Path, typer.Argument(help="A saved HTML page or a WARC file.")],
    url: Annotated[
        str | None,
        typer.Option(
            "--url", help="An HTML file's URL (default: its canonical link); a WARC's records name their own."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per article, one a line.")] = False,
    captured: Annotated[
        str | None,
        typer.Option(
            "--captured", metavar="DATE", help="Capture date of an HTML file, as 2026-11-22T06:30 (default: its mtime)."
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Extract the article(s) from a saved page, as text or JSON. Writes nothing."""
    failed = 0
    with stoppable(lambda: "parse writes nothing; the pages printed so far are whole"):
        settings = load_settings(config)
        when = _moment(captured) if captured is not None else None
        for item in parse_path(path, check_http(url) if url else None, when, settings.max_body_bytes):
            if isinstance(item, Article):
                shown = json.dumps(article_fields(item) | {"text": item.text}, ensure_ascii=False)
                out.print(shown if as_json else _show(item), markup=False)
                continue
            if isinstance(item, Skipped):
                err.print(f"skipped: {item.url}: {item.reason}", markup=False)
                continue
            failed += 1
            where = item.url if isinstance(item, Rejected) else f"{item.path} at offset {item.offset}"
            err.print(f"no article: {where}: {item.reason}", markup=False)
    raise typer.Exit(1 if failed else 0)


def _moment(value: str) -> datetime:
    """``--captured``: an ISO 8601 date or time, UTC when it names no offset."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(
            f"--captured: {value[:40]!r} is not a date (2026-11-22) or a time (2026-11-22T06:30, UTC unless it "
            "names an offset: +03:00)"
        ) from None
    return moment.replace(tzinfo=moment.tzinfo or UTC)


def _show(article: Article) -> str:
    when = article.published.isoformat() if article.published else "no date"
    flag = "  [fallback: body container not found]" if article.fallback else ""
    head = f"# {article.title}\n{article.url}  ({article.site}/{article.adapter_version}, {when}){flag}"
    return f"{head}\n\n{article.text}\n"
