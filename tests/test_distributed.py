"""Re-clean on a Dask cluster (a LocalCluster here) writes the same files as a local run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scraper.cli import app

distributed = pytest.importorskip("dask.distributed")
FIXTURES = Path(__file__).parent / "fixtures"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def archive(root: Path) -> Path:
    (root / "warc").mkdir(parents=True)
    for warc in FIXTURES.glob("*/*.warc.gz"):
        shutil.copy(warc, root / "warc" / warc.name)
    return root


def test_cluster_reclean_equals_a_local_one(tmp_path: Path) -> None:
    local, remote = archive(tmp_path / "local"), archive(tmp_path / "remote")
    done = CliRunner().invoke(app, ["reclean", "--out", str(local), str(local / "warc")])
    assert done.exit_code == 0, done.output
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        done = CliRunner().invoke(
            app, ["reclean", "--out", str(remote), "--scheduler", cluster.scheduler_address, str(remote / "warc")]
        )
    assert done.exit_code == 0, done.output
    texts = snapshot(local / "text")
    error_pages = [c for c in FIXTURES.glob("*/*.json") if json.loads(c.read_text(encoding="utf-8")).get("rejected")]
    articles = len(list((local / "warc").glob("*.warc.gz"))) - len(error_pages)  # a "not found" page gives none
    assert len([name for name in texts if name.endswith(".txt")]) == articles
    assert snapshot(remote / "text") == texts


def test_an_unreachable_scheduler_is_a_one_line_error(tmp_path: Path) -> None:
    root = archive(tmp_path / "a")
    done = CliRunner().invoke(
        app, ["reclean", "--out", str(root), "--scheduler", "tcp://127.0.0.1:9", str(root / "warc")]
    )
    assert done.exit_code == 2
    assert done.output.strip().startswith("error: tcp://127.0.0.1:9: cannot reach the Dask scheduler")
