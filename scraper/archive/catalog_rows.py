"""Every value read from the catalog is checked here, where it becomes a Python value: the one place.

SQLite keeps a column's declared type only as a preference, so a catalog edited by hand or damaged
can hold anything anywhere: text in a count, a float where an offset was, a blob, NULL in a
primary key, 'yesterday' for a time. ``COLUMNS`` says what each column of each table must hold;
``Cells`` reads a row's columns against it and raises a ``CatalogError`` that names the file, the
table, the row and the column: one line, never a traceback or a silently wrong figure. The same
table is the catalog's required structure (``missing_structure``), and the conversions from rows
to the dataclasses of ``scraper.archive.schema`` are here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from scraper.archive.schema import STAMP, ArticleRow, CaptureRow, CheckRow, FailureRow, FeedRow, QualityRow
from scraper.errors import CatalogError

_Row = TypeVar("_Row")

_MAX_COUNT = 2**31 - 1  # far above any real count, far below SQLite's limit: count + 1 stays an integer
_MAX_OFFSET = 2**63 - 1  # SQLite's largest integer
_SHOWN = 80  # characters of a bad value or a row's key quoted in a message


class Row(Protocol):
    """A row as sqlite3 gives it (``sqlite3.Row``): by column name."""

    def keys(self) -> list[str]: ...

    def __getitem__(self, key: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class Kind:
    wanted: str  # what a good value is, as a message says it
    read: Callable[[Any], Any]  # the Python value; ValueError or TypeError when the stored one is bad
    sql: str  # an SQL test of "{c}" that every good value passes (bad ones may pass it too)
    null: bool = False  # NULL is a good value (None)

    def or_null(self) -> Kind:
        return replace(self, null=True, wanted=f"{self.wanted} (or NULL)")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value


def _stamp(value: Any) -> datetime:
    # fixed width only: SQL compares and sorts the stored text as times
    moment = datetime.strptime(_text(value), STAMP)
    if moment.strftime(STAMP) != value:
        raise ValueError
    return moment.replace(tzinfo=UTC)


def _day(value: Any) -> date:
    day = date.fromisoformat(_text(value))
    if day.isoformat() != value:
        raise ValueError
    return day


def _whole(low: int, high: int) -> Callable[[Any], int]:
    def read(value: Any) -> int:
        if type(value) is not int or not low <= value <= high:  # bool is no count, a float no offset
            raise ValueError
        return value

    return read


def _flag(value: Any) -> bool:
    return bool(_whole(0, 1)(value))


def _object(value: Any) -> dict[str, Any]:
    found = json.loads(_text(value))
    if not isinstance(found, dict):
        raise ValueError
    return found


# an agreement as scraper.watch.copies.encode_agreements writes it: each field and the types it may have
_AGREEMENT = {
    "source": (str,),
    "missing": (list,),
    "missing_share": (int, float),
    "leaked": (list,),
    "truncated": (bool,),
}


def _agreements(value: Any) -> str:
    """A JSON list of agreements, kept as text (``scraper.watch.copies.decode_agreements`` reads it)."""
    found = json.loads(_text(value))
    if not isinstance(found, list) or not all(_is_agreement(item) for item in found):
        raise ValueError
    return _text(value)


def _is_agreement(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and item.keys() == _AGREEMENT.keys()
        and all(isinstance(item[key], types) for key, types in _AGREEMENT.items())
        and all(isinstance(line, str) for key in ("missing", "leaked") for line in item[key])
    )


_IS_TEXT = "typeof({c}) = 'text'"
_DIGITS = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
TEXT = Kind("text", _text, _IS_TEXT)
STAMPED = Kind(
    "a UTC time like 2026-11-22T10:15:00.000000Z", _stamp,
    f"{_IS_TEXT} AND {{c}} GLOB '{_DIGITS}T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'",
)  # fmt: skip
DAY = Kind("a day like 2026-11-22", _day, f"{_IS_TEXT} AND {{c}} GLOB '{_DIGITS}'")
COUNT = Kind(f"a whole number from 0 to {_MAX_COUNT}", _whole(0, _MAX_COUNT),
             f"typeof({{c}}) = 'integer' AND {{c}} BETWEEN 0 AND {_MAX_COUNT}")  # fmt: skip
OFFSET = Kind("a whole number, 0 or more", _whole(0, _MAX_OFFSET), "typeof({c}) = 'integer' AND {c} >= 0")
STATUS = Kind("an HTTP status from 100 to 999", _whole(100, 999), "typeof({c}) = 'integer' AND {c} BETWEEN 100 AND 999")
FLAG = Kind("0 or 1", _flag, "typeof({c}) = 'integer' AND {c} IN (0, 1)")
OBJECT = Kind("a JSON object", _object, _IS_TEXT)
AGREEMENTS = Kind("a JSON list of agreements with copies", _agreements, _IS_TEXT)

# Every table and column this scraper needs, and what each column holds. A test holds it to the
# schema that MIGRATIONS make.
COLUMNS: dict[str, dict[str, Kind]] = {
    "articles": {
        "canonical": TEXT, "url": TEXT, "site": TEXT, "first_seen": STAMPED, "last_fetched": STAMPED.or_null(),
        "http_status": STATUS.or_null(), "etag": TEXT.or_null(), "last_modified": TEXT.or_null(),
        "payload_digest": TEXT.or_null(), "text_sha256": TEXT.or_null(), "text_path": TEXT.or_null(),
        "json_path": TEXT.or_null(), "warc_file": TEXT.or_null(), "warc_record_id": TEXT.or_null(),
        "warc_offset": OFFSET.or_null(), "archived_at": STAMPED.or_null(), "failures": COUNT,
        "last_failure": TEXT.or_null(), "next_retry_at": STAMPED.or_null(), "gave_up": FLAG,
        "serial_day": DAY.or_null(), "serial": COUNT.or_null(), "extracted_at": STAMPED.or_null(),
        "adapter": TEXT.or_null(),
    },
    "feeds": {
        "url": TEXT, "site": TEXT, "etag": TEXT.or_null(), "last_modified": TEXT.or_null(),
        "payload_digest": TEXT.or_null(), "warc_file": TEXT, "warc_record_id": TEXT, "warc_date": STAMPED,
        "target_uri": TEXT,
    },
    "runs": {"id": COUNT, "started_at": STAMPED, "finished_at": STAMPED.or_null(), "status": TEXT,
             "report": OBJECT.or_null()},
    "site_runs": {"site": TEXT, "last_run_at": STAMPED, "last_success_at": STAMPED.or_null()},
    "serials": {"site": TEXT, "day": DAY, "next": COUNT},
    "quality_articles": {
        "canonical": TEXT, "site": TEXT, "archived_at": STAMPED, "text_sha256": TEXT, "chars": COUNT,
        "paragraphs": COUNT, "fallback": FLAG, "copies": AGREEMENTS.or_null(),
    },
    "quality_checks": {"site": TEXT, "checked_at": STAMPED, "since": STAMPED, "verdict": TEXT, "report": OBJECT},
    "captures": {
        "warc_record_id": TEXT, "canonical": TEXT, "fetched_at": STAMPED, "http_status": STATUS,
        "payload_digest": TEXT.or_null(), "warc_file": TEXT, "warc_offset": OFFSET, "text_path": TEXT.or_null(),
        "text_sha256": TEXT.or_null(), "extracted_at": STAMPED.or_null(), "adapter": TEXT.or_null(),
    },
}  # fmt: skip
# what names a row in a message, beside its rowid
_KEYS = {"articles": "canonical", "feeds": "url", "site_runs": "site", "serials": "site",
         "quality_articles": "canonical", "quality_checks": "site", "captures": "warc_record_id"}  # fmt: skip


class Cells:
    """One row of ``table`` (selected with ``rowid AS rowid``), each column read through its kind."""

    def __init__(self, path: Path, table: str, row: Row) -> None:
        self.path, self.table, self.row = path, table, row

    def __call__(self, column: str) -> Any:
        kind, value = COLUMNS[self.table][column], self.row[column]
        if value is None:
            if kind.null:
                return None
            raise self._bad(column, value)
        try:
            return kind.read(value)
        except (ValueError, TypeError, RecursionError) as exc:  # RecursionError: JSON nested past Python's stack
            raise self._bad(column, value) from exc

    def _bad(self, column: str, value: Any) -> CatalogError:
        wanted = COLUMNS[self.table][column].wanted
        return CatalogError(f"{self.path}: {self.name()}: {column} is {_shown(value)}, not {wanted}")

    def name(self) -> str:
        """``articles row 12 ('https://...')``: the rowid, and the row's key when it is text."""
        key = self.row[_KEYS[self.table]] if self.table in _KEYS else None
        return f"{self.table} row {self.row['rowid']}" + (f" ({_shown(key)})" if isinstance(key, str) else "")

    def bad(self) -> list[str]:
        """Why each bad value of the row is bad: every column of the table that the row holds."""
        found = []
        for column in COLUMNS[self.table]:
            try:
                self(column)
            except CatalogError as exc:
                found.append(str(exc))
        return found


