"""``pack``, ``export``, ``replay`` and ``index`` speak like the other commands. An output that cannot
be written is one ``error:`` line and exit code 2, never a traceback, and nothing is left behind or
put in place of a FIFO, a device or a symlink. Ctrl-C or SIGTERM, whenever it comes, is one
``stopped:`` line saying what was done and what was not, then exit code 130, and no partial file
is left looking complete. A short option means one thing in every command.

Signals that must come at one exact step are sent by the command to itself, from a patch a small
wrapper script applies before it runs the command as ``scraper`` does."""

from __future__ import annotations

import os
import resource
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest
import typer
from test_index import Archive, build_archive
from test_readonly import _as_reader

from scraper.cli import app

TIMEOUT = 120  # seconds a command may take on a loaded machine

# runs the command as the installed ``scraper`` does, after the test's patch
WRAPPER = """\
import atexit, os, signal, sys, time
{patch}
from scraper.cli import main
sys.argv = ["scraper", *sys.argv[1:]]
main()
"""


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    built = build_archive(tmp_path_factory.mktemp("commands"))
    assert built.scraper("index").returncode == 0  # every later command finds its indexes current
    return built


def scraper(archive: Archive, *args: str, patch: str = "", **kwargs: Any) -> subprocess.CompletedProcess[str]:
    wrapper = archive.root / "wrapper.py"
    wrapper.write_text(WRAPPER.format(patch=patch), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(wrapper), *args, "--config", "run.toml"],
        cwd=archive.root, capture_output=True, text=True, timeout=TIMEOUT, **kwargs,
    )  # fmt: skip


def said(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    return [line for line in done.stderr.splitlines() if line.strip()]


def one_error(done: subprocess.CompletedProcess[str]) -> str:
    (line,) = said(done)
    assert done.returncode == 2 and line.startswith("error: "), (done.returncode, line)
    return line


# --- an output that cannot be written ------------------------------------------------------------


def _place(tmp_path: Path, kind: str) -> Path:
    """The package path for each kind of output that cannot, or must not, be written."""
    if kind == "no folder":
        return tmp_path / "missing" / "x.wacz"
    if kind == "under a file":
        (tmp_path / "a-file").write_text("x")
        return tmp_path / "a-file" / "x.wacz"
    if kind == "a folder":
        (tmp_path / "a-folder.wacz").mkdir()
        return tmp_path / "a-folder.wacz"
    if kind == "a FIFO":
        os.mkfifo(tmp_path / "a-fifo.wacz")
        return tmp_path / "a-fifo.wacz"
    if kind == "a link to a device":
        (tmp_path / "null.wacz").symlink_to("/dev/null")
        return tmp_path / "null.wacz"
    if kind == "a dangling link":
        (tmp_path / "dangling.wacz").symlink_to(tmp_path / "missing" / "x.wacz")
        return tmp_path / "dangling.wacz"
    return Path("/proc/x.wacz")  # a folder nobody may create files in, root included


def _kinds(folder: Path) -> dict[str, tuple[int, str | None]]:
    return {
        p.name: (stat.S_IFMT(p.lstat().st_mode), os.readlink(p) if p.is_symlink() else None) for p in folder.iterdir()
    }


@pytest.mark.parametrize(
    "kind",
    ["no folder", "under a file", "a folder", "a FIFO", "a link to a device", "a dangling link", "a system folder"],
)
def test_a_package_that_cannot_be_written_is_one_line_and_nothing_changes(
    archive: Archive, tmp_path: Path, kind: str
) -> None:
    pytest.importorskip("wacz")
    output = _place(tmp_path, kind)
    before = _kinds(tmp_path)
    line = one_error(scraper(archive, "pack", "--wacz", str(output)))
    assert line.startswith(f"error: {output}: "), line
    assert _kinds(tmp_path) == before  # the FIFO, the links, the folder as they were; no temporary file
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("args", [("pack", "--wacz", "x.wacz"), ("export", "--output", "x.jsonl")])
def test_an_output_in_a_read_only_folder_is_one_line(archive: Archive, tmp_path: Path, args: tuple[str, ...]) -> None:
    if args[0] == "pack":
        pytest.importorskip("wacz")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    output = folder / args[-1]
    try:
        probe = subprocess.run([sys.executable, "-c", f"open({str(folder / 'p')!r}, 'w')"], preexec_fn=_as_reader,
                               capture_output=True, timeout=TIMEOUT)  # fmt: skip
        if probe.returncode == 0:
            pytest.skip("a read-only folder stays writable here (capabilities kept, or modes ignored)")
        line = one_error(scraper(archive, *args[:-1], str(output), preexec_fn=_as_reader))
        assert line == f"error: {output}: cannot write: Permission denied"
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_a_package_is_written_through_a_symlink(archive: Archive, tmp_path: Path) -> None:
    pytest.importorskip("wacz")
    link, target = tmp_path / "link.wacz", tmp_path / "kept" / "real.wacz"
    target.parent.mkdir()
    link.symlink_to(target)
    done = scraper(archive, "pack", "--wacz", str(link))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert "datapackage.json" in zipfile.ZipFile(target).namelist()
    assert sorted(p.name for p in target.parent.iterdir()) == ["real.wacz"]


def _file_size_cap() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 10, 64 << 10))  # Python ignores SIGXFSZ: writes fail EFBIG


