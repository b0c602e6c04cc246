"""robots.txt rules, read once per origin and kept for the object's lifetime (one run).

The only module that imports protego. No network here: the caller supplies ``fetch_robots``, which
fetches a robots.txt URL (following redirects) and returns ``(status, body)``, or ``None`` when
the server cannot be reached. What each answer means follows RFC 9309, section 2.3.1:

- 2xx: the rules in the body apply;
- 4xx ("unavailable"): there are no rules, everything may be fetched; 429 excepted, see below;
- 5xx, 429 or unreachable: everything is disallowed for this run, as the site may be down or
  overloaded and its rules unknown (Google reads 429 the same way: the server asks us to back off);
- any other status (e.g. a redirect the fetcher gave up on): unavailable, like 4xx.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

FetchRobots = Callable[[str], tuple[int, bytes] | None]

# RFC 9309 2.5: a crawler must parse at least 500 KiB and may ignore the rest
MAX_ROBOTS_BYTES = 500 * 1024


@dataclass(frozen=True, slots=True)
class _Rules:
    """One origin's answer: parsed rules, or a blanket verdict when there are none."""

    parser: Protego | None
    allow_all: bool


_ALLOW_ALL = _Rules(None, allow_all=True)
_DENY_ALL = _Rules(None, allow_all=False)


class Robots:
    """``allowed`` and ``delay`` for any URL, fetching each origin's robots.txt on first use."""

    def __init__(self, fetch_robots: FetchRobots) -> None:
        self._fetch = fetch_robots
        self._cache: dict[str, _Rules] = {}

    def allowed(self, url: str, user_agent: str) -> bool:
        """Whether ``user_agent`` may fetch ``url``; never for a URL that is not http(s)."""
        origin = _origin(url)
        if origin is None:
            return False
        if urlsplit(url).path == "/robots.txt":  # RFC 9309 2.2.2: implicitly allowed
            return True
        rules = self._rules(origin)
        if rules.parser is None:
            return rules.allow_all
        return bool(rules.parser.can_fetch(url, user_agent))

    def delay(self, url: str, user_agent: str) -> float | None:
        """The Crawl-delay (seconds) that applies to ``user_agent`` on ``url``'s origin, if any."""
        origin = _origin(url)
        rules = self._rules(origin) if origin else _DENY_ALL
        if rules.parser is None:
            return None
        value = rules.parser.crawl_delay(user_agent)
        return float(value) if value is not None else None

    def _rules(self, origin: str) -> _Rules:
        if origin not in self._cache:
            self._cache[origin] = _interpret(self._fetch(origin + "/robots.txt"))
        return self._cache[origin]


def robots_url(url: str) -> str | None:
    """The robots.txt that governs ``url``, or None when ``url`` is not http(s)."""
    origin = _origin(url)
    return origin + "/robots.txt" if origin else None


def _interpret(answer: tuple[int, bytes] | None) -> _Rules:
    if answer is None:
        return _DENY_ALL
    status, body = answer
    if 200 <= status < 300:
        text = body[:MAX_ROBOTS_BYTES].decode("utf-8", "replace")  # RFC 9309: UTF-8
        return _Rules(Protego.parse(text), allow_all=False)
    if status == 429 or status >= 500:
        return _DENY_ALL
    return _ALLOW_ALL


def _origin(url: str) -> str | None:
    """scheme://host[:port], lower-cased: robots.txt rules hold for one scheme, host and port."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a malformed port or host
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host if port in (None, default) else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, "", "", ""))
