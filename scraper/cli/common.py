"""What the command modules share: consoles, common options, error and progress handling."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from scraper.config import Settings, parse_connect_to
from scraper.errors import ScraperError
from scraper.models import Outcome

# Control characters shown as escapes (\x1b, \x9b, \u202e): URLs, reasons, texts and file names in
# messages come from the archive or the network, and a raw ESC there clears the screen, sets the window
# title or rewrites what was printed before; CR and backspace overwrite a line; C1 controls are ESC to
# some terminals; bidi overrides reorder what is shown. Line feeds and tabs stay: the tool's own.
_ESCAPES = {
    code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    for code in (*range(0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))
    if chr(code) not in "\n\t"
}


def safe(text: str) -> str:
    """``text`` with its control characters escaped: fit for a terminal."""
    return text.translate(_ESCAPES)


def one_line(text: str) -> str:
    """``safe``, and a line break in it escaped too: for a message that is one line by design, so
    that data in it cannot print a line that looks like the tool's own."""
    return safe(text).replace("\n", "\\n")


class _SafeConsole(Console):
    """A console whose every printed string goes through ``safe``, whoever prints it: the one
    place, so that no message can forget it. Markup and emoji codes are off: a URL with
    ``[bold]`` or ``:smile:`` in it is printed as it is."""

    def print(self, *objects: Any, **options: Any) -> None:
        super().print(*(safe(o) if isinstance(o, str) else o for o in objects), **options)


err = _SafeConsole(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)
out = _SafeConsole(highlight=False, soft_wrap=True, markup=False, emoji=False)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="config.toml to read (default: ./config.toml).")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: archives/).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or per-page lines.")]
ConnectToOpt = Annotated[
    list[str] | None,
    typer.Option("--connect-to", help="ORIGIN=URL: send requests for ORIGIN to URL, keep the URL."),
]


@contextmanager
def errors() -> Iterator[None]:
    """Errors as one line and exit code 2. SIGTERM is taken as Ctrl-C: both end a command that has
    no stop request of its own (``stop_on_signals``) at once, with one line and exit code 130, its
    temporary files removed on the way out (the default SIGTERM would leave them)."""
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    except ScraperError as exc:
        err.print(one_line(f"error: {exc}"), markup=False)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        raise typer.Exit(130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C and SIGTERM set ``stop``: the command finishes the record it is writing and stops."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def progress(total: int | None, label: str, quiet: bool) -> Iterator[Progress]:
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    # nothing for a log or a pipe: a bar there is noise (and rich ends it with a blank line)
    with Progress(*columns, console=err, transient=True, disable=quiet or not err.is_terminal) as bar:
        bar.add_task(label, total=total)
        yield bar


def step(bar: Progress, quiet: bool) -> Callable[[Outcome], None]:
    def on_step(outcome: Outcome) -> None:
        bar.advance(bar.task_ids[0])
        if not outcome.ok and not quiet:
            bar.console.print(one_line(f"failed: {outcome.url}: {outcome.reason}"), markup=False)

    return on_step


def with_connect_to(settings: Settings, given: list[str] | None) -> Settings:
    """``--connect-to`` pairs are added to the config's, and win for the same origin."""
    if not given:
        return settings
    extra = dict(parse_connect_to(given, "--connect-to"))
    return replace(settings, connect_to=tuple((dict(settings.connect_to) | extra).items()))
