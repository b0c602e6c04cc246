"""The quality watch: is each site's adapter still extracting what it should? (``scraper check``)

A site renames one class and the adapter starts keeping a news ticker or dropping half the body;
these checks catch it from the archive alone. Per site, over the articles archived since a moment
(the window) against those of the days before it (the history): the share of fallback pages,
length against the history, agreement with independent copies of the text (``scraper.watch.copies``)
lines repeated across a day's articles, and element signatures new to the layout inside the body
(``scraper.watch.sentinel``); ``scraper.watch.verdict`` judges the figures. A window
without articles is judged by the site's pace before it (``silence``): a feed that stopped, or a site
that blocks us, is broken, not ok; a site that never had an article is "no data".

``check_run`` loads the data (``load_article``: each article's text and JSON files as a scheduled
run wrote them), keeps each article's figures in the catalog (a check after every run then reads
only new texts), stores the verdicts and returns a ``CheckReport``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from scraper.archive.catalog import Catalog
from scraper.archive.layout import Archive
from scraper.archive.schema import ArticleRow, QualityRow
from scraper.errors import ArchiveError
from scraper.sites import GENERIC, Site, by_name
from scraper.watch.copies import Agreement, compare, decode_agreements, encode_agreements, find_copies, missing_warcs
from scraper.watch.sentinel import Carrier, Inside, NewInside, new_inside, read_inside, snapshot_options
from scraper.watch.verdict import (
    BROKEN,
    NO_DATA,
    OK,
    RANK,
    Figures,
    Measured,
    Repeated,
    SiteCheck,
    Thresholds,
    baseline,
    judge,
    line_key,
    repeated_lines,
)

DEFAULTS = Thresholds()  # frozen: one instance serves every call


@dataclass(frozen=True, slots=True)
class CheckReport:
    checked_at: datetime
    since: datetime
    sites: tuple[SiteCheck, ...] = ()
    snapshot_options: tuple[str, ...] = ()  # what a printed `scraper snapshot` needs: --out (and --config)

    @property
    def verdict(self) -> str:
        """The worst site's; "no data" when there is no site at all: a fresh archive is no fine one."""
        return max((s.verdict for s in self.sites), key=RANK.__getitem__, default=NO_DATA)

    @property
    def failed(self) -> bool:
        return self.verdict != OK

    def to_dict(self) -> dict[str, Any]:
        """For a run report: the whole check as JSON-ready values."""
        return {
            "checked_at": self.checked_at.isoformat(),
            "since": self.since.isoformat(),
            "verdict": self.verdict,
            "sites": {s.site: s.to_dict() for s in self.sites},
        }


def check_run(catalog: Catalog, out_root: Path, now: datetime, *, since: datetime | None = None,
              sites: Sequence[str] | None = None, thresholds: Thresholds = DEFAULTS, max_body: int = 20_000_000,
              config: Path | None = None) -> CheckReport:  # fmt: skip
    """Check every site of the catalog (or ``sites``) over the articles archived since ``since``
    (default: the 24 hours before ``now``); store each site's verdict and figures in the catalog.
    ``config``: the --config the command ran with, which the snapshot commands printed must carry."""
    since = since or now - timedelta(days=1)
    runs = {s.site: s.last_run for s in catalog.status()}
    options = snapshot_options(out_root, config)
    checks = []
    for name in list(sites) if sites is not None else list(runs):
        check = _check_site(catalog, out_root, name, since, thresholds, max_body, options)
        if not check.articles and not check.unreadable:  # nothing archived in the window
            check = _silent(catalog, check, since, now, runs.get(name), thresholds)
        if not catalog.read_only:  # a read-only archive (a mounted backup) is checked, not written to
            catalog.record_check(check.site, checked_at=now, since=since, verdict=check.verdict, report=check.to_dict())
        checks.append(check)
    return CheckReport(now, since, tuple(checks), options)


def _check_site(catalog: Catalog, root: Path, name: str, since: datetime, th: Thresholds, max_body: int,
                options: Sequence[str]) -> SiteCheck:  # fmt: skip
    start = since - timedelta(days=th.history_days)
    known = catalog.quality_rows(name, start)
    rows = [r for r in catalog.articles(name, start) if r.text_path and r.archived_at is not None]
    history, fresh = _history([r for r in rows if r.archived_at and r.archived_at < since], known, root)
    window = [row for row in rows if row.archived_at and row.archived_at >= since]
    texts = [loaded for row in window if (loaded := load_article(root, row)) is not None]
    compared = _agreements(catalog, root, _site(name), texts, known, th, max_body)
    agreements = compared.agreements
    if not catalog.read_only:
        catalog.record_quality([*fresh, *compared.rows])
    measured = [
        Measured(t.url, t.archived_at, _chars(t), len(t.lines), t.fallback, agreements[t.canonical], t.headline_only)
        for t in texts
    ]
    days: dict[date, list[Sequence[str]]] = {}
    for t in texts:
        days.setdefault(t.archived_at.astimezone(UTC).date(), []).append(t.lines)
    repeated = repeated_lines(days, th)
    inside = _new_inside(name, texts, agreements, repeated, since, th, options)
    check = judge(name, measured, baseline(history, th), repeated, len(history), th, inside)
    return replace(check, unreadable=len(window) - len(texts), missing_warcs=compared.missing_warcs)


