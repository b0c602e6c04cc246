"""An article's fields, each through one chain written once for every site:

1. the layout's selectors (``layout``);
2. structured data on the page: JSON-LD, microdata, meta tags (``json-ld``, ``microdata``, ``meta``);
3. the URL's date, with a time the layout found printed alone (``url``, ``layout+url``);
4. generic markup (``page``: ``<title>``, ``<h1>``, ``<time datetime>``), then trafilatura's own
   metadata (``trafilatura``), asked only when nothing before gave the field.

``Facts.sources`` says which link answered each field; the JSON keeps it. Read before the layout's
drops: they take the scripts that hold the JSON-LD.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from scraper.extract import page
from scraper.extract.body import Extracted
from scraper.extract.clean import parse_date
from scraper.extract.fields import Field, Sources, time_only, url_date
from scraper.extract.page import HtmlElement
from scraper.sites.base import Layout, Site

_PAGE_TITLE = ("//h1", "//title")
_PAGE_DATE = ("//time/@datetime",)


@dataclass(frozen=True, slots=True)
class Facts:
    title: str | None
    published: datetime | None
    authors: tuple[str, ...]
    tags: tuple[str, ...]
    lead: str | None
    sources: tuple[tuple[str, str], ...]  # (field, the link of the chain that gave it)

    def missing(self) -> bool:
        return self.title is None or self.published is None


def read_facts(root: HtmlElement, layout: Layout, site: Site, url: str) -> Facts:
    data = Sources(root)  # read only when a layout misses, and a source at a time
    sources: dict[str, str] = {}

    def pick(name: str, *links: Callable[[], tuple[str, object] | None]) -> object:
        for link in links:
            found = link()
            if found is not None and found[1]:
                sources[name] = found[0]
                return found[1]
        return None

    title = pick("title", lambda: ("layout", page.first(root, layout.title)), lambda: _given(data.field("title")),
                 lambda: ("page", page.first(root, _PAGE_TITLE)))  # fmt: skip
    authors = pick("authors", lambda: ("layout", tuple(page.values(root, layout.authors))),
                   lambda: _given(data.field("authors")))  # fmt: skip
    # a description in meta tags is often a teaser or a promo line: only a JSON-LD one stands for the lead
    lead = pick("lead", lambda: ("layout", page.first(root, layout.lead) if layout.lead else None),
                lambda: _given(data.field("lead", only="json-ld")))  # fmt: skip
    published = _published(root, layout, site, url, data, sources)
    tags = tuple(page.values(root, layout.tags))
    return Facts(_str(title), published, _tuple(authors), tags, _str(lead), tuple(sources.items()))


def with_extracted(facts: Facts, extracted: Callable[[], Extracted]) -> Facts:
    """The last link: trafilatura's metadata, for the fields nothing else gave."""
    if facts.title and facts.published and facts.authors:
        return facts
    found = extracted()
    sources = dict(facts.sources)
    title, authors, published = facts.title, facts.authors, facts.published
    if not title and found.title:
        title, sources["title"] = found.title, "trafilatura"
    if not authors and found.authors:
        authors, sources["authors"] = found.authors, "trafilatura"
    if published is None and found.date and (when := parse_date([found.date], (), "UTC")):
        published, sources["published"] = when, "trafilatura"
    return Facts(title, published, authors, facts.tags, facts.lead, tuple(sources.items()))


def _published(
    root: HtmlElement, layout: Layout, site: Site, url: str, data: Sources, sources: dict[str, str]
) -> datetime | None:
    printed: list[str] = []
    for value in page.each_value(root, layout.published):  # the later expressions only if needed
        printed.append(value)
        if (found := parse_date([value], layout.date_formats, site.timezone)) is not None:
            sources["published"] = "layout"
            return found
    day = url_date(url, site.url_dates)
    at = next((t for value in printed if (t := time_only(value)) is not None), None)
    if day is not None and at is not None:
        sources["published"] = "layout+url"
        return datetime.combine(day, at, ZoneInfo(site.timezone))
    if (stated := data.field("published")) is not None:
        when = parse_date([str(stated.value)], layout.date_formats, site.timezone)
        if when is not None:
            sources["published"] = stated.source
            return when
    if day is not None:  # a date alone: midnight in the site's zone, the source says so
        sources["published"] = "url"
        return datetime.combine(day, datetime.min.time(), ZoneInfo(site.timezone))
    when = parse_date(page.values(root, _PAGE_DATE), layout.date_formats, site.timezone)
    if when is not None:
        sources["published"] = "page"
    return when


def _given(found: Field[object] | None) -> tuple[str, object] | None:
    return (found.source, found.value) if found is not None else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _tuple(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, tuple) else ()
