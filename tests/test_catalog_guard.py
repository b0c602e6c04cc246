"""What is at the catalog's path and is no catalog is refused, never replaced: an empty file, a file
that is not SQLite, a folder, a symlink out of the archive, a catalog of a newer scraper. Every
command that opens it says so in one line (exit 2) and leaves it as it was; a missing catalog is
still made by the first run. And anything at --out that is not a folder is refused by every command
that takes --out."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner, Result

from scraper.archive.catalog import Catalog
from scraper.archive.schema import MIGRATIONS, SCHEMA_VERSION, CaptureRow, FeedRow
from scraper.cli import app
from scraper.errors import CatalogError
from scraper.sites import SITES

T0 = datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
NOT_SQLITE = b"<html>a page saved over the catalog</html>\n" * 40


def zero_bytes(path: Path) -> None:
    path.write_bytes(b"")


def not_sqlite(path: Path) -> None:
    path.write_bytes(NOT_SQLITE)


def folder(path: Path) -> None:
    path.mkdir()
    (path / "inside").write_text("kept\n")


BAD = {"empty": zero_bytes, "not SQLite": not_sqlite, "folder": folder}
SAID = {"empty": "empty file (0 bytes)", "not SQLite": "not a database", "folder": "a folder"}


def state(path: Path) -> object:
    """What is at ``path``, to the byte: what a refusal must leave as it was."""
    if path.is_dir():
        return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in path.iterdir()}
    return path.read_bytes(), path.stat().st_mtime_ns


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An archive folder and a config whose every site's origin is a closed local port: a run that
    got past the catalog would fail to connect, never reach the sites."""
    monkeypatch.chdir(tmp_path)
    origins = sorted({f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for s in SITES for u in s.feeds})
    lines = ["[network]", "timeout = 1", "retries = 0", "[politeness]", "delay = 0", "[run]", "use_sitemaps = false",
             "[network.connect_to]", *(f'"{o}" = "http://127.0.0.1:9"' for o in origins)]  # fmt: skip
    (tmp_path / "run.toml").write_text("\n".join(lines) + "\n")
    (tmp_path / "out").mkdir()
    return tmp_path / "out"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, [*args, "--config", "run.toml", "--out", "out"])


