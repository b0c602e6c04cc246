"""The quality watch: figures, comparisons and verdicts, over archives built the way a scheduled
run builds them (WARC records, text and JSON files by the real pipeline, catalog rows)."""

from __future__ import annotations

import json
import random
import shlex
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scraper.archive import layout
from scraper.archive.catalog import Catalog
from scraper.archive.schema import CaptureRow
from scraper.capture.warc import Stored, WarcFile, new_warc_path, read_responses
from scraper.cli import app
from scraper.models import Capture, Exchange
from scraper.pipeline.capture import metadata
from scraper.pipeline.store import extract
from scraper.sites import by_name, site_for
from scraper.urls import canonical
from scraper.watch.copies import Copy, compare, feed_copies, json_ld_copies
from scraper.watch.quality import Silence, check_run, silence
from scraper.watch.verdict import (
    BROKEN,
    DEGRADED,
    NO_DATA,
    OK,
    Measured,
    Repeated,
    Thresholds,
    baseline,
    judge,
    repeated_lines,
)

DAY1 = datetime(2026, 11, 21, 6, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
SITES = ("interfax", "kremlin", "rbc")
# the body container each adapter looks for; "gone" is the same page after a redesign
CONTAINER = {
    "interfax": '<article itemprop="articleBody">{}</article>',
    "kremlin": '<div class="read__content"><div itemprop="articleBody">{}</div></div>',
    "rbc": '<div class="article__text article__text_free">{}</div>',
    "gone": '<div class="story-body-2026">{}</div>',
}
TICKER = "Курс доллара на Мосбирже 92,51 руб., евро 98,40 руб."
_VOCABULARY = (
    "правительство заявило сегодня новые меры поддержки регионов экономика рост цены рынок банк ставка министр "
    "встреча президент решение совет проект закон бюджет доходы расходы компания выборы губернатор области "
    "города жители строительство дороги школы больницы отопление зима энергия газ нефть экспорт"
)
_WORDS = _VOCABULARY.split()


def paragraphs(seed: int | str, count: int | None = None) -> list[str]:
    """Distinct sentences of plausible length: each article's text is its own."""
    rng = random.Random(seed)
    out = []
    for _ in range(count or rng.randint(4, 8)):
        sentences = [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."]
        sentences += [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."]
        out.append(" ".join(sentences))
    return out


def page(site: str, title: str, body: Sequence[str], json_ld: Sequence[str] | None = None, gone: bool = False,
         inside: str = "") -> bytes:  # fmt: skip
    """An article page; ``inside``: markup put first in the body container (a box the site adds)."""
    ld = ""
    if json_ld is not None:
        data = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
                "articleBody": "\n".join(json_ld)}  # fmt: skip
        ld = f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'
    text = inside + "".join(f"<p>{p}</p>" for p in body)
    container = CONTAINER["gone" if gone else site].format(text)
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta property="og:title" content="{title}">'
        f'<meta property="article:published_time" content="2026-11-21T09:00:00+03:00">{ld}</head><body>'
        f'<header class="site-header"><a href="/">Главная</a> <a href="/news">Новости</a></header>'
        f"<main><h1>{title}</h1>{container}</main>"
        f'<aside class="sidebar"><div class="news-feed"><a href="/x">Другая новость дня о важном</a></div></aside>'
        f"<footer>© 2026 Все права защищены. Перепечатка запрещена.</footer></body></html>"
    ).encode()


def url_of(site: str, n: int) -> str:
    return {
        "interfax": f"https://www.interfax.ru/russia/{900000 + n}",
        "kremlin": f"http://kremlin.ru/events/president/news/{70000 + n}",
        "rbc": f"https://www.rbc.ru/politics/21/11/2026/{n:024x}",
    }[site]


@dataclass
class Archive:
    """An archive folder and its catalog, written like ``scraper run`` writes them."""

    root: Path
    catalog: Catalog
    stack: ExitStack = field(default_factory=ExitStack)
    files: dict[tuple[str, str], WarcFile] = field(default_factory=dict)
    serials: dict[tuple[str, str], int] = field(default_factory=dict)

    def warc(self, site: str, at: datetime) -> WarcFile:
        key = (site, at.date().isoformat())
        if key not in self.files:
            path = new_warc_path(self.root / "warc", site, at)  # a later run of the day: a new file
            name = path.relative_to(self.root).as_posix()
            self.files[key] = self.stack.enter_context(WarcFile(path, name))
            self.files[key].write_warcinfo({"software": "test"})
        return self.files[key]

    def exchange(self, url: str, at: datetime, body: bytes, content_type: str = "text/html; charset=utf-8") -> Exchange:
        headers = (("Content-Type", content_type), ("Content-Length", str(len(body))))
        return Exchange(url, at, "GET", (), "HTTP/1.1", 200, "OK", headers, body)

    def article(self, site: str, url: str, at: datetime, body: bytes) -> Path:
        adapter = site_for(url)
        day = at.date().isoformat()
        serial = self.serials.get((site, day), 0)
        self.serials[(site, day)] = serial + 1
        text_stem = self.root / "text" / site / day / layout.stem_name(serial, url)
        exchange = self.exchange(url, at, body)
        ref = self.warc(site, at).write_exchange(exchange, metadata(adapter, at, text_stem, layout.Archive(self.root)))
        capture = next(s for s in read_responses(self.root / ref.warc_file, ref.warc_file, 10**7)
                       if isinstance(s, Stored) and s.ref.offset == ref.offset).capture  # fmt: skip
        key = canonical(url, adapter)
        self.catalog.record_capture(
            CaptureRow(
                canonical=key, url=url, site=site, fetched_at=at, http_status=200, etag=None, last_modified=None,
                payload_digest=ref.payload_digest, warc_file=ref.warc_file, warc_record_id=ref.record_id,
                warc_offset=ref.offset,
            )
        )  # fmt: skip
        outcome = extract(self.root, capture, ref, text_stem)
        assert outcome.ok, outcome
        text = Path(outcome.text_file or "")
        self.catalog.record_article(
            key, text_path=str(text.relative_to(self.root)), text_sha256=outcome.text_sha256 or "",
            adapter=outcome.adapter or "", extracted_at=at,
        )  # fmt: skip
        return text

    def feed(self, site: str, feed_url: str, at: datetime, body: bytes) -> None:
        self.warc(site, at).write_exchange(
            self.exchange(feed_url, at, body, "application/rss+xml"), metadata(by_name(site), at, None, None)
        )

    def close(self) -> None:
        self.stack.close()
        self.files.clear()


def day_of_articles(archive: Archive, day: datetime, *, per_site: int = 12, gone: str | None = None,
                    ticker: str | None = None, first: int = 0) -> None:  # fmt: skip
    for site in SITES:
        for i in range(per_site):
            n = first + i
            text = paragraphs(f"{site}-{n}")
            body = [*text[:2], ticker, *text[2:]] if ticker and site == "interfax" else text
            at = day + timedelta(minutes=10 * i)
            archive.article(site, url_of(site, n), at, page(site, f"Новость {site} {n}", body, text, gone=site == gone))
    archive.close()


# --- over an archive -------------------------------------------------------------------------


def test_a_site_whose_body_container_vanished_is_broken_and_the_others_ok(archive: Archive) -> None:
    day_of_articles(archive, DAY1)
    first = check_run(archive.catalog, archive.root, DAY1 + timedelta(hours=20), since=DAY1)
    assert {s.site: s.verdict for s in first.sites} == dict.fromkeys(SITES, OK)
    assert all(s.articles == 12 and s.fallback == 0 for s in first.sites)
    assert all(s.compared == 12 and s.truncated == 0 and s.leaked == 0 for s in first.sites), first

    day_of_articles(archive, DAY2, gone="rbc", first=100)
    report = check_run(archive.catalog, archive.root, DAY2 + timedelta(hours=20), since=DAY2)
    verdicts = {s.site: s.verdict for s in report.sites}
    assert verdicts == {"interfax": OK, "kremlin": OK, "rbc": BROKEN}
    rbc = next(s for s in report.sites if s.site == "rbc")
    assert rbc.fallback == 12 and rbc.history == 12
    assert "body container missing on 12 of 12 pages" in rbc.reasons
    assert all(any("fallback" in why for why in f.reasons) for f in rbc.flagged) and len(rbc.flagged) == 12
    assert report.failed and report.verdict == BROKEN
    stored = {row.site: row for row in archive.catalog.last_checks()}
    assert stored["rbc"].verdict == BROKEN and stored["rbc"].report["fallback"] == 12
    assert stored["interfax"].verdict == OK and stored["interfax"].checked_at == DAY2 + timedelta(hours=20)


def test_a_ticker_in_every_article_of_a_day_is_a_repeated_line(archive: Archive) -> None:
    day_of_articles(archive, DAY1, ticker=TICKER)
    report = check_run(archive.catalog, archive.root, DAY2, since=DAY1)
    interfax = next(s for s in report.sites if s.site == "interfax")
    assert [(r.line, r.count, r.articles) for r in interfax.repeated] == [(TICKER, 12, 12)]
    assert interfax.verdict == DEGRADED
    # the JSON-LD copy does not carry the ticker: every article shows it as leaked
    assert interfax.leaked == 12
    assert all(s.repeated == () and s.verdict == OK for s in report.sites if s.site != "interfax")


def test_an_article_missing_a_paragraph_of_its_json_ld_copy_is_truncated(archive: Archive) -> None:
    day_of_articles(archive, DAY1)
    body = paragraphs(7, count=5)
    lost = "Этот абзац есть в разметке JSON-LD, но адаптер его потерял при извлечении основного текста."
    url = url_of("kremlin", 500)
    archive.article(
        "kremlin", url, DAY1 + timedelta(hours=3), page("kremlin", "Совещание", body, [*body[:3], lost, *body[3:]])
    )
    archive.close()
    report = check_run(archive.catalog, archive.root, DAY2, since=DAY1)
    kremlin = next(s for s in report.sites if s.site == "kremlin")
    assert kremlin.truncated == 1 and kremlin.compared == 13
    (flagged,) = kremlin.flagged
    assert flagged.url == url and "truncated" in flagged.reasons[0] and "json-ld" in flagged.reasons[0]
    assert kremlin.verdict == OK  # one article of thirteen does not degrade a site


def test_comparisons_are_kept_in_the_catalog_and_not_redone(archive: Archive) -> None:
    day_of_articles(archive, DAY1, per_site=3)
    body = paragraphs(8, count=4)
    archive.article("rbc", url_of("rbc", 900), DAY1, page("rbc", "Т", body[:3], body))
    archive.close()
    first = check_run(archive.catalog, archive.root, DAY2, since=DAY1)
    for warc in (archive.root / "warc").glob("*.warc.gz"):
        warc.unlink()  # a second check must not need the WARCs of texts it already compared
    again = check_run(archive.catalog, archive.root, DAY2 + timedelta(minutes=10), since=DAY1)
    assert [s.to_dict() for s in again.sites] == [s.to_dict() for s in first.sites]
    assert next(s for s in again.sites if s.site == "rbc").truncated == 1


def test_a_full_text_feed_item_is_a_copy(archive: Archive) -> None:
    url = url_of("rbc", 1)
    body = paragraphs(11, count=4)
    full = "".join(f"<p>{p}</p>" for p in body[:3])  # the feed's copy lacks the last paragraph
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:rbc_news="https://www.rbc.ru">'
        f"<channel><item><title>Т</title><link>{url}?from=rss</link>"
        f"<rbc_news:full-text><![CDATA[{full}]]></rbc_news:full-text></item></channel></rss>"
    ).encode()
    archive.feed("rbc", "https://rssexport.rbc.ru/rbcnews/news/30/full.rss", DAY1, feed)
    archive.article("rbc", url, DAY1 + timedelta(minutes=1), page("rbc", "Т", body))
    archive.close()
    report = check_run(archive.catalog, archive.root, DAY2, since=DAY1, sites=["rbc"])
    (rbc,) = report.sites
    assert rbc.compared == 1 and rbc.leaked == 1 and rbc.truncated == 0
    assert "feed copy" in rbc.flagged[0].reasons[0]


