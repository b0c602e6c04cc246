"""A catalog edited by hand (sqlite3) or damaged: a value of the wrong kind in any column (a time that is
no time, text in a count, a negative or huge offset, NULL in a key, a blob), or a table or column
missing. Every value is checked where the catalog reads it: a bad one raises a CatalogError naming
the table, the row and the column (or, asked to, is told and skipped); every command says it in one
line, never a traceback; `verify` lists each one (exit 1); a missing table is refused by every
command and is a problem in `verify`."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_catalog_guard import COMMANDS, archive, invoke, state  # noqa: F401  (archive: their fixture)
from test_run import World

from scraper.archive.catalog import Catalog
from scraper.archive.catalog_rows import COLUMNS
from scraper.archive.schema import CaptureRow, FeedRow, QualityRow
from scraper.errors import CatalogError

NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(hours=2)  # recent: inside `scraper check`'s window
URL = "http://kremlin.ru/events/president/news/1"  # articles row 1: archived, with a text
FAILED = "http://kremlin.ru/events/president/news/2"  # articles row 2: failed, retry due
FEED = "http://kremlin.ru/events/all/feed"


def fill(path: Path) -> None:
    """One row in every table, through the catalog's own calls."""
    with Catalog(path) as c:
        c.to_fetch("kremlin", [(URL, URL), (FAILED, FAILED)], T0, 3)
        c.record_capture(CaptureRow(URL, URL, "kremlin", T0, 200, None, None, "sha1:A", "warc/k.warc.gz",
                                    "<urn:uuid:1>", 100))  # fmt: skip
        c.next_serial("kremlin", T0.date(), URL)
        c.record_article(URL, text_path="text/kremlin/000_a.txt", text_sha256="0" * 64, adapter="kremlin/1",
                         extracted_at=T0)  # fmt: skip
        c.record_failure(FAILED, url=FAILED, site="kremlin", reason="HTTP 500", now=T0, backoff=timedelta(minutes=1))
        c.record_feed(FeedRow(FEED, "kremlin", '"e"', None, "sha1:B", "warc/k.warc.gz", "<urn:uuid:2>", T0, FEED))
        c.finish_run(c.start_run(T0), T0, "ok", {"kremlin": {"status": "ok"}})
        c.record_quality([QualityRow(URL, "kremlin", T0, "0" * 64, 100, 3, False, "[]")])
        c.record_check("kremlin", checked_at=T0, since=T0 - timedelta(days=1), verdict="ok", report={})


def edit(path: Path, *sql: str) -> None:
    db = sqlite3.connect(path)
    for statement in sql:
        db.execute(statement)
    db.commit()
    db.close()


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.sqlite"
    fill(path)
    return path


def test_the_columns_checked_are_the_schema(catalog: Path) -> None:
    """Every table and column the migrations make is checked, and NOT NULL ones take no NULL."""
    db = sqlite3.connect(catalog)
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    made = {t: db.execute(f"PRAGMA table_info({t})").fetchall() for t in tables if t != "sqlite_sequence"}
    db.close()
    assert {t: [c[1] for c in columns] for t, columns in made.items()} == {t: list(c) for t, c in COLUMNS.items()}
    assert not [(t, c[1]) for t, columns in made.items() for c in columns if c[3] and COLUMNS[t][c[1]].null]


# what a tester put into articles row 1, and the column a reader must name
BAD_ARTICLE = {
    "a word for a time": ("first_seen = 'yesterday'", "first_seen"),
    "a number for a time": ("archived_at = 20261122", "archived_at"),
    "a time of another width": ("last_fetched = '2026-11-22T10:15:00Z'", "last_fetched"),
    "text for an offset": ("warc_offset = 'abc'", "warc_offset"),
    "a negative offset": ("warc_offset = -5", "warc_offset"),
    "an offset past any integer": ("warc_offset = 99999999999999999999", "warc_offset"),
    "a string for a count": ("failures = 'many'", "failures"),
    "a huge count": ("failures = 9223372036854775807", "failures"),
    "a flag that is no flag": ("gave_up = 7", "gave_up"),
    "NULL for the key": ("canonical = NULL", "canonical"),
    "a blob for a path": ("text_path = X'00ff'", "text_path"),
    "no day": ("serial_day = '2026-13-01'", "serial_day"),
    "a status that is none": ("http_status = 'OK'", "http_status"),
}


@pytest.mark.parametrize("case", BAD_ARTICLE)
def test_a_bad_article_value_raises_naming_table_row_and_column(catalog: Path, case: str) -> None:
    change, column = BAD_ARTICLE[case]
    edit(catalog, f"UPDATE articles SET {change} WHERE rowid = 1")
    with Catalog(catalog, read_only=True) as c, pytest.raises(CatalogError) as raised:
        list(c.articles())
    said = str(raised.value)
    assert re.search(rf"catalog\.sqlite: articles row 1\b.*: {column} is ", said), said
    assert "\n" not in said


