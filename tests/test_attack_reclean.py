"""Issue 15, from an outside attack: reclean writes only into the archive that holds its WARCs,
takes the archive's lock, and never reads a WARC still marked open; a fetch stopped mid-page counts
that page as not fetched; parse says what a non-file is, and what a bad --captured is."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from servers import Route, serve
from test_cli import ARTICLE
from typer.testing import CliRunner

from scraper.cli import app
from scraper.cli.common import with_connect_to
from scraper.config import Settings
from scraper.schedule.batch import fetch_batch
from scraper.schedule.limits import archive_lock

FIXTURES = Path(__file__).resolve().parent / "fixtures"
WARCS = (
    FIXTURES / "interfax" / "interfax-business-fertilizers-2022.warc.gz",
    FIXTURES / "kremlin" / "kremlin-acts-bank-decree-2023.warc.gz",
)


def archive(root: Path) -> list[Path]:
    """``root/warc`` with the two fixture WARCs in it."""
    (root / "warc").mkdir(parents=True)
    return [Path(shutil.copy(warc, root / "warc" / warc.name)) for warc in WARCS]


def error_line(*args: str) -> str:
    """The one line a refused command prints, exit code 2."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: ")
    return line


def texts(root: Path) -> list[Path]:
    return sorted(root.rglob("*.txt"))


# --- the archive boundary --------------------------------------------------------------------------


def test_loose_warcs_without_out_are_refused_not_written_to_archives(here: Path) -> None:
    (here / "loose").mkdir()
    shutil.copy(WARCS[0], here / "loose" / WARCS[0].name)
    line = error_line("reclean", "loose")
    assert line.startswith("error: loose: not in one archive's warc/ folder: give --out")
    assert sorted(os.listdir(here)) == ["loose"]  # no ./archives


@pytest.mark.parametrize("out", ["other", "/proc"])
def test_warcs_outside_the_out_folder_are_refused_before_any_work(here: Path, out: str) -> None:
    archive(here / "base")
    line = error_line("reclean", "-o", out, "base/warc")
    assert f"not inside the archive {out} (symlinks followed)" in line and "(and 1 more)" in line
    assert not (here / "other").exists() and not texts(here)


def test_a_symlinked_warc_that_leads_out_of_the_archive_is_refused(here: Path) -> None:
    archive(here / "base")
    (here / "loose").mkdir()
    outside = Path(shutil.copy(WARCS[1], here / "loose" / "elsewhere.warc.gz"))
    (here / "base" / "warc" / "link.warc.gz").symlink_to(outside)
    line = error_line("reclean", "base/warc")
    assert line.startswith("error: base/warc/link.warc.gz: not inside the archive base (symlinks followed)")
    assert not texts(here)
    (here / "base" / "warc" / "link.warc.gz").unlink()
    done = CliRunner().invoke(app, ["reclean", "base/warc"])
    assert done.exit_code == 0, done.output
    assert texts(here / "base") and not texts(here / "loose")


# --- the lock and the files being written ----------------------------------------------------------


def test_reclean_is_refused_while_another_process_holds_the_archive(here: Path) -> None:
    archive(here / "base")
    with archive_lock(here / "base"):  # as a run holds it
        line = error_line("reclean", "base/warc")
    assert f"pid {os.getpid()}" in line and line.endswith("nothing done")
    assert not texts(here)


def test_a_warc_marked_open_is_not_read_and_is_said(here: Path) -> None:
    _, second = archive(here / "base")
    (here / "base" / "warc" / f"{second.name}.open").touch()  # a run or fetch is writing it
    result = CliRunner().invoke(app, ["reclean", "base/warc"])
    assert result.exit_code == 0, result.output
    said = f"{second.relative_to(here)}: skipped, still being written (or left open by a killed run"
    assert said in result.output
    assert "re-cleaned 1 record: 1 article (1 changed, 0 unchanged)" in result.output  # the first file's
    assert len(texts(here)) == 1


# --- fetch: a page cut by the stop -----------------------------------------------------------------


def test_a_page_cut_by_a_stop_counts_as_not_fetched_and_stays_archived(tmp_path: Path) -> None:
    urls = ["https://www.interfax.ru/world/1", "https://www.interfax.ru/world/2"]
    stop = threading.Event()
    routes = {"/world/1": Route(body=ARTICLE, stall=10), "/world/2": Route(body=ARTICLE)}
    with serve(routes) as server:
        settings = Settings(out=tmp_path / "out", delay=0.0, retries=0)
        settings = with_connect_to(settings, [f"https://www.interfax.ru={server.origin}"])
        timer = threading.Timer(1.5, stop.set)  # while the first page's body is awaited
        timer.start()
        try:
            result = fetch_batch(urls, settings, lambda _: None, stop=stop)
        finally:
            timer.cancel()
    assert result.report.outcomes == () and result.not_reached == 2
    assert result.warc is not None and b"WARC-Truncated: unspecified" in gzip.decompress(result.warc.read_bytes())


# --- parse: what a path is, and a bad --captured ---------------------------------------------------


def test_parse_says_a_bad_captured_date_in_its_own_words(here: Path) -> None:
    (here / "page.html").write_bytes(ARTICLE)
    line = error_line("parse", "--captured", "x", "--url", "https://www.interfax.ru/world/1", "page.html")
    assert line.startswith("error: --captured: 'x' is not a date (2026-11-22) or a time (2026-11-22T06:30")


def test_parse_of_a_device_says_what_it_is(here: Path) -> None:
    assert error_line("parse", "/dev/null") == (
        "error: /dev/null: a character device: parse reads one HTML page or one WARC file"
    )


def test_parse_of_a_fifo_says_what_it_is_and_never_waits_for_a_writer(here: Path) -> None:
    os.mkfifo(here / "pipe")
    command = [sys.executable, "-m", "scraper", "parse", "pipe"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=here)
    assert (done.returncode, done.stderr) == (
        2,
        "error: pipe: a FIFO (named pipe): parse reads one HTML page or one WARC file\n",
    )


def test_the_archive_folder_itself_is_re_cleaned_into_itself(here: Path) -> None:
    """``scraper reclean archives``: the archive folder, whose warc/ holds the WARCs."""
    archive(here / "archives")
    result = CliRunner().invoke(app, ["reclean", "archives"])
    assert result.exit_code == 0, result.output
    assert len(texts(here / "archives" / "text")) == len(WARCS)
