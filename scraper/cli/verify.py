"""The archive check: verify."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scraper.archive.verify import verify as check
from scraper.cli.common import QuietOpt, err, out, stoppable


def register(app: typer.Typer) -> None:
    app.command()(verify)


def verify(
    path: Annotated[Path, typer.Argument(help="A WARC file, or an archive folder: its WARC files, texts and catalog.")],
    quiet: QuietOpt = False,
) -> None:
    """Check every byte and digest of the WARC files, and that every text's JSON and catalog entry
    points at its record; problems one a line, exit 1."""
    with stoppable(lambda: "verification cut short: the problems printed so far stand; nothing was changed"):
        summary = check(path, lambda line: out.print(line, markup=False))
    if not quiet or summary.problems:
        err.print(
            f"verified {_count(summary.warc_files, 'WARC file')} ({_count(summary.records, 'record')}), "
            f"{_count(summary.texts, 'text')}, {_count(summary.catalog_entries, 'catalog entry', 'catalog entries')}: "
            f"{_count(summary.problems, 'problem')}",
            markup=False,
        )
    raise typer.Exit(1 if summary.problems else 0)


def _count(number: int, one: str, many: str = "") -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"
