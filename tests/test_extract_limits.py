"""Extraction's per-page time limit and memory bound (issue 15): a page past either fails with the
reason, its worker is replaced, and the next page is extracted as usual. The pages too large to
be articles are refused before they are parsed, the same way in every command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_workers import alive, children

from scraper import Article, Capture, Rejected, process
from scraper.errors import WorkerError
from scraper.extract.process import MOST_TAGS
from scraper.pipeline.workers import Extractors
from scraper.sites import GENERIC, SITES, Site

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")

MB = 1 << 20


def page(body: bytes) -> Capture:
    return Capture(
        "https://news.example.org/a/1", datetime(2024, 5, 1, tzinfo=UTC), 200, (("Content-Type", "text/html"),), body
    )


def hang(pid_file: Path) -> None:
    pid_file.write_text(str(os.getpid()))
    time.sleep(30)


def grow(most_mb: int, step_mb: int, pause: float) -> int:
    """Memory in use (every page written), ``step_mb`` at a time, ``most_mb`` at most: bounded."""
    held = []
    for _ in range(most_mb // step_mb):
        held.append(b"x" * (step_mb * MB))
        time.sleep(pause)
    return len(held)


def allocate(mb: int) -> int:
    return len(bytes(mb * MB))  # one allocation: past the bound, a MemoryError


def failure(workers: Extractors, fn: Callable[..., object], *args: object) -> str:
    with pytest.raises(WorkerError) as failed:
        workers.submit(fn, *args).result()
    return str(failed.value)


def test_a_call_past_the_time_limit_fails_within_about_the_limit_and_the_next_one_works() -> None:
    with Extractors(1, seconds=1) as workers:
        first = workers.submit(os.getpid).result()
        started = time.monotonic()
        assert failure(workers, time.sleep, 30) == "extraction took longer than 1 s"
        assert time.monotonic() - started < 2.5
        assert not alive(first), "the worker over its limit is still running"
        assert workers.submit(divmod, 7, 2).result() == (3, 1)
        assert workers.submit(os.getpid).result() not in (first, os.getpid())


def test_the_time_limit_is_the_calls_own_not_the_workers_and_untimed_calls_have_none() -> None:
    with Extractors(1, seconds=1) as workers:
        assert [workers.submit(time.sleep, 0.4).result() for _ in range(4)] == [None] * 4
        assert workers.submit_untimed(time.sleep, 1.5).result() is None


def test_a_call_past_the_memory_bound_fails_whether_at_once_or_growing() -> None:
    with Extractors(1, memory_mb=100) as workers:
        first = workers.submit(os.getpid).result()
        assert failure(workers, allocate, 400) == "extraction needed more than 100 MB"  # a MemoryError
        started = time.monotonic()
        assert failure(workers, grow, 400, 2, 0.002) == "extraction needed more than 100 MB"
        assert time.monotonic() - started < 10
        assert workers.submit(grow, 60, 2, 0).result() == 30  # within the bound: a fresh worker's whole room
        assert workers.submit(os.getpid).result() != first


def test_a_worker_forked_while_threads_run_has_the_same_room() -> None:
    # their stacks and malloc arenas are in the child's address space: a bound on address space
    # would leave it nothing, one on data counts them in its base
    stop = threading.Event()
    threads = [threading.Thread(target=stop.wait) for _ in range(16)]
    for thread in threads:
        thread.start()
    try:
        with Extractors(1, memory_mb=150) as workers:
            assert workers.submit(grow, 120, 4, 0).result() == 30
            assert failure(workers, grow, 400, 4, 0) == "extraction needed more than 150 MB"
    finally:
        stop.set()


def test_a_worker_killed_in_the_middle_of_a_call_fails_that_call_only(tmp_path: Path) -> None:
    with Extractors(2, seconds=30) as workers:
        pid_file = tmp_path / "pid"
        doomed = workers.submit(hang, pid_file)
        other = workers.submit(time.sleep, 1)
        deadline = time.monotonic() + 10
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
        with pytest.raises(WorkerError, match="a worker process died"):
            doomed.result()
        assert other.result() is None
        started = time.monotonic()  # both workers are there again: two calls at once
        assert [p.result() for p in [workers.submit(time.sleep, 1), workers.submit(time.sleep, 1)]] == [None, None]
        assert time.monotonic() - started < 1.9


def test_a_calls_own_exception_reaches_the_caller_and_the_worker_stays() -> None:
    with Extractors(1, seconds=5) as workers:
        first = workers.submit(os.getpid).result()
        with pytest.raises(ValueError, match="invalid literal"):
            workers.submit(int, "x").result()
        assert workers.submit(os.getpid).result() == first


@pytest.mark.parametrize("site", [GENERIC, *SITES], ids=lambda s: s.name)
def test_a_million_paragraphs_are_refused_before_parsing(site: Site) -> None:
    body = b"<html><body><article>" + b"<p>a</p>" * 1_000_000
    started = time.monotonic()
    result = process(page(body), site)
    assert time.monotonic() - started < 1
    assert isinstance(result, Rejected) and result.reason.startswith("too many elements to be an article")


def test_only_start_tags_count_towards_the_bound() -> None:
    # 40,000 elements are 80,000 "<" with their closing tags, and a comment or a script's "<" is no tag
    body = b"<html><body><article>" + b"<p>a</p><!-- x -->" * 40_000 + b"<script>if (a<b) {}</script>"
    result = process(page(body), GENERIC)
    assert not (isinstance(result, Rejected) and result.reason.startswith("too many elements"))
    refused = process(page(b"<html><body>" + b"<b>a</b>" * MOST_TAGS), GENERIC)
    assert isinstance(refused, Rejected)
    assert refused.reason.startswith("too many elements to be an article: 50,002 tags")


def test_a_long_real_page_is_under_the_tag_bound() -> None:
    pages = Path(__file__).parents[2] / "shared" / "pages"
    counts = [p.read_bytes().count(b"<") for p in pages.rglob("*.htm*")]
    if not counts:
        pytest.skip("no real pages in ../shared/pages")
    assert max(counts) * 10 < MOST_TAGS


def test_a_page_that_parses_for_minutes_fails_within_its_time_limit() -> None:
    # a million attributes on one element: few tags, but libxml2's parse of them is quadratic
    body = b"<html><body><article><p " + b" ".join(b"a%d=x" % i for i in range(1_000_000)) + b">text</p>"
    with Extractors(1, seconds=5, memory_mb=400) as workers:
        started = time.monotonic()
        assert failure(workers, process, page(body), GENERIC) == "extraction took longer than 5 s"
        assert time.monotonic() - started < 6.5
        paragraphs = workers.submit(process, page(b"<html><body><article>" + b"<p>a</p>" * 1_000_000), GENERIC).result()
        assert isinstance(paragraphs, Rejected) and paragraphs.reason.startswith("too many elements")
        words = page(b"<html><body><article><p>" + b"Words. " * 40 + b"</p>")
        article = workers.submit(process, words, GENERIC).result()
        assert isinstance(article, Article) and article.text.startswith("Words.")


def test_workers_end_with_their_parent_even_in_the_middle_of_a_call() -> None:
    script = (
        "import time\nfrom scraper.pipeline.workers import Extractors\n"
        "workers = Extractors(2, 60, 400)\nbusy = workers.submit(time.sleep, 60)\n"
        "print('up', flush=True)\ntime.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "up"
        workers = children(parent.pid)
        assert len(workers) == 2
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(w) for w in workers), "a worker outlived its killed parent"
    finally:
        parent.kill()
