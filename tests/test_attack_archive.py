"""The outside attacker's findings on index, verify, replay, pack and export (issue 15 and 16):
a read-only archive (a mounted backup) is replayed and packed whole, its missing or stale indexes
made in a temporary place; verify reports records that lack the fields WARC 1.1 requires, and a
file with no warcinfo first; index says what is wrong with a record in one line, refuses a folder
with no WARC, and counts the files it skipped; export's ``--output -`` is standard output, and an
output in /proc gets a true reason; pack and export draw a bar with a total at a terminal.

Records are written here byte by byte, not with the code under test."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_index import Archive, build_archive
from test_readonly import _as_reader, _capped, _lock_down, _open_up, _require_read_only, tree
from test_replay import free_port, wait_until_up
from typer.testing import CliRunner

from scraper.archive.cdx import index_path, read_index
from scraper.archive.verify import verify
from scraper.cli import app

TIMEOUT = 180  # seconds a command may take on a loaded machine
CLASS_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception)\b|NoneType")  # Python's words, not the tool's


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return build_archive(tmp_path_factory.mktemp("attack"))


def scraper(cwd: Path, *args: str, reader: bool = False, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scraper", *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
        preexec_fn=_as_reader if reader else _capped, env={**os.environ, **env},
    )  # fmt: skip


def record(fields: dict[str, str], block: bytes) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    return f"WARC/1.1\r\n{head}Content-Length: {len(block)}\r\n\r\n".encode() + block + b"\r\n\r\n"


RESPONSE = {
    "WARC-Type": "response",
    "WARC-Record-ID": "<urn:uuid:6b1c2c5e-0e0d-4d4e-9a55-3f6e8c1f4a10>",
    "WARC-Date": "2024-05-01T12:00:00Z",
    "WARC-Target-URI": "https://www.interfax.ru/world/1",
    "Content-Type": "application/http; msgtype=response",
}
HTTP = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>text</p>"


def without(*names: str) -> dict[str, str]:
    return {k: v for k, v in RESPONSE.items() if k not in names}


# --- a read-only archive: replay and pack ---------------------------------------------------------


@pytest.fixture
def read_only(archive: Archive, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A locked copy of the archive whose first WARC has no index and whose second WARC is newer than
    its index (a backup taken before ``index`` ran); the WARCs' first index, read before."""
    root = tmp_path / "backup"
    shutil.copytree(archive.root, root, symlinks=True)
    first, second = sorted((root / "out" / "warc").glob("*.warc.gz"))[:2]
    index_path(first).unlink()
    later = index_path(second).stat().st_mtime + 60
    os.utime(second, (later, later))
    _lock_down(root)
    _require_read_only(root / "out")
    yield root, first
    _open_up(root)


def test_replay_serves_a_read_only_archive_and_leaves_nothing(
    read_only: tuple[Path, Path], archive: Archive, tmp_path: Path
) -> None:
    pytest.importorskip("pywb")
    root, unindexed = read_only
    entry = next(e for e in read_index(index_path(archive.out / "warc" / unindexed.name)) if e.status == "200")
    temp = tmp_path / "tmp"
    temp.mkdir()
    before = tree(root / "out")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "scraper", "replay", "--port", str(port), "--config", "run.toml"], cwd=root,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=_as_reader,
        env={**os.environ, "TMPDIR": str(temp)},
    )  # fmt: skip
    try:
        wait_until_up(server, f"http://127.0.0.1:{port}/")
        # a capture of the WARC that had no index: its index was made in the temporary folder
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/archive/{entry.timestamp}id_/{entry.url}") as answer:
            assert answer.status == 200
        server.send_signal(signal.SIGTERM)
        said = server.communicate(timeout=60)[1]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)
    assert server.returncode == 130 and "Traceback" not in said and "cannot write" not in said, said
    assert list(temp.iterdir()) == []  # the config and indexes went with the server
    assert tree(root / "out") == before


