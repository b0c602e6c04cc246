"""Ctrl-C or SIGTERM in the middle of a command: one line saying what was done and what was not,
exit code 130, and no traceback (the commands that write files: reclean here; run and fetch in
test_waits, pack, export, index and replay in test_archive_commands)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_reclean_parallel import OtherTool, seed_captures


@pytest.fixture(scope="module")
def many_pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of 2,000 responses: seconds of re-cleaning."""
    root = tmp_path_factory.mktemp("archive")
    (root / "warc").mkdir()
    captures = seed_captures()
    with open(root / "warc" / "pages.warc.gz", "wb") as fh:
        writer = OtherTool(fh)
        for n in range(2000):
            capture = captures[n % len(captures)]
            writer.page(capture, f"{capture.url}?n={n}")
    return root


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_reclean_says_how_far_it_got(many_pages: Path, sig: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPER_")}
    command = [
        sys.executable,
        "-m",
        "scraper",
        "reclean",
        "--jobs",
        "1",
        "--out",
        str(many_pages),
        str(many_pages / "warc"),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(3)
    assert process.poll() is None, "the re-clean ended before the signal: make the archive larger"
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=30)
    lines = stderr.strip().splitlines()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert lines[-1].startswith("stopped: re-cleaned ")
    assert lines[-1].endswith("; the others keep the texts they had (run it again)")
    assert 0 < int(lines[-1].split()[2]) < 2000
