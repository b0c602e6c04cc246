"""The markup sentinel over a site's window (``scraper check``): element signatures its layout does
not know, met inside the body container of a share of the window's articles.

Each article's JSON lists what it met (``new_inside``, from ``scraper.extract.sentinel``): kept, still
in the extracted body, or dropped by the layout's rules or allow-list. A signature counts for a site
when it is in at least ``max(new_inside_min, new_inside_share × window articles)`` of them: one odd
page is no redesign, and a box the site adds shows up in every article that has it.

What a counted signature does to the verdict depends on which side of the drops it fell:

- dropped: its text is not in what we keep, so no other check can see it (the copies only where a
  copy exists): the sentinel is the one witness of text we may be missing. Degraded.
- kept: its text is in the body, where the text checks judge it. A leak that matters is a line the
  site's own copy lacks (copies: leaked) or a line repeated across a day's articles (a ticker, a
  promo). When as many of the articles carrying the signature show one as the count itself needs,
  the signature is the likely cause: degraded. Otherwise it shows no sign of a leak (a renamed
  paragraph or subheading class, the commonest redesign) and is reported without failing the
  check: a class rename must not fail every check until the layout learns it, nor must a box whose
  text a ``drop_lines`` rule already removes (the element stays in the body, its line does not).

Either way the fix is the same: capture an example (the snapshot command, carrying the ``--out`` and
``--config`` the check ran with, so that it works as printed), review it, and list the signature in
the layout's ``known_inside`` or drop it.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from functools import partial
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Inside:
    """One signature in one article, as its JSON file has it."""

    signature: str
    count: int  # elements with it in the article
    kept: bool  # some of them still in the extracted body


@dataclass(frozen=True, slots=True)
class Carrier:
    """One article of the window, as far as the sentinel needs it."""

    url: str
    inside: tuple[Inside, ...]
    echoed: bool  # carries a line repeated across a day's articles, or one its copy lacks


@dataclass(frozen=True, slots=True)
class NewInside:
    """A signature new to the layout, met in enough of the window's articles to count."""

    signature: str
    articles: int  # window articles with it
    window: int  # window articles
    kept: int  # of them, with it still in the body
    dropped: int  # ... and with it gone
    echoed: int  # of the kept ones, with a repeated line or one their copy lacks
    state: str  # "kept", "dropped", or "kept in 3, dropped in 2"
    degraded: bool
    why: str  # what the verdict makes of it
    example: str  # one article's URL ...
    snapshot: str  # ... and the command that captures it as a fixture
    since: str  # the window's start

    @property
    def line(self) -> str:
        return (
            f"new inside the body: {self.signature} in {self.articles} of {self.window} articles since "
            f"{self.since}, {self.state}: {self.why}; to capture one: {self.snapshot}"
        )


def read_inside(value: object) -> tuple[Inside, ...]:
    """The JSON's ``new_inside``; entries not as this tool writes them (an older or edited file) are skipped."""
    if not isinstance(value, list):
        return ()
    found = []
    for entry in value:
        if not isinstance(entry, dict):
            continue
        signature, count, kept = entry.get("signature"), entry.get("count"), entry.get("kept")
        if isinstance(signature, str) and signature and isinstance(count, int) and isinstance(kept, bool):
            found.append(Inside(signature, count, kept))
    return tuple(found)


def snapshot_options(out: Path, config: Path | None) -> tuple[str, ...]:
    """The options a printed ``scraper snapshot`` needs to read the archive the check read."""
    return ("--out", str(out), *(("--config", str(config)) if config is not None else ()))


def snapshot_command(url: str, site: str, options: Sequence[str]) -> str:
    return shlex.join(["scraper", "snapshot", url, "--site", site, *options])


def new_inside(window: Sequence[Carrier], since: datetime, site: str, options: Sequence[str], share: float,
               least: int) -> tuple[NewInside, ...]:  # fmt: skip
    """The signatures in at least ``max(least, share × window)`` of the ``window``'s articles (those
    archived since ``since``), the degrading ones first; ``options``: from ``snapshot_options``."""
    need = max(least, math.ceil(share * len(window)))
    carriers: dict[str, list[tuple[Carrier, bool]]] = {}
    for article in window:
        for inside in article.inside:
            carriers.setdefault(inside.signature, []).append((article, inside.kept))
    hint = partial(snapshot_command, site=site, options=options)
    found = [_judged(sign, seen, len(window), need, _moment(since), hint)
             for sign, seen in carriers.items() if len(seen) >= need]  # fmt: skip
    return tuple(sorted(found, key=lambda n: (not n.degraded, -n.articles, n.signature)))


def _judged(signature: str, seen: Sequence[tuple[Carrier, bool]], window: int, need: int, since: str,
            hint: Callable[[str], str]) -> NewInside:  # fmt: skip
    kept = [article for article, was_kept in seen if was_kept]
    dropped = [article for article, was_kept in seen if not was_kept]
    echoed = [article for article in kept if article.echoed]
    missing, leaking = len(dropped) >= need, len(echoed) >= need
    # the example shows what judged it: a page where it was dropped, else one where it leaked; the newest
    example = (dropped if missing else echoed if leaking else kept or dropped)[-1].url
    state = "dropped" if not kept else "kept" if not dropped else f"kept in {len(kept)}, dropped in {len(dropped)}"
    return NewInside(
        signature=signature, articles=len(seen), window=window, kept=len(kept), dropped=len(dropped),
        echoed=len(echoed), state=state, degraded=missing or leaking, why=_why(missing, leaking, len(echoed)),
        example=example, snapshot=hint(example), since=since,
    )  # fmt: skip


def _why(missing: bool, leaking: bool, echoed: int) -> str:
    leak = f"a likely leak ({echoed} of them carry a repeated line or one their copy lacks)"
    if missing:
        return "text we may be missing" + (f", and {leak}" if leaking else "")
    return leak if leaking else "no sign of a leak (too few of them carry a repeated line or one their copy lacks)"


def _moment(moment: datetime) -> str:
    """A date when the window starts at midnight UTC (``--since 2026-12-01``), else the minute."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%d}" if utc.time() == time(0) else f"{utc:%Y-%m-%dT%H:%MZ}"
