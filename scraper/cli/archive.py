"""The archive in other tools: index (CDXJ), replay (pywb), export (JSONL/CSV/Parquet), pack (WACZ)."""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from scraper.archive.layout import Archive
from scraper.capture.warc import find_warcs

# the commands import their backends when they run: every command starts without the others' libraries
from scraper.cli.common import ConfigOpt, OutOpt, QuietOpt, err, one_line, progress, stoppable
from scraper.config import load_settings, parse_since
from scraper.errors import ArchiveError, UsageError


def register(app: typer.Typer) -> None:
    for command in (index, replay, export, pack):
        app.command()(command)


def index(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="WARC files, or folders searched for them (default: the archive's warc/).", show_default=False
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Rewrite indexes that are already current.")] = False,
    out_dir: OutOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Write a CDXJ index beside each WARC (<name>.warc.gz.cdxj), for pywb and other replay tools."""
    from scraper.archive import cdx

    failed = written = current = skipped = 0
    warcs: list[Path] = []

    def tally() -> str:
        # a WARC still being written is left for a later call, once the run writing it has closed it
        later = f", {skipped} skipped (still being written)" if skipped else ""
        return f"indexes: {written} written, {current} already current, {failed} failed{later}"

    def stopped() -> str:
        reached = written + current + failed + skipped
        return f"{tally()}; {len(warcs) - reached} of {len(warcs)} WARC files not reached"

    with stoppable(stopped):
        targets = paths or [Archive.at(load_settings(config, out=out_dir).out).warcs]
        warcs = find_warcs(targets)
        if not warcs:
            named = ", ".join(map(str, targets))
            raise UsageError(f"{named}: no WARC file (.warc or .warc.gz) in it: nothing to index")
        cdx.refuse_read_only(warcs)
        for done in cdx.index_all(warcs, force=force):
            if done.skipped:
                skipped += 1
                said = f"skipped: {done.warc}: {done.problem}"
            elif done.problem:
                failed += 1
                # an index written without the damaged records still serves the others
                said = f"{'indexed without damaged records' if done.written else 'failed'}: {done.problem}"
            elif done.written:
                written += 1
                said = f"indexed: {done.index} ({done.entries} records)"
            else:
                current += 1
                continue
            if not quiet or (done.problem and not done.skipped):
                err.print(one_line(said), markup=False)
        if not quiet or failed:
            err.print(tally(), markup=False)
        raise typer.Exit(1 if failed else 0)


def replay(
    port: Annotated[int, typer.Option("--port", "-p", help="Port on 127.0.0.1.")] = 8080,
    out_dir: OutOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Serve the archive with pywb on 127.0.0.1: every capture opens as it was served. Ctrl-C stops it."""
    from scraper.archive import replay as replaying

    with stoppable(lambda: "the replay did not start; nothing was served"):
        if not 0 < port < 65536:
            raise UsageError(f"--port: {port} is not a port number (1-65535)")
        with replaying.prepared(Archive.at(load_settings(config, out=out_dir).out).root) as setup:
            listener = replaying.listen(port)
            for done in setup.indexed:
                if done.problem:
                    err.print(one_line(f"not replayable: {done.warc}: {done.problem}"), markup=False)
            url = setup.url(port)
            err.print(f"replaying {url}<timestamp>/<url>  (collection page: {url})", markup=False)
            farewell = one_line(f"stopped: {url} is no longer served; the archive was only read")
            replaying.serve(setup, listener, farewell)


def _not_a_file_name(out_dir: Path | None, root: Path, formats: tuple[str, ...]) -> None:
    """``export -o rows.csv`` means the archive folder, as everywhere: said with the option meant."""
    named = out_dir is not None and out_dir.suffix.lower().removeprefix(".") in (*formats, "json")
    if named and not Archive(root).has_catalog():
        raise UsageError(f"{out_dir}: no archive there: -o/--out is the archive folder; the file to write is --output")


def export(
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="jsonl, csv or parquet (default: by --output's suffix, else jsonl)."),
    ] = None,
    site: Annotated[list[str] | None, typer.Option("--site", help="Only this site's articles (repeatable).")] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only articles first captured from this date (UTC), time, or so long ago (36h)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="File to write, or - for standard output (the default).")
    ] = None,
    out_dir: OutOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """One row per article in the catalog: every field of its JSON metadata, then its text."""
    from scraper.archive import export as exporting

    to = None if output == Path("-") else output  # "-": standard output, as in most tools
    where = to or "standard output"
    tally = exporting.Tally()
    result: exporting.Exported | None = None
    stdout = sys.stdout  # the rows' own stream: the bar redirects sys.stdout to itself while it is drawn

    def stopped() -> str:
        if result is not None:
            return f"all {_articles(result.rows)} were exported to {where} before the stop"
        if to is None:
            return f"{_articles(tally.rows)} exported to standard output, the rest not"
        return f"{to} not written (left as it was)"

    with stoppable(stopped):
        # rows printed on the terminal show how far it got: a bar there would be drawn over them
        with progress(None, "exporting", quiet or (to is None and stdout.isatty())) as bar:
            if not bar.disable:  # counting the rows costs a pass over the catalog: only for a bar
                tally.on_step = lambda done, total: bar.update(bar.task_ids[0], completed=done, total=total)
            root = Archive.at(load_settings(config, out=out_dir).out).root
            _not_a_file_name(out_dir, root, exporting.FORMATS)
            moment = parse_since(since, datetime.now(UTC)) if since else None
            result = exporting.export(
                root, fmt.lower() if fmt else exporting.format_for(to), to, stdout, site, moment, tally
            )
        for line in result.problems:
            err.print(f"failed: {line}", markup=False)
        for line in result.missing_warcs:
            err.print(f"warning: {line}", markup=False)
        if not quiet:
            failed = len(result.problems)
            err.print(
                f"exported {_articles(result.rows)} to {where} ({result.without_text} without text, {failed} failed)",
                markup=False,
            )
        raise typer.Exit(1 if result.problems or result.missing_warcs else 0)


def _articles(number: int) -> str:
    return f"{number} article{'s' * (number != 1)}"


def pack(
    wacz_path: Annotated[Path, typer.Option("--wacz", help="The package to write (OUT.wacz).", show_default=False)],
    title: Annotated[str, typer.Option("--title", help="The package's title.")] = "scraper archive",
    out_dir: OutOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Package the archive's WARCs, index and article list as one WACZ file (opens in ReplayWeb.page)."""
    from scraper.archive import wacz

    stop = threading.Event()
    result: wacz.Packed | None = None

    def stopped() -> str:
        if result is not None:
            return f"{result.path} was written whole before the stop"
        return f"no package written ({wacz_path} left as it was)"

    with stoppable(stopped, stop):
        root = Archive.at(load_settings(config, out=out_dir).out).root
        try:
            with progress(None, "packing", quiet) as bar:
                result = wacz.pack(
                    root, wacz_path, title, stop,
                    on_progress=lambda done, total: bar.update(bar.task_ids[0], completed=done, total=total),
                )  # fmt: skip
        except ArchiveError as exc:  # the package could not be made, or failed validation: a failure, not bad input
            err.print(one_line(f"failed: {exc}"), markup=False)
            raise typer.Exit(1) from None
        for line in result.problems:
            err.print(f"left out: {line}", markup=False)
        if not quiet:
            files, pages = len(result.warcs), result.pages
            said = f"packed {files} WARC file{'s' * (files != 1)}, {pages} page{'s' * (pages != 1)}: {result.path}"
            err.print(said, markup=False)
        raise typer.Exit(1 if result.problems else 0)