def test_a_package_that_outgrows_the_disk_is_one_line(archive: Archive, tmp_path: Path) -> None:
    pytest.importorskip("wacz")
    output = tmp_path / "x.wacz"
    line = one_error(scraper(archive, "pack", "--wacz", str(output), preexec_fn=_file_size_cap))
    assert line == f"error: {output}: cannot write: File too large", line
    assert list(tmp_path.iterdir()) == []


# --- Ctrl-C and SIGTERM --------------------------------------------------------------------------

# py-wacz's validation, with a SIGTERM that comes while it hashes the files, swallowed by a bare
# ``except:`` the way py-wacz's own code has them
SWALLOWED = """
from wacz.validate import Validation
hashes = Validation.check_file_hashes
def check_file_hashes(self):
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    except:
        pass
    return hashes(self)
Validation.check_file_hashes = check_file_hashes
"""

# a SIGTERM while py-wacz writes the zip
WHILE_ZIPPING = """
import scraper.archive.wacz as wacz
create = wacz._create
def _create(*args):
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)
    return create(*args)
wacz._create = _create
"""


@pytest.mark.parametrize("patch", [SWALLOWED, WHILE_ZIPPING], ids=["swallowed by py-wacz", "while zipping"])
def test_a_stop_late_in_pack_leaves_the_old_package(archive: Archive, tmp_path: Path, patch: str) -> None:
    pytest.importorskip("wacz")
    output = tmp_path / "x.wacz"
    output.write_bytes(b"the package of yesterday")
    done = scraper(archive, "pack", "--wacz", str(output), patch=patch)
    assert said(done) == [f"stopped: no package written ({output} left as it was)"]
    assert done.returncode == 130
    assert output.read_bytes() == b"the package of yesterday"
    assert [p.name for p in tmp_path.iterdir()] == ["x.wacz"]


def _stop_at_row(n: int, sig: str = "SIGTERM") -> str:
    """A signal when the n-th article is read."""
    return f"""
from scraper.archive.layout import Archive
read_pair = Archive.read_pair
seen = []
def reading(self, *args):
    seen.append(1)
    if len(seen) == {n}:
        os.kill(os.getpid(), signal.{sig})
        time.sleep(5)
    return read_pair(self, *args)
Archive.read_pair = reading
"""


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_a_stopped_export_to_a_file_leaves_nothing(archive: Archive, tmp_path: Path, sig: str) -> None:
    pytest.importorskip("pyarrow")
    output = tmp_path / "x.parquet"
    done = scraper(archive, "export", "--format", "parquet", "--output", str(output), patch=_stop_at_row(3, sig))
    assert said(done) == [f"stopped: {output} not written (left as it was)"]
    assert done.returncode == 130
    assert list(tmp_path.iterdir()) == []


