"""A site's verdict in the quality watch (ok, degraded, broken; or no data), from its articles' figures.

Pure functions over what ``scraper.watch.quality`` reads from the archive; per site, over the articles
of the window against those of the history:

- fallback: the share of pages whose body container was not found (``adapter_fallback``);
- length: body length and paragraph count against the site's own history, on a log scale (news
  items and transcripts of one site differ tenfold): an article far off is an outlier; a window
  whose median moved is a shift;
- copies: how the articles agreed with their independent copies (``scraper.watch.copies``): truncated,
  leaked;
- repeated lines: a line in many of the site's articles of one day (a ticker, a "read also" block);
- silence: a window without articles, judged by the site's pace before it (``scraper.watch.quality``
  reads that from the catalog); a site that never had an article is "no data", not ok;
- new inside the body: signatures the layout does not know (``scraper.watch.sentinel`` judges them).

Headline-only items (an empty body on purpose) are counted, not measured: no length figure.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from scraper.watch.copies import Agreement, words
from scraper.watch.sentinel import NewInside

OK, DEGRADED, BROKEN = "ok", "degraded", "broken"
NO_DATA = "no data"  # nothing archived to judge: not ok (a fresh archive is no fine one), but no fault found
RANK = {OK: 0, NO_DATA: 1, DEGRADED: 2, BROKEN: 3}


@dataclass(frozen=True, slots=True)
class Thresholds:
    history_days: int = 14  # the history: this many days before the window
    min_history: int = 10  # fewer history articles: no length baseline
    min_window: int = 5  # fewer window articles: no median shift
    min_spread: float = 0.25  # floor of the log spread (x1.28), so a very regular site is not all outliers
    outlier_z: float = 4.0  # robust z-score past which one article is an outlier
    outlier_share: float = 0.25  # of the window's articles: degraded
    shift: float = math.log(1.5)  # window median this far (x1.5) from the history's: degraded
    shift_broken: float = math.log(3)  # x3 or /3: broken
    fallback_degraded: float = 0.1
    fallback_broken: float = 0.5
    missing_share: float = 0.1  # of a copy's words missing from ours: the article is truncated
    copies_degraded: float = 0.2  # share of compared articles truncated (or leaking): degraded
    copies_broken: float = 0.5  # truncated: broken
    min_flagged: int = 2  # a share judges a site only when at least this many articles are flagged
    repeat_share: float = 0.3  # a line in this share of a day's articles is repeated
    repeat_min: int = 3
    repeat_min_chars: int = 12
    max_compare: int = 400  # articles compared with copies per site and check; the rest next time
    silence_factor: float = 2.0  # silent this many times its longest silence of the history: broken
    silence_min_history: int = 20  # fewer articles in the history before a silence: the silence is not judged
    silence_min_days: float = 7.0  # nor when they span less (half the history if shorter): a week shows its lulls
    new_inside_share: float = 0.1  # a signature new to the layout in this share of the window's articles counts ...
    new_inside_min: int = 2  # ... and in at least this many


@dataclass(frozen=True, slots=True)
class Measured:
    """One article of the window: its figures and how it agreed with its copies."""

    url: str
    archived_at: datetime
    chars: int
    paragraphs: int
    fallback: bool
    agreements: tuple[Agreement, ...] = ()
    headline_only: bool = False  # an empty body on purpose: no length figure


@dataclass(frozen=True, slots=True)
class Spread:
    median: float  # of log(1 + value)
    spread: float  # 1.4826 * median absolute deviation: a standard deviation robust to outliers
    n: int

    @property
    def usual(self) -> int:
        return round(math.expm1(self.median))


@dataclass(frozen=True, slots=True)
class Baseline:
    chars: Spread
    paragraphs: Spread


@dataclass(frozen=True, slots=True)
class Repeated:
    line: str
    day: date
    count: int  # articles of that day with the line
    articles: int  # articles of that day


@dataclass(frozen=True, slots=True)
class Flagged:
    url: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SiteCheck:
    site: str
    verdict: str
    reasons: tuple[str, ...]  # why the verdict is not ok
    articles: int  # in the window, with their files readable
    history: int
    fallback: int
    median_chars: int | None  # of the window ...
    usual_chars: int | None  # ... and of the history
    median_paragraphs: int | None
    usual_paragraphs: int | None
    outliers: int
    compared: int  # articles with an independent copy
    truncated: int
    leaked: int
    repeated: tuple[Repeated, ...] = ()
    flagged: tuple[Flagged, ...] = ()
    unreadable: int = 0  # catalog rows whose text or JSON file could not be read
    silent_since: datetime | None = None  # no article in the window: the first capture of the latest before it
    usual_per_day: float | None = None  # ... and the site's pace before it, when its history was enough to judge
    headline_only: int = 0  # window articles with a title and a date and no body, on purpose
    new_inside: tuple[NewInside, ...] = ()  # signatures new to the layout; the degrading ones are reasons too
    missing_warcs: tuple[str, ...] = ()  # WARC files the window's articles name that are not in the archive

    def to_dict(self) -> dict[str, Any]:
        silent = self.silent_since.isoformat() if self.silent_since else None
        repeated = [asdict(r) | {"day": r.day.isoformat()} for r in self.repeated]
        inside = [asdict(n) | {"line": n.line} for n in self.new_inside]
        return asdict(self) | {"repeated": repeated, "silent_since": silent, "new_inside": inside}


# --- length against the site's history -------------------------------------------------------


def spread(values: Iterable[int], floor: float) -> Spread | None:
    logs = [math.log1p(v) for v in values]
    if not logs:
        return None
    middle = statistics.median(logs)
    mad = statistics.median(abs(x - middle) for x in logs)
    return Spread(middle, max(1.4826 * mad, floor), len(logs))


Figures = tuple[int, int, bool]  # chars, paragraphs, fallback


def baseline(history: Iterable[Figures], thresholds: Thresholds) -> Baseline | None:
    """From (chars, paragraphs, fallback) of the history; fallback texts are no measure of the adapter, nor
    are headline-only items: the texts with no paragraph (any other empty text is rejected, never archived)."""
    good = [(c, p) for c, p, fallback in history if not fallback and p > 0]
    if len(good) < thresholds.min_history:
        return None
    chars = spread((c for c, _ in good), thresholds.min_spread)
    paragraphs = spread((p for _, p in good), thresholds.min_spread)
    return Baseline(chars, paragraphs) if chars and paragraphs else None


def outlier(article: Measured, base: Baseline, thresholds: Thresholds) -> str | None:
    for name, value, usual in (
        ("chars", article.chars, base.chars),
        ("paragraphs", article.paragraphs, base.paragraphs),
    ):
        z = (math.log1p(value) - usual.median) / usual.spread
        if abs(z) > thresholds.outlier_z:
            return f"{value} {name}, the site's usual is {usual.usual}"
    return None


def shift(window: Spread | None, usual: Spread, thresholds: Thresholds) -> float:
    """How far (in log units) the window's median moved from the history's; 0 when not significantly."""
    if window is None or window.n < thresholds.min_window:
        return 0.0
    moved = window.median - usual.median
    noise = 3 * 1.2533 * usual.spread / math.sqrt(window.n)  # 3 standard errors of a median
    return moved if abs(moved) > max(noise, thresholds.shift) else 0.0


# --- lines repeated across a day's articles --------------------------------------------------


def repeated_lines(days: Mapping[date, Sequence[Sequence[str]]], thresholds: Thresholds) -> list[Repeated]:
    """Lines found in many of one day's articles, most frequent first."""
    found = []
    for day, texts in sorted(days.items()):
        counts: Counter[str] = Counter()
        shown: dict[str, str] = {}
        for lines in texts:
            keys = {line_key(line): line for line in lines if len(line.strip()) >= thresholds.repeat_min_chars}
            counts.update(keys.keys())
            for key, line in keys.items():
                shown.setdefault(key, line)
        least = max(thresholds.repeat_min, math.ceil(thresholds.repeat_share * len(texts)))
        found += [Repeated(shown[k], day, n, len(texts)) for k, n in counts.items() if k and n >= least]
    return sorted(found, key=lambda r: (-r.count, r.day, r.line))


