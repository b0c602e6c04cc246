"""Discovery for a scheduled run: a site's feeds and sitemaps read politely, within bounds.

At most ``max_sitemaps`` sitemaps a site and run (index children counted, each index's newest
first, the indexes taking turns) and, under a time budget, at most ``discovery_share`` of what is
left of it, so that articles are still fetched; the report says when discovery was cut. A feed or
sitemap that fails is reported against itself and discovery goes on with the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from itertools import zip_longest
from typing import Protocol

from scraper.archive.catalog import Catalog
from scraper.archive.schema import FeedRow
from scraper.config import Settings
from scraper.pipeline.capture import Capturer
from scraper.schedule.discover import Link, SitemapLinks, feed_links, sitemap_links
from scraper.schedule.limits import Budget
from scraper.schedule.polite import Polite
from scraper.schedule.report import SiteReport
from scraper.sites import Site

_MAX_SITEMAP_DEPTH = 2  # an index of indexes at most; a self-referencing index stops here too


class RunState(Protocol):
    """What discovery uses of the state the site threads share."""

    budget: Budget
    catalog: Catalog


class Discovering:
    """The discovery half of one site's run (``run._SiteRun``)."""

    site: Site
    s: Settings
    shared: RunState
    report: SiteReport
    capturer: Capturer
    polite: Polite
    _feed_states: dict[str, FeedRow]
    _halted: bool
    _alone: Callable[..., AbstractContextManager[None]]
    _forbidden: Callable[[str], bool]

    def _discover(self) -> list[Link]:
        """The links of the feeds and top sitemaps, then of their children (the indexes taking turns,
        each newest first), then of theirs."""
        left = self.shared.budget.left()
        deadline = None if left is None else time.monotonic() + left * self.s.discovery_share
        links: list[Link] = []
        level, seen, read = [[*self.site.feeds, *(self.site.sitemaps if self.s.use_sitemaps else ())]], set(), 0
        parents: dict[str, str] = {}  # a sitemap -> the index that listed it first
        for _ in range(_MAX_SITEMAP_DEPTH + 1):  # an index of indexes at most; a circle of indexes ends too
            children: list[list[str]] = []
            for url in _taking_turns(level):
                if url in seen:
                    continue
                if not self._discovering(deadline, read):
                    return links
                seen.add(url)
                read += url not in self.site.feeds
                failed = self.report.failed
                # one child more than may be read: meeting it is what says that discovery was cut
                found = self._read(url, self.s.max_sitemaps - read + 1)
                if self.report.failed > failed:
                    self._forget_parents(url, parents)
                elif found:
                    links += found.pages
                    children.append(found.sitemaps)
                    parents |= {child: url for child in found.sitemaps if child not in seen and child not in parents}
            level = children
        return links

    def _forget_parents(self, url: str, parents: dict[str, str]) -> None:
        """The indexes above a sitemap that failed are not remembered: to the next run they would
        look unchanged, and it would never come back to the sitemap."""
        while url in parents:
            url = parents[url]
            self._feed_states.pop(url, None)

    def _discovering(self, deadline: float | None, sitemaps_read: int) -> bool:
        """Whether discovery may fetch one more feed or sitemap; when it may not, the report says why
        (a stop request or a spent budget is said once, for the whole run)."""
        if self._halted or self.shared.budget.spent():
            return False
        if sitemaps_read >= self.s.max_sitemaps:
            self.report.discovery_cut = f"{sitemaps_read} sitemaps read, the most run.max_sitemaps allows"
        elif deadline is not None and time.monotonic() >= deadline:
            share = self.s.discovery_share
            self.report.discovery_cut = (
                f"its share of the time budget (run.discovery_share = {share}) used, {sitemaps_read} sitemaps read"
            )
        return not self.report.discovery_cut

    def _read(self, url: str, children: int) -> SitemapLinks | None:
        """The links of a feed or sitemap (of an index, its newest ``children``); None when it is
        forbidden, unchanged or failed (a failure is reported against it; discovery goes on)."""
        with self._alone(url, "feed"):
            if self._forbidden(url):
                return None
            if not self.polite.wait(url):
                self._halted = True
                return None
            got = self.capturer.source(url, self.site, self.shared.catalog.feed_state(url))
            if got.unchanged:
                self.report.feeds_unchanged += 1
            elif got.error or got.body is None:
                self.report.fail(url, f"feed: {got.error}")
            else:
                if url in self.site.feeds:
                    found = SitemapLinks(feed_links(got.body, url), [])
                else:
                    found = sitemap_links(got.body, url, self.site, children)
                # only once read: a state remembered for a body that could not be read would make
                # the next run take it as unchanged (304) and never read it
                if got.state is not None:
                    self._feed_states[url] = got.state
                return found
        return None


def _taking_turns(lists: list[list[str]]) -> Iterator[str]:
    """The first of each list, then the second of each, ...: no index starves the others."""
    for row in zip_longest(*lists):
        yield from (url for url in row if url is not None)
