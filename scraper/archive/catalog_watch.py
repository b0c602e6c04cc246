"""The part of the catalog that reports: runs, each site's status, and the quality watch's tables
(its figures, its checks, and when each site's articles came, for the silence rule). Mixed into
``Catalog``, which owns the connection; no module but the catalog's touches the database."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scraper.archive.schema import CheckRow, FailureRow, QualityRow, SiteStatus, at, dt, ts

_QUALITY_COLUMNS = ", ".join(field.name for field in fields(QualityRow))


class WatchTables:
    if TYPE_CHECKING:  # provided by Catalog
        _db: Any

        def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]: ...

        def transaction(self) -> AbstractContextManager[None]: ...

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
        """Per site, sorted by name: texts held, last run, last success, failures pending, given up."""
        rows = self._query(
            """SELECT site, COALESCE(held, 0), last_run_at, last_success_at, COALESCE(pending, 0),
                COALESCE(gave_up, 0)
            FROM (SELECT site FROM articles UNION SELECT site FROM site_runs)
            LEFT JOIN (SELECT site, COUNT(text_path) AS held, SUM(gave_up) AS gave_up,
                SUM(text_path IS NULL AND gave_up = 0 AND failures > 0) AS pending FROM articles GROUP BY site)
                USING (site)
            LEFT JOIN site_runs USING (site) ORDER BY site"""
        )
        return [SiteStatus(row[0], row[1], dt(row[2]), dt(row[3]), row[4], row[5]) for row in rows]

    def failures(self, sites: Iterable[str] = ()) -> list[FailureRow]:
        """Articles that failed and have no text, pending ones first (by next try), then those given up."""
        chosen = list(sites)
        where = f"AND site IN ({', '.join('?' * len(chosen))})" if chosen else ""
        rows = self._query(
            f"""SELECT url, site, failures, COALESCE(last_failure, ''), next_retry_at, gave_up FROM articles
            WHERE failures > 0 AND text_path IS NULL {where}
            ORDER BY gave_up, next_retry_at IS NOT NULL, next_retry_at, site, url""",
            tuple(chosen),
        )
        return [FailureRow(row[0], row[1], row[2], row[3], dt(row[4]), bool(row[5])) for row in rows]

    def quality_rows(self, site: str, since: datetime) -> dict[str, QualityRow]:
        """The site's measured articles archived at or after ``since``, by canonical URL."""
        rows = self._query(
            f"SELECT {_QUALITY_COLUMNS} FROM quality_articles WHERE site = ? AND archived_at >= ?", (site, ts(since))
        )
        return {row["canonical"]: _quality(row) for row in rows}

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
            """SELECT site, checked_at, since, verdict, report FROM quality_checks AS q
            WHERE checked_at = (SELECT MAX(checked_at) FROM quality_checks WHERE site = q.site) ORDER BY site"""
        )
        return [CheckRow(row[0], at(row[1]), at(row[2]), row[3], json.loads(row[4])) for row in rows]

    # --- read-only: when a site's articles came, for the quality watch's silence rule -----------
    # (an article counts once its text is written: a capture whose extraction failed is no article)

    def last_archived(self, site: str, before: datetime) -> datetime | None:
        """The first capture of the site's latest article archived before ``before``; None: none was."""
        rows = self._query(
            "SELECT MAX(archived_at) FROM articles WHERE site = ? AND archived_at < ? AND text_path IS NOT NULL",
            (site, ts(before)),
        )
        return dt(rows[0][0])

    def archived_times(self, site: str, start: datetime, end: datetime) -> list[datetime]:
        """The first captures of the site's articles archived from ``start`` to ``end`` (both inclusive),
        oldest first: one column only, so two weeks of a busy site stay cheap."""
        rows = self._query(
            "SELECT archived_at FROM articles WHERE site = ? AND archived_at >= ? AND archived_at <= ?"
            " AND text_path IS NOT NULL ORDER BY archived_at",
            (site, ts(start), ts(end)),
        )
        return [at(row[0]) for row in rows]


def _quality(row: Mapping[str, Any]) -> QualityRow:
    values = dict(row)
    values["archived_at"] = dt(values["archived_at"])
    values["fallback"] = bool(values["fallback"])
    return QualityRow(**values)


def _site_ok(entry: Mapping[str, Any]) -> bool:
    if "status" in entry:
        return bool(entry["status"] == "ok")
    return not entry.get("failed") and not entry.get("error")
