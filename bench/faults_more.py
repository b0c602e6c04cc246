"""The rest of the reliability table, called by bench/faults.py: stops, budgets, faults of the
archive itself, and the peak memory of every command the bench ran (issue 15). Each row is what
was observed, with a verdict computed against the expectation its section states.

Also the runner both modules use: each command under an interpreter of its own, which says the
command's pid (to signal it) and then its peak memory (RUSAGE_CHILDREN: its worker processes
included), kept in ``PEAKS``.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import resource
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import faultserver
from faultserver import FAN_OUT, Faults, run_config

from scraper.capture.warc import ReadProblem, check_records, read_responses

PEAK_BOUND_MB = 500
STOP_BOUND = 10.0  # seconds from the signal until the command and every process it started are gone
BUDGET_SLACK = 5.0  # seconds past --time-budget a run may take: its start-up and closing quality check
STUCK = 1.0  # seconds a command is left stuck before it is signalled
PEAKS: list[tuple[str, int]] = []  # every command the bench ran, with its peak MB

Limits = Callable[[], None]  # run in the child before it starts the command


@dataclass(frozen=True)
class Done:
    code: int
    out: str
    err: str
    seconds: float
    peak_mb: int

    def lines(self) -> list[str]:
        return [line for line in (self.out + self.err).splitlines() if line.strip()]

    def last(self) -> str:
        return (self.err.strip().splitlines() or self.lines() or [""])[-1]


_PROBE = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.monotonic()\n"
    "p = subprocess.Popen([sys.executable, '-m', 'scraper', *sys.argv[1:]], stdout=subprocess.PIPE,\n"
    "                     stderr=subprocess.PIPE, text=True)\n"
    "print(p.pid, flush=True)\n"
    "out, err = p.communicate()\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024\n"
    "print(json.dumps([p.returncode, out, err, time.monotonic() - t, peak]))\n"
)


class Started:
    """``python -m scraper ARGS`` running in ``cwd``: its pid, and what it did once it ends."""

    def __init__(self, cwd: Path, *args: str, limits: Limits | None = None) -> None:
        self.args = args
        self._probe = subprocess.Popen(
            [sys.executable, "-c", _PROBE, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, preexec_fn=limits,
        )  # fmt: skip
        assert self._probe.stdout is not None
        line = self._probe.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"scraper {' '.join(args)} did not start: {self._probe.communicate()[1][-500:]}")
        self.pid = int(line)

    def running(self) -> bool:
        return self._probe.poll() is None

    def send(self, sig: int) -> float:
        os.kill(self.pid, sig)
        return time.monotonic()

    def finish(self, within: float = 600) -> Done:
        """What the command did; past ``within`` seconds it is killed (and its exit code says -9)."""
        try:
            out, err = self._probe.communicate(timeout=within)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            out, err = self._probe.communicate()
        if self._probe.returncode != 0:
            raise RuntimeError(f"the probe of scraper {' '.join(self.args)} failed: {err[-500:]}")
        code, said, warned, seconds, peak = json.loads(out)
        PEAKS.append((f"scraper {' '.join(self.args)}", peak))
        return Done(code, said, warned, seconds, peak)


def scraper(cwd: Path, *args: str, limits: Limits | None = None) -> Done:
    """``python -m scraper ARGS`` in ``cwd``: exit code, output, seconds, peak MB."""
    return Started(cwd, *args, limits=limits).finish()


def mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def row(*cells: str, ok: bool) -> str:
    return "| " + " | ".join(cell(c) for c in cells) + f" | {mark(ok)} |"


def asked(server: faultserver.FaultServer, prefix: str, command: Started, within: float = 30.0) -> bool:
    """Waits until a request for a path starting with ``prefix`` came while ``command`` runs."""
    until = time.monotonic() + within
    while not server.asked(prefix):
        if time.monotonic() > until or not command.running():
            return False
        time.sleep(0.05)
    return True


def warcs_whole(out: Path) -> tuple[bool, str]:
    """Every WARC file of the archive read to its end, each record whole, none marked open."""
    warcs = sorted((out / "warc").glob("*.warc.gz"))
    found = []
    for warc in warcs:
        for item in check_records(warc):
            if isinstance(item, ReadProblem):
                found.append(f"{warc.name}: offset {item.offset}: {item.reason}")
            elif item.problems:
                found.append(f"{warc.name}: offset {item.offset}: {'; '.join(item.problems)}")
    found += [f"{m.name} left" for m in (out / "warc").glob("*.open")]
    if not warcs:
        return not found, "none written"
    return not found, "; ".join(found) or f"{len(warcs)} file{'s' if len(warcs) > 1 else ''}, every record whole"


# --- 1. stops ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stuck:
    what: str
    args: tuple[str, ...]
    aliases: dict[str, str]
    on: str  # the request after which the command is stuck
    idle: str = ""  # a request that must not have come by the signal: the command was waiting to make it


_URLS = ("https://www.interfax.ru/ok/1", "https://www.interfax.ru/slowhead/1", "https://www.interfax.ru/ok/3")
STUCK_ON = {
    "run-trickle": Stuck("`scraper run` waiting on a server that sends its status line and headers a byte a second",
                         ("run",), {"/rss.asp": "/feed/pick?modes=ok,slowhead"}, "/slowhead/1"),
    "run-crawl-delay": Stuck("`scraper run` in a Crawl-delay wait (robots.txt `Crawl-delay: 3600`)",
                             ("run",), {"/robots.txt": "/robots/3600", "/rss.asp": "/feed/many?n=3"}, "/rss.asp",
                             idle="/ok/"),
    "fetch-trickle": Stuck("`scraper fetch` of 3 URLs waiting on the second, whose status line and headers come a "
                           "byte a second", ("fetch", *_URLS), {}, "/slowhead/1"),
}  # fmt: skip
SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGINT": signal.SIGINT}


@dataclass(frozen=True)
class Stopped:
    running: bool  # still at work when the signal was sent
    seconds: float  # from the signal until the command and every process it started were gone
    left: int  # processes still there 30 s after the signal
    done: Done

    def held(self) -> bool:
        quick = self.running and self.seconds <= STOP_BOUND and not self.left
        return quick and self.done.code == 130 and "Traceback" not in self.done.err

    def took(self) -> str:
        if not self.running:
            return "ended before the signal"
        return f"{self.seconds:.1f}" + (f" ({self.left} of its processes still there after 30 s)" if self.left else "")


def stop(folder: Path, command: Started, sig: int) -> Stopped:
    running = command.running()
    sent = command.send(sig) if running else time.monotonic()
    done = command.finish(within=30)
    while (left := processes_in(folder)) and time.monotonic() < sent + 30:
        time.sleep(0.05)
    return Stopped(running, time.monotonic() - sent, len(left), done)


def processes_in(folder: Path) -> list[int]:
    """Processes working in ``folder``: what a command started and left behind."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and Path(os.readlink(entry / "cwd")) == folder.resolve():
                found.append(int(entry.name))
        except OSError:
            continue  # gone meanwhile
    return found


