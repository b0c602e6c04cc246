"""The quality watch: is each site's adapter still extracting what it should? (``scraper check``)

A site renames one class and the adapter starts keeping a news ticker or dropping half the body;
these checks catch it from the archive alone. Per site, over the articles archived since a moment
(the window) against those of the days before it (the history): the share of fallback pages,
length against the history, agreement with independent copies of the text (``scraper.watch.copies``)
and lines repeated across a day's articles; ``scraper.watch.verdict`` judges the figures.

``check_run`` loads the data (``load_article``: each article's text and JSON files as a scheduled
run wrote them), keeps each article's figures in the catalog (a check after every run then reads
only new texts), stores the verdicts and returns a ``CheckReport``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from scraper.archive.catalog import Catalog
from scraper.archive.schema import ArticleRow, QualityRow
from scraper.sites import GENERIC, Site, by_name
from scraper.watch.copies import Agreement, compare, decode_agreements, encode_agreements, find_copies
from scraper.watch.verdict import OK, RANK, Figures, Measured, SiteCheck, Thresholds, baseline, judge, repeated_lines

DEFAULTS = Thresholds()  # frozen: one instance serves every call


@dataclass(frozen=True, slots=True)
class CheckReport:
    checked_at: datetime
    since: datetime
    sites: tuple[SiteCheck, ...] = ()

    @property
    def verdict(self) -> str:
        return max((s.verdict for s in self.sites), key=RANK.__getitem__, default=OK)

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
              sites: Sequence[str] | None = None, thresholds: Thresholds = DEFAULTS,
              max_body: int = 20_000_000) -> CheckReport:  # fmt: skip
    """Check every site of the catalog (or ``sites``) over the articles archived since ``since``
    (default: the 24 hours before ``now``); store each site's verdict and figures in the catalog."""
    since = since or now - timedelta(days=1)
    names = list(sites) if sites is not None else [s.site for s in catalog.status()]
    checks = tuple(_check_site(catalog, out_root, name, since, thresholds, max_body) for name in names)
    for check in checks:
        catalog.record_check(check.site, checked_at=now, since=since, verdict=check.verdict, report=check.to_dict())
    return CheckReport(now, since, checks)


def _check_site(catalog: Catalog, root: Path, name: str, since: datetime, th: Thresholds, max_body: int) -> SiteCheck:
    start = since - timedelta(days=th.history_days)
    known = catalog.quality_rows(name, start)
    rows = [r for r in catalog.articles(name, start) if r.text_path and r.archived_at is not None]
    history, fresh = _history([r for r in rows if r.archived_at and r.archived_at < since], known, root)
    window = [row for row in rows if row.archived_at and row.archived_at >= since]
    texts = [loaded for row in window if (loaded := load_article(root, row)) is not None]
    agreements, compared = _agreements(catalog, root, _site(name), texts, known, th, max_body)
    catalog.record_quality([*fresh, *compared])
    measured = [
        Measured(t.url, t.archived_at, _chars(t), len(t.lines), t.fallback, agreements[t.canonical]) for t in texts
    ]
    days: dict[date, list[Sequence[str]]] = {}
    for t in texts:
        days.setdefault(t.archived_at.astimezone(UTC).date(), []).append(t.lines)
    check = judge(name, measured, baseline(history, th), repeated_lines(days, th), len(history), th)
    return replace(check, unreadable=len(window) - len(texts))


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


def _agreements(catalog: Catalog, root: Path, site: Site, texts: Sequence[Loaded], known: Mapping[str, QualityRow],
                th: Thresholds, max_body: int) -> tuple[Agreements, list[QualityRow]]:  # fmt: skip
    """Each text against its copies: kept from an earlier check while the text is unchanged,
    else compared now (the newest ``max_compare`` of them; the rest at the next check)."""
    found: Agreements = {}
    pending = []
    for t in texts:
        kept = known.get(t.canonical)
        if kept is not None and kept.text_sha256 == t.text_sha256 and kept.copies is not None:
            found[t.canonical] = decode_agreements(kept.copies)
        else:
            found[t.canonical] = ()
            pending.append(t)
    pending = pending[-th.max_compare :]  # the newest: rows come oldest first
    if not pending:
        return found, []
    also = [state.warc_file for feed in site.feeds if (state := catalog.feed_state(feed)) is not None]
    copies = find_copies(root, site, pending, also, max_body)
    rows = []
    for t in pending:
        with_lead = (replace(c, extras=(*c.extras, t.lead or "")) for c in copies.get(t.canonical, ()))
        found[t.canonical] = tuple(compare(t.lines, c, th.missing_share, t.title) for c in with_lead)
        rows.append(_row(t, site.name, encode_agreements(found[t.canonical])))
    return found, rows


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


def load_article(root: Path, row: ArticleRow) -> Loaded | None:
    """The row's text and JSON files, or None when either is missing or unreadable."""
    if not row.text_path or not row.json_path or row.archived_at is None:
        return None
    try:
        raw = (root / row.text_path).read_bytes()
        meta = json.loads((root / row.json_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict):  # valid JSON, but not an article's metadata
        return None
    title, _, body = raw.decode("utf-8", "replace").partition("\n\n")
    offset = meta.get("warc_offset")
    return Loaded(
        canonical=row.canonical,
        url=str(meta.get("url") or row.url),
        archived_at=row.archived_at,
        title=title.strip(),
        lines=tuple(line for line in body.split("\n") if line.strip()),
        fallback=bool(meta.get("adapter_fallback")),
        text_sha256=str(meta.get("text_sha256") or hashlib.sha256(raw).hexdigest()),
        warc_file=meta.get("warc_file") or row.warc_file,
        warc_offset=offset if isinstance(offset, int) else row.warc_offset,
        lead=meta.get("lead"),
    )
