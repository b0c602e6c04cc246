"""What the command modules share: the command group (usage errors, help), consoles, common options,
error and progress handling."""

from __future__ import annotations

import atexit
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, get_args

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from typer._click import Command, Context
from typer._click.exceptions import BadParameter, ClickException, NoArgsIsHelpError, NoSuchOption
from typer.core import TyperArgument, TyperGroup, TyperOption

from scraper.config import Settings, config_file, parse_connect_to
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
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="The archive folder (default: archives/).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary: failures only.")]
ConnectToOpt = Annotated[
    list[str] | None,
    typer.Option("--connect-to", help="ORIGIN=URL: send requests for ORIGIN to URL, keep the URL."),
]


_HELP_NAMES = ["--help", "-h"]
_PARAGRAPH_BREAK = re.compile(r"(?<!\n)[ \t]*\n[ \t]*(?!\n)")


class Group(TyperGroup):
    """The command group: usage mistakes in the tool's own voice, help that names values."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for command in (self, *self.commands.values()):
            _name_values(command)
            # a docstring's line breaks are not the help's: the terminal wraps its paragraphs
            command.help = command.help and _PARAGRAPH_BREAK.sub(" ", command.help)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Typer's ``main``, but a usage error is an ``error:`` line and a hint, not a boxed panel.
        Not standalone, typer answers as it does: the caller handles what it raises."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        try:
            # an int is an Exit's code (Ctrl-C's is 130); a command's own return value is None
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except NoArgsIsHelpError as exc:  # the help is printed already
            code = exc.exit_code
        except ClickException as exc:
            _usage_error(exc)
            code = exc.exit_code
        except typer.Abort:  # typer's answer to an EOFError: input ended
            err.print("error: aborted")
            code = 1
        sys.exit(code if isinstance(code, int) else 0)


# typer converts values with pydantic, whose error types begin with the type expected
_EXPECTED = {"int": "a whole number", "float": "a number"}


def _plain_value(exc: ClickException) -> str | None:
    """What a value typer could not convert should have been, in the tool's words: pydantic's own
    ("Input should be a valid integer, unable to parse string as an integer") is no user's."""
    errors = getattr(exc.__cause__, "errors", None)
    if not isinstance(exc, BadParameter) or not callable(errors):
        return None
    first = errors()[0]
    expected = _EXPECTED.get(str(first.get("type", "")).partition("_")[0])
    return expected and f"{str(first.get('input'))!r:.60} is not {expected}"


def _usage_error(exc: ClickException) -> None:
    """Click's message in the words of ``errors()``: one line, lower case, no full stop."""
    if isinstance(exc, NoSuchOption) and exc.possibilities:
        text = f"{exc.message} (did you mean {' or '.join(sorted(exc.possibilities))}?)"
    else:  # typer words its own suggestion for a command as a sentence
        exc.message = _plain_value(exc) or exc.message
        text = re.sub(r"\. Did you mean (.+)\?$", r" (did you mean \1?)", exc.format_message())
    text = " ".join(text.split()).removesuffix(".")  # a list of choices comes on several lines
    err.print(one_line(f"error: {text[:1].lower()}{text[1:]}"))
    ctx = getattr(exc, "ctx", None)
    if isinstance(ctx, Context) and ctx.command.get_help_option(ctx) is not None:
        err.print(one_line(f"try '{ctx.command_path} {ctx.help_option_names[0]}'"))


# What a value is where the option's name would mislead; otherwise the type says it (_BY_TYPE), or
# the option's name does (SITE, FORMAT), the way classic click names them.
_VALUE_NAMES = {
    "out_dir": "FOLDER",
    "fixtures": "FOLDER",
    "connect_to": "ORIGIN=URL",
    "time_budget": "DURATION",
    "since": "WHEN",
    "user_agent": "TEXT",
    "scheduler": "URL",
}
_BY_TYPE = {int: "N", datetime: "DATE"}


class _Argument(TyperArgument):
    """An argument whose help row shows no type: its name (PATH, URLS) says what it takes; in the
    usage line a required one is bare (PATH), an optional one in brackets, as usage lines are read."""

    def display_type_rich(self, ctx: Context) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name + ("..." if self.nargs != 1 else "")


def _name_values(command: Command) -> None:
    """Set each parameter's metavar, where none was given, to a name instead of typer's Python
    type (``<list[str]>``, ``<bool>``); a flag takes nothing and shows nothing."""
    # made now, with the names every command takes (-h too), so that the one typer caches gets a metavar too
    command.context_settings = {**command.context_settings, "help_option_names": _HELP_NAMES}
    help_option = command.get_help_option(Context(command, help_option_names=_HELP_NAMES))
    for param in (*command.params, *([help_option] if help_option else [])):
        if param.metavar is not None:
            continue
        if isinstance(param, TyperArgument):
            param.metavar = (param.name or "").upper()
            # typer shows an argument's type whatever its metavar; the same object keeps its state
            param.__class__ = _Argument
        elif isinstance(param, TyperOption):
            param.metavar = "" if param.is_flag else _value_name(param)