def _new_inside(site: str, texts: Sequence[Loaded], agreements: Agreements, repeated: Sequence[Repeated],
                since: datetime, th: Thresholds, options: Sequence[str]) -> tuple[NewInside, ...]:  # fmt: skip
    """The signatures new to the layout; an article "echoes" a leak when it carries a repeated line
    or a line its copy lacks, the evidence that what the layout kept is no text."""
    keys = {line_key(r.line) for r in repeated}
    echoed = [
        any(a.leaked for a in agreements[t.canonical]) or any(line_key(x) in keys for x in t.lines) for t in texts
    ]
    carriers = [Carrier(t.url, t.inside, echo) for t, echo in zip(texts, echoed, strict=True)]
    return new_inside(carriers, since, site, options, th.new_inside_share, th.new_inside_min)


def _history(
    rows: Sequence[ArticleRow], known: Mapping[str, QualityRow], root: Path
) -> tuple[list[Figures], list[QualityRow]]:
    """(chars, paragraphs, fallback) of the history, and the rows measured for the first time."""
    figures: list[Figures] = []
    fresh: list[QualityRow] = []
    for row in rows:
        kept = known.get(row.canonical)
        if kept is None and (loaded := load_article(root, row)) is not None:
            kept = _row(loaded, row.site, None)
            fresh.append(kept)
        if kept is not None:
            figures.append((kept.chars, kept.paragraphs, kept.fallback))
    return figures, fresh


Agreements = dict[str, tuple[Agreement, ...]]  # by canonical URL


@dataclass(frozen=True, slots=True)
class _Compared:
    agreements: Agreements
    rows: list[QualityRow]  # the articles compared now, to keep
    missing_warcs: tuple[str, ...] = ()  # why articles were left to a later check: their WARC is not there


def _agreements(catalog: Catalog, root: Path, site: Site, texts: Sequence[Loaded], known: Mapping[str, QualityRow],
                th: Thresholds, max_body: int) -> _Compared:  # fmt: skip
    """Each text against its copies: kept from an earlier check while the text is unchanged,
    else compared now (the newest ``max_compare`` of them; the rest at the next check). A text
    whose WARC is missing is left to a later check, which says so again, rather than kept as one
    that has no copy."""
    found: Agreements = {}
    pending = []
    for t in texts:
        kept = known.get(t.canonical)
        if kept is not None and kept.text_sha256 == t.text_sha256 and kept.copies is not None:
            found[t.canonical] = decode_agreements(kept.copies)
        else:
            found[t.canonical] = ()
            pending.append(t)
    missing = missing_warcs(root, [t.warc_file for t in pending if t.warc_file])
    pending = [t for t in pending if t.warc_file not in missing][-th.max_compare :]  # the newest: oldest come first
    if not pending:
        return _Compared(found, [], tuple(missing.values()))
    also = [state.warc_file for feed in site.feeds if (state := catalog.feed_state(feed)) is not None]
    copies = find_copies(root, site, pending, also, max_body)
    rows = []
    for t in pending:
        with_lead = (replace(c, extras=(*c.extras, t.lead or "")) for c in copies.get(t.canonical, ()))
        found[t.canonical] = tuple(compare(t.lines, c, th.missing_share, t.title) for c in with_lead)
        rows.append(_row(t, site.name, encode_agreements(found[t.canonical])))
    return _Compared(found, rows, tuple(missing.values()))


def _chars(text: Loaded) -> int:
    return len("\n".join(text.lines))


def _row(text: Loaded, site: str, copies: str | None) -> QualityRow:
    return QualityRow(
        text.canonical, site, text.archived_at, text.text_sha256, _chars(text), len(text.lines), text.fallback, copies
    )


def _site(name: str) -> Site:
    try:
        return by_name(name)
    except KeyError:
        return GENERIC  # a site dropped from the registry: its copies are only JSON-LD and print ones


# --- silence: a window without articles ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Silence:
    """What a site's history makes of a window in which it archived nothing."""

    verdict: str
    reasons: tuple[str, ...]
    per_day: float | None  # the site's usual pace, when its history was enough to judge


