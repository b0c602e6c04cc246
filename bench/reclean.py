"""Re-clean throughput: the site adapters against plain trafilatura, one worker against two, and
peak memory as an archive grows (issues 6 and 17).

Builds, in a temporary folder, a WARC of ``--pages`` site pages (``pagewarc.py``): with
``--pages-from fixtures`` (the default) every fixture page of ``tests/fixtures/*/`` (~21 KiB), with
``--pages-from shared`` every real article page of ``../shared/pages`` (35-290 KiB), each repeated
under distinct URLs of its own site (``?id=N`` appended: same host, so the same adapter; same
WARC-Date, so the same dated layout), each as a response, a request and a metadata record. Then, in
one run, measures pages/s and MB/s (of the response bodies, as served) of

- ``scraper.pipeline.reclean`` in this process with ``Settings(out=tmp, jobs=1)``, into an empty
  output folder (every text written), then again into the same folder (every text unchanged), and
  with ``jobs=2`` into an empty folder (the scaling without the command's start-up and exit);
- the ``scraper reclean`` command (``python -m scraper``, start-up included) with ``--jobs 1``
  and ``--jobs 2``, each into an empty output folder;
- plain ``trafilatura.extract`` over the same response records (read with warcio, body bytes, url).

Each figure is the best of ``--repeat`` rounds, measured in turn so that a busy moment of the
machine hits every figure alike; the load average is recorded with the figures. Peak memory is the
``ru_maxrss`` (from ``wait4``: the largest of the command and its workers) of ``scraper reclean``
over ``--memory-small`` and ``--memory-large`` pages of the same source, for each of
``--memory-jobs`` (1 and 2), with the pages/s and MB/s of those runs.

Prints the figures, writes ``bench/results/reclean.json`` (``reclean-shared.json`` with
``--pages-from shared``), and ends with the line ``RATIO adapters/plain=X.XX jobs2/jobs1=Y.YY``.
Goals (issues 6, 17): adapters/plain >= 1.5 (in-process re-clean into an empty folder against
plain trafilatura), jobs2/jobs1 >= 1.8 (the command; the in-process figure is printed beside it),
peak memory large/small <= 1.2 (the worse of the --jobs values). ``--profile PAGES`` adds a
cProfile of an in-process re-clean; ``--workdir DIR`` puts the WARCs and outputs on another disk
(e.g. /dev/shm, to see the cost of the output file system).

    python bench/reclean.py [--pages-from fixtures|shared] [--pages 2000] [--repeat 3]
                            [--memory-small 1000 --memory-large 10000] [--memory-jobs 1 2]
                            [--no-memory] [--profile PAGES] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import trafilatura
from disk import settle  # bench/, the folder of this script
from pagewarc import PageWarc, build_warc, fixture_captures, response_records, shared_captures

from scraper import __version__
from scraper.config import Settings
from scraper.models import Capture, RunReport
from scraper.pipeline import reread as pipeline

ROOT = Path(__file__).resolve().parent.parent
GOAL_ADAPTERS, GOAL_JOBS, GOAL_MEMORY = 1.5, 1.8, 1.2
FIGURES = (
    "plain",
    "plain_extract_only",
    "inprocess_jobs1",
    "inprocess_rerun",
    "inprocess_jobs2",
    "cli_jobs1",
    "cli_jobs2",
)


@dataclass(frozen=True, slots=True)
class Timing:
    pages: int
    body_bytes: int  # of the pages' response bodies, as served
    seconds: float
    cpu_seconds: float | None = None  # of the process(es) doing the work, where known

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def mb_rate(self) -> float:
        """MB (10^6 bytes) of response bodies per second: pages/s alone hides a page's size."""
        return self.body_bytes / 1e6 / self.seconds if self.seconds else 0.0

    def as_json(self) -> dict[str, float | None]:
        cpu_ms = None if self.cpu_seconds is None else round(1000 * self.cpu_seconds / self.pages, 2)
        return {
            "pages": self.pages,
            "body_mb": round(self.body_bytes / 1e6, 2),
            "seconds": round(self.seconds, 3),
            "pages_per_s": round(self.rate, 2),
            "mb_per_s": round(self.mb_rate, 2),
            "cpu_ms_per_page": cpu_ms,
        }

    def __str__(self) -> str:
        cpu = f"  cpu {1000 * self.cpu_seconds / self.pages:.2f} ms/page" if self.cpu_seconds is not None else ""
        return f"{self.rate:8.1f} pages/s {self.mb_rate:7.2f} MB/s  ({self.pages} pages in {self.seconds:.2f}s){cpu}"