def test_an_archived_print_version_is_a_copy(archive: Archive) -> None:
    url = url_of("kremlin", 7)
    body = paragraphs(12, count=5)
    at = DAY1 + timedelta(minutes=5)
    archive.article("kremlin", url, at, page("kremlin", "Т", body[:4]))  # the last paragraph lost
    printed = "".join(f"<p>{p}</p>" for p in body)
    print_page = f"<html><head><title>Т</title></head><body><h1>Т</h1><div>{printed}</div></body></html>"
    site = by_name("kremlin")
    archive.warc("kremlin", at).write_exchange(
        archive.exchange(f"{url}/print", at, print_page.encode()), metadata(site, at, None, None)
    )
    archive.close()
    (kremlin,) = check_run(archive.catalog, archive.root, DAY2, since=DAY1, sites=["kremlin"]).sites
    assert kremlin.compared == 1 and kremlin.truncated == 1
    assert "print copy" in kremlin.flagged[0].reasons[0]


# --- silence: a window without articles ---------------------------------------------------------


def steady(archive: Archive, site: str, start: datetime, days: int, per_day: int = 3, first: int = 0) -> datetime:
    """``per_day`` articles a day, ten minutes apart from ``start``'s time of day; returns the last one's time."""
    at = start
    for day in range(days):
        for i in range(per_day):
            n = first + day * per_day + i
            at = start + timedelta(days=day, minutes=10 * i)
            text = paragraphs(f"{site}-{n}")
            archive.article(site, url_of(site, n), at, page(site, f"Новость {site} {n}", text, text))
    archive.close()
    return at


