"""The archive check: verify."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scraper.archive.verify import verify as check
from scraper.cli.common import QuietOpt, err, out, progress, stoppable


def register(app: typer.Typer) -> None:
    app.command()(verify)


def verify(
    path: Annotated[Path, typer.Argument(help="A WARC file, or an archive folder: its WARC files, texts and catalog.")],
    quiet: QuietOpt = False,
) -> None:
    """Check every byte and digest of the WARC files, and that every text's JSON and catalog entry
    points at its record; problems one a line, exit 1."""
    with (
        stoppable(lambda: "verification cut short: the problems printed so far stand; nothing was changed"),
        progress(None, "verifying", quiet, in_parts=True) as bar,
    ):
        task = bar.task_ids[0]
        # the problems go to stdout; where it is the terminal the bar is drawn on, above the bar
        said = bar.console if out.is_terminal and not bar.disable else out
        summary = check(
            path, lambda line: said.print(line, markup=False),
            lambda part, done, total: bar.update(task, description=f"verifying {part}", completed=done, total=total),
        )  # fmt: skip
    if not quiet or summary.problems:
        warcs = f"{_count(summary.warc_files, 'WARC file')} ({_count(summary.records, 'record')})"
        if summary.archive:
            entries = _count(summary.catalog_entries, "catalog entry", "catalog entries")
            said_of = f"{warcs}, {_count(summary.texts, 'text')}, {entries}: {_count(summary.problems, 'problem')}"
        else:  # a WARC file or a folder of them: "0 texts" would read as texts checked
            said_of = f"{warcs}, not texts or catalog (give the archive folder): {_count(summary.problems, 'problem')}"
        err.print(f"verified {said_of}", markup=False)
    raise typer.Exit(1 if summary.problems else 0)


def _count(number: int, one: str, many: str = "") -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"
