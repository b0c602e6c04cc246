"""The shape of a site adapter. An adapter is data: hosts, URL patterns, feeds, and one or more
dated layouts that say where the article body lives in the page and what to throw away.

XPath conventions (all evaluated on the whole parsed page):
- ``Layout.body``: the body container. The first expression that matches anything wins; when it
  matches several elements (or is a union with ``|``) they are joined in document order.
- ``Layout.drop``: elements removed from the page before the body is extracted.
- ``title``, ``published``, ``authors``, ``tags``, ``lead``: may select elements (their text is
  used) or attribute/text nodes. Title, date and lead take the first non-empty value; authors and
  tags take every value, de-duplicated in order.
- Match a class with ``has_class``: the attribute holds a list of tokens, and ``contains(@class, 'x')``
  alone would also take ``x-y``, ``x__y`` and ``xy``.

Layouts change as deltas: a new version is ``dataclasses.replace`` of the one before it, with
``valid_until`` set on the old one. ``Site`` checks that its layouts are in date order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from urllib.parse import urlsplit

# An ASCII DNS name (IDNs in their xn-- form), labels of letters, digits and inner hyphens.
_HOSTNAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_FRONT_PAGE = re.compile(r"/?(?:[a-z]{2,3}/?)?")  # /, /ukr/, /en: a front page


def has_class(name: str) -> str:
    """An XPath predicate true for an element whose ``class`` holds the whole token ``name``:
    ``f"//div[{has_class('article__text')}]"``. Combine several with ``or``/``and`` inside one ``[...]``.
    """
    if not name or any(c.isspace() for c in name) or "'" in name:
        raise ValueError(f"not a single class token: {name!r}")
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


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
    # Typed blocks (a CMS that marks each body block with its kind, e.g. ``data-type``): inside the
    # body, a block whose kind is in ``block_kinds`` is kept and every other kind dropped (an
    # allow-list); the sentinel reports a kind it does not know.
    block_attribute: str | None = None
    block_kinds: tuple[str, ...] = ()
    # Element signatures (``tag``, ``tag.class``, ``tag[data-type=kind]``) the layout's pages show
    # inside the body container; anything else met there is reported (the markup sentinel).
    known_inside: tuple[str, ...] = ()
    # XPath that matches the site's error page (its "not found" template), whatever the status.
    error_page: tuple[str, ...] = ()


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
    # regexes (re.search) of pages that list articles (a story, a tag, an author); the front page is
    # one always. Such a page without an article body is no article: its whole text is headlines
    listing_urls: tuple[str, ...] = ()
    # (regex, replacement) for re.sub, applied in order before normalising (urls.canonical): the
    # site's other addresses of one article (mobile host, AMP, print and text versions) -> one
    url_rewrites: tuple[tuple[str, str], ...] = ()
    # regexes with named groups y, m, d: the publication date an article's URL carries
    url_dates: tuple[str, ...] = ()
    layouts: tuple[Layout, ...] = field(default_factory=lambda: (Layout(version="1"),))

    def __post_init__(self) -> None:
        if not self.layouts:
            raise ValueError(f"site {self.name}: at least one layout is required")
        if self.layouts[-1].valid_until is not None:
            raise ValueError(f"site {self.name}: the last layout must be the current one")
        _check_dates(self.name, self.layouts)

    @cached_property
    def _host_res(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p) for p in self.host_patterns)

    def serves(self, host: str) -> bool:
        host = host.lower().removesuffix(".")  # one trailing dot: the root, the same name
        if not _HOSTNAME.fullmatch(host):  # an empty label, a space, a raw non-ASCII name: no site's
            return False
        if any(host == h or host.endswith("." + h) for h in self.hosts):
            return True
        return any(p.fullmatch(host) for p in self._host_res)

    def layout_for(self, captured: datetime) -> Layout:
        for layout in self.layouts:
            if layout.valid_until is None or captured < layout.valid_until:
                return layout
        return self.layouts[-1]

    def layouts_for(self, captured: datetime) -> tuple[Layout, ...]:
        """The layout of the capture's date first, then the others, newest first: a page saved
        with a wrong date, or a site that changed its markup on another day than we thought, is
        read with the layout its markup shows."""
        first = self.layout_for(captured)
        return (first, *(layout for layout in reversed(self.layouts) if layout is not first))

    def language_for(self, url: str) -> str:
        for pattern, language in self.languages:
            if re.search(pattern, url):
                return language
        return self.language

    def is_listing(self, url: str) -> bool:
        """The front page (or a language's: /ukr/, /en/) or a page that lists articles."""
        path = urlsplit(url).path
        return bool(_FRONT_PAGE.fullmatch(path)) or any(re.search(p, url) for p in self.listing_urls)

    def is_article_url(self, url: str) -> bool:
        if not self.serves(urlsplit(url).hostname or ""):
            return False
        if any(re.search(p, url) for p in self.non_article_urls):
            return False
        return any(re.search(p, url) for p in self.article_urls)


def _check_dates(site: str, layouts: tuple[Layout, ...]) -> None:
    """Every layout but the last ends, each later than the one before: ``layout_for`` takes the first
    whose ``valid_until`` is after the capture, so a layout out of order would never be chosen."""
    before: tuple[str, datetime] | None = None  # the previous layout's version and end
    for layout in layouts[:-1]:
        end = layout.valid_until
        if end is None:
            raise ValueError(
                f"site {site}: layout {layout.version!r} has no valid_until but is not the last;"
                " only the last layout may be open-ended"
            )
        if end.tzinfo is None:
            raise ValueError(f"site {site}: layout {layout.version!r}: valid_until must be timezone-aware (UTC)")
        if before is not None and end <= before[1]:
            raise ValueError(
                f"site {site}: layouts out of date order: {layout.version!r} (until {end.isoformat()}) must end"
                f" after {before[0]!r} (until {before[1].isoformat()})"
            )
        before = (layout.version, end)
