"""The catalog of scheduled runs: what was seen, fetched, archived and extracted. With
``scraper.archive.catalog_file`` (which opens, makes, upgrades or refuses the file), the only sqlite3 user.

Each public method that writes is one committed transaction; ``transaction()`` groups several into one.
WAL lets ``scraper status`` read while a run writes; ``synchronous=FULL`` makes a commit durable before
the call returns, so once an article is marked archived (after the caller flushed its WARC records) a
power cut cannot unmark it. Times are tz-aware UTC datetimes, stored as fixed-width ISO 8601 text so
that SQL compares and sorts them as times.

An article's life: ``to_fetch`` records it as seen; ``record_capture`` once its response is in the WARC;
then ``record_article`` (text written: done) or ``record_failure`` (retried with backoff, given up after
``max_attempts``). A row left between the two, by a crash or a time budget, is due again next run.

Opened read-only (the reading commands), nothing is written, migrated or created: a catalog of an older
schema is refused, not upgraded. Whatever is at the path and is no catalog is refused, never replaced.

Every value read is checked as it is converted (``scraper.archive.catalog_rows``): a bad one (a
hand-edited or damaged row) raises a ``CatalogError`` naming the table, row and column, or, when
the catalog was opened with ``on_bad_row``, is said to it while the row is skipped (a list) or
taken as unknown (one row asked for: a feed, an article).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from scraper.archive import catalog_rows as rows_of
from scraper.archive.catalog_file import open_reader, open_writer
from scraper.archive.catalog_rows import Cells
from scraper.archive.catalog_watch import ARTICLE_COLUMNS, WatchTables
from scraper.archive.schema import ArticleRow, CaptureRow, FeedRow, ts
from scraper.errors import CatalogError

_CHUNK = 500  # canonicals per IN (...) query, far below SQLite's variable limit
_MAX_DELAY = timedelta(days=30)  # doubling stops here: a long-failing URL is still tried monthly


# Needs work now: not done, not given up, under the attempt limit, and not waiting for a retry time.
_DUE = "gave_up = 0 AND text_path IS NULL AND failures < ? AND (next_retry_at IS NULL OR next_retry_at <= ?)"


class Catalog(WatchTables):
    """One catalog file; safe to share between threads and to open from several processes at once.

    ``read_only``: for the commands that only read, on an archive that may be a read-only mount. A
    missing catalog is created only by a writer; a reader is told there is none. ``on_bad_row``:
    what to tell of a row with a bad value, which is then skipped; None: it raises CatalogError."""

    def __init__(self, path: Path, *, read_only: bool = False, on_bad_row: Callable[[str], None] | None = None) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._on_bad_row = on_bad_row
        self._told: set[str] = set()  # the bad rows told: a row read twice is told once
        self._lock = threading.RLock()  # one connection shared by threads: one transaction at a time
        try:
            self._db = open_reader(self.path) if read_only else open_writer(self.path)
        except OSError as exc:
            raise CatalogError(f"{self.path}: cannot open the catalog: {exc.strerror or exc}") from exc
        except sqlite3.Error as exc:  # "file is not a database" surfaces at the first query, not at connect()
            raise CatalogError(f"{self.path}: {exc}") from exc
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One committed transaction; the catalog's calls inside the block join it, and an exception
        leaving the block rolls all of them back (e.g. record_capture + record_failure as one step)."""
        with self._lock:
            if self._db.in_transaction:  # a nested call: the outer block commits or rolls back
                yield
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")  # take the write lock now, not halfway through
                yield
                self._db.execute("COMMIT")
            except BaseException as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise CatalogError(f"{self.path}: {exc}") from exc
                raise

    def to_fetch(self, site: str, canonicals: list[tuple[str, str]], now: datetime, max_attempts: int) -> list[str]:
        """Record (canonical, url) candidates never seen before; return those due now, in the given order.

        Due: new ones, ones left unfinished by an earlier run, and failed ones whose retry time has
        come and that have had fewer than ``max_attempts`` failures.
        """
        order = list(dict.fromkeys(canonical for canonical, _ in canonicals))
        stamp = ts(now)
        due: set[str] = set()
        with self.transaction():
            self._db.executemany(
                "INSERT INTO articles (canonical, url, site, first_seen) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(canonical, url, site, stamp) for canonical, url in canonicals],
            )
            self._give_up(site, max_attempts)
            for start in range(0, len(order), _CHUNK):
                chunk = order[start : start + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                sql = f"SELECT canonical FROM articles WHERE canonical IN ({marks}) AND {_DUE}"
                due.update(row[0] for row in self._db.execute(sql, [*chunk, max_attempts, stamp]))
        return [canonical for canonical in order if canonical in due]

    def due_retries(self, site: str, now: datetime, max_attempts: int) -> list[tuple[str, str]]:
        """(canonical, url) of the site that are due now whether or not a feed still lists them:
        failed ones whose retry time has come, and ones an interrupted run left unfetched. Oldest first."""
        with self.transaction():
            self._give_up(site, max_attempts)
            rows = self._db.execute(
                f"SELECT rowid AS rowid, canonical, url FROM articles WHERE site = ? AND {_DUE}"
                " ORDER BY first_seen, canonical",
                (site, max_attempts, ts(now)),
            ).fetchall()
        return list(self._converted(rows_of.pair, rows))

    def record_capture(self, row: CaptureRow) -> None:
        """Mark the article archived: call only after its WARC records are flushed."""
        stamp = ts(row.fetched_at)
        values = (row.canonical, row.url, row.site, stamp, stamp, row.http_status, row.etag, row.last_modified,
                  row.payload_digest, row.warc_file, row.warc_record_id, row.warc_offset, stamp)  # fmt: skip
        with self.transaction():
            self._db.execute(_RECORD_CAPTURE, values)
            self._db.execute(
                """INSERT OR REPLACE INTO captures (warc_record_id, canonical, fetched_at, http_status,
                payload_digest, warc_file, warc_offset) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                (row.warc_record_id, row.canonical, stamp, row.http_status, row.payload_digest, row.warc_file,
                 row.warc_offset),
            )  # fmt: skip

    def record_article(
        self, canonical: str, *, text_path: str, text_sha256: str, adapter: str, extracted_at: datetime
    ) -> None:
        """The text and JSON of the article's latest capture are written: it is done and leaves the
        retry queue."""
        with self.transaction():
            done = self._db.execute(
                """UPDATE articles SET text_path = ?, json_path = ?, text_sha256 = ?, next_retry_at = NULL,
                extracted_at = ?, adapter = ? WHERE canonical = ? AND archived_at IS NOT NULL
                RETURNING warc_record_id""",
                (text_path, _json_path(text_path), text_sha256, ts(extracted_at), adapter, canonical),
            ).fetchall()
            if not done:
                raise CatalogError(f"{canonical}: a text recorded before its capture")
            self._text_of_capture(done[0][0], text_path, text_sha256, adapter, extracted_at)

    def record_text(
        self, record_id: str, *, text_path: str, text_sha256: str, adapter: str, extracted_at: datetime | None
    ) -> int:
        """A re-clean wrote the text of the capture in record ``record_id`` (``extracted_at`` None:
        with the same content as before). Returns the number of rows changed."""
        when = ts(extracted_at) if extracted_at else None
        with self.transaction():
            changed = self._db.execute(
                """UPDATE articles SET text_path = ?, json_path = ?, text_sha256 = ?, adapter = ?,
                extracted_at = COALESCE(?, extracted_at), next_retry_at = NULL
                WHERE warc_record_id = ? AND (text_path IS NOT ? OR text_sha256 IS NOT ? OR adapter IS NOT ?
                    OR ? IS NOT NULL)""",
                (text_path, _json_path(text_path), text_sha256, adapter, when, record_id,
                 text_path, text_sha256, adapter, when),
            ).rowcount  # fmt: skip
            return int(changed) + self._text_of_capture(record_id, text_path, text_sha256, adapter, extracted_at)

    def relocate(self, record_id: str, *, warc_file: str, warc_offset: int) -> int:
        """The record ``record_id`` is now in ``warc_file`` at ``warc_offset`` (its WARC was gunzipped,
        renamed or recompressed): every row naming it follows. Returns the number of rows changed."""
        with self.transaction():
            changed = sum(
                self._db.execute(
                    f"UPDATE {table} SET warc_file = ?, warc_offset = ? WHERE warc_record_id = ?"
                    " AND (warc_file IS NOT ? OR warc_offset IS NOT ?)",
                    (warc_file, warc_offset, record_id, warc_file, warc_offset),
                ).rowcount
                for table in ("articles", "captures")
            )
            feeds = self._db.execute(  # a feed row keeps no offset: revisits find the record by its ID
                "UPDATE feeds SET warc_file = ? WHERE warc_record_id = ? AND warc_file IS NOT ?",
                (warc_file, record_id, warc_file),
            ).rowcount
        return int(changed + feeds)

    def _text_of_capture(
        self, record_id: str, text_path: str, text_sha256: str, adapter: str, extracted_at: datetime | None
    ) -> int:
        when = ts(extracted_at) if extracted_at else None
        return int(
            self._db.execute(
                """UPDATE captures SET text_path = ?, text_sha256 = ?, adapter = ?,
                extracted_at = COALESCE(?, extracted_at) WHERE warc_record_id = ?
                AND (text_path IS NOT ? OR text_sha256 IS NOT ? OR adapter IS NOT ? OR ? IS NOT NULL)""",
                (text_path, text_sha256, adapter, when, record_id, text_path, text_sha256, adapter, when),
            ).rowcount
        )

    def captures(self, canonical: str) -> list[CaptureRow]:
        """Every capture of an article, oldest first."""
        owner = self.article(canonical)
        if owner is None:
            return []
        rows = self._query(
            "SELECT rowid AS rowid, * FROM captures WHERE canonical = ? ORDER BY fetched_at", (canonical,)
        )
        return list(self._converted(lambda path, row: rows_of.capture(path, row, owner), rows))

    def text_owners(self) -> dict[str, str]:
        """Each text the catalog holds (its path without ``.txt``) and the response record it came from."""
        rows = self._query(
            "SELECT rowid AS rowid, canonical, text_path, warc_record_id FROM articles"
            " WHERE text_path IS NOT NULL AND warc_record_id IS NOT NULL"
        )
        return dict(self._converted(rows_of.owner, rows))

    def record_failure(
        self, canonical: str, *, url: str, site: str, reason: str, now: datetime, backoff: timedelta,
        max_attempts: int | None = None, give_up: bool = False,
    ) -> int:  # fmt: skip
        """Count a failure; retry after ``backoff * 2**(failures-1)`` (capped at 30 days). Returns failures.

        Gives up at ``max_attempts`` failures (to_fetch and due_retries also give up on rows at the
        limit, if it is not passed here), or at once with ``give_up=True`` (a page that is no article).
        """
        stamp = ts(now)
        with self.transaction():
            self._db.execute(
                "INSERT INTO articles (canonical, url, site, first_seen) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (canonical, url, site, stamp),
            )
            row = self._db.execute(
                "SELECT rowid AS rowid, canonical, failures, gave_up FROM articles WHERE canonical = ?", (canonical,)
            ).fetchall()
            before, gave_up = next(self._converted(rows_of.tally, row), (0, False))  # a bad count, told: counted afresh
            failures = before + 1
            stop = gave_up or give_up or (max_attempts is not None and failures >= max_attempts)
            retry = None if stop else ts(now + _delay(backoff, failures))
            self._db.execute(
                "UPDATE articles SET failures = ?, last_failure = ?, next_retry_at = ?, gave_up = ?"
                " WHERE canonical = ?",
                (failures, reason, retry, stop, canonical),
            )
        return failures

    def article(self, canonical: str) -> ArticleRow | None:
        rows = self._query(f"SELECT rowid AS rowid, {ARTICLE_COLUMNS} FROM articles WHERE canonical = ?", (canonical,))
        return next(self._converted(rows_of.article, rows), None)

    def next_serial(self, site: str, day: date, canonical: str | None = None) -> int:
        """0, 1, 2 ... per site and day, atomically across processes.

        With ``canonical`` the article keeps the number it got for that day, so a text rewritten
        after a crash lands on the same file name instead of a second one.
        """
        if isinstance(day, datetime):
            raise TypeError("next_serial takes a date, not a datetime")
        with self.transaction():
            if canonical is not None:
                kept = self._db.execute(
                    "SELECT rowid AS rowid, canonical, serial FROM articles"
                    " WHERE canonical = ? AND site = ? AND serial_day = ?",
                    (canonical, site, day.isoformat()),
                ).fetchall()
                # a bad number, once told, is replaced by a new one: the old file name cannot be known
                if (serial := next(self._converted(rows_of.serial, kept), None)) is not None:
                    return serial
            row = self._db.execute(
                "SELECT rowid AS rowid, site, next FROM serials WHERE site = ? AND day = ?", (site, day.isoformat())
            ).fetchone()
            # a bad next number always raises: taken as unknown, it could give a number twice
            serial = 0 if row is None else int(Cells(self.path, "serials", row)("next"))
            self._db.execute(
                "INSERT INTO serials (site, day, next) VALUES (?, ?, ?)"
                " ON CONFLICT (site, day) DO UPDATE SET next = excluded.next",
                (site, day.isoformat(), serial + 1),
            )
            if canonical is not None:
                self._db.execute(
                    "UPDATE articles SET serial_day = ?, serial = ? WHERE canonical = ?",
                    (day.isoformat(), serial, canonical),
                )
        return serial

    def feed_state(self, url: str) -> FeedRow | None:
        rows = self._query(f"SELECT rowid AS rowid, {_FEED_COLUMNS} FROM feeds WHERE url = ?", (url,))
        return next(self._converted(rows_of.feed, rows), None)

    def record_feed(self, row: FeedRow) -> None:
        """Remember a feed's last full response (not a revisit: revisits must refer to a full copy)."""
        values = [ts(v) if isinstance(v, datetime) else v for v in (getattr(row, f.name) for f in fields(FeedRow))]
        with self.transaction():
            self._db.execute(
                f"INSERT OR REPLACE INTO feeds ({_FEED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values
            )

    def _give_up(self, site: str, max_attempts: int) -> None:
        self._db.execute(
            "UPDATE articles SET gave_up = 1, next_retry_at = NULL"
            " WHERE site = ? AND next_retry_at IS NOT NULL AND failures >= ?",
            (site, max_attempts),
        )

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                rows: list[sqlite3.Row] = self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise CatalogError(f"{self.path}: {exc}") from exc
        return rows


# a later capture moves the pointers (the rewritten JSON names it) but keeps first_seen and archived_at
_RECORD_CAPTURE = """INSERT INTO articles (canonical, url, site, first_seen, last_fetched, http_status, etag,
        last_modified, payload_digest, warc_file, warc_record_id, warc_offset, archived_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (canonical) DO UPDATE SET last_fetched = excluded.last_fetched, http_status = excluded.http_status,
        etag = excluded.etag, last_modified = excluded.last_modified, payload_digest = excluded.payload_digest,
        warc_file = excluded.warc_file, warc_record_id = excluded.warc_record_id, warc_offset = excluded.warc_offset,
        archived_at = COALESCE(archived_at, excluded.archived_at)"""
_FEED_COLUMNS = ", ".join(field.name for field in fields(FeedRow))


def _json_path(text_path: str) -> str:
    return text_path.removesuffix(".txt") + ".json"


def _delay(backoff: timedelta, failures: int) -> timedelta:
    # in float seconds, so a large exponent cannot overflow timedelta before the cap applies
    seconds = backoff.total_seconds() * 2.0 ** min(failures - 1, 64)
    return timedelta(seconds=min(seconds, _MAX_DELAY.total_seconds()))
