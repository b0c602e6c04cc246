from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from scraper.archive.catalog import Catalog
from scraper.archive.schema import SCHEMA_VERSION, ArticleRow, CaptureRow, FeedRow, SiteStatus
from scraper.errors import CatalogError

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
HOUR = timedelta(hours=1)
MAX = 3


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "archives" / "catalog.sqlite"


@pytest.fixture
def cat(path: Path) -> Iterator[Catalog]:
    with Catalog(path) as catalog:
        yield catalog


def cand(*names: str) -> list[tuple[str, str]]:
    return [(f"https://a.ru/{n}", f"https://m.a.ru/{n}?utm_source=x") for n in names]


def capture(cat: Catalog, canonical: str, site: str = "a", at: datetime = T0, record: str = "r1") -> None:
    cat.record_capture(CaptureRow(
        canonical, url=canonical, site=site, fetched_at=at, http_status=200, etag='"e1"',
        last_modified="Sun, 22 Nov 2026 10:00:00 GMT", payload_digest="sha1:ABC", warc_file="warc/a-1.warc.gz",
        warc_record_id=f"<urn:uuid:{record}>", warc_offset=1234,
    ))  # fmt: skip


def get(cat: Catalog, canonical: str) -> ArticleRow:
    found = cat.article(canonical)
    assert found is not None
    return found


def done(cat: Catalog, canonical: str, site: str = "a", at: datetime = T0) -> None:
    capture(cat, canonical, site, at)
    cat.record_article(canonical, text_path="text/a/x.txt", text_sha256="f" * 64, adapter="a/1", extracted_at=T0)


def fail(cat: Catalog, canonical: str, now: datetime, site: str = "a", **kw: object) -> int:
    return cat.record_failure(
        canonical,
        url=canonical,
        site=site,
        reason="HTTP 503",
        now=now,
        backoff=HOUR,
        **kw,  # type: ignore[arg-type]
    )


# --- new, known, failed, retried, given up ---------------------------------------------------------------


def test_new_candidates_are_recorded_and_returned_in_the_given_order(cat: Catalog) -> None:
    given = cand("3", "1", "2") + cand("1")  # a duplicate keeps its first place
    assert cat.to_fetch("a", given, T0, MAX) == ["https://a.ru/3", "https://a.ru/1", "https://a.ru/2"]
    row = cat.article("https://a.ru/1")
    assert row is not None
    assert (row.url, row.site, row.first_seen, row.failures) == ("https://m.a.ru/1?utm_source=x", "a", T0, 0)
    assert row.archived_at is None and row.text_path is None and not row.gave_up
    assert cat.article("https://a.ru/none") is None


def test_known_articles_are_not_fetched_again(cat: Catalog) -> None:
    cat.to_fetch("a", cand("1", "2"), T0, MAX)
    done(cat, "https://a.ru/1")
    later = T0 + timedelta(minutes=5)
    assert cat.to_fetch("a", cand("1", "2", "3"), later, MAX) == ["https://a.ru/2", "https://a.ru/3"]
    assert get(cat, "https://a.ru/2").first_seen == T0  # first sighting kept


def test_a_capture_without_text_or_failure_is_due_again(cat: Catalog) -> None:
    # the run died between archiving the response and writing the text: the next run redoes it
    cat.to_fetch("a", cand("1"), T0, MAX)
    capture(cat, "https://a.ru/1")
    assert cat.to_fetch("a", cand("1"), T0 + HOUR, MAX) == ["https://a.ru/1"]


def test_capture_and_article_rows_round_trip(cat: Catalog) -> None:
    cat.to_fetch("a", cand("1"), T0, MAX)
    capture(cat, "https://a.ru/1", at=T0 + HOUR, record="first")
    capture(cat, "https://a.ru/1", at=T0 + 2 * HOUR, record="second")  # a re-fetch after a crash
    cat.record_article("https://a.ru/1", text_path="t.txt", text_sha256="ab" * 32, adapter="a/1", extracted_at=T0)
    row = cat.article("https://a.ru/1")
    assert row is not None
    assert row.first_seen == T0 and row.archived_at == T0 + HOUR  # the first capture dates the text
    assert row.last_fetched == T0 + 2 * HOUR and row.warc_record_id == "<urn:uuid:second>"  # the JSON's record
    assert (row.http_status, row.etag, row.last_modified, row.payload_digest) == (
        200, '"e1"', "Sun, 22 Nov 2026 10:00:00 GMT", "sha1:ABC",
    )  # fmt: skip
    assert (row.warc_file, row.warc_offset, row.text_path, row.json_path) == (
        "warc/a-1.warc.gz",
        1234,
        "t.txt",
        "t.json",
    )
    assert row.text_sha256 == "ab" * 32