def test_a_site_that_stopped_archiving_is_broken_and_check_exits_1(archive: Archive) -> None:
    now = datetime.now(UTC)  # `scraper check` reads the clock: the archive is built around it
    start = (now - timedelta(days=12)).replace(hour=6, minute=0, second=0, microsecond=0)
    last = steady(archive, "rbc", start, days=9)  # 27 articles, three a day; then nothing for 3-4 days
    run = archive.catalog.start_run(last)
    archive.catalog.finish_run(run, last + timedelta(minutes=5), "ok", {"rbc": {"archived": 3}})
    text = paragraphs("kremlin-today")
    archive.article("kremlin", url_of("kremlin", 1), now - timedelta(hours=2), page("kremlin", "Т", text, text))
    archive.close()

    result = CliRunner().invoke(app, ["check", "--out", str(archive.root)])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert [line.split()[:3] for line in lines[2:4]] == [["kremlin", "ok", "1"], ["rbc", "broken", "0"]]
    silent = (
        f"no articles since {last:%Y-%m-%dT%H:%MZ} (usually about 3 a day; "
        "never more than 24h without one in the 14 days before)"
    )
    assert f"  - {silent}" in lines
    assert f"  - the site was last run at {last + timedelta(minutes=5):%Y-%m-%dT%H:%MZ}, before the window" in lines

    as_json = json.loads(CliRunner().invoke(app, ["check", "--out", str(archive.root), "--json"]).output)
    rbc = as_json["sites"]["rbc"]
    assert as_json["verdict"] == BROKEN and rbc["verdict"] == BROKEN and rbc["reasons"][0] == silent
    assert rbc["silent_since"] == last.isoformat() and 3 < rbc["usual_per_day"] < 3.3
    assert as_json["sites"]["kremlin"]["silent_since"] is None
    quiet = CliRunner().invoke(app, ["check", "--out", str(archive.root), "-q"])
    assert quiet.exit_code == 1 and "rbc: broken" in quiet.output and "kremlin:" not in quiet.output

    # the check after every `scraper run` (of the sites it ran) says the same
    report = check_run(archive.catalog, archive.root, datetime.now(UTC), sites=["rbc"])
    assert report.verdict == BROKEN and report.failed and report.sites[0].reasons[0] == silent
    assert {c.site: c.verdict for c in archive.catalog.last_checks()} == {"kremlin": OK, "rbc": BROKEN}


