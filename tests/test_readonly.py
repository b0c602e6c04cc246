"""A read-only archive (a mounted backup, another user's archive): the reading commands work on it
and change nothing; the writing ones say so in one line (exit 2). And an archive whose WARC files
were gunzipped since: the catalog's offsets are the gzip files', and the commands that would read
at them say so in one line rather than read the wrong bytes.

The archive's files are made read-only (chmod a-w). Root writes through any mode, so as root the
commands run with every capability given up."""

from __future__ import annotations

import ctypes
import errno
import gzip
import os
import resource
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from test_run import World

from scraper.sites import by_name

_MEMORY = 2 << 30  # bytes of address space a command may take: a runaway fails, not the machine
_PR_CAPBSET_DROP = 24  # prctl(2)


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY, _MEMORY))


def _as_reader() -> None:
    """In the child before it runs the command: memory capped; as root, every capability given up
    for good (the bounding set emptied: the program it runs starts with none), so that the archive's
    modes bind it as they bind any user. (Running as nobody instead needs a Python that nobody may
    run; a virtualenv under /root, mode 0700, is none.)"""
    _capped()
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in range(64):  # past the kernel's last capability prctl fails with EINVAL: nothing to drop
            if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != errno.EINVAL:
                raise OSError(ctypes.get_errno(), "cannot give up capabilities")


def scraper(cwd: Path, *args: str, reader: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scraper", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
        preexec_fn=_as_reader if reader else _capped,
    )  # fmt: skip