def test_a_bad_row_can_be_told_and_skipped(catalog: Path) -> None:
    edit(catalog, "UPDATE articles SET warc_offset = -5 WHERE rowid = 1",
         "UPDATE articles SET failures = 'many' WHERE rowid = 2")  # fmt: skip
    told: list[str] = []
    with Catalog(catalog, read_only=True, on_bad_row=told.append) as c:
        assert list(c.articles()) == []
        assert c.failures() == []
        assert c.article(URL) is None  # one row asked for: unknown
        status = c.status()
    assert len(told) == 2 and "warc_offset is -5" in told[0] and "failures is 'many'" in told[1]
    assert [(s.site, s.articles, s.failures_pending) for s in status] == [("kremlin", 1, 0)]


def _due(c: Catalog) -> object:
    return c.due_retries("kremlin", NOW, 3)


def _serial(c: Catalog) -> object:
    return c.next_serial("kremlin", T0.date(), URL)


def _fail(c: Catalog) -> object:
    return c.record_failure(FAILED, url=FAILED, site="kremlin", reason="x", now=NOW, backoff=timedelta(minutes=1))


# (the edit, the call that reads it, the table and column it must name)
READERS: dict[str, tuple[str, Callable[[Catalog], object], str, str]] = {
    "feed_state": ("UPDATE feeds SET warc_date = 'yesterday'", lambda c: c.feed_state(FEED), "feeds", "warc_date"),
    "failures": ("UPDATE articles SET failures = 'many' WHERE rowid = 2", Catalog.failures, "articles", "failures"),
    "status, articles": ("UPDATE articles SET gave_up = 7", Catalog.status, "articles", "gave_up"),
    "status, site_runs": ("UPDATE site_runs SET last_run_at = 42", Catalog.status, "site_runs", "last_run_at"),
    "quality_rows": ("UPDATE quality_articles SET chars = 'x'", lambda c: c.quality_rows("kremlin", T0 - timedelta(1)),
                     "quality_articles", "chars"),
    "quality_rows, copies": ("UPDATE quality_articles SET copies = '[{}]'",
                             lambda c: c.quality_rows("kremlin", T0 - timedelta(1)), "quality_articles", "copies"),
    "last_checks": ("UPDATE quality_checks SET report = 'not json'", Catalog.last_checks, "quality_checks", "report"),
    "last_checks, deep": ("UPDATE quality_checks SET report = '" + "[" * 100_000 + "'", Catalog.last_checks,
                          "quality_checks", "report"),
    "last_archived": ("UPDATE articles SET archived_at = '2026-00-01T10:15:00.000000Z'",
                      lambda c: c.last_archived("kremlin", NOW), "articles", "archived_at"),
    "captures": ("UPDATE captures SET warc_offset = -1", lambda c: c.captures(URL), "captures", "warc_offset"),
    "text_owners": ("UPDATE articles SET warc_record_id = X'00'", Catalog.text_owners, "articles", "warc_record_id"),
    "due_retries": ("UPDATE articles SET url = X'00' WHERE rowid = 2", _due, "articles", "url"),
    "next_serial, articles": ("UPDATE articles SET serial = 'x'", _serial, "articles", "serial"),
    "next_serial, serials": ("UPDATE serials SET next = 'abc'; UPDATE articles SET serial = NULL", _serial,
                             "serials", "next"),
    "record_failure": ("UPDATE articles SET failures = 'many' WHERE rowid = 2", _fail, "articles", "failures"),
}  # fmt: skip


@pytest.mark.parametrize("reader", READERS)
def test_every_reader_checks_what_it_reads(catalog: Path, reader: str) -> None:
    change, call, table, column = READERS[reader]
    edit(catalog, *change.split("; "))
    before = state(catalog)
    with Catalog(catalog) as c, pytest.raises(CatalogError, match=rf"{table} row \d+\b.*: {column} is "):
        call(c)
    assert state(catalog)[0] == before[0]  # a write that met the bad row is rolled back


STRUCTURE = {
    "a table dropped": ("DROP TABLE captures", "table captures is missing"),
    "a column dropped": ("ALTER TABLE articles DROP COLUMN adapter", "table articles lacks adapter"),
    "a table made a view": ("DROP TABLE serials; CREATE VIEW serials AS SELECT 1 AS site, 2 AS day, 3 AS next",
                            "table serials is missing"),
}  # fmt: skip


@pytest.mark.parametrize("read_only", [True, False])
@pytest.mark.parametrize("case", STRUCTURE)
def test_a_catalog_missing_a_table_or_column_is_refused(catalog: Path, case: str, read_only: bool) -> None:
    change, said = STRUCTURE[case]
    edit(catalog, *change.split("; "))
    before = state(catalog)
    with pytest.raises(CatalogError, match=f"damaged or foreign catalog: {said}"):
        Catalog(catalog, read_only=read_only)
    assert state(catalog) == before