def stop_rows(work: Path) -> list[str]:
    rows = []
    for name, stuck in STUCK_ON.items():
        for sig_name, sig in SIGNALS.items():
            folder = work / "stops" / f"{name}-{sig_name}"
            folder.mkdir(parents=True)
            with faultserver.serve(Faults(aliases=dict(stuck.aliases))) as server:
                config = run_config(server.origin, '["interfax"]', False, timeout=30, total_timeout=120, retries=0)
                (folder / "stop.toml").write_text(config)
                command = Started(folder, stuck.args[0], "--config", "stop.toml", *stuck.args[1:])
                reached = asked(server, stuck.on, command)
                time.sleep(STUCK)
                reached = reached and not (stuck.idle and server.asked(stuck.idle))
                stopped = stop(folder, command, sig)
            whole, warcs = warcs_whole(folder / "out")
            what = stuck.what if reached else f"{stuck.what} (NOT stuck there: {server.hits[-1:]})"
            done = stopped.done
            ok = reached and whole and stopped.held()
            rows.append(row(what, sig_name, stopped.took(), str(done.code), done.last(), warcs, ok=ok))
    return rows


def verified(verify: Done) -> str:
    """`scraper verify`'s exit code and the first problem it named."""
    problem = next((line for line in verify.out.splitlines() if line.strip()), "")
    return f"`scraper verify`: exit {verify.code}" + (f"; {problem}" if problem else "")