@dataclass(frozen=True, slots=True)
class Child:
    """A finished child process: wall time, CPU time and peak RSS of it and its reaped workers."""

    seconds: float
    cpu_seconds: float
    maxrss_kib: int


@dataclass(slots=True)
class Samples:
    """Every round's timing of each figure; the best one is reported."""

    rounds: dict[str, list[Timing]] = field(default_factory=lambda: {name: [] for name in FIGURES})

    def add(self, name: str, timing: Timing) -> None:
        self.rounds[name].append(timing)

    def best(self, name: str) -> Timing:
        return max(self.rounds[name], key=lambda t: t.rate)


# --- what is measured --------------------------------------------------------------------------


def cpu_now() -> float:
    """This process and the children it reaped: the workers of an in-process re-clean."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def check(report: RunReport, pages: int, what: str) -> None:
    done = [o for o in report.succeeded if not o.skipped]
    if len(done) != pages:
        bad = "; ".join(f"{o.url}: {o.reason}" for o in report.failed[:3])
        raise SystemExit(f"{what}: {len(done)} of {pages} pages extracted ({bad})")


def into_archive(warc: PageWarc, out: Path) -> Path:
    """The WARC inside the archive ``out``, as a re-clean takes it (the command refuses one from
    elsewhere: a text's JSON names its WARC within the archive); a hard link, so nothing is copied."""
    inside = out / "warc" / warc.path.name
    if not inside.exists():
        inside.parent.mkdir(parents=True, exist_ok=True)
        os.link(warc.path, inside)
    return inside


def time_inprocess(warc: PageWarc, out: Path, jobs: int = 1) -> Timing:
    """``pipeline.reclean`` called in this process (with jobs > 1, its workers' time counts too)."""
    inside = into_archive(warc, out)
    cpu, start = cpu_now(), time.perf_counter()
    report = pipeline.reclean([inside], Settings(out=out, jobs=jobs))
    seconds = time.perf_counter() - start
    check(report, warc.pages, "pipeline.reclean")
    return Timing(warc.pages, warc.body_bytes, seconds, cpu_now() - cpu)


def time_plain(warc: PageWarc) -> tuple[Timing, Timing]:
    """Plain trafilatura over the records: (reading and extracting, extracting alone)."""
    pages, body_bytes, extracting = 0, 0, 0.0
    cpu, start = cpu_now(), time.perf_counter()
    for url, body in response_records(warc.path):
        began = time.perf_counter()
        trafilatura.extract(body, url=url)
        extracting += time.perf_counter() - began
        pages, body_bytes = pages + 1, body_bytes + len(body)
    whole = Timing(pages, body_bytes, time.perf_counter() - start, cpu_now() - cpu)
    return whole, Timing(pages, body_bytes, extracting)


def run_child(argv: list[str], cwd: Path) -> Child:
    """Run a command to its end. wait4 gives its rusage, workers it reaped included."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPER_")}  # defaults, as in-process
    log = cwd / "command.log"
    with log.open("wb") as sink:
        start = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {child.returncode}\n{log.read_text(errors='replace')[-2000:]}")
    return Child(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


def cli_reclean(warc: PageWarc, out: Path, jobs: int) -> Child:
    inside = str(into_archive(warc, out))
    argv = [sys.executable, "-m", "scraper", "reclean", inside, "--jobs", str(jobs), "--out", str(out), "--quiet"]
    return run_child(argv, out)


def cli_timing(warc: PageWarc, out: Path, jobs: int) -> Timing:
    child = cli_reclean(warc, out, jobs)
    return Timing(warc.pages, warc.body_bytes, child.seconds, child.cpu_seconds)


def cli_startup(work: Path) -> float:
    """Seconds for the command to start and import everything, paid once by each CLI figure."""
    return run_child([sys.executable, "-m", "scraper", "--version"], work).seconds


def one_round(warc: PageWarc, work: Path, samples: Samples) -> None:
    """Every figure once, each re-clean into a new output folder of its own; the folders are
    removed when the round is over, never between two figures, and before each figure the disk is
    left to settle (``disk.settle``), so that none pays for another's disk work."""
    settle(work)
    plain, extract_only = time_plain(warc)
    samples.add("plain", plain)
    samples.add("plain_extract_only", extract_only)
    outs = [work / f"out-{name}" for name in ("inprocess1", "inprocess2", "cli1", "cli2")]
    settle(work)
    samples.add("inprocess_jobs1", time_inprocess(warc, outs[0]))
    settle(work)
    samples.add("inprocess_rerun", time_inprocess(warc, outs[0]))  # same folder: nothing to rewrite
    settle(work)
    samples.add("inprocess_jobs2", time_inprocess(warc, outs[1], jobs=2))
    for jobs, out in zip((1, 2), outs[2:], strict=True):
        settle(work)
        samples.add(f"cli_jobs{jobs}", cli_timing(warc, out, jobs))
    for out in outs:
        shutil.rmtree(out)


def profile_reclean(warc: PageWarc, out: Path, top: int) -> str:
    inside = into_archive(warc, out)
    profiler = cProfile.Profile()
    profiler.enable()
    pipeline.reclean([inside], Settings(out=out, jobs=1))
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return text.getvalue()


# --- the run -----------------------------------------------------------------------------------


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else 0.0


@dataclass(frozen=True, slots=True)
class Throughput:
    warc: PageWarc
    samples: Samples
    startup: float  # seconds the command takes to start, inside each CLI figure

    def best(self, name: str) -> Timing:
        return self.samples.best(name)

    @property
    def adapters_plain(self) -> float:
        return ratio(self.best("inprocess_jobs1").rate, self.best("plain").rate)

    @property
    def jobs2_jobs1(self) -> float:
        return ratio(self.best("cli_jobs2").rate, self.best("cli_jobs1").rate)

    @property
    def jobs2_jobs1_inprocess(self) -> float:
        """The same without the command's start-up and exit, which one worker or two pay alike."""
        return ratio(self.best("inprocess_jobs2").rate, self.best("inprocess_jobs1").rate)

    def as_json(self) -> dict[str, object]:
        return {
            "pages": self.warc.pages,
            "body_mb": round(self.warc.body_bytes / 1e6, 2),
            "repeat": len(self.samples.rounds["plain"]),
            "best": {name: self.best(name).as_json() for name in FIGURES},
            "rounds_pages_per_s": {n: [round(t.rate, 2) for t in ts] for n, ts in self.samples.rounds.items()},
            "rounds_mb_per_s": {n: [round(t.mb_rate, 2) for t in ts] for n, ts in self.samples.rounds.items()},
            "cli_startup_seconds": round(self.startup, 3),
            "adapters/plain": self.adapters_plain,
            "jobs2/jobs1": self.jobs2_jobs1,
            "jobs2/jobs1 in-process": self.jobs2_jobs1_inprocess,
        }


@dataclass(frozen=True, slots=True)
class MemoryRun:
    """One ``scraper reclean`` command over a WARC, start-up included."""

    warc: PageWarc
    child: Child

    @property
    def timing(self) -> Timing:
        return Timing(self.warc.pages, self.warc.body_bytes, self.child.seconds, self.child.cpu_seconds)

    @property
    def maxrss_mib(self) -> float:
        return self.child.maxrss_kib / 1024

    def __str__(self) -> str:
        return f"{self.maxrss_mib:7.1f} MiB, {self.timing}"


@dataclass(frozen=True, slots=True)
class Memory:
    jobs: int
    runs: tuple[MemoryRun, ...]  # the smallest archive first

    @property
    def large_small(self) -> float:
        return ratio(self.runs[-1].maxrss_mib, self.runs[0].maxrss_mib)

    def as_json(self) -> dict[str, object]:
        runs = {r.warc.pages: {"maxrss_mib": round(r.maxrss_mib, 1), **r.timing.as_json()} for r in self.runs}
        return {"jobs": self.jobs, "runs": runs, "large/small": self.large_small}


@dataclass(frozen=True, slots=True)
class Goal:
    name: str
    value: float
    bound: float
    at_most: bool  # the value must stay at or below the bound (else reach it)

    @property
    def met(self) -> bool:
        return self.value <= self.bound if self.at_most else self.value >= self.bound

    def __str__(self) -> str:
        op = "<=" if self.at_most else ">="
        return f"goal {self.name}: {self.value:.2f} (goal {op} {self.bound}) {'met' if self.met else 'MISSED'}"

    def as_json(self) -> dict[str, object]:
        return {"value": self.value, "goal": f"{'<=' if self.at_most else '>='} {self.bound}", "met": self.met}


def goals(measured: Throughput, memory: list[Memory]) -> list[Goal]:
    found = [
        Goal("adapters/plain", measured.adapters_plain, GOAL_ADAPTERS, at_most=False),
        Goal("jobs2/jobs1", measured.jobs2_jobs1, GOAL_JOBS, at_most=False),
        Goal("jobs2/jobs1 in-process", measured.jobs2_jobs1_inprocess, GOAL_JOBS, at_most=False),
    ]
    if memory:  # the worst of the --jobs values measured
        found.append(Goal("memory large/small", max(m.large_small for m in memory), GOAL_MEMORY, at_most=True))
    return found


def git_state() -> str:
    try:
        done = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def bench_warc(args: argparse.Namespace, captures: list[Capture], work: Path, name: str, pages: int) -> PageWarc:
    warc = build_warc(work / "warc" / f"{name}-{pages}.warc.gz", captures, pages)
    size = f"bodies {warc.body_bytes / 1e6:.1f} MB, WARC {warc.path.stat().st_size / 1e6:.1f} MB"
    source = f"{len(captures)} pages of {args.pages_from}"
    print(f"WARC {name}: {pages} pages, cycling through {source}; {size}", flush=True)
    return warc


def measure_throughput(args: argparse.Namespace, captures: list[Capture], work: Path) -> Throughput:
    warc = bench_warc(args, captures, work, "bench", args.pages)
    samples = Samples()
    for n in range(args.repeat):
        start = time.perf_counter()
        one_round(warc, work, samples)
        print(f"  round {n + 1}/{args.repeat}: {time.perf_counter() - start:.1f}s, load {loadavg()}", flush=True)
    return Throughput(warc, samples, cli_startup(work))


def measure_memory(args: argparse.Namespace, captures: list[Capture], work: Path) -> list[Memory]:
    warcs = [bench_warc(args, captures, work, "memory", p) for p in (args.memory_small, args.memory_large)]
    found = []
    for jobs in args.memory_jobs:
        runs = []
        for warc in warcs:
            out = work / f"out-memory-{jobs}-{warc.pages}"
            runs.append(MemoryRun(warc, cli_reclean(warc, out, jobs)))
            shutil.rmtree(out)
            print(f"  memory: {warc.pages} pages, --jobs {jobs}: {runs[-1]}, load {loadavg()}", flush=True)
        found.append(Memory(jobs, tuple(runs)))
    return found


def print_figures(measured: Throughput, memory: list[Memory], found: list[Goal]) -> None:
    rounds = len(measured.samples.rounds["plain"])
    print(f"\npages/s and MB/s of response bodies, best of {rounds} rounds (all rounds in the JSON)")
    for name in FIGURES:
        print(f"  {name:20} {measured.best(name)}")
    print(f"  (CLI figures include the command's start-up and exit, {measured.startup:.2f}s)")
    for run in memory:
        for one in run.runs:
            print(f"peak RSS, {one.warc.pages:>6} pages, --jobs {run.jobs}: {one}")
    for goal in found:
        print(goal)


def write_json(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    temp.replace(path)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000, help="pages in the throughput WARC (goal: >= 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every figure; the best is reported")
    parser.add_argument("--memory-small", type=int, default=1000, help="pages of the small memory run")
    parser.add_argument("--memory-large", type=int, default=10_000, help="pages of the large memory run")
    parser.add_argument("--memory-jobs", type=int, nargs="+", default=[1, 2], help="--jobs values of the memory runs")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    parser.add_argument("--profile", type=int, default=0, metavar="PAGES", help="then cProfile a re-clean of PAGES")
    parser.add_argument(
        "--pages-from", choices=("fixtures", "shared"), default="fixtures",
        help="the fixture pages of all five sites, or the real article pages saved in --shared",
    )  # fmt: skip
    parser.add_argument("--fixtures", type=Path, default=ROOT / "tests" / "fixtures", help="folder of <site>/ folders")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "pages", help="real saved pages")
    parser.add_argument("--labels", type=Path, default=ROOT / "tests" / "labels", help="the real pages' URLs, dates")
    parser.add_argument("--workdir", type=Path, help="build and write here and keep it (default: a temp folder)")
    parser.add_argument("--out", type=Path, help="JSON results (default: bench/results/reclean[-shared].json)")
    args = parser.parse_args()
    if args.pages < 1 or args.repeat < 1 or not 0 < args.memory_small < args.memory_large:
        parser.error("--pages and --repeat must be >= 1, and 0 < --memory-small < --memory-large")
    if args.pages_from == "shared" and not args.shared.is_dir():
        parser.error(f"--pages-from shared: no folder {args.shared} (pass --shared FOLDER)")
    suffix = "-shared" if args.pages_from == "shared" else ""
    args.out = args.out or ROOT / "bench" / "results" / f"reclean{suffix}.json"
    return args