def test_a_fresh_archive_is_no_data_and_exit_1(archive: Archive) -> None:
    result = CliRunner().invoke(app, ["check", "--out", str(archive.root)])
    assert result.exit_code == 1 and result.output.startswith("no data: "), result.output
    as_json = json.loads(CliRunner().invoke(app, ["check", "--out", str(archive.root), "--json"]).output)
    assert as_json["verdict"] == NO_DATA and as_json["sites"] == {}
    quiet = CliRunner().invoke(app, ["check", "--out", str(archive.root), "-q"])
    assert quiet.exit_code == 1 and quiet.output.startswith("no data: ")  # cron hears of it
    asked = CliRunner().invoke(app, ["check", "--out", str(archive.root), "--site", "rbc"])
    assert asked.exit_code == 1 and asked.output.splitlines()[2].split()[:4] == ["rbc", "no", "data", "0"]
    assert "  - no article archived yet: nothing to judge" in asked.output.splitlines()

    # a site run that never archived an article (blocked from its first day) is no data too, after the run
    now = datetime.now(UTC)
    archive.catalog.finish_run(archive.catalog.start_run(now), now, "failed", {"kremlin": {"failed": 4}})
    report = check_run(archive.catalog, archive.root, now)
    assert [(s.site, s.verdict, s.articles) for s in report.sites] == [("kremlin", NO_DATA, 0)]
    assert report.verdict == NO_DATA and report.failed


