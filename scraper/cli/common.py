"""What the command modules share: consoles, common options, error and progress handling."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from scraper.config import Settings, parse_connect_to
from scraper.errors import ScraperError
from scraper.models import Outcome

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="config.toml to read (default: ./config.toml).")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: archives/).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or per-page lines.")]
ConnectToOpt = Annotated[
    list[str] | None,
    typer.Option("--connect-to", help="ORIGIN=URL: send requests for ORIGIN to URL, keep the URL."),
]


@contextmanager
def errors() -> Iterator[None]:
    try:
        yield
    except ScraperError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None


@contextmanager
def progress(total: int | None, label: str, quiet: bool) -> Iterator[Progress]:
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=quiet) as bar:
        bar.add_task(label, total=total)
        yield bar


def step(bar: Progress, quiet: bool) -> Callable[[Outcome], None]:
    def on_step(outcome: Outcome) -> None:
        bar.advance(bar.task_ids[0])
        if not outcome.ok and not quiet:
            bar.console.print(f"failed: {outcome.url}: {outcome.reason}", markup=False)

    return on_step


def with_connect_to(settings: Settings, given: list[str] | None) -> Settings:
    """``--connect-to`` pairs are added to the config's, and win for the same origin."""
    if not given:
        return settings
    extra = dict(parse_connect_to(given, "--connect-to"))
    return replace(settings, connect_to=tuple((dict(settings.connect_to) | extra).items()))