COMMANDS: dict[str, tuple[str, ...]] = {
    "run": ("run", "--quiet", "--site", "kremlin"),
    "status": ("status",),
    "check": ("check",),
    "export": ("export",),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", BAD)
def test_every_command_refuses_what_is_no_catalog_in_one_line(archive: Path, command: str, kind: str) -> None:
    catalog = archive / "catalog.sqlite"
    BAD[kind](catalog)
    before = state(catalog)
    result = invoke(*COMMANDS[command])
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("error: "), result.output
    assert "out/catalog.sqlite" in result.output and SAID[kind] in result.output
    assert state(catalog) == before
    assert not [p for p in archive.iterdir() if p.name.startswith(("catalog.sqlite-", ".catalog"))]


@pytest.mark.parametrize("read_only", [False, True])
@pytest.mark.parametrize("kind", BAD)
def test_catalog_refuses_what_is_no_catalog(archive: Path, read_only: bool, kind: str) -> None:
    catalog = archive / "catalog.sqlite"
    BAD[kind](catalog)
    before = state(catalog)
    with pytest.raises(CatalogError, match=re.escape(SAID[kind])):
        Catalog(catalog, read_only=read_only)
    assert state(catalog) == before


def test_a_symlink_out_of_the_archive_is_refused(archive: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.sqlite"
    Catalog(elsewhere).close()
    before = state(elsewhere)
    (archive / "catalog.sqlite").symlink_to(elsewhere)
    for read_only in (False, True):
        with pytest.raises(CatalogError, match="outside the archive"):
            Catalog(archive / "catalog.sqlite", read_only=read_only)
    assert state(elsewhere) == before
    result = invoke("status")
    assert result.exit_code == 2 and "outside the archive" in result.output, result.output


def test_a_symlink_inside_the_archive_is_followed(archive: Path) -> None:
    (archive / "kept").mkdir()
    with Catalog(archive / "kept" / "catalog.sqlite") as catalog:
        catalog.to_fetch("a", [("https://a.ru/1", "https://a.ru/1")], T0, 3)
    (archive / "catalog.sqlite").symlink_to(Path("kept") / "catalog.sqlite")
    with Catalog(archive / "catalog.sqlite", read_only=True) as catalog:
        assert catalog.article("https://a.ru/1") is not None


def test_a_catalog_of_a_newer_scraper_is_refused_by_the_commands(archive: Path) -> None:
    catalog = archive / "catalog.sqlite"
    Catalog(catalog).close()
    with sqlite3.connect(catalog) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    before = state(catalog)
    for command in COMMANDS.values():
        result = invoke(*command)
        assert result.exit_code == 2 and "newer" in result.output and result.output.count("\n") == 1, result.output
    assert state(catalog) == before


def test_an_sqlite_file_of_another_program_is_no_catalog(archive: Path) -> None:
    catalog = archive / "catalog.sqlite"
    with sqlite3.connect(catalog) as db:
        db.execute("CREATE TABLE notes (body TEXT)")
        db.execute("INSERT INTO notes VALUES ('mine')")
    db.close()
    before = state(catalog)
    for read_only in (False, True):
        with pytest.raises(CatalogError, match="not a catalog"):
            Catalog(catalog, read_only=read_only)
    assert state(catalog) == before


def test_a_reader_neither_creates_nor_upgrades(archive: Path) -> None:
    catalog = archive / "catalog.sqlite"
    with pytest.raises(CatalogError, match="no catalog"):
        Catalog(catalog, read_only=True)
    assert not catalog.exists()
    with sqlite3.connect(catalog) as db:  # a catalog an earlier scraper wrote
        for statement in [s for step in MIGRATIONS[: SCHEMA_VERSION - 1] for s in step]:
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    db.close()
    before = state(catalog)
    with pytest.raises(CatalogError, match="older"):
        Catalog(catalog, read_only=True)
    assert state(catalog) == before
    with pytest.raises(CatalogError, match="older"):
        Catalog(catalog, read_only=True)
    with Catalog(catalog) as writer:  # a writer upgrades it, as before
        assert not writer.read_only
    with Catalog(catalog, read_only=True) as reader:
        assert reader.read_only and reader.status() == []
        with pytest.raises(CatalogError, match="readonly"):
            reader.to_fetch("a", [("https://a.ru/1", "https://a.ru/1")], T0, 3)


def test_a_new_catalog_appears_whole(archive: Path) -> None:
    """Made under another name and linked into place: no empty catalog a killed first run could
    leave, and no temporary file left behind."""
    catalog = archive / "catalog.sqlite"
    with Catalog(catalog) as made:
        assert made.status() == []
    assert catalog.stat().st_size > 0 and catalog.read_bytes().startswith(b"SQLite format 3\x00")
    assert sorted(p.name for p in archive.iterdir()) == ["catalog.sqlite"]


def test_the_first_run_still_makes_the_catalog(archive: Path) -> None:
    result = invoke(*COMMANDS["run"])
    assert "Traceback" not in result.output
    with Catalog(archive / "catalog.sqlite", read_only=True) as catalog:
        assert catalog.status()  # the run recorded itself, and its failed feeds


def test_relocate_moves_every_row_naming_a_record(archive: Path) -> None:
    with Catalog(archive / "catalog.sqlite") as catalog:
        catalog.record_capture(CaptureRow("https://a.ru/1", "https://a.ru/1", "a", T0, 200, None, None, "sha1:A",
                                          "warc/a.warc.gz", "<urn:uuid:1>", 4321))  # fmt: skip
        catalog.record_feed(FeedRow("https://a.ru/rss", "a", None, None, None, "warc/a.warc.gz", "<urn:uuid:2>", T0,
                                    "https://a.ru/rss"))  # fmt: skip
        assert catalog.relocate("<urn:uuid:1>", warc_file="warc/a.warc", warc_offset=9876) == 2
        assert catalog.relocate("<urn:uuid:2>", warc_file="warc/a.warc", warc_offset=5) == 1
        assert catalog.relocate("<urn:uuid:1>", warc_file="warc/a.warc", warc_offset=9876) == 0
        row = catalog.article("https://a.ru/1")
        assert row is not None and (row.warc_file, row.warc_offset) == ("warc/a.warc", 9876)
        (kept,) = catalog.captures("https://a.ru/1")
        assert (kept.warc_file, kept.warc_offset) == ("warc/a.warc", 9876)
        feed = catalog.feed_state("https://a.ru/rss")
        assert feed is not None and feed.warc_file == "warc/a.warc"


# --- --out that is not a folder -----------------------------------------------------------------

OUT_COMMANDS: dict[str, tuple[str, ...]] = {
    "run": ("run", "--quiet", "--site", "kremlin"),
    "status": ("status",),
    "check": ("check",),
    "export": ("export",),
    "index": ("index",),
    "pack": ("pack", "--wacz", "x.wacz"),
    "replay": ("replay",),
    "fetch": ("fetch", "http://kremlin.ru/events/president/news/1"),
    "reclean": ("reclean", "warc"),
    "snapshot": ("snapshot", "http://kremlin.ru/events/president/news/1"),
}


@pytest.mark.parametrize("command", OUT_COMMANDS)
def test_out_pointing_at_a_file_is_refused_in_one_line(archive: Path, tmp_path: Path, command: str) -> None:
    (tmp_path / "warc").mkdir()  # reclean's argument: a folder with no WARC in it
    blocker = tmp_path / "a-file"
    blocker.write_text("not an archive\n")
    result = CliRunner().invoke(app, [*OUT_COMMANDS[command], "--config", "run.toml", "--out", str(blocker)])
    assert result.exit_code == 2, result.output
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith(f"error: {blocker}") and ("a file" in line or "Not a directory" in line), line
    assert blocker.read_text() == "not an archive\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "out", "run.toml", "warc"]


def test_out_pointing_at_a_fifo_is_refused_without_waiting(archive: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "a-fifo"
    os.mkfifo(fifo)
    result = CliRunner().invoke(app, ["export", "--config", "run.toml", "--out", str(fifo)])
    assert result.exit_code == 2 and f"{fifo}: not a folder" in result.output, result.output


@pytest.mark.parametrize("read_only", [False, True])
def test_a_foreign_wal_beside_the_catalog_is_refused_and_never_checkpointed(tmp_path: Path, read_only: bool) -> None:
    path = tmp_path / "catalog.sqlite"
    with Catalog(path):
        pass
    before = path.read_bytes()
    other = sqlite3.connect(tmp_path / "other.db")  # kept open: its -wal still holds its pages
    other.execute("PRAGMA journal_mode = WAL")
    other.execute("CREATE TABLE x (a)")
    other.commit()
    shutil.copy(tmp_path / "other.db-wal", tmp_path / "catalog.sqlite-wal")
    with pytest.raises(CatalogError, match="not a catalog"):
        Catalog(path, read_only=read_only)
    other.close()
    assert path.read_bytes() == before