def test_a_sparse_site_or_a_short_window_is_not_broken(archive: Archive) -> None:
    for n in range(8):  # one article every four days: too few to know when it is overdue
        text = paragraphs(f"kremlin-{n}")
        archive.article("kremlin", url_of("kremlin", n), DAY1 + timedelta(days=4 * n), page("kremlin", "Т", text, text))
    last = steady(archive, "rbc", DAY1 + timedelta(days=20), days=9)  # three a day, each day at 06:00
    hour = timedelta(hours=1)
    now = last + 5 * hour  # a one-hour window at noon: rbc is quiet every day from 06:20 till 06:00
    report = check_run(archive.catalog, archive.root, now, since=now - hour)
    assert [(s.site, s.verdict, s.articles, s.reasons) for s in report.sites] == [
        ("kremlin", OK, 0, ()),
        ("rbc", OK, 0, ()),
    ]
    kremlin, rbc = report.sites
    assert kremlin.silent_since == DAY1 + timedelta(days=28) and kremlin.usual_per_day is None
    assert rbc.silent_since == last and rbc.usual_per_day is not None and 3 < rbc.usual_per_day < 3.3

    # the silence's length judges, not the window's: three days on, the same hour is alarming for rbc
    later = last + timedelta(days=3)
    report = check_run(archive.catalog, archive.root, later, since=later - hour)
    assert {s.site: s.verdict for s in report.sites} == {"kremlin": OK, "rbc": BROKEN}


def test_silence_is_judged_against_the_sites_longest_lull() -> None:
    th = Thresholds()
    # 25 a day from 06:00 to 18:00 for ten days: quiet twelve hours every night
    times = [DAY1 + timedelta(days=d, minutes=30 * i) for d in range(10) for i in range(25)]
    last = times[-1]
    assert silence(last, times, last + timedelta(hours=20), th).verdict == OK  # a night and a morning
    late = silence(last, times, last + timedelta(hours=25), th)
    assert late.verdict == BROKEN and late.per_day is not None and round(late.per_day) == 26
    assert late.reasons == ("no articles since 2026-11-30T18:00Z (usually about 26 a day; never more than 12h "
                            "without one in the 14 days before)",)  # fmt: skip
    # a first run takes a feed's backlog within minutes: that is no pace, whatever the silence after it
    backlog = [DAY1 + timedelta(seconds=10 * i) for i in range(40)]
    assert silence(backlog[-1], backlog, backlog[-1] + timedelta(days=5), th) == Silence(OK, (), None)
    assert silence(None, [], DAY1, th).verdict == NO_DATA
    # a shorter history (--history-days 4) asks for half of it, not a week
    short = [t for t in times if t >= last - timedelta(days=4)]
    assert silence(last, short, last + timedelta(days=2), th).verdict == OK
    assert silence(last, short, last + timedelta(days=2), Thresholds(history_days=4)).verdict == BROKEN