def line_key(line: str) -> str:
    """What makes two lines the same line: their words (quotes, dashes and case vary)."""
    return " ".join(words(line))


# --- the verdict ----------------------------------------------------------------------------


def judge(site: str, window: Sequence[Measured], base: Baseline | None, repeated: Sequence[Repeated], history: int,
          thresholds: Thresholds = Thresholds(), inside: Sequence[NewInside] = ()) -> SiteCheck:  # fmt: skip
    """The site's verdict from its window's articles, its history's baseline and the new signatures."""
    th = thresholds
    flags: dict[str, list[str]] = {m.url: [] for m in window}
    # a fallback text measures trafilatura, not the adapter; a headline-only item has no body to measure
    good = [m for m in window if not m.fallback and not m.headline_only]
    chars, paragraphs = (
        spread((m.chars for m in good), th.min_spread),
        spread((m.paragraphs for m in good), th.min_spread),
    )
    found = _fallback(window, flags, th) + _copies(window, flags, th)
    outliers = 0
    if base is not None:
        outliers = _outliers(good, base, flags, th)
        if outliers >= th.min_flagged and outliers / len(window) >= th.outlier_share:
            found.append((DEGRADED, f"{outliers} of {len(window)} articles are length outliers"))
        found += _shifts(((" length", chars, base.chars), (" paragraph count", paragraphs, base.paragraphs)), th)
    if repeated:
        found.append((DEGRADED, f"{_count(len(repeated), 'line')} repeated across a day's articles"))
    found += [(DEGRADED, n.line) for n in inside if n.degraded]
    compared = [m for m in window if m.agreements]
    return SiteCheck(
        site=site, verdict=max((level for level, _ in found), key=RANK.__getitem__, default=OK),
        reasons=tuple(why for level, why in found if level != OK), articles=len(window), history=history,
        fallback=sum(m.fallback for m in window), median_chars=chars.usual if chars else None,
        usual_chars=base.chars.usual if base else None, median_paragraphs=paragraphs.usual if paragraphs else None,
        usual_paragraphs=base.paragraphs.usual if base else None, outliers=outliers, compared=len(compared),
        truncated=sum(any(a.truncated for a in m.agreements) for m in compared),
        leaked=sum(any(a.leaked for a in m.agreements) for m in compared), repeated=tuple(repeated),
        flagged=tuple(Flagged(url, tuple(why)) for url, why in flags.items() if why),
        headline_only=sum(m.headline_only for m in window), new_inside=tuple(inside),
    )  # fmt: skip