def _value_name(option: TyperOption) -> str:
    if option.name in _VALUE_NAMES:
        return _VALUE_NAMES[option.name]
    desc = option.type_descriptor
    if desc.is_path:
        return "FILE"
    element = get_args(desc.annotation)[0] if desc.is_list else desc.annotation  # a repeatable one's
    return _BY_TYPE.get(element) or max(option.opts, key=len).lstrip("-").upper()


_STOPS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def errors() -> Iterator[None]:
    """Errors as one line and exit code 2. SIGTERM is taken as Ctrl-C: both end a command that has
    no stop request of its own (``stop_on_signals``) at once, with one line and exit code 130, its
    temporary files removed on the way out (the default SIGTERM would leave them)."""
    # Ctrl-C too: until now the entry point's handler held it, which leaves at once (nothing was begun)
    previous = {
        sig: signal.signal(sig, signal.default_int_handler) for sig in _STOPS if signal.getsignal(sig) != signal.SIG_IGN
    }
    try:
        yield
    except ScraperError as exc:
        err.print(one_line(f"error: {exc}"), markup=False)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err.print("stopped before the command was done", markup=False)
        raise typer.Exit(130) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def stoppable(said: Callable[[], str], stop: threading.Event | None = None) -> Iterator[None]:
    """``errors()``, where Ctrl-C or SIGTERM ends the command with ``stopped: <said()>`` (what was
    done and what was not) and exit code 130, from its first step to its last line. ``stop`` is set
    at the signal: a library's bare ``except:`` (py-wacz has some) may swallow the KeyboardInterrupt,
    and a signal seen is a stop all the same."""
    stop = stop or threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()
        raise KeyboardInterrupt

    atexit.unregister(_ignore_stops)  # once, however many commands a process runs (tests do)
    atexit.register(_ignore_stops)
    with errors():
        # a signal ignored from the start stays ignored (a background job's Ctrl-C, nohup)
        previous = {sig: signal.signal(sig, on_signal) for sig in _STOPS if signal.getsignal(sig) != signal.SIG_IGN}
        try:
            yield
        except KeyboardInterrupt:
            stop.set()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if stop.is_set():  # also over a summary already printed: the user asked for a stop and gets its line
                err.print(one_line(f"stopped: {said()}"), markup=False)
                raise typer.Exit(130)


def _ignore_stops() -> None:
    """At exit the command is over and has said so: a signal then could only cut the interpreter's
    shutdown short and end the process with 143 or a traceback instead of its exit code."""
    for sig in _STOPS:
        signal.signal(sig, signal.SIG_IGN)


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
def progress(
    total: int | None, label: str, quiet: bool, in_bytes: bool = False, in_parts: bool = False
) -> Iterator[Progress]:
    """A bar on stderr; ``in_parts``: for work in parts of their own units, each part names itself
    in the label and shows how far it is in percent."""
    count = (
        DownloadColumn(binary_units=True) if in_bytes else TaskProgressColumn() if in_parts else MofNCompleteColumn()
    )
    columns = (TextColumn("{task.description}"), BarColumn(), count, TimeElapsedColumn())
    # nothing for a log or a pipe: a bar there is noise (and rich ends it with a blank line)
    # stdout stays the command's own (verify's problems, export's rows), not rich's, even at a terminal
    hidden = quiet or not err.is_terminal
    with Progress(*columns, console=err, transient=True, redirect_stdout=False, disable=hidden) as bar:
        bar.add_task(label, total=total)
        yield bar


def step(bar: Progress) -> Callable[[Outcome], None]:
    """Each page's step on the bar; a failure is said at once, even under --quiet (as run does)."""

    def on_step(outcome: Outcome) -> None:
        bar.advance(bar.task_ids[0])
        if not outcome.ok:
            bar.console.print(one_line(f"failed: {outcome.url}: {outcome.reason}"), markup=False)

    return on_step


def with_connect_to(settings: Settings, given: list[str] | None) -> Settings:
    """``--connect-to`` pairs are added to the config's, and win for the same origin."""
    if not given:
        return settings
    extra = dict(parse_connect_to(given, "--connect-to"))
    return replace(settings, connect_to=tuple((dict(settings.connect_to) | extra).items()))


def config_used(config: Path | None) -> Path | None:
    """The config file the command read (--config, $SCRAPER_CONFIG or ./config.toml), absolute: the
    commands a check prints carry it, and work from any folder."""
    found = config_file(config)
    return found.resolve() if found else None


def said_left_out(bad: list[str]) -> None:
    """Catalog rows with a value of the wrong kind, left out of what a reading command printed."""
    for line in bad:
        err.print(one_line(f"warning: bad catalog row, left out: {line}"), markup=False)
