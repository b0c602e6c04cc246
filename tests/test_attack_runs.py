"""run, status, failures, check and snapshot in the voice of the other commands: a --report that
is no file refused before the run, a stop line that says what was left, a missing catalog an
error, --since with a time of day and never in the future, one wording of an unknown site and of
a number out of range, a header over the failures."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from scraper.archive.catalog import Catalog
from scraper.cli import app
from scraper.config import load_settings, max_jobs, parse_since
from scraper.errors import ConfigError, UsageError
from scraper.sites import SITES, by_name

KNOWN = ", ".join(sorted(s.name for s in SITES))
NOW = datetime(2026, 12, 5, 12, 30, tzinfo=UTC)


def scraper(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPER_")}
    command = [sys.executable, "-m", "scraper", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def closed_ports_config(folder: Path) -> None:
    """run.toml sending every site's origin to a closed local port: a run never reaches the sites."""
    origins = sorted({f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for s in SITES for u in s.feeds})
    lines = ["[network]", "timeout = 1", "retries = 0", "[politeness]", "delay = 0", "[run]", "use_sitemaps = false",
             "[network.connect_to]", *(f'"{o}" = "http://127.0.0.1:9"' for o in origins)]  # fmt: skip
    (folder / "run.toml").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_report_that_is_no_regular_file_is_refused_before_the_run(tmp_path: Path, kind: str) -> None:
    closed_ports_config(tmp_path)
    if kind == "fifo":  # opened for writing, it would block the finished run until a reader came
        os.mkfifo(tmp_path / "report.fifo")
    report = "report.fifo" if kind == "fifo" else os.devnull
    done = scraper(tmp_path, "run", "--config", "run.toml", "--out", "out", "--site", "interfax", "--report", report)
    assert done.returncode == 2, done.stderr
    said = f"error: --report {report}: not a regular file (a FIFO, device or socket): give a file to write\n"
    assert done.stderr == said
    assert not (tmp_path / "out").exists()  # refused before any work


def test_a_stopped_run_says_what_it_left_undone(tmp_path: Path) -> None:
    from test_run import World

    world = World(tmp_path)
    site = by_name("interfax")
    with ExitStack() as stack:
        world.start(stack)
        config = tmp_path / "run.toml"
        config.write_text(config.read_text().replace("delay = 0", "delay = 1"))  # 5 articles: over 5 s
        argv = [sys.executable, "-m", "scraper", "run", "--config", "run.toml", "--site", "interfax", "-q",
                "--report", "r.json"]  # fmt: skip
        run = subprocess.Popen(argv, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not world.texts() and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.05)
        run.send_signal(signal.SIGTERM)
        _, stderr = run.communicate(timeout=60)
    archived = json.loads((tmp_path / "r.json").read_text())["sites"]["interfax"]["archived"]
    due = world.expected(site)
    stop_line = r"stopped: (\d+) of (\d+) due articles not fetched; the next run goes on from here"
    said = re.fullmatch(stop_line, stderr.strip())
    assert run.returncode == 130 and said, stderr
    assert int(said[2]) == due and int(said[1]) == due - archived and 0 < archived < due, stderr


def test_status_without_a_catalog_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(app, ["status", "--out", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert result.output == f"error: {tmp_path / 'empty'}: no catalog here: no scheduled run has written to it\n"


def test_since_takes_a_time_of_day_the_last_one_passed() -> None:
    assert parse_since("06:00", NOW) == datetime(2026, 12, 5, 6, tzinfo=UTC)
    assert parse_since("12:30", NOW) == NOW
    assert parse_since("18:15", NOW) == datetime(2026, 12, 4, 18, 15, tzinfo=UTC)  # today's is still to come
    assert parse_since("7:05:09", NOW) == datetime(2026, 12, 5, 7, 5, 9, tzinfo=UTC)


@pytest.mark.parametrize("value", ["soon", "25:00", "06:00x"])
def test_a_bad_since_shows_each_form(value: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_since(value, NOW)
    said = str(raised.value)
    assert said.startswith(f"--since: {value!r} is not a date")
    assert all(form in said for form in ("2026-11-22", "2026-11-22T06:00", "06:00", "36h")), said


@pytest.mark.parametrize("value", ["2099-01-01", "2026-12-05T12:31", "2026-12-05T14:00+01:00"])
def test_a_since_in_the_future_is_refused(value: str) -> None:
    with pytest.raises(UsageError, match=re.escape(f"--since: {value!r} is in the future (now is 2026-12-05T12:30Z)")):
        parse_since(value, NOW)


def test_check_refuses_a_since_in_the_future_in_one_line(tmp_path: Path) -> None:
    Catalog(tmp_path / "catalog.sqlite").close()
    result = CliRunner().invoke(app, ["check", "--out", str(tmp_path), "--since", "2099-01-01"])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: --since: '2099-01-01' is in the future") and result.output.count("\n") == 1


@pytest.mark.parametrize("command", [["check"], ["snapshot", "https://www.interfax.ru/world/1"]])
def test_an_unknown_site_is_said_as_run_says_it(tmp_path: Path, command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--site", "nosuch", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output == f"error: --site: unknown site 'nosuch' (known: {KNOWN})\n"


@pytest.mark.parametrize("value", ["abc", "1.5"])
def test_a_number_that_is_none_states_the_real_range(value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(env={"SCRAPER_JOBS": value})
    assert str(raised.value) == f"$SCRAPER_JOBS must be a whole number from 1 to {max_jobs()}, got {value!r}"


def test_failures_prints_a_header_as_status_does(tmp_path: Path) -> None:
    url = "https://www.rbc.ru/politics/1"
    with Catalog(tmp_path / "catalog.sqlite") as catalog:
        catalog.record_failure(url, url=url, site="rbc", reason="HTTP 404", now=NOW, backoff=timedelta(hours=1),
                               max_attempts=5, give_up=True)  # fmt: skip
    listed = CliRunner().invoke(app, ["failures", "--out", str(tmp_path)])
    as_json = CliRunner().invoke(app, ["failures", "--out", str(tmp_path), "--json"])
    assert listed.exit_code == as_json.exit_code == 0, listed.output
    header, row = listed.output.splitlines()
    assert header.split() == ["site", "attempts", "next", "try", "url", "reason"]
    assert row.split() == ["rbc", "1", "given", "up", url, "HTTP", "404"]
    assert row.index(url) == header.index("url")  # the columns line up
    assert [json.loads(line)["url"] for line in as_json.output.splitlines()] == [url]  # no header in JSON