def busy_rows(work: Path, archive: Path) -> list[str]:
    """SIGTERM to `scraper reclean --jobs 2` and to `scraper check` at work on a copy of the
    folder ``archive`` (its run.toml and out/), then whether the archive is sound."""
    folder = work / "busy"
    shutil.copytree(archive, folder, symlinks=True)
    texts = list((folder / "out" / "text").rglob("*.txt"))
    big = sum(1 for t in texts if t.stat().st_size > 500_000)
    reclean = Started(folder, "reclean", "--jobs", "2", "out/warc")
    time.sleep(3.0)
    stopped = stop(folder, reclean, signal.SIGTERM)
    verify = scraper(folder, "verify", "out")
    what = f"`scraper reclean --jobs 2` of an archive of {len(texts)} articles ({big} of about 2 MB), 3 s in"
    done = stopped.done
    rows = [row(what, "SIGTERM", stopped.took(), str(done.code), done.last(), verified(verify),
                ok=stopped.held() and verify.code == 0)]  # fmt: skip
    with sqlite3.connect(folder / "out" / "catalog.sqlite") as db:
        db.execute("DELETE FROM quality_articles")  # so that it reads every text and its copy again
    db.close()
    check = Started(folder, "check", "--config", "run.toml", "--site", "interfax")
    time.sleep(1.5)
    stopped = stop(folder, check, signal.SIGTERM)
    status = scraper(folder, "status", "--config", "run.toml")
    what = f"`scraper check` of that archive, its comparisons cleared (all {len(texts)} texts to read), 1.5 s in"
    done = stopped.done
    rows.append(row(what, "SIGTERM", stopped.took(), str(done.code), done.last(),
                    f"`scraper status`: exit {status.code}", ok=stopped.held() and status.code == 0))  # fmt: skip
    return rows


# --- 2. budgets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetRun:
    done: Done
    report: dict  # type: ignore[type-arg]
    hits: list[str]  # the paths the server was asked for


def _budget_run(folder: Path, aliases: dict[str, str], sitemaps: bool, delay: float, budget: str) -> BudgetRun:
    folder.mkdir(parents=True)
    with faultserver.serve(Faults(aliases=aliases)) as server:
        (folder / "run.toml").write_text(run_config(server.origin, '["interfax"]', sitemaps, delay, retries=0))
        done = scraper(folder, "run", "--config", "run.toml", "--time-budget", budget, "--report", "report.json")
        hits = [h.path for h in server.hits]
    report = folder / "report.json"
    return BudgetRun(done, json.loads(report.read_text()) if report.exists() else {}, hits)


def budget_rows(work: Path) -> list[str]:
    aliases = {"/robots.txt": "/robots/3600", "/rss.asp": "/feed/many?n=3"}
    run = _budget_run(work / "budget-delay", aliases, False, 0, "10s")
    done, report = run.done, run.report
    pages = [h for h in run.hits if h.startswith(("/ok/", "/big/"))]
    figures = report.get("sites", {}).get("interfax", {})
    said = (
        f"exit {done.code}; articles discovered {figures.get('discovered')}, fetched {figures.get('fetched')}; "
        f"pages asked for: {len(pages)}; notes: {'; '.join(report.get('notes', [])) or 'none'}"
    )
    ok = done.seconds <= 10 + BUDGET_SLACK and bool(report) and "Traceback" not in done.err
    rows = [row("robots.txt `Crawl-delay: 3600`, `--time-budget 10s`", f"{done.seconds:.1f} s", said, ok=ok)]

    aliases = {"/rss.asp": "/feed/empty", "/SEO_SiteMapLastChanges.xml": "/sitemap/fanout"}
    run = _budget_run(work / FAN_OUT_RUN, aliases, True, 0.25, "20s")
    done, report = run.done, run.report
    children = [int(h.rsplit("/", 1)[1]) for h in run.hits if h.startswith("/sitemap/child/")]
    newest = children == list(range(FAN_OUT - 1, FAN_OUT - 1 - len(children), -1))
    extracted = report.get("sites", {}).get("interfax", {}).get("extracted", 0)
    note = next((n for n in report.get("notes", []) if "discovery cut" in n), "")
    said = (
        f"exit {done.code}; sitemaps asked for: {len(children)} of {FAN_OUT:,} (the newest first: "
        f"{'yes' if newest else 'no'}); articles extracted: {extracted}; note: {note or 'none'}"
    )
    ok = done.seconds <= 20 + BUDGET_SLACK and 0 < len(children) < FAN_OUT and newest and extracted > 0 and bool(note)
    what = f"a sitemap index of {FAN_OUT:,} sitemaps, `delay = 0.25`, `--time-budget 20s`"
    rows.append(row(what, f"{done.seconds:.1f} s", said, ok=ok))
    return rows