def _shown(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"{len(value)} bytes of binary data"
    shown = repr(value)  # quoted, with line breaks and control characters escaped
    return shown if len(shown) <= _SHOWN else shown[: _SHOWN - 4] + "...'"


def good(table: str, columns: Iterable[str]) -> str:
    """An SQL test, true for a row whose ``columns`` may all be good (``Cells`` has the last word)."""
    tests = []
    for column in columns:
        kind = COLUMNS[table][column]
        test = f"({kind.sql.format(c=column)})"
        tests.append(f"({column} IS NULL OR {test})" if kind.null else test)
    return " AND ".join(tests)


def missing_structure(db: Any) -> list[str]:
    """The tables and columns of ``COLUMNS`` that the open catalog ``db`` lacks."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = []
    for table, columns in COLUMNS.items():
        if table not in tables:
            missing.append(f"table {table} is missing")
            continue
        found = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}  # a pragma takes no parameters
        if lacking := [column for column in columns if column not in found]:
            missing.append(f"table {table} lacks {', '.join(lacking)}")
    return missing


def article(path: Path, row: Row) -> ArticleRow:
    return _filled(ArticleRow, Cells(path, "articles", row))


def feed(path: Path, row: Row) -> FeedRow:
    return _filled(FeedRow, Cells(path, "feeds", row))


def quality(path: Path, row: Row) -> QualityRow:
    return _filled(QualityRow, Cells(path, "quality_articles", row))


def check(path: Path, row: Row) -> CheckRow:
    return _filled(CheckRow, Cells(path, "quality_checks", row))


def _filled(kind: type[_Row], cells: Cells) -> _Row:
    """A row dataclass whose every field is the checked cell of the same name."""
    return kind(**{field.name: cells(field.name) for field in fields(kind)})  # type: ignore[arg-type]


def capture(path: Path, row: Row, owner: ArticleRow) -> CaptureRow:
    """A row of captures, of the article ``owner``."""
    cells = Cells(path, "captures", row)
    return CaptureRow(
        canonical=owner.canonical, url=owner.url, site=owner.site, fetched_at=cells("fetched_at"),
        http_status=cells("http_status"), etag=None, last_modified=None, payload_digest=cells("payload_digest"),
        warc_file=cells("warc_file"), warc_record_id=cells("warc_record_id"), warc_offset=cells("warc_offset"),
    )  # fmt: skip


def failure(path: Path, row: Row) -> FailureRow:
    cells = Cells(path, "articles", row)
    return FailureRow(
        url=cells("url"), site=cells("site"), attempts=cells("failures"), reason=cells("last_failure") or "",
        next_try=cells("next_retry_at"), gave_up=cells("gave_up"),
    )  # fmt: skip


# the few columns some calls read: an article's due pair, text owner, failure tally and kept serial
def pair(path: Path, row: Row) -> tuple[str, str]:
    cells = Cells(path, "articles", row)
    return cells("canonical"), cells("url")


def owner(path: Path, row: Row) -> tuple[str, str]:
    cells = Cells(path, "articles", row)
    return str(cells("text_path")).removesuffix(".txt"), cells("warc_record_id")


def tally(path: Path, row: Row) -> tuple[int, bool]:
    cells = Cells(path, "articles", row)
    return cells("failures"), cells("gave_up")


def serial(path: Path, row: Row) -> int | None:
    kept: int | None = Cells(path, "articles", row)("serial")
    return kept