Found = list[tuple[str, str]]  # (level, why)


def _fallback(window: Sequence[Measured], flags: dict[str, list[str]], th: Thresholds) -> Found:
    missing = [m for m in window if m.fallback]
    for m in missing:
        flags[m.url].append("body container not found (fallback)")
    if not missing:
        return []
    level = _level(len(missing) / len(window), th.fallback_degraded, th.fallback_broken, len(missing), 1)
    return [(level, f"body container missing on {len(missing)} of {len(window)} pages")]


def _outliers(good: Sequence[Measured], base: Baseline, flags: dict[str, list[str]], th: Thresholds) -> int:
    count = 0
    for m in good:
        why = outlier(m, base, th)
        if why:
            count += 1
            flags[m.url].append(f"length outlier: {why}")
    return count


def _shifts(pairs: Iterable[tuple[str, Spread | None, Spread]], th: Thresholds) -> Found:
    found = []
    for name, now, usual in pairs:
        moved = shift(now, usual, th)
        if moved and now is not None:
            level = BROKEN if abs(moved) >= th.shift_broken else DEGRADED
            found.append((level, f"median{name} {now.usual} against the usual {usual.usual}"))
    return found


def _copies(window: Sequence[Measured], flags: dict[str, list[str]], th: Thresholds) -> Found:
    compared = [m for m in window if m.agreements]
    truncated = leaking = 0
    for m in compared:
        if cut := next((a for a in m.agreements if a.truncated), None):
            truncated += 1
            share = f"{cut.missing_share:.0%}"
            flags[m.url].append(f"truncated: {share} of the {cut.source} copy missing, e.g. «{_cut(cut.missing[0])}»")
        if leak := next((a for a in m.agreements if a.leaked), None):
            leaking += 1
            lines = _count(len(leak.leaked), "line")
            flags[m.url].append(f"leaked: {lines} not in the {leak.source} copy, e.g. «{_cut(leak.leaked[0])}»")
    found = []
    if truncated:
        level = _level(truncated / len(compared), th.copies_degraded, th.copies_broken, truncated, th.min_flagged)
        found.append((level, f"{truncated} of {len(compared)} compared articles truncated"))
    if leaking:
        level = _level(leaking / len(compared), th.copies_degraded, math.inf, leaking, th.min_flagged)
        found.append((level, f"{leaking} of {len(compared)} compared articles carry lines their copy lacks"))
    return found


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _level(share: float, degraded: float, broken: float, count: int, least: int) -> str:
    if count < least:
        return OK
    return BROKEN if share >= broken else DEGRADED if share >= degraded else OK


def _cut(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
