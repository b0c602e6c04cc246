"""Worker processes: where calls run, what a dead worker does to a run, and that no worker outlives
a killed parent (it would keep the archive lock's descriptor open)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scraper.errors import WorkerError
from scraper.pipeline.workers import Extractors
from scraper.schedule.limits import archive_lock

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")


def _die() -> int:
    os._exit(3)


def test_one_job_runs_in_this_process() -> None:
    with Extractors(1) as workers:
        assert workers.submit(os.getpid).result() == os.getpid()


def test_jobs_run_in_worker_processes_while_the_caller_goes_on() -> None:
    with Extractors(2) as workers:
        slow, quick = workers.submit(time.sleep, 0.5), workers.submit(divmod, 7, 2)
        assert quick.result() == (3, 1)
        assert slow.result() is None
        assert workers.submit(os.getpid).result() != os.getpid()


def test_one_job_with_a_limit_runs_in_a_worker_process() -> None:
    with Extractors(1, seconds=60) as workers:
        assert workers.submit(os.getpid).result() in children(os.getpid())


def test_a_dead_worker_fails_its_call_and_a_new_one_takes_its_place() -> None:
    with Extractors(2) as workers:
        before = children(os.getpid())
        with pytest.raises(WorkerError, match="worker process died"):
            workers.submit(_die).result()
        started = time.monotonic()  # two workers again: two calls at once
        assert [p.result() for p in [workers.submit(time.sleep, 0.5), workers.submit(time.sleep, 0.5)]] == [None] * 2
        assert time.monotonic() - started < 0.95
        assert len(children(os.getpid()) - before) == 1


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_workers_do_not_keep_the_archive_lock_of_a_killed_run(tmp_path: Path) -> None:
    script = (
        "import sys, time; from pathlib import Path; from scraper.schedule.limits import archive_lock;"
        " from scraper.pipeline.workers import Extractors\n"
        "with archive_lock(Path(sys.argv[1])):\n"
        "    pool = Extractors(2, 60.0); print('up', flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "up"
        workers = children(parent.pid)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        with archive_lock(tmp_path):  # at once: not after the orphaned workers have noticed and ended
            assert workers
    finally:
        parent.kill()
