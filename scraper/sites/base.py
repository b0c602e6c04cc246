"""The shape of a site adapter. An adapter is data: hosts, URL patterns, feeds, and one or more
dated layouts that say where the article body lives in the page and what to throw away.

XPath conventions (all evaluated on the whole parsed page):
- ``Layout.body``: the body container. The first expression that matches anything wins; when it
  matches several elements (or is a union with ``|``) they are joined in document order.
- ``Layout.drop``: elements removed from the page before the body is extracted.
- ``title``, ``published``, ``authors``, ``tags``, ``lead``: may select elements (their text is
  used) or attribute/text nodes. Title, date and lead take the first non-empty value; authors and
  tags take every value, de-duplicated in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Layout:
    """One version of a site's markup. ``valid_until`` (UTC) ends it; ``None`` means current."""

    version: str
    valid_until: datetime | None = None
    body: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    drop_lines: tuple[str, ...] = ()  # regular expressions searched in each stripped output line
    title: tuple[str, ...] = ()
    published: tuple[str, ...] = ()
    date_formats: tuple[str, ...] = ()  # strptime formats tried after ISO 8601
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    lead: tuple[str, ...] = ()


# Always dropped, whatever the site: never article text, and trafilatura sometimes keeps them.
COMMON_DROP: tuple[str, ...] = (
    "//script",
    "//style",
    "//noscript",
    "//template",
    "//iframe",
    "//svg",
    "//form",
    "//button",
    "//figcaption",
    "//nav",
)


@dataclass(frozen=True)
class Site:
    name: str
    hosts: tuple[str, ...] = ()  # a host matches an entry when equal to it or a subdomain of it
    host_patterns: tuple[str, ...] = ()  # regexes (full match) for families of hosts
    language: str = "ru"
    languages: tuple[tuple[str, str], ...] = ()  # (URL regex, language) overrides, first match wins
    timezone: str = "Europe/Moscow"
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    article_urls: tuple[str, ...] = ()  # regexes an article URL matches (re.search)
    non_article_urls: tuple[str, ...] = ()  # video, galleries, tags, live pages: never articles
    # (regex, replacement) for re.sub, applied in order before normalising (urls.canonical): the
    # site's other addresses of one article (mobile host, AMP, print and text versions) -> one
    url_rewrites: tuple[tuple[str, str], ...] = ()
    layouts: tuple[Layout, ...] = field(default_factory=lambda: (Layout(version="1"),))

    def __post_init__(self) -> None:
        if not self.layouts:
            raise ValueError(f"site {self.name}: at least one layout is required")
        if self.layouts[-1].valid_until is not None:
            raise ValueError(f"site {self.name}: the last layout must be the current one")

    @cached_property
    def _host_res(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p) for p in self.host_patterns)

    def serves(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        if any(host == h or host.endswith("." + h) for h in self.hosts):
            return True
        return any(p.fullmatch(host) for p in self._host_res)

    def layout_for(self, captured: datetime) -> Layout:
        for layout in self.layouts:
            if layout.valid_until is None or captured < layout.valid_until:
                return layout
        return self.layouts[-1]

    def language_for(self, url: str) -> str:
        for pattern, language in self.languages:
            if re.search(pattern, url):
                return language
        return self.language

    def is_article_url(self, url: str) -> bool:
        if not self.serves(urlsplit(url).hostname or ""):
            return False
        if any(re.search(p, url) for p in self.non_article_urls):
            return False
        return any(re.search(p, url) for p in self.article_urls)
