"""Typos are not success: a command given nothing to work on, or a value out of range, says so
in one line and exits 2, in the words of the option the user typed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


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
    ],
)
def test_nothing_to_do_is_one_line_and_exit_2(tmp_path: Path, args: list[str], said: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "nothing.warc.gz").write_bytes(b"")
    done = scraper(tmp_path, *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(said) and done.stderr.count("\n") == 1, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "nothing.warc.gz"]  # nothing written