def test_a_stopped_export_to_standard_output_says_how_far_it_got(archive: Archive) -> None:
    done = scraper(archive, "export", "--format", "jsonl", patch=_stop_at_row(3))
    assert said(done) == ["stopped: 2 articles exported to standard output, the rest not"]
    assert done.returncode == 130
    assert len(done.stdout.splitlines()) == 2


# a signal during the interpreter's shutdown, after the command has said all it had to say: an
# atexit function registered before the command's own runs after them
AT_EXIT = """
def at_exit():
    os.kill(os.getpid(), signal.{sig})
    time.sleep(0.5)
atexit.register(at_exit)
"""


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_a_signal_while_exiting_keeps_the_exit_code_and_the_file(archive: Archive, tmp_path: Path, sig: str) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    output = tmp_path / "x.parquet"
    done = scraper(archive, "export", "--format", "parquet", "--output", str(output), patch=AT_EXIT.format(sig=sig))
    (line,) = said(done)
    assert done.returncode == 0 and line.startswith(f"exported {pq.read_table(output).num_rows} articles"), line


def test_a_stopped_index_says_what_it_reached(archive: Archive) -> None:
    patch = """
import scraper.archive.cdx as cdx
up_to_date = cdx._up_to_date
seen = []
def second_stops(*args):
    seen.append(1)
    if len(seen) == 2:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    return up_to_date(*args)
cdx._up_to_date = second_stops
"""
    warcs = len(archive.warcs())
    done = scraper(archive, "index", "--force", patch=patch)
    expected = (
        f"stopped: indexes: 1 written, 0 already current, 0 failed; {warcs - 1} of {warcs} WARC files not reached"
    )
    assert said(done)[-1] == expected
    assert done.returncode == 130
    assert not [p for p in (archive.out / "warc").iterdir() if p.name.endswith(".tmp")]


# --- replay -------------------------------------------------------------------------------------


def test_replay_on_a_port_in_use_is_one_line(archive: Archive) -> None:
    pytest.importorskip("pywb")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_error(scraper(archive, "replay", "--port", str(port)))
    assert line == f"error: --port: 127.0.0.1:{port} is in use by another program; choose another port"


def _serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("when", ["serving", "starting"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "SIGTERM"])
def test_replay_stops_in_one_line(archive: Archive, sig: signal.Signals, when: str) -> None:
    pytest.importorskip("pywb")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "scraper", "replay", "--port", str(port), "--config", "run.toml"],
        cwd=archive.root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stderr is not None
        first = server.stderr.readline()  # said just before pywb takes over the process
        assert first.startswith(f"replaying http://127.0.0.1:{port}/archive/"), first
        deadline = time.monotonic() + TIMEOUT
        while when == "serving" and not _serving(port):
            assert server.poll() is None and time.monotonic() < deadline, "pywb did not start"
            time.sleep(0.25)
        server.send_signal(sig)
        rest = server.communicate(timeout=30)[1]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)
    assert "Traceback" not in rest, rest
    served = f"stopped: http://127.0.0.1:{port}/archive/ is no longer served; the archive was only read"
    # a stop just before the exec is the command's own; from the exec on, the server's
    before = "stopped: the replay did not start; nothing was served"
    assert rest.splitlines()[-1] in ((served,) if when == "serving" else (served, before)), rest
    assert server.returncode == 130


# --- options ------------------------------------------------------------------------------------


def test_each_short_option_means_one_thing() -> None:
    meaning: dict[str, set[str]] = {}
    command = typer.main.get_command(app)
    assert isinstance(command, typer.core.TyperGroup)
    for sub in command.commands.values():
        for param in sub.params:
            longs = {o for o in (*param.opts, *param.secondary_opts) if o.startswith("--")}
            for short in (o for o in param.opts if o.startswith("-") and not o.startswith("--")):
                meaning.setdefault(short, set()).update(longs)
    assert {short: longs for short, longs in meaning.items() if len(longs) > 1} == {}
    assert meaning["-o"] == {"--out"}
    assert all("--output" not in longs for longs in meaning.values())
