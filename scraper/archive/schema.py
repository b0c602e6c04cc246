"""The catalog's tables and the rows its queries return (``scraper.archive.catalog`` reads and writes them).

``MIGRATIONS[n]`` takes a catalog file from schema version n to n + 1; ``SCHEMA_VERSION`` is the
version this scraper writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

# One tuple of statements per version: MIGRATIONS[n] takes a file from version n to n + 1.
# Later versions append (e.g. "ALTER TABLE articles ADD COLUMN ..."); never edit a released step.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE articles (
            canonical TEXT PRIMARY KEY, url TEXT NOT NULL, site TEXT NOT NULL, first_seen TEXT NOT NULL,
            last_fetched TEXT, http_status INTEGER, etag TEXT, last_modified TEXT, payload_digest TEXT,
            text_sha256 TEXT, text_path TEXT, json_path TEXT,
            warc_file TEXT, warc_record_id TEXT, warc_offset INTEGER, archived_at TEXT,
            failures INTEGER NOT NULL DEFAULT 0, last_failure TEXT, next_retry_at TEXT,
            gave_up INTEGER NOT NULL DEFAULT 0, serial_day TEXT, serial INTEGER)""",
        "CREATE INDEX articles_site_seen ON articles (site, first_seen)",
        "CREATE INDEX articles_site_retry ON articles (site, next_retry_at)",
        "CREATE INDEX articles_site_archived ON articles (site, archived_at)",
        "CREATE INDEX articles_archived ON articles (archived_at)",
        """CREATE TABLE feeds (
            url TEXT PRIMARY KEY, site TEXT NOT NULL, etag TEXT, last_modified TEXT, payload_digest TEXT,
            warc_file TEXT NOT NULL, warc_record_id TEXT NOT NULL, warc_date TEXT NOT NULL,
            target_uri TEXT NOT NULL)""",
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running', report TEXT)""",
        # the last run and last success per site, kept as runs finish so status() never reads old reports
        "CREATE TABLE site_runs (site TEXT PRIMARY KEY, last_run_at TEXT NOT NULL, last_success_at TEXT)",
        "CREATE TABLE serials (site TEXT NOT NULL, day TEXT NOT NULL, next INTEGER NOT NULL, PRIMARY KEY (site, day))",
    ),
    (
        # the quality watch (scraper.watch.quality): each article's figures and agreement with independent copies,
        # kept with the hash of the text measured so a check after every run reads only what is new
        """CREATE TABLE quality_articles (
            canonical TEXT PRIMARY KEY, site TEXT NOT NULL, archived_at TEXT NOT NULL, text_sha256 TEXT NOT NULL,
            chars INTEGER NOT NULL, paragraphs INTEGER NOT NULL, fallback INTEGER NOT NULL, copies TEXT)""",
        "CREATE INDEX quality_articles_site ON quality_articles (site, archived_at)",
        # one row per site and check: its verdict and figures
        """CREATE TABLE quality_checks (
            site TEXT NOT NULL, checked_at TEXT NOT NULL, since TEXT NOT NULL, verdict TEXT NOT NULL,
            report TEXT NOT NULL, PRIMARY KEY (site, checked_at))""",
    ),
    (
        # every capture of an article and the text it gave, so an article can have several of each;
        # articles keeps pointers to the latest. Filled from articles for catalogs written before.
        """CREATE TABLE captures (
            warc_record_id TEXT PRIMARY KEY, canonical TEXT NOT NULL, fetched_at TEXT NOT NULL,
            http_status INTEGER, payload_digest TEXT, warc_file TEXT NOT NULL, warc_offset INTEGER NOT NULL,
            text_path TEXT, text_sha256 TEXT, extracted_at TEXT, adapter TEXT)""",
        "CREATE INDEX captures_article ON captures (canonical, fetched_at)",
        """INSERT INTO captures (warc_record_id, canonical, fetched_at, http_status, payload_digest, warc_file,
            warc_offset, text_path, text_sha256)
        SELECT warc_record_id, canonical, COALESCE(last_fetched, archived_at), http_status, payload_digest,
            warc_file, warc_offset, text_path, text_sha256
        FROM articles WHERE warc_record_id IS NOT NULL AND warc_file IS NOT NULL""",
        "ALTER TABLE articles ADD COLUMN extracted_at TEXT",
        "ALTER TABLE articles ADD COLUMN adapter TEXT",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True, slots=True)
class ArticleRow:
    canonical: str
    url: str  # as first seen
    site: str
    first_seen: datetime
    last_fetched: datetime | None
    http_status: int | None
    etag: str | None
    last_modified: str | None
    payload_digest: str | None
    text_sha256: str | None
    text_path: str | None
    json_path: str | None
    warc_file: str | None  # these three point at the latest capture, the one the JSON names
    warc_record_id: str | None
    warc_offset: int | None
    archived_at: datetime | None  # the first capture: it dates the text folder, so later captures keep it
    failures: int  # every failure ever recorded; a success does not reset it
    last_failure: str | None
    next_retry_at: datetime | None  # set while a failed article waits for its retry
    gave_up: bool
    serial_day: date | None  # the text file number NNN this article got, and for which day
    serial: int | None
    extracted_at: datetime | None  # when its text was last written with new content
    adapter: str | None  # "<site>/<layout version>" that extracted it


@dataclass(frozen=True, slots=True)
class CaptureRow:
    """One capture of an article, as a scheduled run records it once its records are on disk."""

    canonical: str
    url: str
    site: str
    fetched_at: datetime
    http_status: int
    etag: str | None
    last_modified: str | None
    payload_digest: str | None
    warc_file: str
    warc_record_id: str
    warc_offset: int


@dataclass(frozen=True, slots=True)
class FeedRow:
    url: str
    site: str
    etag: str | None
    last_modified: str | None
    payload_digest: str | None
    warc_file: str  # the last full response, which a revisit record refers to
    warc_record_id: str
    warc_date: datetime
    target_uri: str


@dataclass(frozen=True, slots=True)
class SiteStatus:
    site: str
    articles: int  # with a text written
    last_run: datetime | None
    last_success: datetime | None
    failures_pending: int  # failed, to be retried
    gave_up: int


@dataclass(frozen=True, slots=True)
class FailureRow:
    """An article that failed and has no text: to be retried at ``next_try``, or given up."""

    url: str
    site: str
    attempts: int
    reason: str
    next_try: datetime | None  # None: given up (or due at the next run, when not given up)
    gave_up: bool


@dataclass(frozen=True, slots=True)
class QualityRow:
    """One article as the quality watch last measured it."""

    canonical: str
    site: str
    archived_at: datetime
    text_sha256: str  # of the text measured: a re-clean that rewrites the text makes the row stale
    chars: int  # body length
    paragraphs: int
    fallback: bool  # the adapter's body container was missing
    copies: str | None  # JSON (scraper.watch.snapshot.encode_agreements) of the copies compared; None: not yet


@dataclass(frozen=True, slots=True)
class CheckRow:
    site: str
    checked_at: datetime
    since: datetime  # the check looked at articles archived from then on
    verdict: str  # ok, no data, degraded or broken
    report: dict[str, Any]


# Times are stored as fixed-width ISO 8601 UTC text, so that SQL compares and sorts them as times
# (scraper.archive.catalog_rows reads them back, and checks them).
STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


def ts(moment: datetime) -> str:
    if moment.utcoffset() is None:
        raise ValueError(f"{moment!r}: the catalog takes timezone-aware datetimes only")
    return moment.astimezone(UTC).strftime(STAMP)
