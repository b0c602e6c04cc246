"""Re-clean throughput: the site adapters against plain trafilatura, one worker against two, and
peak memory as an archive grows (issue 6).

Builds, in a temporary folder, a WARC of ``--pages`` site pages: every fixture page of
``tests/fixtures/*/`` repeated under distinct URLs of its own site (``?id=N`` appended: same host,
so the same adapter; same WARC-Date, so the same dated layout), each as a response, a request and
a metadata record. Then, in one run, measures pages/s of

- ``scraper.pipeline.reclean`` in this process with ``Settings(out=tmp, jobs=1)``, into an empty
  output folder (every text written), then again into the same folder (every text unchanged), and
  with ``jobs=2`` into an empty folder (the scaling without the command's start-up and exit);
- the ``scraper reclean`` command (``python -m scraper``, start-up included) with ``--jobs 1``
  and ``--jobs 2``, each into an empty output folder;
- plain ``trafilatura.extract`` over the same response records (read with warcio, body bytes, url).

Each figure is the best of ``--repeat`` rounds, measured in turn so that a busy moment of the
machine hits every figure alike; the load average is recorded with the figures. Peak memory is the
``ru_maxrss`` (from ``wait4``: the largest of the command and its workers) of ``scraper reclean``
over ``--memory-small`` and ``--memory-large`` pages, for each of ``--memory-jobs`` (1 and 2).

Prints the figures, writes ``bench/results/reclean.json``, and ends with the line
``RATIO adapters/plain=X.XX jobs2/jobs1=Y.YY``. Goals (issue 6): adapters/plain >= 1.5 (in-process
re-clean into an empty folder against plain trafilatura), jobs2/jobs1 >= 1.8 (the command),
peak memory large/small <= 1.2 (the worse of the --jobs values). ``--profile PAGES`` adds a
cProfile of an in-process re-clean; ``--workdir DIR`` puts the WARCs and outputs on another disk
(e.g. /dev/shm, to see the cost of the output file system).

    python bench/reclean.py [--pages 2000] [--repeat 3] [--memory-small 1000 --memory-large 10000]
                            [--memory-jobs 1 2] [--no-memory] [--profile PAGES] [--workdir DIR]
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
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

import trafilatura
from disk import settle  # bench/, the folder of this script
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from scraper import __version__
from scraper.capture.warc import Stored, read_responses
from scraper.config import Settings
from scraper.models import Capture, RunReport
from scraper.pipeline import reread as pipeline
from scraper.sites import site_for

ROOT = Path(__file__).resolve().parent.parent
USER_AGENT = f"scraper/{__version__} (bench)"
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
    seconds: float
    cpu_seconds: float | None = None  # of the process(es) doing the work, where known

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    def as_json(self) -> dict[str, float | None]:
        cpu_ms = None if self.cpu_seconds is None else round(1000 * self.cpu_seconds / self.pages, 2)
        rate = round(self.rate, 2)
        return {"pages": self.pages, "seconds": round(self.seconds, 3), "pages_per_s": rate, "cpu_ms_per_page": cpu_ms}


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


# --- the archive -------------------------------------------------------------------------------


def fixture_captures(fixtures: Path) -> list[Capture]:
    captures = []
    for warc in sorted(fixtures.glob("*/*.warc.gz")):
        records = read_responses(warc, warc.name, 50_000_000)
        captures += [r.capture for r in records if isinstance(r, Stored) and 200 <= r.capture.status < 300]
    if not captures:
        raise SystemExit(f"{fixtures}: no fixture WARC files")
    return captures


def variant_url(url: str, n: int) -> str:
    """The same page under a URL of its own: the host (so the adapter) stays; courlan's
    normalisation keeps ``id``, so every variant has its own text file name too."""
    return f"{url}{'&' if '?' in url else '?'}id={n}"


def exchange_records(writer: WARCWriter, capture: Capture, url: str) -> list[object]:
    """Response, request and metadata records of one page, as ``scraper fetch`` lays them out."""
    date = capture.fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # same layout version
    response = writer.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(capture.body),  # fixture bodies carry no Content-Encoding
        length=len(capture.body),
        http_headers=StatusAndHeaders(f"{capture.status} OK", list(capture.headers), protocol="HTTP/1.1"),
        warc_headers_dict={"WARC-Date": date},
    )
    concurrent = {"WARC-Date": date, "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")}
    target = "/" + url.split("://", 1)[-1].partition("/")[2]
    request = writer.create_warc_record(
        url,
        "request",
        http_headers=StatusAndHeaders(f"GET {target} HTTP/1.1", [("User-Agent", USER_AGENT)], is_http_request=True),
        warc_headers_dict=concurrent,
    )
    fields = f"software: {USER_AGENT}\r\nadapter: {site_for(url).name}\r\n".encode()
    metadata = writer.create_warc_record(
        url,
        "metadata",
        payload=io.BytesIO(fields),
        warc_content_type="application/warc-fields",
        warc_headers_dict=concurrent,
    )
    return [response, request, metadata]


def build_warc(path: Path, captures: list[Capture], pages: int) -> Path:
    """A gzip WARC of ``pages`` pages cycling through the captures."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="WARC/1.1")
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": USER_AGENT}))
        for n in range(pages):
            capture = captures[n % len(captures)]
            for record in exchange_records(writer, capture, variant_url(capture.url, n)):
                writer.write_record(record)
    return path


