"""The command's entry point. Loading the command line takes a moment (typer, rich, lxml, httpx):
Ctrl-C or SIGTERM in that moment stops the command with one line and exit code 130, before
anything is done, instead of a traceback from the middle of an import or a silent 143."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

_STOPS = (signal.SIGINT, signal.SIGTERM)


def main() -> None:
    for sig in _STOPS:
        if signal.getsignal(sig) != signal.SIG_IGN:  # an ignored one stays ignored (nohup, a background job)
            signal.signal(sig, _before_start)
    from scraper.cli import main as command_line

    command_line()


def _before_start(signum: int, frame: FrameType | None) -> None:
    # nothing is open or written yet: leaving at once, without unwinding half-done imports, is safe
    sys.stderr.write("stopped: before the command started; nothing was done\n")
    sys.stderr.flush()
    os._exit(130)
