"""The cron line and the systemd units in deploy/ call `scraper run` with options it accepts.
(systemd itself is checked with `systemd-analyze verify` where the machine has it.)"""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from scraper.cli import app

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def accepts(command_line: str) -> None:
    words = shlex.split(command_line)
    assert words[0].endswith("scraper")
    group = typer.main.get_command(app)
    with group.make_context("scraper", words[1:]) as context:
        sub = group.get_command(context, words[1])  # type: ignore[attr-defined]
        assert sub is not None
        sub.make_context(words[1], words[2:])  # raises on an unknown option or a bad value


def test_systemd_units() -> None:
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.read(DEPLOY / "scraper.service")
    assert service["Service"]["Type"] == "oneshot" and service["Service"]["KillSignal"] == "SIGTERM"
    accepts(service["Service"]["ExecStart"])
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(DEPLOY / "scraper.timer")
    # Persistent= catches up after downtime only with OnCalendar= (systemd.timer(5))
    assert timer["Timer"]["OnCalendar"] == "*:0/10" and timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze on this machine")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    # the units as installed here: the real scraper executable and a real working folder
    # the command installed beside the interpreter that runs the tests (the venv's bin/), PATH or not
    beside = Path(sys.executable).parent / "scraper"
    installed = str(beside) if beside.is_file() else shutil.which("scraper")
    if installed is None:
        pytest.skip("scraper is not installed as a command")
    service = (DEPLOY / "scraper.service").read_text()
    service = service.replace("/srv/scraper/.venv/bin/scraper", installed).replace("/srv/scraper", str(tmp_path))
    (tmp_path / "scraper.service").write_text(service.replace("User=scraper\n", ""))
    shutil.copy(DEPLOY / "scraper.timer", tmp_path / "scraper.timer")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "scraper.service"), str(tmp_path / "scraper.timer")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_crontab_line() -> None:
    lines = [line for line in (DEPLOY / "crontab").read_text().splitlines() if line and not line.startswith("#")]
    assert len(lines) == 1
    fields = lines[0].split(None, 5)
    assert fields[:5] == ["*/10", "*", "*", "*", "*"]
    accepts(fields[5].split("&&", 1)[1].strip())
