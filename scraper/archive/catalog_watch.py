"""The part of the catalog that reports: runs, each site's status, the quality watch's tables
(its figures, its checks, and when each site's articles came, for the silence rule), and the
archived articles listed for export and verify, with every bad value found. Mixed into
``Catalog``, which owns the connection; no module but the catalog's touches the database."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from scraper.archive import catalog_rows as rows_of
from scraper.archive.catalog_rows import Cells, Row, good
from scraper.archive.schema import ArticleRow, CheckRow, FailureRow, QualityRow, SiteStatus, ts
from scraper.errors import CatalogError

_QUALITY_COLUMNS = ", ".join(field.name for field in fields(QualityRow))
ARTICLE_COLUMNS = ", ".join(field.name for field in fields(ArticleRow))
_PAGE = 1000  # rows per query while streaming articles(), so no lock is held between pages
_COUNTED = ("site", "text_path", "failures", "gave_up")  # the article columns status() counts by
_T = TypeVar("_T")


class WatchTables:
    if TYPE_CHECKING:  # provided by Catalog
        _db: Any
        path: Path
        _on_bad_row: Callable[[str], None] | None
        _told: set[str]

        def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]: ...

        def transaction(self) -> AbstractContextManager[None]: ...

    def _converted(self, convert: Callable[[Path, Row], _T], rows: Iterable[Row]) -> Iterator[_T]:
        """Each row converted (``scraper.archive.catalog_rows``); a bad one raises its CatalogError,
        or, when the catalog was opened with ``on_bad_row``, is told to it (once) and skipped."""
        for row in rows:
            try:
                yield convert(self.path, row)
            except CatalogError as exc:
                if self._on_bad_row is None:
                    raise
                if str(exc) not in self._told:
                    self._told.add(str(exc))
                    self._on_bad_row(str(exc))

    def articles(self, site: str | Sequence[str] | None = None, since: datetime | None = None) -> Iterator[ArticleRow]:
        """Archived articles (a capture recorded) of ``site`` (a name or several), by first capture;
        ``since`` bounds that time, inclusive.

        Streams in pages, so a long export neither holds the catalog nor loads it whole.
        """
        where, params = _of_archived(site, since)
        after: tuple[str, str] = ("", "")
        while True:
            rows = self._query(
                f"SELECT rowid AS rowid, {ARTICLE_COLUMNS} FROM articles"
                f" WHERE {where} AND (archived_at, canonical) > (?, ?) ORDER BY archived_at, canonical LIMIT ?",
                (*params, *after, _PAGE),
            )
            yield from self._converted(rows_of.article, rows)
            if len(rows) < _PAGE:
                return
            after = (rows[-1]["archived_at"], rows[-1]["canonical"])

    def article_count(self, site: str | Sequence[str] | None = None, since: datetime | None = None) -> int:
        """How many rows ``articles`` goes through (bad ones too), in one query: a progress bar's total."""
        where, params = _of_archived(site, since)
        return int(self._query(f"SELECT COUNT(*) FROM articles WHERE {where}", tuple(params))[0][0])

    def damage(self) -> Iterator[str]:
        """Why each bad value of every table is bad (for ``scraper verify``), table by table, row by row."""
        for table in rows_of.COLUMNS:
            after = 0
            while True:
                rows = self._query(
                    f"SELECT rowid AS rowid, * FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?", (after, _PAGE)
                )
                for row in rows:
                    yield from Cells(self.path, table, row).bad()
                if len(rows) < _PAGE:
                    break
                after = rows[-1]["rowid"]

    def start_run(self, now: datetime) -> int:
        with self.transaction():
            cursor = self._db.execute("INSERT INTO runs (started_at) VALUES (?)", (ts(now),))
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, now: datetime, status: str, report: Mapping[str, Any]) -> None:
        """Store the run's report: ``{site: {figure: value}}``. A site's run counts as a success when
        its entry says ``"status": "ok"`` or, having no status, reports no ``failed`` and no ``error``."""
        text = json.dumps(report, ensure_ascii=False, sort_keys=True)
        stamp = ts(now)
        with self.transaction():
            self._db.execute(
                "UPDATE runs SET finished_at = ?, status = ?, report = ? WHERE id = ?", (stamp, status, text, run_id)
            )
            for site, entry in report.items():
                if isinstance(entry, Mapping):
                    self._db.execute(
                        """INSERT INTO site_runs (site, last_run_at, last_success_at) VALUES (?, ?, ?)
                        ON CONFLICT (site) DO UPDATE SET last_run_at = excluded.last_run_at,
                            last_success_at = COALESCE(excluded.last_success_at, last_success_at)""",
                        (site, stamp, stamp if _site_ok(entry) else None),
                    )

    def status(self) -> list[SiteStatus]:
        """Per site, sorted by name: texts held, last run, last success, failures pending, given up.
        A bad value in what is counted counts in no figure, and is told (or raises)."""
        ok = good("articles", _COUNTED)
        counts = self._query(  # one pass; the bad rows are read again only when there are any
            f"""SELECT site, SUM(typeof(text_path) = 'text'),
                SUM(text_path IS NULL AND gave_up = 0 AND typeof(failures) = 'integer' AND failures > 0),
                SUM(typeof(gave_up) = 'integer' AND gave_up = 1), SUM(NOT ({ok})) FROM articles GROUP BY site"""
        )
        if any(row[4] for row in counts):
            bad = self._query(f"SELECT rowid AS rowid, * FROM articles WHERE NOT ({ok})")
            list(self._converted(lambda path, row: [Cells(path, "articles", row)(c) for c in _COUNTED], bad))  # told
        figures = {row[0]: (row[1], row[2], row[3]) for row in counts if isinstance(row[0], str)}
        runs = {
            run[0]: run[1:]
            for run in self._converted(_site_run, self._query("SELECT rowid AS rowid, * FROM site_runs"))
        }
        found = []
        for site in sorted(figures.keys() | runs.keys()):
            held, pending, gave_up = figures.get(site, (0, 0, 0))
            last_run, last_success = runs.get(site, (None, None))
            found.append(SiteStatus(site, held, last_run, last_success, pending, gave_up))
        return found

    def failures(self, sites: Iterable[str] = ()) -> list[FailureRow]:
        """Articles that failed and have no text, pending ones first (by next try), then those given up."""
        chosen = list(sites)
        where = f"AND site IN ({', '.join('?' * len(chosen))})" if chosen else ""
        rows = self._query(
            f"""SELECT rowid AS rowid, canonical, url, site, failures, last_failure, next_retry_at, gave_up
            FROM articles WHERE failures > 0 AND text_path IS NULL {where}
            ORDER BY gave_up, next_retry_at IS NOT NULL, next_retry_at, site, url""",
            tuple(chosen),
        )
        return list(self._converted(rows_of.failure, rows))

    def quality_rows(self, site: str, since: datetime) -> dict[str, QualityRow]:
        """The site's measured articles archived at or after ``since``, by canonical URL."""
        rows = self._query(
            f"SELECT rowid AS rowid, {_QUALITY_COLUMNS} FROM quality_articles WHERE site = ? AND archived_at >= ?",
            (site, ts(since)),
        )
        return {row.canonical: row for row in self._converted(rows_of.quality, rows)}

    def record_quality(self, rows: Iterable[QualityRow]) -> None:
        """Store (or replace) the measurements of articles, all in one transaction."""
        values = [
            (r.canonical, r.site, ts(r.archived_at), r.text_sha256, r.chars, r.paragraphs, r.fallback, r.copies)
            for r in rows
        ]
        with self.transaction():
            self._db.executemany(
                f"INSERT OR REPLACE INTO quality_articles ({_QUALITY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values
            )

    def record_check(
        self, site: str, *, checked_at: datetime, since: datetime, verdict: str, report: Mapping[str, Any]
    ) -> None:
        text = json.dumps(report, ensure_ascii=False, sort_keys=True)
        with self.transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO quality_checks (site, checked_at, since, verdict, report)"
                " VALUES (?, ?, ?, ?, ?)",
                (site, ts(checked_at), ts(since), verdict, text),
            )

    def last_checks(self) -> list[CheckRow]:
        """The latest check of each site, sorted by site."""
        rows = self._query(
            """SELECT rowid AS rowid, site, checked_at, since, verdict, report FROM quality_checks AS q
            WHERE checked_at = (SELECT MAX(checked_at) FROM quality_checks WHERE site = q.site) ORDER BY site"""
        )
        return list(self._converted(rows_of.check, rows))

    # --- read-only: when a site's articles came, for the quality watch's silence rule -----------
    # (an article counts once its text is written: a capture whose extraction failed is no article)

    def last_archived(self, site: str, before: datetime) -> datetime | None:
        """The first capture of the site's latest article archived before ``before``; None: none was."""
        rows = self._query(
            "SELECT rowid AS rowid, canonical, archived_at FROM articles WHERE site = ? AND archived_at < ?"
            f" AND text_path IS NOT NULL AND {good('articles', ['archived_at'])} ORDER BY archived_at DESC LIMIT 1",
            (site, ts(before)),
        )
        return next(self._converted(_archived, rows), None)

    def archived_times(self, site: str, start: datetime, end: datetime) -> list[datetime]:
        """The first captures of the site's articles archived from ``start`` to ``end`` (both inclusive),
        oldest first: one column only, so two weeks of a busy site stay cheap."""
        rows = self._query(
            "SELECT rowid AS rowid, canonical, archived_at FROM articles WHERE site = ? AND archived_at >= ?"
            " AND archived_at <= ? AND text_path IS NOT NULL ORDER BY archived_at",
            (site, ts(start), ts(end)),
        )
        return list(self._converted(_archived, rows))


def _archived(path: Path, row: Row) -> datetime:
    moment: datetime = Cells(path, "articles", row)("archived_at")
    return moment


def _site_run(path: Path, row: Row) -> tuple[str, datetime, datetime | None]:
    cells = Cells(path, "site_runs", row)
    return cells("site"), cells("last_run_at"), cells("last_success_at")


def _site_ok(entry: Mapping[str, Any]) -> bool:
    if "status" in entry:
        return bool(entry["status"] == "ok")
    return not entry.get("failed") and not entry.get("error")


def _of_archived(site: str | Sequence[str] | None, since: datetime | None) -> tuple[str, list[str]]:
    """The WHERE clause and parameters of the archived articles of ``site`` since ``since``."""
    where, params = "archived_at IS NOT NULL", list[str]()
    if site is not None:
        names = [site] if isinstance(site, str) else list(site)
        where, params = f"{where} AND site IN ({', '.join('?' * len(names))})", [*params, *names]
    if since is not None:
        where, params = f"{where} AND archived_at >= ?", [*params, ts(since)]
    return where, params