def test_a_text_before_its_capture_is_refused(cat: Catalog) -> None:
    cat.to_fetch("a", cand("1"), T0, MAX)
    with pytest.raises(CatalogError, match="before its capture"):
        cat.record_article("https://a.ru/1", text_path="t", text_sha256="0", adapter="a/1", extracted_at=T0)


def test_failures_back_off_exponentially(cat: Catalog) -> None:
    url = "https://a.ru/1"
    cat.to_fetch("a", cand("1"), T0, max_attempts=10)
    waits = []
    now = T0
    for expected in (1, 2, 3, 4):
        assert fail(cat, url, now) == expected
        row = cat.article(url)
        assert row is not None and row.last_failure == "HTTP 503" and row.next_retry_at is not None
        waits.append(row.next_retry_at - now)
        assert cat.to_fetch("a", cand("1"), row.next_retry_at - timedelta(seconds=1), 10) == []  # not yet
        assert cat.to_fetch("a", cand("1"), row.next_retry_at, 10) == [url]  # due
        now = row.next_retry_at
    assert waits == [HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR]


def test_backoff_is_capped_and_never_overflows(cat: Catalog) -> None:
    for _ in range(80):
        fail(cat, "https://a.ru/1", T0)
    row = cat.article("https://a.ru/1")
    assert row is not None and row.next_retry_at == T0 + timedelta(days=30) and not row.gave_up


def test_a_failure_of_an_unseen_url_creates_its_row(cat: Catalog) -> None:
    assert fail(cat, "https://a.ru/9", T0) == 1
    row = cat.article("https://a.ru/9")
    assert row is not None and row.first_seen == T0 and row.failures == 1


def test_give_up_after_max_attempts(cat: Catalog) -> None:
    url = "https://a.ru/1"
    cat.to_fetch("a", cand("1"), T0, MAX)
    for attempt in range(1, MAX + 1):
        fail(cat, url, T0, max_attempts=MAX)
        assert get(cat, url).gave_up is (attempt == MAX)
    far = T0 + timedelta(days=400)
    assert cat.to_fetch("a", cand("1"), far, MAX) == [] and cat.due_retries("a", far, MAX) == []
    assert get(cat, url).next_retry_at is None
    assert cat.status()[0].gave_up == 1 and cat.status()[0].failures_pending == 0


def test_give_up_is_also_noticed_when_the_limit_is_not_passed_to_record_failure(cat: Catalog) -> None:
    for _ in range(MAX):
        fail(cat, "https://a.ru/1", T0)
    assert not get(cat, "https://a.ru/1").gave_up
    assert cat.due_retries("a", T0 + timedelta(days=400), MAX) == []
    assert get(cat, "https://a.ru/1").gave_up


def test_give_up_at_once_for_a_page_that_is_no_article(cat: Catalog) -> None:
    fail(cat, "https://a.ru/1", T0, give_up=True)
    assert cat.to_fetch("a", cand("1"), T0 + timedelta(days=400), MAX) == []


def test_a_success_after_failures_ends_the_retries(cat: Catalog) -> None:
    fail(cat, "https://a.ru/1", T0)
    done(cat, "https://a.ru/1", at=T0 + HOUR)
    row = cat.article("https://a.ru/1")
    assert row is not None and row.next_retry_at is None and row.failures == 1  # the history stays
    assert cat.due_retries("a", T0 + timedelta(days=1), MAX) == []
    assert cat.status()[0].failures_pending == 0


def test_due_retries_lists_the_sites_due_rows_feed_or_not(cat: Catalog) -> None:
    cat.to_fetch("a", cand("1", "2", "3", "4"), T0, MAX)
    cat.to_fetch("b", [("https://b.ru/1", "https://b.ru/1")], T0, MAX)
    done(cat, "https://a.ru/1")
    fail(cat, "https://a.ru/2", T0)  # due at T0 + 1h
    fail(cat, "https://a.ru/3", T0)
    fail(cat, "https://a.ru/3", T0)  # due at T0 + 2h
    # a/4 was recorded but never fetched (a time budget ran out): due as well
    assert cat.due_retries("a", T0 + HOUR, MAX) == [
        ("https://a.ru/2", "https://m.a.ru/2?utm_source=x"),
        ("https://a.ru/4", "https://m.a.ru/4?utm_source=x"),
    ]
    assert [c for c, _ in cat.due_retries("a", T0 + 2 * HOUR, MAX)] == [
        "https://a.ru/2",
        "https://a.ru/3",
        "https://a.ru/4",
    ]
    assert cat.due_retries("b", T0, MAX) == [("https://b.ru/1", "https://b.ru/1")]