def response_records(warc: Path) -> Iterator[tuple[str, bytes]]:
    with warc.open("rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "response":
                yield record.rec_headers.get_header("WARC-Target-URI"), record.content_stream().read()


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


def time_inprocess(warc: Path, out: Path, pages: int, jobs: int = 1) -> Timing:
    """``pipeline.reclean`` called in this process (with jobs > 1, its workers' time counts too)."""
    cpu, start = cpu_now(), time.perf_counter()
    report = pipeline.reclean([warc], Settings(out=out, jobs=jobs))
    seconds = time.perf_counter() - start
    check(report, pages, "pipeline.reclean")
    return Timing(pages, seconds, cpu_now() - cpu)


def time_plain(warc: Path) -> tuple[Timing, Timing]:
    """Plain trafilatura over the records: (reading and extracting, extracting alone)."""
    pages, extracting = 0, 0.0
    cpu, start = cpu_now(), time.perf_counter()
    for url, body in response_records(warc):
        began = time.perf_counter()
        trafilatura.extract(body, url=url)
        extracting += time.perf_counter() - began
        pages += 1
    return Timing(pages, time.perf_counter() - start, cpu_now() - cpu), Timing(pages, extracting)


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


def cli_reclean(warc: Path, out: Path, jobs: int) -> Child:
    out.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "scraper", "reclean", str(warc), "--jobs", str(jobs), "--out", str(out), "--quiet"]
    return run_child(argv, out)


def cli_timing(warc: Path, out: Path, jobs: int, pages: int) -> Timing:
    child = cli_reclean(warc, out, jobs)
    return Timing(pages, child.seconds, child.cpu_seconds)


def cli_startup(work: Path) -> float:
    """Seconds for the command to start and import everything, paid once by each CLI figure."""
    return run_child([sys.executable, "-m", "scraper", "--version"], work).seconds


def one_round(warc: Path, work: Path, pages: int, samples: Samples) -> None:
    """Every figure once, each re-clean into a new output folder of its own; the folders are
    removed when the round is over, never between two figures, and before each figure the disk is
    left to settle (``disk.settle``), so that none pays for another's disk work."""
    settle(work)
    plain, extract_only = time_plain(warc)
    samples.add("plain", plain)
    samples.add("plain_extract_only", extract_only)
    outs = [work / f"out-{name}" for name in ("inprocess1", "inprocess2", "cli1", "cli2")]
    settle(work)
    samples.add("inprocess_jobs1", time_inprocess(warc, outs[0], pages))
    settle(work)
    samples.add("inprocess_rerun", time_inprocess(warc, outs[0], pages))  # same folder: nothing to rewrite
    settle(work)
    samples.add("inprocess_jobs2", time_inprocess(warc, outs[1], pages, jobs=2))
    for jobs, out in zip((1, 2), outs[2:], strict=True):
        settle(work)
        samples.add(f"cli_jobs{jobs}", cli_timing(warc, out, jobs, pages))
    for out in outs:
        shutil.rmtree(out)


def profile_reclean(warc: Path, out: Path, top: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    pipeline.reclean([warc], Settings(out=out, jobs=1))
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
    pages: int
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
            "pages": self.pages,
            "repeat": len(self.samples.rounds["plain"]),
            "best": {name: self.best(name).as_json() for name in FIGURES},
            "rounds_pages_per_s": {n: [round(t.rate, 2) for t in ts] for n, ts in self.samples.rounds.items()},
            "cli_startup_seconds": round(self.startup, 3),
            "adapters/plain": self.adapters_plain,
            "jobs2/jobs1": self.jobs2_jobs1,
            "jobs2/jobs1 in-process": self.jobs2_jobs1_inprocess,
        }


