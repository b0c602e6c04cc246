"""Worker processes: where calls run, what a dead worker does to a run, and that no worker outlives
a killed parent (it would keep the archive lock's descriptor open)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scraper.errors import WorkerError
from scraper.pipeline.workers import CLOCK, Clock, Extractors, Streamed
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


def _counted(context: dict[str, int], n: int, pause: float = 0, stop_at: int | None = None) -> Iterator[object]:
    """The context's base plus 0, 1, ..., waiting ``pause`` s before item ``stop_at``; with n < 0,
    -n items of which the last is a lock, which no pickle takes."""
    for i in range(abs(n)):
        yield CLOCK
        if i == stop_at:
            time.sleep(pause)
        yield threading.Lock() if n < 0 and i == -n - 1 else context["base"] + i


def _raising(context: object) -> Iterator[int | Clock]:
    yield CLOCK
    yield 1
    raise ValueError("bad record")


@pytest.mark.parametrize(("jobs", "seconds"), [(1, None), (2, None), (1, 2.0)], ids=["here", "two", "limited"])
def test_a_streamed_call_gets_the_context_from_the_fork_and_its_items_as_they_come(
    jobs: int, seconds: float | None
) -> None:
    context = {"base": 100}
    with Extractors(jobs, seconds=seconds, context=context) as workers:
        got = workers.stream(_counted, 5).result()
        assert got == Streamed((100, 101, 102, 103, 104))
        failed = workers.stream(_raising).result()
        assert failed.items == (1,) and isinstance(failed.error, ValueError)
        assert workers.submit(divmod, 7, 2).result() == (3, 1)  # the worker goes on


def test_a_streamed_item_past_the_time_limit_ends_the_call_with_the_items_before_it() -> None:
    with Extractors(1, seconds=1, context={"base": 0}) as workers:
        started = time.monotonic()
        late = workers.stream(_counted, 6, 30, 3).result()  # items 0-2 at once, then 30 s before item 3
        assert late.items == (0, 1, 2) and str(late.error) == "extraction took longer than 1 s"
        assert time.monotonic() - started < 5
        # the limit is each item's: five items of 0.6 s each take 3 s and pass
        slow = workers.stream(_slow_items, 5, 0.6).result()
        assert slow == Streamed((0, 1, 2, 3, 4))
        # what comes before a mark is not timed: 1.5 s there, under a limit of 1 s, passes
        assert workers.stream(_slow_items, 2, 0.1, 1.5).result() == Streamed((0, 1))
        assert workers.stream(_counted, 2).result() == Streamed((0, 1))  # a new worker took its place


def _slow_items(context: object, n: int, pause: float, before_clock: float = 0) -> Iterator[int | Clock]:
    for i in range(n):
        time.sleep(before_clock)  # reading, say: not timed
        yield CLOCK
        time.sleep(pause)
        yield i


def test_an_item_that_cannot_be_sent_ends_the_call_and_the_next_call_is_answered_in_order() -> None:
    with Extractors(2, context={"base": 0}) as workers:
        broken = workers.stream(_counted, -3).result()
        assert broken.items == (0, 1) and "could not be sent" in str(broken.error)
        assert [workers.stream(_counted, 3).result().items for _ in range(4)] == [(0, 1, 2)] * 4