def silence(last: datetime | None, times: Sequence[datetime], now: datetime, th: Thresholds) -> Silence:
    """The verdict on a window in which the site archived nothing.

    ``last``: the first capture of its latest article (None: it never had one, so no data); ``times``:
    the first captures of its articles in the ``history_days`` up to ``last``, oldest first. Broken when
    it has now been silent over ``silence_factor`` times its longest silence in those days. The longest
    gap, not the mean rate: news comes in bursts (nights, weekends, runs that take a feed's new items at
    once), and a site quiet every night must not be broken at dawn. Were the gaps exchangeable, a new
    one would outlast all n - 1 earlier ones with chance 1/n; twice the longest of 19 gaps of a steady
    random (Poisson) pace, with chance 1/210. Not judged (ok) on fewer than ``silence_min_history`` articles or
    on a history spanning under ``silence_min_days``: a site that publishes monthly, or one whose only
    history is the backlog its first run took within minutes, has no pace to break.
    """
    if last is None:
        return Silence(NO_DATA, ("no article archived yet: nothing to judge",), None)
    span = times[-1] - times[0] if times else timedelta(0)
    need = timedelta(days=min(th.silence_min_days, th.history_days / 2))
    if len(times) < th.silence_min_history or not span or span < need:
        return Silence(OK, (), None)
    per_day = (len(times) - 1) / (span / timedelta(days=1))
    longest = max(later - earlier for earlier, later in pairwise(times))
    if now - last <= th.silence_factor * longest:
        return Silence(OK, (), per_day)
    why = (
        f"no articles since {_minute(last)} (usually about {pace(per_day)}; never more than "
        f"{_duration(longest)} without one in the {th.history_days} days before)"
    )
    return Silence(BROKEN, (why,), per_day)


def pace(per_day: float) -> str:
    """The pace in words: 12 a day; below one a day, 3 a week."""
    return f"{per_day:.0f} a day" if per_day >= 1 else f"{per_day * 7:.0f} a week"


def _silent(catalog: Catalog, check: SiteCheck, since: datetime, now: datetime, last_run: datetime | None,
            th: Thresholds) -> SiteCheck:  # fmt: skip
    """The check of a site with no article in the window, judged by ``silence`` from the catalog's times."""
    last = catalog.last_archived(check.site, since)
    times = [] if last is None else catalog.archived_times(check.site, last - timedelta(days=th.history_days), last)
    found = silence(last, times, now, th)
    reasons = found.reasons
    if reasons and last_run is not None and last_run < since:  # the silence may be ours, not the site's
        reasons = (*reasons, f"the site was last run at {_minute(last_run)}, before the window")
    return replace(check, verdict=found.verdict, reasons=reasons, silent_since=last, usual_per_day=found.per_day)


def _minute(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def _duration(span: timedelta) -> str:
    hours = span / timedelta(hours=1)
    return f"{hours:.0f}h" if hours < 48 else f"{hours / 24:.1f} days"


# --- the articles as a scheduled run wrote them ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Loaded:
    """One archived article's text as the run wrote it, and where its capture is."""

    canonical: str
    url: str
    archived_at: datetime
    title: str
    lines: tuple[str, ...]  # the body, one paragraph a line
    fallback: bool
    text_sha256: str
    warc_file: str | None
    warc_offset: int | None
    lead: str | None
    headline_only: bool  # a title and a date, the body empty on purpose
    inside: tuple[Inside, ...]  # element signatures new to the layout, met inside the body container


def load_article(root: Path, row: ArticleRow) -> Loaded | None:
    """The row's text and JSON files, or None when either is missing or unreadable."""
    if not row.text_path or not row.json_path or row.archived_at is None:
        return None
    try:
        pair = Archive(root).read_pair(row.json_path)
    except ArchiveError:
        return None
    meta = pair.meta
    title, _, body = pair.text.partition("\n\n")
    offset = meta.get("warc_offset")
    return Loaded(
        canonical=row.canonical,
        url=str(meta.get("url") or row.url),
        archived_at=row.archived_at,
        title=title.strip(),
        lines=tuple(line for line in body.split("\n") if line.strip()),
        fallback=bool(meta.get("adapter_fallback")),
        text_sha256=str(meta.get("text_sha256") or hashlib.sha256(pair.text.encode("utf-8")).hexdigest()),
        warc_file=meta.get("warc_file") or row.warc_file,
        warc_offset=offset if isinstance(offset, int) else row.warc_offset,
        lead=meta.get("lead"),
        headline_only=meta.get("headline_only") is True,
        inside=read_inside(meta.get("new_inside")),
    )