def source_pages(captures: list[Capture]) -> list[dict[str, object]]:
    return [
        {"url": c.url, "kib": round(len(c.body) / 1024, 1), "warc_date": c.fetched_at.isoformat()} for c in captures
    ]


def run(args: argparse.Namespace, work: Path) -> None:
    if args.pages_from == "shared":
        captures = shared_captures(args.shared, args.labels)
    else:
        captures = fixture_captures(args.fixtures)
    figures: dict[str, object] = {
        "scraper": __version__,
        "git": git_state(),
        "trafilatura": trafilatura.__version__,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "output_folder": str(work),
        "loadavg_before": loadavg(),
        "pages_from": args.pages_from,
        "source_pages": source_pages(captures),
    }
    measured = measure_throughput(args, captures, work)
    memory = [] if args.no_memory else measure_memory(args, captures, work)
    found = goals(measured, memory)
    figures |= {"throughput": measured.as_json(), "memory": [m.as_json() for m in memory]}
    figures |= {"loadavg_after": loadavg(), "goals": {g.name: g.as_json() for g in found}}
    write_json(args.out, figures)
    print_figures(measured, memory, found)
    if args.profile:
        warc = bench_warc(args, captures, work, "profile", args.profile)
        print(profile_reclean(warc, work / "out-profile", 25))
    print(f"written: {args.out}")
    print(f"RATIO adapters/plain={measured.adapters_plain:.2f} jobs2/jobs1={measured.jobs2_jobs1:.2f}")


def main() -> None:
    args = parse_args()
    if args.workdir:
        run(args, args.workdir)
        return
    with tempfile.TemporaryDirectory(prefix="bench-reclean-") as temp:
        run(args, Path(temp))


if __name__ == "__main__":
    main()
