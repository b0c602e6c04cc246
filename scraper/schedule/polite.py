"""How politely a fetch goes, for ``scraper run`` and ``scraper fetch`` alike: robots.txt (read
through the pipeline, so every robots.txt response is archived) and one request at a time per
host, ``delay`` seconds apart (more when Crawl-delay asks, up to ``crawl_delay_max``). Every wait
ends on a stop request; given a ``Budget``, a wait that would end past it is not begun."""

from __future__ import annotations

from urllib.parse import urlsplit

from scraper.config import Settings
from scraper.pipeline.capture import Capturer
from scraper.schedule.limits import Budget, HostPacer
from scraper.schedule.robots import Robots

# robots.txt was not read because a stop request or the time budget cut it short: nothing is
# fetched from the host, and it is no fault of the site's (not a failure)
CUT_SHORT = "robots.txt not read: stopped first"


class Polite:
    def __init__(self, capturer: Capturer, settings: Settings, budget: Budget, obey_robots: bool) -> None:
        self._capturer, self._agent, self._budget = capturer, settings.user_agent, budget
        self._unreachable: dict[str, str] = {}  # host -> why its robots.txt could not be read
        self._robots = Robots(self._fetch_robots) if obey_robots else None
        self._pacer = HostPacer(settings.delay, settings.crawl_delay_max, self._robots, settings.user_agent, budget)

    def forbidden(self, url: str) -> str | None:
        """Why robots.txt forbids the URL, or None. When robots.txt could not be read at all,
        nothing may be fetched from that host (RFC 9309), and the reason says so; ``CUT_SHORT`` when a
        stop or the time budget ended its reading."""
        if self._robots is None or self._robots.allowed(url, self._agent):
            return None
        unreachable = self._unreachable.get(urlsplit(url).netloc)
        if unreachable == CUT_SHORT:
            return CUT_SHORT
        return f"robots.txt unreachable: {unreachable}" if unreachable else "disallowed by robots.txt"

    def wait(self, url: str) -> bool:
        """The host's turn has come: True. False: stop sending (a stop request, or the time budget)."""
        return self._pacer.wait(url)

    def _fetch_robots(self, robots_url: str) -> tuple[int, bytes] | None:
        got = self._capturer.robots(robots_url)
        self._pacer.sent(robots_url)
        if got.status is None:
            cut = self._budget.spent()
            self._unreachable[urlsplit(robots_url).netloc] = CUT_SHORT if cut else got.error or "no answer"
            return None
        if got.status >= 500:
            self._unreachable[urlsplit(robots_url).netloc] = f"HTTP {got.status}"
        return got.status, got.body or b""