def test_naive_datetimes_are_refused(cat: Catalog) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cat.to_fetch("a", cand("1"), datetime(2026, 11, 22, 10, 15), MAX)


def test_other_time_zones_come_back_as_utc(cat: Catalog) -> None:
    cat.to_fetch("a", cand("1"), datetime(2026, 11, 22, 13, 15, tzinfo=timezone(timedelta(hours=3))), MAX)
    row = cat.article("https://a.ru/1")
    assert row is not None and row.first_seen == T0 and row.first_seen.utcoffset() == timedelta(0)


# --- serial numbers --------------------------------------------------------------------------------------


def test_serials_count_per_site_and_day(cat: Catalog) -> None:
    day, next_day = date(2026, 11, 22), date(2026, 11, 23)
    assert [cat.next_serial("a", day) for _ in range(3)] == [0, 1, 2]
    assert cat.next_serial("b", day) == 0
    assert cat.next_serial("a", next_day) == 0
    assert cat.next_serial("a", day) == 3


def test_an_article_keeps_its_serial_for_the_day(cat: Catalog) -> None:
    day = date(2026, 11, 22)
    cat.to_fetch("a", cand("1", "2"), T0, MAX)
    assert cat.next_serial("a", day, "https://a.ru/1") == 0
    assert cat.next_serial("a", day, "https://a.ru/2") == 1
    assert cat.next_serial("a", day, "https://a.ru/1") == 0  # rewritten after a crash: same file
    assert cat.next_serial("a", day) == 2
    row = cat.article("https://a.ru/1")
    assert row is not None and (row.serial_day, row.serial) == (day, 0)


def test_a_datetime_is_not_a_day(cat: Catalog) -> None:
    with pytest.raises(TypeError):
        cat.next_serial("a", T0)


def test_serials_are_atomic_across_threads(cat: Catalog) -> None:
    got: list[int] = []

    def take() -> None:
        got.extend(cat.next_serial("a", date(2026, 11, 22)) for _ in range(25))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(got) == list(range(100))