# --- the commands -------------------------------------------------------------------------


def _one_error_line(output: str, *names: str) -> None:
    assert "Traceback" not in output
    assert output.count("\n") == 1 and output.startswith("error: "), output
    for name in names:
        assert name in output, output


BY_COMMAND = {  # what each reading command reads, made bad
    "status": "UPDATE articles SET gave_up = 7 WHERE rowid = 1",
    "failures": "UPDATE articles SET failures = 'many' WHERE rowid = 2",
    "check": "UPDATE articles SET first_seen = 'yesterday' WHERE rowid = 1",
    "export": "UPDATE articles SET warc_offset = 'abc' WHERE rowid = 1",
}


@pytest.mark.parametrize("command", BY_COMMAND)
def test_reading_commands_say_a_bad_row_in_one_line(archive: Path, command: str) -> None:  # noqa: F811
    """The row is left out of what the command prints (export: of the rows it writes), said in one
    line, and the command goes on: exit 1."""
    fill(archive / "catalog.sqlite")
    edit(archive / "catalog.sqlite", BY_COMMAND[command])
    result = invoke(command)
    assert result.exit_code == 1, result.output
    column = re.search(r"SET (\w+)", BY_COMMAND[command])
    assert column is not None
    said = [line for line in result.output.splitlines() if f": {column[1]} is " in line]
    assert "Traceback" not in result.output and len(said) == 1, result.output
    lead = "failed: " if command == "export" else "warning: bad catalog row, left out: "
    assert said[0].startswith(f"{lead}out/catalog.sqlite: articles row "), result.output


@pytest.mark.parametrize("command", [*COMMANDS, "failures"])
def test_every_command_refuses_a_catalog_missing_a_table(archive: Path, command: str) -> None:  # noqa: F811
    fill(archive / "catalog.sqlite")
    edit(archive / "catalog.sqlite", "DROP TABLE captures")
    before = state(archive / "catalog.sqlite")
    result = invoke(*COMMANDS.get(command, (command,)))
    assert result.exit_code == 2, result.output
    _one_error_line(result.output, "out/catalog.sqlite: a damaged or foreign catalog: table captures is missing")
    assert state(archive / "catalog.sqlite") == before


def _verify(folder: Path) -> tuple[int, list[str]]:
    from typer.testing import CliRunner

    from scraper.cli import app

    result = CliRunner().invoke(app, ["verify", str(folder)])
    assert "Traceback" not in result.output
    return result.exit_code, result.output.splitlines()


def test_verify_lists_every_bad_value(archive: Path) -> None:  # noqa: F811
    fill(archive / "catalog.sqlite")
    edit(
        archive / "catalog.sqlite",
        "UPDATE articles SET first_seen = 'yesterday', warc_offset = 'abc' WHERE rowid = 1",
        "UPDATE feeds SET warc_date = 42",
        "UPDATE serials SET next = -1",
        "UPDATE runs SET report = '[1]'",
    )
    code, lines = _verify(archive)
    assert code == 1
    row = f"articles row 1 ('{URL}')"
    for said in (
        f"{row}: first_seen is 'yesterday', not a UTC time",
        f"{row}: warc_offset is 'abc', not a whole",
        f"feeds row 1 ('{FEED}'): warc_date is '42', not a UTC time",
        "serials row 1 ('kremlin'): next is -1, not a whole number",
        "runs row 1: report is '[1]', not a JSON object",
    ):
        assert any(said in line for line in lines), (said, lines)


def test_verify_reports_a_missing_table(archive: Path) -> None:  # noqa: F811
    fill(archive / "catalog.sqlite")
    edit(archive / "catalog.sqlite", "DROP TABLE captures")
    code, lines = _verify(archive)
    assert code == 1
    assert f"{archive}/catalog.sqlite: a damaged or foreign catalog: table captures is missing" in lines


def test_run_meets_a_bad_row_without_a_traceback(tmp_path: Path) -> None:
    """A real run against a local server, then a feed row made bad: the run names it in one line,
    and neither fetches on as if the row were good nor replaces it."""
    world = World(tmp_path)
    with ExitStack() as stack:
        world.start(stack)
        done, _ = world.run("--site", "kremlin", "--quiet")
        assert done.returncode == 0, done.stderr
        catalog = tmp_path / "out" / "catalog.sqlite"
        edit(catalog, f"UPDATE feeds SET warc_date = 'yesterday' WHERE url = '{FEED}'")
        done, _ = world.run("--site", "kremlin", "--quiet")
    assert "Traceback" not in done.stderr and done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if "warc_date" in line]
    assert lines[0].startswith("error: "), done.stderr
    assert len(lines) == 1 and re.search(rf"feeds row \d+ \('{FEED}'\): warc_date is 'yesterday', not a", lines[0])
    with Catalog(catalog, on_bad_row=lambda _: None) as c:
        assert c.feed_state(FEED) is None  # still the bad row: told, not silently replaced
