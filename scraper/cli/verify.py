"""The archive check: verify."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scraper.archive.verify import verify as check
from scraper.cli.common import QuietOpt, err, out


def register(app: typer.Typer) -> None:
    app.command()(verify)


def verify(
    path: Annotated[Path, typer.Argument(help="A WARC file, or an archive folder: its WARC files, texts and catalog.")],
    quiet: QuietOpt = False,
) -> None:
    """Check WARC digests, and that every text's JSON points at its record; problems one a line, exit 1."""
    if not path.exists():
        err.print(f"error: {path}: no such file or folder", markup=False)
        raise typer.Exit(2)
    summary = check(path, lambda line: out.print(line, markup=False))
    if not quiet or summary.problems:
        err.print(
            f"verified {summary.warc_files} WARC files ({summary.records} records), {summary.texts} texts, "
            f"{summary.catalog_entries} catalog entries: {summary.problems} problems",
            markup=False,
        )
    raise typer.Exit(1 if summary.problems else 0)
