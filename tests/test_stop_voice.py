"""Ctrl-C or SIGTERM in the middle of a command: one line saying what was done and what was not,
exit code 130, and no traceback (the commands that write files: reclean here; run and fetch in
test_waits, pack, export, index and replay in test_archive_commands)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import pytest
from test_reclean_parallel import OtherTool, seed_captures
from test_run import World

import scraper.sites
from scraper.archive.catalog import Catalog
from scraper.config import load_settings
from scraper.models import Outcome
from scraper.pipeline.reread import reclean
from scraper.sites import SITES


@pytest.fixture(scope="module")
def many_pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A WARC of 2,000 responses: seconds of re-cleaning."""
    warc = tmp_path_factory.mktemp("pages") / "pages.warc.gz"
    captures = seed_captures()
    with open(warc, "wb") as fh:
        writer = OtherTool(fh)
        for n in range(2000):
            capture = captures[n % len(captures)]
            writer.page(capture, f"{capture.url}?n={n}")
    return warc


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_reclean_says_how_far_it_got(many_pages: Path, tmp_path: Path, sig: int) -> None:
    (tmp_path / "warc").mkdir()
    os.link(many_pages, tmp_path / "warc" / many_pages.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPER_")}
    command = [sys.executable, "-m", "scraper", "reclean", "--jobs", "1", str(tmp_path / "warc")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while not any((tmp_path / "text").rglob("*.txt")):  # the re-clean is under way
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.01)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=30)
    lines = stderr.strip().splitlines()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert lines[-1].startswith("stopped: re-cleaned ")
    assert lines[-1].endswith("; the others keep the texts they had (run it again)")
    assert 0 < int(lines[-1].split()[2]) < 2000


def _catches_sigterm(pid: int) -> bool:
    """The process has a handler for SIGTERM (Python installs none of its own): the entry point's."""
    status = Path(f"/proc/{pid}/status").read_text()
    caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
    return bool(caught & (1 << (signal.SIGTERM - 1)))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_the_command_line_loads_is_one_line_and_130(tmp_path: Path, sig: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPER_")}
    command = [sys.executable, "-m", "scraper", "run", "--out", str(tmp_path / "out")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 20
    while not _catches_sigterm(process.pid):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.001)
    process.send_signal(sig)  # the heavy imports (typer, rich, lxml, httpx) are only beginning
    _, stderr = process.communicate(timeout=30)
    assert (process.returncode, stderr) == (130, "stopped: before the command started; nothing was done\n")
    assert not (tmp_path / "out").exists()


def test_a_stopped_reclean_leaves_the_catalog_naming_the_texts_it_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The records under way at the stop are finished, and the catalog learns of every text written
    (it was told only after the last record: a stop left it naming the adapters of the old texts)."""
    world, out = World(tmp_path), tmp_path / "out"
    with ExitStack() as stack:
        world.start(stack)
        assert world.run()[0].returncode == 0
    renamed = tuple(replace(s, layouts=(*s.layouts[:-1], replace(s.layouts[-1], version="stop"))) for s in SITES)
    monkeypatch.setattr(scraper.sites, "SITES", renamed)
    stop, seen = threading.Event(), []

    def on_step(outcome: Outcome) -> None:
        seen.append(outcome)
        stop.set()  # after the first record, with the others in the window under way

    settings = load_settings(tmp_path / "run.toml", out=out, jobs=1)
    report = reclean([out / "warc"], settings, on_step, stop=stop)
    with Catalog(out / "catalog.sqlite", read_only=True) as catalog:
        rows = [row for row in catalog.articles() if row.text_path]
    assert 1 < len(seen) == len(report.outcomes)  # the records under way were finished
    versions = set()
    for row in rows:
        said = json.loads((out / (row.text_path or "")).with_suffix(".json").read_text())
        assert row.adapter == f"{said['adapter']}/{said['adapter_version']}", row
        versions.add(said["adapter_version"])
    assert "stop" in versions and len(versions) > 1  # some texts were rewritten, and the others kept
    assert len(reclean([out / "warc"], settings).outcomes) > len(report.outcomes)  # not all records