# --- the pure parts -------------------------------------------------------------------------


def test_compare_finds_missing_sentences_and_leaked_lines() -> None:
    ours = ["Первый абзац текста новости о погоде в Москве.", "Читайте также: другая новость о выборах губернатора"]
    copy = ["Первый абзац текста новости о погоде в Москве. Второе предложение, которое адаптер потерял целиком."]
    result = compare(ours, Copy("json-ld", tuple(copy)))
    assert result.missing == ("Второе предложение, которое адаптер потерял целиком.",)
    assert result.truncated and result.missing_share > 0.4
    assert result.leaked == ("Читайте также: другая новость о выборах губернатора",)
    # quotes, dashes, ё and case differ between copies: still the same text
    same = compare(["«Ёлка» — в центре города, сказал мэр"], Copy("feed", ('"Елка" - в центре города, сказал мэр',)))
    assert not same.truncated and same.leaked == ()


def test_a_short_copy_such_as_a_lead_says_nothing_of_leaks() -> None:
    ours = paragraphs(3, count=6)
    result = compare(ours, Copy("json-ld", tuple(ours[:1])))
    assert result.leaked == () and not result.truncated


def test_repeated_lines_need_a_share_of_the_day() -> None:
    day = DAY1.date()
    texts = [["Строка новостной ленты, что повторяется", f"Текст статьи номер {i} о разном"] for i in range(10)]
    assert repeated_lines({day: texts[:2]}, Thresholds()) == []  # fewer than 3 articles
    found = repeated_lines({day: texts[:3] + [["иное"]] * 7}, Thresholds())
    assert found == [Repeated("Строка новостной ленты, что повторяется", day, 3, 10)]
    assert repeated_lines({day: texts[:2] + [["иное"]] * 8}, Thresholds()) == []


def test_a_shift_of_the_median_length_judges_a_site() -> None:
    history = [(1500 + 10 * i, 6, False) for i in range(20)]
    base = baseline(history, Thresholds())
    assert base is not None and base.chars.usual in range(1590, 1600)
    half = [Measured(f"u{i}", DAY1, 700, 3, False) for i in range(10)]
    check = judge("s", half, base, [], len(history))
    assert check.verdict == DEGRADED and any("median length" in r for r in check.reasons)
    lead_only = [Measured(f"u{i}", DAY1, 200, 1, False) for i in range(10)]
    assert judge("s", lead_only, base, [], len(history)).verdict == BROKEN
    same = [Measured(f"u{i}", DAY1, 1400 + 30 * i, 6, False) for i in range(10)]
    assert judge("s", same, base, [], len(history)).verdict == OK
    assert baseline(history[:5], Thresholds()) is None  # too little history: no length verdict


def test_json_ld_and_feed_copies_are_read_from_the_bytes() -> None:
    html = page("rbc", "T", ["a"], ["Первый абзац.", "Второй &amp; третий."])
    (copy,) = json_ld_copies(Capture("https://www.rbc.ru/x", DAY1, 200, (("Content-Type", "text/html"),), html))
    assert copy.source == "json-ld" and copy.paragraphs == ("Первый абзац.", "Второй & третий.")
    item = "<item><link>https://www.rbc.ru/politics/01/11/2026/1</link><content:encoded>{}</content:encoded></item>"
    feed = '<?xml version="1.0"?>{}<rss xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>{}</channel></rss>'
    plain = feed.format("", item.format("Первый абзац.&lt;p&gt;Второй абзац.")).encode()
    (copy,) = feed_copies(plain, by_name("rbc")).values()
    assert copy.source == "feed" and copy.paragraphs == ("Первый абзац.", "Второй абзац.")
    bomb = '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    assert feed_copies(feed.format(bomb, item.format("&b;")).encode(), by_name("rbc")) == {}
    assert feed_copies(b"not xml at all", by_name("rbc")) == {}