# --- 3. faults of the archive itself -------------------------------------------------------------


def tree(folder: Path) -> dict[str, tuple[int, bytes | None, int]]:
    """Every path under ``folder``: mode, content (files) and modification time."""
    return {
        str(p.relative_to(folder)): (p.stat().st_mode, p.read_bytes() if p.is_file() else None, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def _config(folder: Path, origin: str) -> None:
    """``folder``/run.toml: Interfax from the fault server at ``origin``, into ``folder``/out."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.toml").write_text(run_config(origin, '["interfax"]', False, retries=0))


def _catalog_files(out: Path) -> dict[str, tuple[int, bytes | None, int]]:
    """The catalog and any file beside it of its name (-wal, -shm, -journal)."""
    return {k: v for k, v in tree(out).items() if k.startswith("catalog.sqlite")}


def zero_catalog_rows(work: Path) -> list[str]:
    folder = work / "zero-catalog"
    (folder / "out").mkdir(parents=True)
    catalog = folder / "out" / "catalog.sqlite"
    catalog.write_bytes(b"")
    before = _catalog_files(folder / "out")
    rows = []
    with faultserver.serve(Faults(aliases={"/rss.asp": "/feed/many?n=2"})) as server:
        _config(folder, server.origin)
        for command in ("run", "status", "export"):
            done = scraper(folder, command, "--config", "run.toml")
            untouched = _catalog_files(folder / "out") == before
            seen = f"the catalog untouched, nothing beside it: {'yes' if untouched else 'NO'}"
            if command == "run":
                seen += f"; requests sent: {len(server.hits)}"
            ok = done.code == 2 and len(done.lines()) == 1 and "catalog.sqlite" in done.last() and untouched
            rows.append(row("a zero-byte `catalog.sqlite`", f"`scraper {command}`", str(done.code), done.last(), seen,
                            ok=ok and "Traceback" not in done.err))  # fmt: skip
    return rows


_PR_CAPBSET_DROP = 24  # prctl(2)


def as_reader() -> None:
    """In the child before it starts the command (as tests/test_readonly.py does): 2 GiB of address
    space; as root, every capability given up (the bounding set emptied, so that what it runs
    starts with none), so that the archive's modes bind it as they bind any user."""
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in range(64):  # past the kernel's last capability prctl fails with EINVAL: nothing to drop
            if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != errno.EINVAL:
                raise OSError(ctypes.get_errno(), "cannot give up capabilities")


def _chmod_all(folder: Path, writable: bool) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
        if path.is_dir():
            mode |= stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
        path.chmod(mode | stat.S_IWUSR if writable else mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


_CAN_WRITE = (
    "import pathlib, sys\ntry:\n    pathlib.Path(sys.argv[1], 'probe').write_text('x')\n"
    "except OSError:\n    sys.exit(3)\n"
)

# command -> the exit codes it may end with on a read-only archive (check: 1 is its verdict "not ok")
READING = {
    ("status", "--config", "run.toml"): (0,),
    ("check", "--config", "run.toml", "--site", "interfax"): (0, 1),
    ("export", "--config", "run.toml"): (0,),
    ("verify", "out"): (0,),
}
WRITING = (("run", "--config", "run.toml", "-q"), ("index", "--config", "run.toml"), ("reclean", "out/warc"))


def read_only_rows(work: Path, archive: Path) -> list[str]:
    """The reading commands on a read-only copy of the folder ``archive`` work and change nothing;
    the writing ones say "read-only" in one line, exit 2."""
    folder = work / "read-only"
    shutil.copytree(archive, folder, symlinks=True)
    out = folder / "out"
    _chmod_all(folder, writable=False)
    try:
        probe = subprocess.run([sys.executable, "-c", _CAN_WRITE, str(out)], preexec_fn=as_reader, timeout=60)
        if probe.returncode != 3:
            return [row("a read-only archive", "-", "-", "the archive could not be made read-only here", "-", ok=False)]
        before = tree(out)
        rows = []
        for args in [*READING, *WRITING]:
            done = scraper(folder, *args, limits=as_reader)
            untouched = tree(out) == before
            if args in READING:
                ok = done.code in READING[args] and bool(done.lines()) and "Traceback" not in done.err
            else:
                ok = done.code == 2 and len(done.lines()) == 1 and "read-only" in done.last()
            seen = f"{'worked' if args in READING else 'refused'}; archive untouched: {'yes' if untouched else 'NO'}"
            command = f"`scraper {' '.join(args)}`"
            rows.append(row("a read-only archive", command, str(done.code), done.last(), seen, ok=ok and untouched))
        return rows
    finally:
        _chmod_all(folder, writable=True)


def damaged_record_row(work: Path) -> str:
    """A bit flipped in the middle of a response record of a WARC a run left open: the next run
    keeps every record after it, cuts nothing and says which record is damaged."""
    folder = work / "damaged-record"
    faults = Faults(aliases={"/rss.asp": "/feed/many?n=4"})
    with faultserver.serve(faults) as server:
        _config(folder, server.origin)
        scraper(folder, "run", "--config", "run.toml", "-q")
        (warc,) = (folder / "out" / "warc").glob("interfax-*.warc.gz")
        records = [r for r in check_records(warc) if not isinstance(r, ReadProblem)]
        responses = [r.offset for r in records if r.rec_type == "response"]
        at = responses[len(responses) // 2]
        end = min(r.offset for r in records if r.offset > at)
        data = bytearray(warc.read_bytes())
        data[(at + end) // 2] ^= 0x01
        warc.write_bytes(bytes(data))
        warc.with_name(warc.name + ".open").touch()
        after = len([r for r in records if r.offset > at])
        faults.aliases["/rss.asp"] = "/feed/empty"
        done = scraper(folder, "run", "--config", "run.toml", "--report", "report.json")
    report = json.loads((folder / "report.json").read_text()) if (folder / "report.json").exists() else {}
    said = [n for n in [*report.get("notes", []), *done.lines()] if "damaged" in n]
    kept = warc.read_bytes().startswith(data)
    still = [r for r in check_records(warc) if not isinstance(r, ReadProblem) and at < r.offset < len(data)]
    cut_off = warc.with_name(warc.name + ".torn").exists()
    verify = scraper(folder, "verify", "out")
    named = set(map(int, re.findall(rf"{re.escape(warc.name)}: offset (\d+): ", verify.out)))
    ok = kept and len(still) == after and any(f"offset {at}" in s for s in said) and not cut_off
    ok = ok and not warc.with_name(warc.name + ".open").exists() and verify.code == 1 and named == {at}
    seen = (
        f"file cut: {'no' if kept else 'YES'}; whole records after the damaged one: {len(still)} of {after} kept; "
        f"`.torn` written: {'YES' if cut_off else 'no'}; `scraper verify`: exit {verify.code}, names offset "
        f"{', '.join(map(str, sorted(named))) or 'none'}"
    )
    what = f"a WARC left open whose response record at offset {at} (of {len(responses)}) has one bit flipped"
    return row(what, "`scraper run`", str(done.code), said[0] if said else "nothing said of it", seen, ok=ok)


def _texts(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted((out / "text").rglob("*")) if p.is_file()}


def two_names_row(work: Path) -> str:
    """A WARC file and a copy of it beside it, its texts deleted, then `scraper reclean --jobs 2`:
    each text written once, as the fetch wrote it, and the copy named as skipped."""
    folder = work / "two-names"
    urls = [f"https://www.interfax.ru/ok/{n}" for n in (1, 2, 3)]
    with faultserver.serve(Faults()) as server:
        _config(folder, server.origin)
        scraper(folder, "fetch", "--config", "run.toml", "-q", *urls)
    out = folder / "out"
    (warc,) = (out / "warc").glob("*.warc.gz")
    as_fetched = _texts(out)
    shutil.copyfile(warc, warc.with_name("a-" + warc.name))
    for text in (out / "text").rglob("*.txt"):
        text.unlink()
    done = scraper(folder, "reclean", "--jobs", "2", "out/warc")
    summary = next((line for line in done.lines() if line.startswith("re-cleaned")), "")
    written = re.search(r": (\d+) articles", summary)
    note = next((line for line in done.lines() if "skipped, a copy of" in line), "")
    same = _texts(out) == as_fetched
    ok = done.code == 0 and same and written is not None and int(written[1]) == len(urls) and bool(note)
    seen = f"{summary}; texts as the fetch wrote them: {'yes' if same else 'NO'}"
    what = f"a WARC of {len(urls)} articles and a copy of it (`a-{warc.name}`), the texts deleted"
    return row(what, "`scraper reclean --jobs 2 out/warc`", str(done.code), note or "no note", seen, ok=ok)


def _captured_again(out: Path) -> int:
    """Articles with more than one 200 response in the archive's WARCs: a kill came between a
    capture's records and its catalog row, and the next run captured the article again."""
    counts: dict[str, int] = {}
    for warc in (out / "warc").glob("*.warc.gz"):
        for item in read_responses(warc, warc.name, 1 << 20):
            if not isinstance(item, ReadProblem) and item.capture.status == 200 and "/rss" not in item.capture.url:
                counts[item.capture.url] = counts.get(item.capture.url, 0) + 1
    return sum(1 for n in counts.values() if n > 1)


def reclean_row(work: Path, archive: Path) -> str:
    """`scraper reclean --jobs 2` to its end on a copy of the archive the kill rounds left, then
    `scraper verify`: every text and JSON must still be the catalog's capture's."""
    folder = work / "reclean-after-kills"
    shutil.copytree(archive, folder, symlinks=True)
    again = _captured_again(folder / "out")
    done = scraper(folder, "reclean", "--jobs", "2", "out/warc")
    verify = scraper(folder, "verify", "out")
    seen = verified(verify)
    what = f"the archive the kill rounds left ({again} articles captured more than once in its WARC)"
    return row(what, "`scraper reclean --jobs 2 out/warc`", str(done.code), done.last(), seen,
               ok=done.code == 0 and verify.code == 0)  # fmt: skip


FILE_LIMIT = 1_000_000  # bytes: the first of the 2 MB pages fits, the second does not


def file_limit() -> None:
    """In the child: files of at most FILE_LIMIT bytes; a write past it fails (EFBIG), no signal."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


def file_limit_row(work: Path) -> str:
    """`scraper fetch` past a file-size limit (as a full disk): one line, the WARC left marked; the
    next fetch repairs it."""
    folder = work / "file-limit"
    with faultserver.serve(Faults()) as server:
        _config(folder, server.origin)
        urls = [f"https://www.interfax.ru/big/{n}" for n in range(1, 5)]
        limited = scraper(folder, "fetch", "--config", "run.toml", "-q", *urls, limits=file_limit)
        marked = [m.name for m in (folder / "out" / "warc").glob("*.open")]
        again = scraper(folder, "fetch", "--config", "run.toml", "-q", "https://www.interfax.ru/ok/1")
    whole, warcs = warcs_whole(folder / "out")
    repair = next((line for line in again.lines() if "torn" in line or "repaired" in line), "nothing to cut")
    ok = limited.code == 2 and len(limited.lines()) == 1 and "File too large" in limited.last() and bool(marked)
    ok = ok and again.code == 0 and whole and "Traceback" not in limited.err + again.err
    seen = (
        f"marker left: {'yes' if marked else 'NO'}; the next `scraper fetch`: exit {again.code}, {repair}; "
        f"WARC files then: {warcs}"
    )
    what = f"`scraper fetch` of four 2 MB pages with files limited to {FILE_LIMIT:,} bytes (RLIMIT_FSIZE)"
    return row(what, "`scraper fetch`", str(limited.code), limited.last(), seen, ok=ok)


# --- 4. peak memory, and the sections together ----------------------------------------------------


def peak_line() -> str:
    command, peak = max(PEAKS, key=lambda p: p[1])
    return (
        f"Peak memory: at most {peak} MB over the {len(PEAKS)} commands the bench ran (`{cell(command)}`), "
        f"against a bound of {PEAK_BOUND_MB} MB."
    )


def memory_rows() -> list[str]:
    command, peak = max(PEAKS, key=lambda p: p[1])
    what = f"the highest peak of the {len(PEAKS)} commands the bench ran (killed ones included)"
    return [row(what, f"{peak} MB", f"`{command}`", ok=peak <= PEAK_BOUND_MB)]


FAN_OUT_RUN = "budget-fanout"  # the budget run whose archive the read-only rows copy


def sections(work: Path, kill_folder: Path, step: Callable[[str], None]) -> dict[str, list[str]]:
    """The rows of the sections here, but memory's (made last, when every command has run);
    ``kill_folder`` is the folder of the kill rounds' archive (run.toml and out/)."""
    step("stops: SIGTERM and SIGINT")
    stops = stop_rows(work) + busy_rows(work, kill_folder)
    step("budgets")
    budgets = budget_rows(work)
    step("faults of the archive")
    archive = zero_catalog_rows(work) + read_only_rows(work, work / FAN_OUT_RUN)
    archive += [damaged_record_row(work), two_names_row(work), reclean_row(work, kill_folder), file_limit_row(work)]
    return {"stops": stops, "budgets": budgets, "archive": archive}


HEADS = {
    "stops": "| command, and what it is doing | signal | seconds until it and its processes ended | exit | "
    "its last line | the archive after | held |\n|---|---|---|---|---|---|---|",
    "budgets": "| case | the run took | observed | held |\n|---|---|---|---|",
    "archive": "| fault | command | exit | what it said | observed | held |\n|---|---|---|---|---|---|",
    "memory": "| commands | peak | the command | held |\n|---|---|---|---|",
}


def doc(rows: dict[str, list[str]]) -> str:
    table = {name: HEADS[name] + "\n" + "\n".join(rows[name]) for name in HEADS}
    return f"""## Stops: SIGTERM and Ctrl-C, whatever the command waits on

Each command is started against the fault server, left {STUCK:.0f} s stuck on the request named (or
left working the time named), then sent the signal alone (SIGINT is what Ctrl-C sends). Held: it
and every process it started (workers included) gone within {STOP_BOUND:.0f} s of the signal, exit code 130,
no traceback, and every WARC it wrote reads whole to its end with no `.open` marker left (or, where
named, the archive checks sound after). Network settings here: timeout = 30, total_timeout = 120, so
that only the signal ends the wait.

{table["stops"]}

## Budgets

Held: the run ends within its `--time-budget` and {BUDGET_SLACK:.0f} s more (start-up and the quality check
that closes every run); for the index of {FAN_OUT:,} sitemaps also: discovery read a bounded number of
them, the newest first, said so in the run's notes, and left time to extract articles.

{table["budgets"]}

## Faults of the archive itself

A read-only archive is a copy of the budget run's archive above with every write bit taken off,
the commands run (as root) with every capability given up, as in `tests/test_readonly.py`; "worked"
means its usual exit code (`check`: 0 or 1, its verdict of the texts) and output, and nothing in
the archive changed, not even a file's time. A refusal must be one line saying "read-only", exit 2.

{table["archive"]}

## Peak memory

Each command runs under an interpreter of its own that reads its peak resident memory when it ends
(RUSAGE_CHILDREN: worker processes included). Bound: {PEAK_BOUND_MB} MB.

{table["memory"]}
"""
