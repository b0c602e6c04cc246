"""Every command speaks alike: a usage mistake is one ``error:`` line (and a hint) with exit code 2,
never typer's boxed panel; ``--help`` names values as a person reads them, not as Python types."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from scraper.cli import app

COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def said(stderr: str) -> str:
    """The error line, after checking that it is all there is besides the hint."""
    lines = stderr.splitlines()
    assert 1 <= len(lines) <= 2, stderr
    assert len(lines) == 1 or (lines[1].startswith("try '") and lines[1].endswith(" --help'")), stderr
    assert "╭" not in stderr and "│" not in stderr and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_option_is_one_error_line(command: str) -> None:
    code, stdout, stderr = invoke(command, "--no-such-thing")
    assert code == 2, stderr
    assert said(stderr) == "error: no such option: --no-such-thing", stderr
    assert stderr.splitlines()[1:] == [f"try 'scraper {command} --help'"]
    assert stdout == ""


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["run", "--sites", "x"], "error: no such option: --sites (did you mean --site?)"),
        (["verify"], "error: missing argument 'PATH'"),
        (["run", "--jobs", "abc"], "error: invalid value for '--jobs' / '-j': 'abc' is not a whole number"),
        (
            ["fetch", "--max-body-bytes", "1e3", "x"],
            "error: invalid value for '--max-body-bytes': '1e3' is not a whole number",
        ),
        (["replay", "--port", "1.5"], "error: invalid value for '--port' / '-p': '1.5' is not a whole number"),
        (["rn"], "error: no such command 'rn' (did you mean 'run'?)"),
        (["--bogus"], "error: no such option: --bogus"),
        (["pack"], "error: missing option '--wacz'"),
    ],
)
def test_usage_mistakes_read_like_our_own_errors(args: list[str], line: str) -> None:
    code, _, stderr = invoke(*args)
    assert code == 2, stderr
    assert said(stderr).startswith(line), stderr


def test_the_installed_entry_point_speaks_alike(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPER_")}
    done = subprocess.run(
        [sys.executable, "-m", "scraper", "run", "--sites", "x"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert said(done.stderr) == "error: no such option: --sites (did you mean --site?)"
    assert done.stderr.splitlines()[1] == "try 'python -m scraper run --help'"
    assert done.stdout == "" and os.listdir(tmp_path) == []


def test_help_and_version_still_exit_0() -> None:
    assert invoke("--version")[0] == 0
    assert invoke("verify", "--help")[0] == 0


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_names_values_not_types(command: str) -> None:
    code, stdout, stderr = invoke(*filter(None, [command, "--help"]))
    assert code == 0, stderr
    for python_type in ("<bool>", "<str>", "<int>", "<path>", "<list[", "<datetime>"):
        assert python_type not in stdout, stdout
    help_row = next(line.strip("│ ") for line in stdout.splitlines() if "--help" in line)
    assert help_row.split("--help")[1].split() == ["-h", "Show", "this", "message", "and", "exit."]  # no type


def test_options_show_what_they_take() -> None:
    rows = {line.split()[1]: line.split() for line in invoke("run", "--help")[1].splitlines() if "--" in line}
    assert rows["--site"][2] == "SITE"
    assert rows["--out"][3] == "FOLDER"
    assert rows["--max-articles"][2] == "N"
    assert rows["--quiet"][3] == "No"  # a flag takes nothing: its help follows
    assert "Usage: scraper verify [OPTIONS] PATH " in invoke("verify", "--help")[1]
    assert "Usage: scraper reclean [OPTIONS] PATHS... " in invoke("reclean", "--help")[1]
    assert "Usage: scraper index [OPTIONS] [PATHS]... " in invoke("index", "--help")[1]


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_h_is_help_and_paragraphs_are_wrapped_by_the_terminal(command: str) -> None:
    code, stdout, _ = invoke(*filter(None, [command, "-h"]))
    assert code == 0 and "Usage: scraper" in stdout
    group = typer.main.get_command(app)
    for sub in [group, *group.commands.values()]:  # type: ignore[attr-defined]
        assert "\n" not in (sub.help or "").strip().split("\n\n")[0], sub.name


def test_verify_of_nothing_is_one_line_and_exit_2(tmp_path: Path) -> None:
    code, stdout, stderr = invoke("verify", str(tmp_path))
    assert code == 2 and stdout == ""
    assert said(stderr) == f"error: {tmp_path}: no WARC files, texts or catalog in it: nothing to verify"