# --- the command ----------------------------------------------------------------------------


def test_scraper_check_prints_a_table_and_a_snapshot_command(archive: Archive, tmp_path: Path) -> None:
    day_of_articles(archive, DAY1)
    day_of_articles(archive, DAY2, gone="rbc", first=100)
    since = DAY2.date().isoformat()
    result = CliRunner().invoke(app, ["check", "--out", str(archive.root), "--since", since])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[1].split()[:2] == ["site", "verdict"]
    assert [line.split()[:3] for line in lines[2:5]] == [
        ["interfax", "ok", "12"],
        ["kremlin", "ok", "12"],
        ["rbc", "broken", "12"],
    ]
    commands = [line.strip() for line in lines if line.strip().startswith("scraper snapshot")]
    assert len(commands) == 10 and "--site rbc" in commands[0]
    assert shlex.split(commands[0])[2].startswith("https://www.rbc.ru/politics/")
    assert "... and 2 more flagged articles" in result.output
    ok = CliRunner().invoke(app, ["check", "--out", str(archive.root), "--since", since, "--site", "kremlin", "-q"])
    assert ok.exit_code == 0 and ok.output == ""
    as_json = CliRunner().invoke(app, ["check", "--out", str(archive.root), "--since", since, "--json"])
    assert json.loads(as_json.output)["sites"]["rbc"]["verdict"] == BROKEN


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "--since"),
        (["--site", "lenta"], "unknown site"),
        (["--history-days", "0"], "--history-days"),
    ],
)
def test_scraper_check_bad_input_is_one_line_and_exit_2(archive: Archive, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["check", "--out", str(archive.root), *args])
    assert result.exit_code == 2 and message in result.output and len(result.output.strip().splitlines()) == 1


def test_scraper_check_without_a_catalog_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", "--out", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "no catalog" in result.output


def test_a_catalog_of_the_first_schema_gains_the_quality_tables(tmp_path: Path) -> None:
    import sqlite3

    from scraper.archive.schema import MIGRATIONS, SCHEMA_VERSION

    path = tmp_path / "catalog.sqlite"
    with sqlite3.connect(path) as db:
        for statement in MIGRATIONS[0]:
            db.execute(statement)
        db.execute(
            "INSERT INTO articles (canonical, url, site, first_seen) VALUES (?, ?, ?, ?)",
            ("c", "u", "rbc", "2026-11-21T06:00:00.000000Z"),
        )
        db.execute("PRAGMA user_version = 1")
    db.close()
    with Catalog(path) as catalog:
        assert catalog.article("c") is not None and catalog.last_checks() == []
        assert catalog.quality_rows("rbc", DAY1) == {}
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 2
    db.close()


def test_a_json_file_that_is_not_an_object_is_skipped_not_a_crash(archive: Archive) -> None:
    day_of_articles(archive, DAY1, per_site=2)
    row = next(iter(archive.catalog.articles("rbc")))
    (archive.root / str(row.json_path)).write_text("[]\n", encoding="utf-8")
    report = check_run(archive.catalog, archive.root, DAY2, since=DAY1)
    assert next(s for s in report.sites if s.site == "rbc").articles == 1


def test_json_ld_nested_past_any_decoder_is_no_copy() -> None:
    from scraper.watch.copies import json_ld_copies

    deep = "[" * 100_000 + "]" * 100_000
    body = f'<html><head><script type="application/ld+json">{deep}</script></head><body><p>x</p></body></html>'
    capture = Capture("https://www.interfax.ru/world/1", datetime(2026, 12, 5, tzinfo=UTC), 200,
                      (("Content-Type", "text/html"),), body.encode())  # fmt: skip
    assert json_ld_copies(capture) == []
