"""Typos are not success: a command given nothing to work on, or a value out of range, says so
in one line and exits 2, in the words of the option the user typed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scraper.capture.fetch import Fetcher
from scraper.config import Settings, parse_since
from scraper.errors import UsageError


def scraper(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPER_")}
    return subprocess.run(
        [sys.executable, "-m", "scraper", *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=env
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["run", "--max-articles", "-1", "--out", "x"], "error: --max-articles must be 0 or more, got -1"),
        (["run", "--site", "nosuch", "--out", "x"], "error: --site: unknown site 'nosuch'"),
        (["status", "--out", "nowhere"], "error: nowhere: no such folder"),
        (["reclean", "--jobs", "-1", "."], "error: --jobs must be from 1 to"),
        (["reclean", "--jobs", "0", "."], "error: --jobs must be from 1 to"),
        (["reclean", "empty"], "error: empty: no WARC file (.warc or .warc.gz) in it"),
        (["parse", "empty"], "error: empty: a folder"),
        (["parse", "nothing.warc.gz"], "error: nothing.warc.gz: no HTTP response record in it"),
        (
            ["fetch", "-o", "https://www.interfax.ru/world/1"],
            "error: give at least one URL, or --from-file FILE (-o/--out is the archive folder, and it took",
        ),
        (["export", "-o", "rows.csv"], "error: rows.csv: no archive there: -o/--out is the archive folder; the file"),
    ],
)
def test_nothing_to_do_is_one_line_and_exit_2(tmp_path: Path, args: list[str], said: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "nothing.warc.gz").write_bytes(b"")
    done = scraper(tmp_path, *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(said) and done.stderr.count("\n") == 1, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "nothing.warc.gz"]  # nothing written


def test_since_reads_alike_everywhere() -> None:
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    assert parse_since("2026-11-22", now) == datetime(2026, 11, 22, tzinfo=UTC)
    assert parse_since("2026-11-22T10:00:00+03:00", now) == datetime(2026, 11, 22, 7, tzinfo=UTC)
    assert parse_since("36h", now) == now - timedelta(hours=36)
    with pytest.raises(UsageError, match="--since: 'soon' is not a date"):
        parse_since("soon", now)


def test_export_takes_several_sites_and_a_duration(archive: Any) -> None:
    """--site repeats (each adds a site) and --since takes a duration, as in `check`."""
    from test_quality import day_of_articles

    day_of_articles(archive, datetime.now(UTC) - timedelta(days=3), per_site=2)
    out = str(archive.root)
    both = scraper(archive.root.parent, "export", "--out", out, "--site", "interfax", "--site", "kremlin")
    recent = scraper(archive.root.parent, "export", "--out", out, "--site", "rbc", "--since", "2d")
    older = scraper(archive.root.parent, "export", "--out", out, "--site", "rbc", "--since", "4d")
    assert both.returncode == recent.returncode == older.returncode == 0, both.stderr + recent.stderr
    assert sorted(json.loads(line)["site"] for line in both.stdout.splitlines()) == ["interfax"] * 2 + ["kremlin"] * 2
    assert recent.stdout == "" and len(older.stdout.splitlines()) == 2


def test_sites_shows_hosts_as_people_write_them(tmp_path: Path) -> None:
    done = scraper(tmp_path, "sites")
    hosts = [line for line in done.stdout.splitlines() if line.strip().startswith("hosts:")]
    assert done.returncode == 0 and len(hosts) >= 5
    assert "interfax.ru" in hosts[0] and not any("\\" in line for line in hosts)


def test_a_fetch_summary_counts_in_words(tmp_path: Path) -> None:
    from servers import Route, serve
    from test_cli import ARTICLE

    url = "https://www.interfax.ru/world/1"
    with serve({"/world/1": Route(body=ARTICLE)}) as server:
        done = scraper(
            tmp_path, "fetch", "--ignore-robots", "--connect-to", f"https://www.interfax.ru={server.origin}", url
        )
    assert done.returncode == 0, done.stderr
    assert "fetched 1 URL: 1 article, 0 failed, 0 skipped" in done.stderr


def test_quiet_says_failures_only(tmp_path: Path) -> None:
    """As ``run --quiet``: no bar, no summary, but every failure, so that cron mails it."""
    from servers import Route, serve
    from test_cli import ARTICLE

    with serve({"/world/1": Route(body=ARTICLE)}) as server:
        args = ("--ignore-robots", "--connect-to", f"https://www.interfax.ru={server.origin}")
        good = scraper(tmp_path, "fetch", "-q", *args, "https://www.interfax.ru/world/1")
        bad = scraper(
            tmp_path, "fetch", "-q", *args, "https://www.interfax.ru/world/1", "https://www.interfax.ru/world/2"
        )
    assert (good.returncode, good.stderr, good.stdout) == (0, "", "")
    assert bad.returncode == 1 and bad.stdout == ""
    assert [line.split(": ")[:2] for line in bad.stderr.splitlines()] == [["failed", "https://www.interfax.ru/world/2"]]
    again = scraper(tmp_path, "reclean", "-q", "archives/warc")
    assert (again.returncode, again.stderr, again.stdout) == (0, "", "")


def test_no_failures_is_said_in_words(tmp_path: Path) -> None:
    from scraper.archive.catalog import Catalog

    with Catalog(tmp_path / "archives" / "catalog.sqlite"):
        pass
    listed = scraper(tmp_path, "failures")
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "", "no failures\n")
    assert scraper(tmp_path, "failures", "--site", "rbc").stderr == "no failures for rbc\n"
    assert scraper(tmp_path, "failures", "--json").stdout == ""


def _no_such_host(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def _resolver_down(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")


def test_a_name_that_does_not_exist_fails_at_once_without_retries() -> None:
    slept: list[float] = []
    settings = Settings(retries=3, backoff=5)
    with Fetcher(settings, sleep=lambda s: slept.append(s), resolver=_no_such_host) as fetcher:
        gone = fetcher.fetch("https://nosuch.example/world/1")
    with Fetcher(settings, sleep=lambda s: slept.append(s), resolver=_resolver_down) as fetcher:
        down = fetcher.fetch("https://nosuch.example/world/1")
    assert gone.error is not None and gone.error.startswith("no such host: nosuch.example"), gone.error
    assert len(slept) == 3 and down.error is not None  # a resolver that did not answer is retried


def test_failures_lists_what_failed_and_why(tmp_path: Path) -> None:
    from scraper.archive.catalog import Catalog

    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    with Catalog(tmp_path / "archives" / "catalog.sqlite") as catalog:
        for url, site, reason, permanent in (
            ("https://www.interfax.ru/world/1", "interfax", "timeout: no response within total_timeout 8 s", False),
            ("https://www.rbc.ru/politics/1", "rbc", "HTTP 404", True),
        ):
            catalog.record_failure(url, url=url, site=site, reason=reason, now=now, backoff=timedelta(hours=1),
                                   max_attempts=5, give_up=permanent)  # fmt: skip
    listed = scraper(tmp_path, "failures")
    as_json = scraper(tmp_path, "failures", "--json", "--site", "rbc")
    assert listed.returncode == 0 and as_json.returncode == 0, listed.stderr + as_json.stderr
    _, first, second = listed.stdout.splitlines()  # under the header
    assert "interfax" in first and "2026-12-05 13:00Z" in first and "total_timeout 8 s" in first
    assert "given up" in second and "HTTP 404" in second
    (row,) = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert row == {"url": "https://www.rbc.ru/politics/1", "site": "rbc", "attempts": 1, "reason": "HTTP 404",
                   "next_try": None, "gave_up": True}  # fmt: skip
    assert scraper(tmp_path, "failures", "--out", "elsewhere").returncode == 2


@pytest.mark.parametrize(("report", "said"), [(".", "a folder, not a file"), ("gone/r.json", "no such folder gone")])
def test_a_report_that_cannot_be_written_is_refused_before_the_run(tmp_path: Path, report: str, said: str) -> None:
    done = scraper(tmp_path, "run", "--out", "out", "--report", report, "--site", "interfax")
    assert done.returncode == 2 and said in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "out").exists()  # nothing fetched, nothing written