def test_serials_are_atomic_across_processes(path: Path) -> None:
    Catalog(path).close()
    code = (
        "import sys; from datetime import date; from pathlib import Path; from scraper.archive.catalog import Catalog\n"
        "with Catalog(Path(sys.argv[1])) as c:\n"
        "    print(' '.join(str(c.next_serial('a', date(2026, 11, 22))) for _ in range(40)))\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    got = [int(n) for proc in procs for n in proc.communicate(timeout=60)[0].split()]
    assert all(proc.returncode == 0 for proc in procs)
    assert sorted(got) == list(range(120))


# --- feeds, runs, status ---------------------------------------------------------------------------------


def test_feed_state_round_trip(cat: Catalog) -> None:
    url = "https://a.ru/rss"
    assert cat.feed_state(url) is None
    state = dict(site="a", etag='"f1"', last_modified=None, payload_digest="sha1:F1", warc_file="warc/a-1.warc.gz",
                 warc_record_id="<urn:uuid:f1>", warc_date=T0, target_uri=url)  # fmt: skip
    cat.record_feed(FeedRow(url=url, **state))  # type: ignore[arg-type]
    assert cat.feed_state(url) == FeedRow(url=url, **state)  # type: ignore[arg-type]
    newer = {**state, "etag": None, "last_modified": "Sun, 22 Nov 2026 11:00:00 GMT", "warc_date": T0 + HOUR}
    cat.record_feed(FeedRow(url=url, **newer))  # type: ignore[arg-type]
    assert cat.feed_state(url) == FeedRow(url=url, **newer)  # type: ignore[arg-type]


def test_status_figures_per_site(cat: Catalog) -> None:
    cat.to_fetch("a", cand("1", "2", "3", "4"), T0, MAX)
    done(cat, "https://a.ru/1")
    done(cat, "https://a.ru/2")
    fail(cat, "https://a.ru/3", T0)
    fail(cat, "https://a.ru/4", T0, give_up=True)
    done(cat, "https://b.ru/1", site="b")
    first = cat.start_run(T0)
    cat.finish_run(first, T0 + HOUR, "ok", {"a": {"fetched": 3, "failed": 0}, "b": {"status": "ok", "failed": 2}})
    second = cat.start_run(T0 + 2 * HOUR)
    report = {"a": {"fetched": 2, "failed": 1}, "b": {"status": "stalled"}, "c": {"error": "robots.txt: timeout"}}
    cat.finish_run(second, T0 + 3 * HOUR, "partial", report)
    assert second > first
    assert cat.status() == [
        SiteStatus("a", articles=2, last_run=T0 + 3 * HOUR, last_success=T0 + HOUR, failures_pending=1, gave_up=1),
        SiteStatus("b", articles=1, last_run=T0 + 3 * HOUR, last_success=T0 + HOUR, failures_pending=0, gave_up=0),
        SiteStatus("c", articles=0, last_run=T0 + 3 * HOUR, last_success=None, failures_pending=0, gave_up=0),
    ]


def test_status_of_an_empty_catalog(cat: Catalog) -> None:
    assert cat.status() == []


def test_runs_are_stored_with_their_report(cat: Catalog, path: Path) -> None:
    run = cat.start_run(T0)
    cat.finish_run(run, T0 + HOUR, "ok", {"a": {"fetched": 1, "title": "Новости"}})
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT started_at, finished_at, status, report FROM runs WHERE id = ?", (run,)).fetchone()
    assert row == ("2026-11-22T10:15:00.000000Z", "2026-11-22T11:15:00.000000Z", "ok",
                   '{"a": {"fetched": 1, "title": "Новости"}}')  # fmt: skip


# --- articles() ------------------------------------------------------------------------------------------


def test_articles_by_site_and_since(cat: Catalog) -> None:
    cat.to_fetch("a", cand("1", "2", "3"), T0, MAX)
    done(cat, "https://a.ru/2", at=T0 + HOUR)
    done(cat, "https://a.ru/1", at=T0 + 2 * HOUR)
    done(cat, "https://b.ru/1", site="b", at=T0)
    assert [r.canonical for r in cat.articles()] == ["https://b.ru/1", "https://a.ru/2", "https://a.ru/1"]
    assert [r.canonical for r in cat.articles("a")] == ["https://a.ru/2", "https://a.ru/1"]
    assert [r.canonical for r in cat.articles("a", since=T0 + 2 * HOUR)] == ["https://a.ru/1"]
    assert list(cat.articles("nobody")) == []


def test_ten_thousand_articles_are_quick(cat: Catalog) -> None:
    names = [str(n) for n in range(10_500)]
    started = time.perf_counter()
    assert len(cat.to_fetch("a", cand(*names), T0, MAX)) == 10_500
    with cat.transaction():  # one commit: a real run pays one fsync per article, behind a network fetch
        for n in names[:10_000]:
            done(cat, f"https://a.ru/{n}", at=T0 + timedelta(seconds=int(n)))
    assert cat.to_fetch("a", cand(*names), T0 + HOUR, MAX) == [f"https://a.ru/{n}" for n in names[10_000:]]
    rows = list(cat.articles("a"))
    assert len(rows) == 10_000 and rows[0].canonical == "https://a.ru/0" and rows[-1].canonical == "https://a.ru/9999"
    assert cat.status()[0].articles == 10_000
    assert time.perf_counter() - started < 20


# --- durability ------------------------------------------------------------------------------------------


def test_reopening_keeps_everything(path: Path) -> None:
    with Catalog(path) as cat:
        cat.to_fetch("a", cand("1", "2"), T0, MAX)
        done(cat, "https://a.ru/1")
        fail(cat, "https://a.ru/2", T0)
        cat.next_serial("a", date(2026, 11, 22))
        cat.record_feed(FeedRow("https://a.ru/rss", site="a", etag="e", last_modified=None, payload_digest=None,
                        warc_file="w", warc_record_id="<r>", warc_date=T0, target_uri="https://a.ru/rss"))  # fmt: skip
        cat.finish_run(cat.start_run(T0), T0 + HOUR, "ok", {"a": {"failed": 0}})
        before = (list(cat.articles()), cat.article("https://a.ru/2"), cat.status())
    with Catalog(path) as cat:
        assert (list(cat.articles()), cat.article("https://a.ru/2"), cat.status()) == before
        assert cat.to_fetch("a", cand("1", "2"), T0, MAX) == []
        assert cat.next_serial("a", date(2026, 11, 22)) == 1
        assert cat.feed_state("https://a.ru/rss") is not None
        assert cat.start_run(T0) == 2


def test_schema_version_and_journal(cat: Catalog, path: Path) -> None:
    assert SCHEMA_VERSION >= 1
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert cat._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_catalog_from_a_newer_scraper_is_refused(path: Path) -> None:
    Catalog(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(CatalogError, match="newer"):
        Catalog(path)


def test_a_file_that_is_no_database_is_a_catalog_error(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database at all, just some bytes" * 100)
    with pytest.raises(CatalogError, match="not a database"):
        Catalog(path)


def test_two_catalogs_on_one_file_see_each_other(path: Path) -> None:
    with Catalog(path) as one, Catalog(path) as two:
        one.to_fetch("a", cand("1"), T0, MAX)
        assert two.to_fetch("a", cand("1", "2"), T0, MAX) == ["https://a.ru/1", "https://a.ru/2"]
        done(two, "https://a.ru/1")
        assert get(one, "https://a.ru/1").text_path is not None
        with one.transaction():
            fail(one, "https://a.ru/2", T0)
            assert get(two, "https://a.ru/2").failures == 0  # not committed yet
        assert get(two, "https://a.ru/2").failures == 1


def test_an_exception_inside_a_transaction_leaves_the_previous_state(cat: Catalog) -> None:
    cat.to_fetch("a", cand("1"), T0, MAX)
    before = cat.article("https://a.ru/1")
    with pytest.raises(RuntimeError), cat.transaction():
        capture(cat, "https://a.ru/1")
        cat.record_article("https://a.ru/1", text_path="t", text_sha256="0", adapter="a/1", extracted_at=T0)
        cat.next_serial("a", date(2026, 11, 22), "https://a.ru/1")
        raise RuntimeError("killed between the text and the commit")
    assert cat.article("https://a.ru/1") == before
    assert cat.next_serial("a", date(2026, 11, 22)) == 0
    assert cat.to_fetch("a", cand("1"), T0, MAX) == ["https://a.ru/1"]


def test_a_call_that_fails_halfway_changes_nothing(cat: Catalog) -> None:
    bad = [*cand("1", "2"), ("https://a.ru/3", None)]  # the third row breaks NOT NULL after two inserts
    with pytest.raises(CatalogError):
        cat.to_fetch("a", bad, T0, MAX)  # type: ignore[arg-type]
    assert cat.article("https://a.ru/1") is None
    assert cat.to_fetch("a", cand("1"), T0, MAX) == ["https://a.ru/1"]  # and the catalog still works


def test_a_process_killed_mid_transaction_leaves_the_committed_state(path: Path) -> None:
    with Catalog(path) as cat:
        cat.to_fetch("a", cand("1"), T0, MAX)
        done(cat, "https://a.ru/1")
    code = (
        "import os, sys; from datetime import UTC, datetime; from pathlib import Path\n"
        "from scraper.archive.catalog import Catalog\n"
        "c = Catalog(Path(sys.argv[1]))\n"
        "with c.transaction():\n"
        "    c.to_fetch('a', [('https://a.ru/2', 'https://a.ru/2')], datetime.now(UTC), 3)\n"
        "    c.record_failure('https://a.ru/1', url='u', site='a', reason='x', now=datetime.now(UTC),\n"
        "                     backoff=__import__('datetime').timedelta(hours=1))\n"
        "    os._exit(9)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, timeout=60)
    assert result.returncode == 9
    with Catalog(path) as cat:
        assert cat.article("https://a.ru/2") is None
        row = cat.article("https://a.ru/1")
        assert row is not None and row.failures == 0 and row.text_path is not None
        assert [r.canonical for r in cat.articles()] == ["https://a.ru/1"]


def test_every_capture_of_an_article_is_kept(cat: Catalog) -> None:
    """A later capture moves the article's pointers; the catalog still lists both, with their texts."""
    cat.to_fetch("a", cand("1"), T0, MAX)
    capture(cat, "https://a.ru/1", at=T0 + HOUR, record="first")
    cat.record_article("https://a.ru/1", text_path="t1.txt", text_sha256="1" * 64, adapter="a/1", extracted_at=T0)
    capture(cat, "https://a.ru/1", at=T0 + 2 * HOUR, record="second")
    cat.record_article("https://a.ru/1", text_path="t2.txt", text_sha256="2" * 64, adapter="a/1", extracted_at=T0)
    found = cat.captures("https://a.ru/1")
    assert [(c.warc_record_id, c.fetched_at) for c in found] == [
        ("<urn:uuid:first>", T0 + HOUR), ("<urn:uuid:second>", T0 + 2 * HOUR),
    ]  # fmt: skip
    assert get(cat, "https://a.ru/1").text_path == "t2.txt"
    assert cat.record_text("<urn:uuid:first>", text_path="t1.txt", text_sha256="3" * 64, adapter="a/2",
                           extracted_at=T0 + 24 * HOUR) == 1  # fmt: skip
    assert get(cat, "https://a.ru/1").text_sha256 == "2" * 64  # the latest capture's text is untouched