@dataclass(frozen=True, slots=True)
class Memory:
    jobs: int
    runs: dict[int, Child]  # pages -> the re-clean over them

    @property
    def large_small(self) -> float:
        small, large = min(self.runs), max(self.runs)
        return ratio(self.runs[large].maxrss_kib, self.runs[small].maxrss_kib)

    def as_json(self) -> dict[str, object]:
        runs = {
            p: {"maxrss_mib": round(c.maxrss_kib / 1024, 1), "seconds": round(c.seconds, 2)}
            for p, c in self.runs.items()
        }
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


def measure_throughput(args: argparse.Namespace, captures: list[Capture], work: Path) -> Throughput:
    warc = build_warc(work / "warc" / f"bench-{args.pages}.warc.gz", captures, args.pages)
    print(f"WARC: {args.pages} pages from {len(captures)} fixture pages, {warc.stat().st_size / 1e6:.1f} MB")
    samples = Samples()
    for n in range(args.repeat):
        start = time.perf_counter()
        one_round(warc, work, args.pages, samples)
        print(f"  round {n + 1}/{args.repeat}: {time.perf_counter() - start:.1f}s, load {loadavg()}", flush=True)
    return Throughput(args.pages, samples, cli_startup(work))


def measure_memory(args: argparse.Namespace, captures: list[Capture], work: Path) -> list[Memory]:
    sizes = (args.memory_small, args.memory_large)
    warcs = {p: build_warc(work / "warc" / f"memory-{p}.warc.gz", captures, p) for p in sizes}
    found = []
    for jobs in args.memory_jobs:
        runs = {}
        for pages, warc in warcs.items():
            out = work / f"out-memory-{jobs}-{pages}"
            runs[pages] = cli_reclean(warc, out, jobs)
            shutil.rmtree(out)
            rss = runs[pages].maxrss_kib / 1024
            print(f"  memory: {pages} pages, --jobs {jobs}: {rss:.1f} MiB, load {loadavg()}", flush=True)
        found.append(Memory(jobs, runs))
    return found


def print_figures(measured: Throughput, memory: list[Memory], found: list[Goal]) -> None:
    print(f"\npages/s, best of {len(measured.samples.rounds['plain'])} rounds (all rounds in the JSON)")
    for name in FIGURES:
        t = measured.best(name)
        cpu = f"  cpu {1000 * t.cpu_seconds / t.pages:.2f} ms/page" if t.cpu_seconds is not None else ""
        print(f"  {name:20} {t.rate:8.1f}  ({t.pages} pages in {t.seconds:.2f}s){cpu}")
    print(f"  (CLI figures include the command's start-up and exit, {measured.startup:.2f}s)")
    print(f"  jobs2/jobs1 in-process (no start-up): {measured.jobs2_jobs1_inprocess:.2f}")
    for run in memory:
        for pages, child in run.runs.items():
            rss = child.maxrss_kib / 1024
            print(f"peak RSS, {pages:>6} pages, --jobs {run.jobs}: {rss:7.1f} MiB ({child.seconds:.1f}s)")
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
    parser.add_argument("--fixtures", type=Path, default=ROOT / "tests" / "fixtures", help="folder of <site>/ folders")
    parser.add_argument("--workdir", type=Path, help="build and write here and keep it (default: a temp folder)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "reclean.json", help="JSON results")
    args = parser.parse_args()
    if args.pages < 1 or args.repeat < 1 or not 0 < args.memory_small < args.memory_large:
        parser.error("--pages and --repeat must be >= 1, and 0 < --memory-small < --memory-large")
    return args


def run(args: argparse.Namespace, work: Path) -> None:
    captures = fixture_captures(args.fixtures)
    figures: dict[str, object] = {
        "scraper": __version__,
        "git": git_state(),
        "trafilatura": trafilatura.__version__,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "output_folder": str(work),
        "loadavg_before": loadavg(),
        "fixture_pages": len(captures),
    }
    measured = measure_throughput(args, captures, work)
    memory = [] if args.no_memory else measure_memory(args, captures, work)
    found = goals(measured, memory)
    figures |= {"throughput": measured.as_json(), "memory": [m.as_json() for m in memory]}
    figures |= {"loadavg_after": loadavg(), "goals": {g.name: g.as_json() for g in found}}
    write_json(args.out, figures)
    print_figures(measured, memory, found)
    if args.profile:
        warc = build_warc(work / "warc" / f"profile-{args.profile}.warc.gz", captures, args.profile)
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