def test_pack_of_a_read_only_archive_with_stale_indexes_is_complete(
    read_only: tuple[Path, Path], tmp_path: Path
) -> None:
    pytest.importorskip("wacz")
    root, _ = read_only
    before = tree(root / "out")
    package = tmp_path / "pkg" / "x.wacz"
    package.parent.mkdir()
    done = scraper(root, "pack", "--wacz", str(package), "--config", "run.toml", reader=True)
    assert done.returncode == 0, done.stderr
    warcs = sorted(p.name for p in (root / "out" / "warc").glob("*.warc.gz"))
    pages = len(list((root / "out" / "text").rglob("*.json")))
    assert done.stderr.splitlines() == [f"packed {len(warcs)} WARC files, {pages} pages: {package}"]
    names = zipfile.ZipFile(package).namelist()
    assert sorted(n.removeprefix("archive/") for n in names if n.startswith("archive/")) == warcs
    assert tree(root / "out") == before
    assert os.listdir(package.parent) == ["x.wacz"]  # the indexes made for it went with its temporary files


def test_pack_of_one_warc_says_one(archive: Archive, tmp_path: Path) -> None:
    pytest.importorskip("wacz")
    root = tmp_path / "one"
    shutil.copytree(archive.root, root, symlinks=True)
    for warc in sorted((root / "out" / "warc").glob("*.warc.gz"))[1:]:
        warc.unlink()
    done = scraper(root, "pack", "--wacz", "x.wacz", "--config", "run.toml")
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("packed 1 WARC file, "), done.stderr


# --- verify: the fields WARC 1.1 requires, warcinfo first ---------------------------------------------


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain file", "gzipped in an archive"])
def test_verify_reports_a_record_without_id_or_date_in_a_file_without_warcinfo(tmp_path: Path, gzipped: bool) -> None:
    data = record(without("WARC-Record-ID", "WARC-Date"), HTTP)
    if gzipped:
        path = tmp_path / "vx" / "warc" / "x.warc.gz"
        path.parent.mkdir(parents=True)
        path.write_bytes(gzip.compress(data))
    else:
        path = tmp_path / "x.warc"
        path.write_bytes(data)
    done = CliRunner().invoke(app, ["verify", str(path.parents[1] if gzipped else path)])
    assert done.exit_code == 1, done.output
    assert done.stdout.splitlines() == [
        f"{path}: offset 0: response record: lacks fields WARC 1.1 requires: WARC-Record-ID, WARC-Date",
        f"{path}: offset 0: the file begins with a response record, not a warcinfo record",
    ]


@pytest.mark.parametrize("missing", ["WARC-Type", "WARC-Target-URI"])
def test_verify_names_a_missing_field_warcio_cannot_read_past(tmp_path: Path, missing: str) -> None:
    path = tmp_path / "x.warc"
    path.write_bytes(record(without(missing), HTTP))
    done = CliRunner().invoke(app, ["verify", str(path)])
    assert done.exit_code == 1, done.output
    (line,) = done.stdout.splitlines()
    assert line.endswith(f"lacks fields WARC 1.1 requires: {missing}") and not CLASS_NAME.search(line), line


# --- index: one line for a bad record, a folder with no WARC, the skipped files counted ------------------


@pytest.mark.parametrize(
    "fields, block, said",
    [
        (RESPONSE, b"hello there, no status line\r\n", "no HTTP status line"),
        (without("WARC-Date"), HTTP, "lacks fields WARC 1.1 requires: WARC-Date"),
    ],
    ids=["no status line", "no WARC-Date"],
)
def test_index_says_what_is_wrong_with_a_record_at_its_offset(
    tmp_path: Path, fields: dict[str, str], block: bytes, said: str
) -> None:
    info = record({"WARC-Type": "warcinfo", "WARC-Record-ID": "<urn:uuid:1>", "WARC-Date": RESPONSE["WARC-Date"]}, b"")
    path = tmp_path / "ctl.warc"
    path.write_bytes(info + record(fields, block))
    done = CliRunner().invoke(app, ["index", str(path)])
    assert done.exit_code == 1
    (line, summary) = done.stderr.splitlines()
    assert f"at offset {len(info)}: {said}" in line and not CLASS_NAME.search(line), line
    assert summary == "indexes: 0 written, 0 already current, 1 failed"


