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
from scraper.cli.common import ConfigOpt, OutOpt, QuietOpt, err, one_line, stoppable
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

    failed = written = current = reached = 0
    warcs: list[Path] = []

    def stopped() -> str:
        done = f"{written} written, {current} already current, {failed} failed"
        return f"indexes: {done}; {len(warcs) - reached} of {len(warcs)} WARC files not reached"

    with stoppable(stopped):
        targets = paths or [Archive.at(load_settings(config, out=out_dir).out).warcs]
        warcs = find_warcs(targets)
        cdx.refuse_read_only(warcs)
        for done in cdx.index_all(warcs, force=force):
            reached += 1
            if done.problem and not done.skipped:
                failed += 1
                # an index written without the damaged records still serves the others
                said = "indexed without damaged records" if done.written else "failed"
                err.print(one_line(f"{said}: {done.problem}"), markup=False)
            elif done.skipped:
                if not quiet:  # indexed by a later call, once the run writing it has closed it
                    err.print(one_line(f"skipped: {done.warc}: {done.problem}"), markup=False)
            elif done.written:
                written += 1
                if not quiet:
                    err.print(f"indexed: {done.index} ({done.entries} records)", markup=False)
            else:
                current += 1
        if not quiet or failed:
            err.print(f"indexes: {written} written, {current} already current, {failed} failed", markup=False)
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
        setup = replaying.prepare(Archive.at(load_settings(config, out=out_dir).out).root)
        listener = replaying.listen(port)
        for done in setup.indexed:
            if done.problem:
                err.print(f"not replayable: {done.warc}: {done.problem}", markup=False)
        url = setup.url(port)
        err.print(f"replaying {url}<timestamp>/<url>  (collection page: {url})", markup=False)
        replaying.serve(setup, listener, one_line(f"stopped: {url} is no longer served; the archive was only read"))


def export(
    fmt: Annotated[str, typer.Option("--format", help="jsonl, csv or parquet.")] = "jsonl",
    site: Annotated[list[str] | None, typer.Option("--site", help="Only this site's articles (repeatable).")] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only articles first captured from this date (UTC), time, or so long ago (36h)."),
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", help="File to write (default: standard output).")] = None,
    out_dir: OutOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """One row per article in the catalog: every field of its JSON metadata, then its text."""
    from scraper.archive import export as exporting

    tally = exporting.Tally()
    result: exporting.Exported | None = None

    def stopped() -> str:
        where = output or "standard output"
        if result is not None:
            return f"all {result.rows} articles were exported to {where} before the stop"
        if output is None:
            return f"{tally.rows} articles exported to standard output, the rest not"
        return f"{output} not written (left as it was)"

    with stoppable(stopped):
        root = Archive.at(load_settings(config, out=out_dir).out).root
        moment = parse_since(since, datetime.now(UTC)) if since else None
        result = exporting.export(root, fmt.lower(), output, sys.stdout, site, moment, tally)
        for line in result.problems:
            err.print(f"failed: {line}", markup=False)
        for line in result.missing_warcs:
            err.print(f"warning: {line}", markup=False)
        if not quiet:
            err.print(
                f"exported {result.rows} articles to {output or 'standard output'} ({result.without_text} without"
                f" text, {len(result.problems)} failed)",
                markup=False,
            )
        raise typer.Exit(1 if result.problems or result.missing_warcs else 0)


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
            result = wacz.pack(root, wacz_path, title, stop)
        except ArchiveError as exc:  # the package could not be made, or failed validation: a failure, not bad input
            err.print(one_line(f"failed: {exc}"), markup=False)
            raise typer.Exit(1) from None
        for line in result.problems:
            err.print(f"left out: {line}", markup=False)
        if not quiet:
            err.print(f"packed {len(result.warcs)} WARC files, {result.pages} pages: {result.path}", markup=False)
        raise typer.Exit(1 if result.problems else 0)
