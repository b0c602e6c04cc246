"""Crash safety: `scraper run` killed with SIGKILL at random moments, again and again, on one archive.

Each round the feed grows by a few articles (every third some 3 MB of text that compresses poorly,
so that kills land in the middle of writing records too), a run starts and is killed at a random
moment. After every
kill each WARC must read with warcio up to its last complete record (a torn record can only be the
last one, in a file the run left marked open); the next run repairs it. At the end an unkilled run
completes, and then every article is held exactly once, `scraper verify` is clean and warcio reads
every file whole. About two minutes; KILLS and KILL_SEED in the environment change the count and
replay a seed (printed when the test fails).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from faultserver import Faults, many, run_config, serve
from warcio.archiveiterator import ArchiveIterator

from scraper.archive.catalog import Catalog
from scraper.capture.warc import ReadProblem, check_records
from scraper.sites import site_for
from scraper.urls import canonical

KILLS = int(os.environ.get("KILLS", "20"))
GROWTH = 4  # articles added to the feed each round; at 0.5 s apart, a run lasts some 4 s


def _scraper_run(cwd: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "scraper", "run", "--config", "run.toml", "-q"]
    return subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _warcio_reads(warc: Path) -> tuple[int, str | None]:
    """Records warcio reads whole, digests checked, and what stopped it, if anything did."""
    count = 0
    with open(warc, "rb") as fh:
        records = ArchiveIterator(fh, check_digests=True)
        try:
            for record in records:
                records.read_to_end(record)
                if record.digest_checker.passed is False:
                    return count, f"digest: {record.digest_checker.problems}"
                count += 1
        except Exception as exc:  # whatever warcio raises on a torn record
            return count, f"{type(exc).__name__}: {exc}"
    return count, None


def _check_after_kill(warcs: Path, said: str) -> set[str]:
    """Every WARC reads up to its last complete record, with warcio directly and with the digest
    check `scraper verify` uses; a torn record is only ever the last, in a file left marked open.
    Returns the torn ones."""
    torn = set()
    for warc in sorted(warcs.glob("*.warc.gz")):
        items = list(check_records(warc))
        whole = [item for item in items if not isinstance(item, ReadProblem)]
        tail = [item for item in items if isinstance(item, ReadProblem)]
        assert whole and not [r.problems for r in whole if r.problems], f"{said}: {warc.name}: {items}"
        read, stopped = _warcio_reads(warc)
        assert read >= len(whole), f"{said}: {warc.name}: warcio read {read} of {len(whole)} records: {stopped}"
        if tail or stopped:
            assert warc.with_name(warc.name + ".open").exists(), f"{said}: {warc.name} torn yet closed: {tail}"
            torn.add(warc.name)
    return torn


def test_runs_killed_at_random_moments_lose_and_double_nothing(tmp_path: Path) -> None:
    seed = int(os.environ.get("KILL_SEED", str(random.SystemRandom().randrange(1 << 30))))
    rng = random.Random(seed)
    faults = Faults(aliases={"/rss.asp": "/feed/many?n=6"})
    warcs = tmp_path / "out" / "warc"
    articles, kills_landed, torn_seen = 6, 0, set[str]()
    with serve(faults) as server:
        (tmp_path / "run.toml").write_text(run_config(server.origin, '["interfax"]', False, 0.5, retries=0, timeout=5))
        for round_ in range(KILLS):
            articles += GROWTH
            faults.aliases["/rss.asp"] = f"/feed/many?n={articles}"
            victim = _scraper_run(tmp_path)
            moment = rng.uniform(1.0, 4.5)
            time.sleep(moment)
            kills_landed += victim.poll() is None
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            said = f"seed {seed}, kill {round_ + 1} at {moment:.2f} s"
            torn_seen |= _check_after_kill(warcs, said)
        for _ in range(2):  # the last run is never killed; a second one must find nothing to do
            done = _scraper_run(tmp_path)
            _, stderr = done.communicate(timeout=300)
            assert done.returncode == 0, f"seed {seed}: {stderr.decode()}"
    _check_final(tmp_path, articles, seed)
    set_aside = list(warcs.glob("*.torn"))  # what the runs after a kill cut off, kept as evidence
    assert len(set_aside) == len(torn_seen), f"seed {seed}: torn {sorted(torn_seen)}, set aside {set_aside}"
    assert kills_landed >= KILLS // 2, f"seed {seed}: only {kills_landed} kills hit a running run"
    print(f"seed {seed}: {KILLS} kills ({kills_landed} mid-run), {len(torn_seen)} torn tails seen and repaired")


def _check_final(tmp: Path, articles: int, seed: int) -> None:
    out = tmp / "out"
    assert not list((out / "warc").glob("*.open")), f"seed {seed}: a WARC left marked open"
    for warc in sorted((out / "warc").glob("*.warc.gz")):
        assert _warcio_reads(warc)[1] is None, f"seed {seed}: {warc.name}"
    texts = sorted((out / "text").rglob("*.txt"))
    hashes = [t.name.split("_", 1)[1] for t in texts]
    assert len(texts) == articles and len(set(hashes)) == articles, f"seed {seed}: {len(texts)} texts"
    urls = many("https://www.interfax.ru", articles)
    with Catalog(out / "catalog.sqlite") as catalog:
        rows = [catalog.article(canonical(url, site_for(url))) for url in urls]
    assert all(row is not None and row.text_path and (out / row.text_path).is_file() for row in rows), seed
    check = subprocess.run([sys.executable, "-m", "scraper", "verify", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, f"seed {seed}: {check.stdout}{check.stderr}"