def test_index_of_a_folder_with_no_warc_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "emptyd").mkdir()
    done = CliRunner().invoke(app, ["index", str(tmp_path / "emptyd")])
    assert done.exit_code == 2
    assert done.output == f"error: {tmp_path / 'emptyd'}: no WARC file (.warc or .warc.gz) in it: nothing to index\n"


def test_index_counts_the_files_it_skipped(archive: Archive, tmp_path: Path) -> None:
    warcs = archive.warcs()
    for warc in warcs[:2]:
        shutil.copy(warc, tmp_path / warc.name)
        (tmp_path / f"{warc.name}.open").touch()  # a run is writing it
    done = CliRunner().invoke(app, ["index", "--quiet", str(tmp_path)])
    assert done.exit_code == 0 and done.output == ""
    done = CliRunner().invoke(app, ["index", str(tmp_path)])
    lines = done.stderr.splitlines()
    assert len([line for line in lines if line.startswith("skipped: ")]) == 2
    assert lines[-1] == "indexes: 0 written, 0 already current, 0 failed, 2 skipped (still being written)"


# --- export: "-" and /proc ------------------------------------------------------------------------------


def test_export_to_dash_is_standard_output(archive: Archive, tmp_path: Path) -> None:
    shutil.copy(archive.root / "run.toml", tmp_path / "run.toml")
    done = scraper(tmp_path, "export", "--output", "-", "--config", "run.toml", "--out", str(archive.out))
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 30
    assert done.stderr == "exported 30 articles to standard output (0 without text, 0 failed)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.toml"]


def test_export_into_proc_says_why(archive: Archive) -> None:
    before = Path("/proc/version").read_bytes()
    done = archive.scraper("export", "--output", "/proc/version")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "error: /proc/version: cannot write: no new file can be made in /proc\n"
    assert Path("/proc/version").read_bytes() == before


# --- a bar with a total at a terminal ---------------------------------------------------------------------


def drawn(done: subprocess.CompletedProcess[str]) -> str:
    """What the terminal shows of stderr, its colours and cursor moves left out."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", done.stderr)


def test_pack_and_export_draw_a_bar_with_a_total(archive: Archive, tmp_path: Path) -> None:
    pytest.importorskip("wacz")
    terminal = {"TTY_COMPATIBLE": "1", "COLUMNS": "100"}  # stderr taken for a terminal, rows kept on stdout
    steps = len(archive.warcs()) + 2  # each WARC indexed, the package written, then validated
    packed = scraper(archive.root, "pack", "--wacz", str(tmp_path / "x.wacz"), "--config", "run.toml", **terminal)
    assert packed.returncode == 0 and re.search(rf"packing .* {steps}/{steps} ", drawn(packed)), packed.stderr
    exported = scraper(archive.root, "export", "--config", "run.toml", **terminal)
    assert exported.returncode == 0 and re.search(r"exporting .* 30/30 ", drawn(exported)), exported.stderr
    assert len(exported.stdout.splitlines()) == 30  # the bar's redirection of stdout did not take the rows
    quiet = scraper(archive.root, "export", "--config", "run.toml", "--quiet", **terminal)
    assert quiet.stderr == ""


def test_verify_draws_a_bar_through_its_parts(archive: Archive) -> None:
    terminal = {"TTY_COMPATIBLE": "1", "COLUMNS": "100"}
    checked = scraper(archive.root, "verify", "out", **terminal)
    assert checked.returncode == 0, checked.stderr
    assert re.search(r"verifying catalog .* 100% ", drawn(checked)), checked.stderr


def test_verify_tells_how_far_each_part_is(archive: Archive) -> None:
    heard: list[tuple[str, int, int]] = []
    summary = verify(archive.out, lambda line: None, lambda part, done, total: heard.append((part, done, total)))
    parts = [part for part, _, _ in heard]
    assert parts == sorted(parts, key=["WARC files", "texts", "catalog"].index)  # in that order, each once
    size = sum(p.stat().st_size for p in archive.warcs())
    assert [(d, t) for p, d, t in heard if p == "WARC files"][-1] == (size, size)
    assert heard[-1] == ("catalog", summary.catalog_entries, summary.catalog_entries) and summary.catalog_entries
    assert all(0 <= done <= total for _, done, total in heard)