def _lock_down(folder: Path) -> None:
    """Readable by all, writable by none."""
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
        if path.is_dir():
            mode |= stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _open_up(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def _require_read_only(folder: Path) -> None:
    """Skip unless the reader can read the folder and cannot write into it."""
    probe = (
        "import sys; from pathlib import Path; p = Path(sys.argv[1]); list(p.iterdir())\n"
        "try:\n    (p / 'probe').write_text('x')\nexcept OSError:\n    sys.exit(0)\nsys.exit(3)\n"
    )
    try:
        done = subprocess.run([sys.executable, "-c", probe, str(folder)], capture_output=True, text=True, timeout=60,
                              cwd=folder, preexec_fn=_as_reader)  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot run a command without the privilege to write here: {exc}")
    if done.returncode == 3:
        (folder / "probe").unlink()
        pytest.skip("a read-only folder stays writable here (capabilities kept, or a file system ignoring modes)")
    if done.returncode != 0:
        pytest.skip(f"the command cannot read the archive here: {done.stderr.strip()[-300:]}")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A real archive: `scraper run` of one site against a local server."""
    base = tmp_path_factory.mktemp("readonly")
    try:
        world = World(base)
        with ExitStack() as stack:
            world.start(stack)
            done, report = world.run("--site", "kremlin")
        assert done.returncode == 0, done.stderr
        assert report["sites"]["kremlin"]["extracted"] == world.expected(by_name("kremlin"))
        yield base
    finally:
        _open_up(base)  # for pytest to remove it


@pytest.fixture(scope="module")
def read_only(built: Path) -> Path:
    _lock_down(built)
    _require_read_only(built / "out")
    return built


def tree(folder: Path) -> dict[str, tuple[int, bytes | None, int]]:
    """Every path under ``folder``: mode, content (files) and modification time."""
    return {
        str(p.relative_to(folder)): (p.stat().st_mode, p.read_bytes() if p.is_file() else None, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def said_status(done: subprocess.CompletedProcess[str], articles: int) -> None:
    (row,) = [line.split() for line in done.stdout.splitlines() if line.startswith("kremlin")]
    assert row[1] == str(articles), done.stdout


def said_check(done: subprocess.CompletedProcess[str], articles: int) -> None:
    assert any(line.split()[:3] == ["kremlin", "ok", str(articles)] for line in done.stdout.splitlines()), done.stdout


def said_export(done: subprocess.CompletedProcess[str], articles: int) -> None:
    assert len([line for line in done.stdout.splitlines() if line.startswith("{")]) == articles, done.stdout


def said_verify(done: subprocess.CompletedProcess[str], articles: int) -> None:
    assert f"{articles} texts, {articles} catalog entries: 0 problems" in done.stderr, done.stderr


READING = {
    "status": (("status", "--config", "run.toml"), said_status),
    "check": (("check", "--config", "run.toml", "--site", "kremlin"), said_check),
    "export": (("export", "--config", "run.toml"), said_export),
    "verify": (("verify", "out"), said_verify),
}


@pytest.mark.parametrize("command", READING)
def test_a_reading_command_works_and_writes_nothing(read_only: Path, command: str) -> None:
    before = tree(read_only / "out")
    args, said = READING[command]
    done = scraper(read_only, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    said(done, World(read_only).expected(by_name("kremlin")))
    assert tree(read_only / "out") == before  # not even SQLite's -shm or -wal beside the catalog


@pytest.mark.parametrize("command", [("run", "--site", "kremlin", "--quiet"), ("index",), ("index", "--force")])
def test_a_writing_command_says_read_only_in_one_line(read_only: Path, command: tuple[str, ...]) -> None:
    before = tree(read_only / "out")
    done = scraper(read_only, *command, "--config", "run.toml")
    assert done.returncode == 2, done.stdout + done.stderr
    line = one_line(done)
    assert line.startswith("error: out") and "read-only" in line, line
    assert tree(read_only / "out") == before


def test_a_read_only_catalog_with_commits_in_its_wal(tmp_path: Path) -> None:
    """A backup of an archive a run was writing: commits still in catalog.sqlite-wal are read
    (through its -shm), and without the -shm, where they cannot be, the command says so."""
    try:
        out = tmp_path / "out"
        code = (
            "import os, sys; from datetime import UTC, datetime; from pathlib import Path\n"
            "from scraper.archive.catalog import Catalog\n"
            "c = Catalog(Path(sys.argv[1]))\n"
            "c.to_fetch('kremlin', [('https://a.ru/1', 'https://a.ru/1')], datetime.now(UTC), 3)\n"
            "os._exit(0)  # killed: the commit stays in the -wal, not yet in the file\n"
        )
        done = subprocess.run([sys.executable, "-c", code, str(out / "catalog.sqlite")], timeout=60, cwd=tmp_path)
        assert done.returncode == 0 and (out / "catalog.sqlite-wal").stat().st_size > 0
        _lock_down(tmp_path)
        _require_read_only(out)
        before = tree(out)
        read = (
            "import sys; from pathlib import Path; from scraper.archive.catalog import Catalog\n"
            "with Catalog(Path(sys.argv[1]), read_only=True) as c:\n"
            "    assert c.article('https://a.ru/1') is not None\n"
        )
        found = subprocess.run([sys.executable, "-c", read, str(out / "catalog.sqlite")], capture_output=True,
                               text=True, timeout=60, cwd=tmp_path, preexec_fn=_as_reader)  # fmt: skip
        assert found.returncode == 0, found.stderr
        assert tree(out) == before

        _open_up(tmp_path)
        (out / "catalog.sqlite-shm").unlink()
        _lock_down(tmp_path)
        before = tree(out)
        export = scraper(tmp_path, "export", "--out", "out")
        assert export.returncode == 2
        line = one_line(export)
        assert "out/catalog.sqlite" in line and "catalog.sqlite-wal" in line and "read-only" in line, line
        assert tree(out) == before
    finally:
        _open_up(tmp_path)


def test_snapshot_takes_its_page_from_a_read_only_archive(read_only: Path, tmp_path: Path) -> None:
    url = next(u for u in World(read_only).articles["kremlin"] if "/news/" in u)
    before = tree(read_only / "out")
    done = scraper(read_only, "snapshot", url, "--config", "run.toml", "--fixtures", str(tmp_path), "--name", "ro")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "from warc/kremlin-" in done.stderr and (tmp_path / "kremlin" / "ro.json").is_file()
    assert tree(read_only / "out") == before


@pytest.fixture
def gunzipped(built: Path, tmp_path: Path) -> tuple[Path, str]:
    """A copy of the archive whose WARC file a user gunzipped (``x.warc.gz`` -> ``x.warc``), and
    the words the commands must say about it."""
    out = tmp_path / "out"
    shutil.copytree(built / "out", out)
    shutil.copy(built / "run.toml", tmp_path / "run.toml")
    _open_up(tmp_path)
    (gz,) = sorted((out / "warc").glob("*.warc.gz"))
    plain = gz.with_name(gz.name.removesuffix(".gz"))
    plain.write_bytes(gzip.decompress(gz.read_bytes()))
    gz.unlink()
    return tmp_path, f"warc/{gz.name} is missing; {plain.name} beside it is the same WARC"


def warnings(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in done.stderr, done.stderr
    return [line for line in done.stderr.splitlines() if line.startswith("warning:")]


def test_export_and_check_say_a_gunzipped_warc_once(gunzipped: tuple[Path, str]) -> None:
    folder, said = gunzipped
    export = scraper(folder, "export", "--config", "run.toml", reader=False)
    assert export.returncode == 1
    (line,) = warnings(export)
    assert said in line and f"({World(folder).expected(by_name('kremlin'))} exported articles name it)" in line

    # as for texts a check has not compared yet (new, or re-cleaned since): their WARC is read
    with sqlite3.connect(folder / "out" / "catalog.sqlite") as db:
        db.execute("DELETE FROM quality_articles")
    db.close()
    for _ in range(2):  # said again by the next check: not kept as "no copy"
        check = scraper(folder, "check", "--config", "run.toml", "--site", "kremlin", reader=False)
        (line,) = warnings(check)
        assert said in line and "not compared" in line


def test_verify_says_a_gunzipped_warc(gunzipped: tuple[Path, str]) -> None:
    folder, said = gunzipped
    verify = scraper(folder, "verify", "out", reader=False)
    assert verify.returncode == 1 and not warnings(verify)
    named = [line for line in verify.stdout.splitlines() if ".warc.gz" in line]
    assert named and all(said in line for line in named), verify.stdout
