"""Command line: parse options, call the pipeline, print, set the exit code. Nothing else.

Exit codes: 0 all went well, 1 some pages or records failed, 2 bad usage, config or output folder
(or, for ``run``, an archive another run holds). One module per group of commands, listed below.
"""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from scraper import __version__
from scraper.cli import archive, pages, quality, runs, sites, verify
from scraper.cli.common import Group, out

app = typer.Typer(
    name="scraper",  # the program's name in hints, under the test runner as well
    cls=Group,
    help="Fetch news articles into WARC files and write their clean text beside them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        out.print(f"scraper {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Fetch news articles into WARC files and write their clean text beside them."""


for _module in (pages, runs, sites, archive, quality, verify):
    _module.register(app)


def main() -> None:
    try:
        app()
    finally:  # the command has said its last line: a signal now could only turn its exit code into 143
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)


__all__ = ["app", "main"]
