"""A day of 10-minute runs with nothing new: each site's WARC file grows, no new file per run,
and its one CDXJ index follows it."""

from __future__ import annotations

import threading
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_run import World

from scraper.archive.cdx import index_path, read_index
from scraper.config import load_settings
from scraper.schedule.limits import Budget
from scraper.schedule.run import scheduled_run
from scraper.sites import SITES

RUNS = 144  # a day of runs every ten minutes


def test_a_day_of_runs_with_nothing_new_keeps_one_warc_per_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    world = World(tmp_path)
    days = {datetime.now(UTC).date()}
    with ExitStack() as stack:
        world.start(stack)
        settings = load_settings(tmp_path / "run.toml", env={})
        for _ in range(1 + RUNS):
            result = scheduled_run(settings, list(SITES), Budget(None, None, threading.Event()), lambda _: None)
            assert not result.failed, result.sites
            days.add(datetime.now(UTC).date())
    warcs = sorted((tmp_path / "out" / "warc").glob("*.warc.gz"))
    per_site = {site.name: [w for w in warcs if w.name.startswith(f"{site.name}-")] for site in SITES}
    # a run that crosses midnight UTC starts the new day's file
    assert all(1 <= len(files) <= len(days) for files in per_site.values()), per_site
    for site in SITES:  # every run's revisit of every feed is in the index of the file it went to
        entries = [e for w in per_site[site.name] for e in read_index(index_path(w))]
        revisits = [e for e in entries if e.mime == "warc/revisit"]
        assert len(revisits) == RUNS * len(site.feeds), site.name
    assert sorted(p.name for p in (tmp_path / "out" / "warc").glob("*.cdxj")) == sorted(f"{w.name}.cdxj" for w in warcs)
