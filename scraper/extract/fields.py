"""The middle links of the field chain (layout selectors -> structured data -> the URL -> the
generic extractor): ``structured`` reads JSON-LD, microdata, then meta tags, field by field, and
names the source that answered; ``url_date`` and ``time_only`` date a story from its URL and a
printed time of day. Pure, and nothing a page holds makes them raise."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, time
from typing import Any, Generic, TypeVar

from scraper.extract import page
from scraper.extract.page import HtmlElement

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Field(Generic[T]):
    value: T
    source: str  # "json-ld", "microdata" or "meta"


@dataclass(frozen=True, slots=True)
class Structured:
    """Dates stay as printed: the caller parses them with the site's formats and time zone."""

    title: Field[str] | None = None
    published: Field[str] | None = None
    modified: Field[str] | None = None
    authors: Field[tuple[str, ...]] | None = None
    lead: Field[str] | None = None


def structured(root: HtmlElement) -> Structured:
    """Field by field, the first source that has it: JSON-LD without authors lets the microdata's
    authors through."""
    sources = Sources(root)
    return Structured(**{f.name: sources.field(f.name) for f in fields(Structured)})


class Sources:
    """The page's structured data, read a source at a time: a field that JSON-LD gives never costs
    the scans of the microdata and meta tags, and a page with no JSON-LD costs none of them until a
    field is asked for (each source is a few XPath scans of the whole page)."""

    def __init__(self, root: HtmlElement) -> None:
        self._root = root
        self._read: list[Structured] = []

    def field(self, name: str, only: str | None = None) -> Field[Any] | None:
        """The first source's value of the field; with ``only``, None unless that source gave it."""
        for n, (source, reader) in enumerate(_READERS):
            if n == len(self._read):
                self._read.append(reader(self._root))
            found: Field[Any] | None = getattr(self._read[n], name)
            if found is not None:
                return found if only in (None, source) else None
            if source == only:
                return None
        return None


# --- types shared by JSON-LD and microdata ---------------------------------------------------------

_ARTICLE_TYPES = frozenset(
    {"NewsArticle", "Article", "ReportageNewsArticle", "BlogPosting", "AnalysisNewsArticle", "OpinionNewsArticle",
     "LiveBlogPosting", "BackgroundNewsArticle", "ReviewNewsArticle", "AskPublicNewsArticle"}
)  # fmt: skip
_PAGE_TYPES = frozenset({"WebPage"})  # the page, not the story: its fields only when no article has them
_ORGANIZATION_TYPES = frozenset({"Organization", "NewsMediaOrganization"})


def _type_names(value: Any) -> set[str]:
    """A type or a list of them, bare, prefixed ("schema:NewsArticle") or as IRIs
    ("https://schema.org/NewsArticle")."""
    types = value[:_MAX_ITEMS] if isinstance(value, list) else [value]
    return {re.split(r"[/:#]", t.strip())[-1] for t in types if isinstance(t, str)}


def _rank(names: set[str]) -> int | None:
    """0 for an article, 1 for a web page, None for anything else."""
    return 0 if names & _ARTICLE_TYPES else 1 if names & _PAGE_TYPES else None


def _clean(value: str) -> str:
    # sites put entities inside JSON strings and meta content alike; no headline means "&amp;"
    return " ".join(html.unescape(value).split()) if "&" in value else " ".join(value.split())


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://", "//", "/"))


# --- JSON-LD ---------------------------------------------------------------------------------------

_LD_SCRIPTS = "//script[contains(translate(@type, 'LDJSON', 'ldjson'), 'ld+json')]"
_MAX_SCRIPTS = 20
_MAX_CHARS = 500_000  # a whole article body fits; a script larger than this is not metadata
_MAX_ITEMS = 50  # per script, counting @graph members
_MAX_AUTHORS = 30
# what a repair drops, outside strings: comments and trailing commas. A string always matches
# (to its closing quote or to the end), so the scan is linear even on unbalanced quotes.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)|/\*.*?(?:\*/|\Z)|//[^\n]*|,(?=\s*[}\]])', re.S)
_WRAPPER = re.compile(r"^\s*(?:<!--|(?://\s*)?<!\[CDATA\[)|(?:-->|(?://\s*)?\]\]>|;)\s*$")


def _json_ld(root: HtmlElement) -> Structured:
    items: list[tuple[int, int, dict[str, Any]]] = []
    for script in page.select(root, _LD_SCRIPTS)[:_MAX_SCRIPTS]:
        for item in _items(_load(str(page.select(script, "string(.)")[0]))):
            rank = _rank(_type_names(item.get("@type")))
            if rank is not None:
                items.append((rank, len(items), item))
    ranked = [item for _, _, item in sorted(items, key=lambda i: i[:2])]
    authors = next((a for item in ranked if (a := _ld_authors(item.get("author")))), ())
    return Structured(
        title=_ld_field(ranked, ("headline", "name")),
        published=_ld_field(ranked, ("datePublished",)),
        modified=_ld_field(ranked, ("dateModified",)),
        authors=Field(authors, "json-ld") if authors else None,
        lead=_ld_field(ranked, ("description",)),
    )


def _load(text: str) -> Any:
    """The script's JSON as written, else repaired (comments, trailing commas, a comment or CDATA
    wrapper), else with HTML entities decoded first; None when none of these parses."""
    if len(text) > _MAX_CHARS:
        return None
    document = _decode(text)
    if document is None:
        document = _decode(_repair(text))
    if document is None and "&" in text:
        document = _decode(_repair(html.unescape(text)))
    return document


def _decode(text: str) -> Any:
    try:  # strict=False admits the raw newlines and tabs sites leave inside strings
        return json.loads(text, strict=False)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the decoder goes
        return None


def _repair(text: str) -> str:
    return _WRAPPER.sub("", _JSON_TOKENS.sub(lambda m: m[0] if m[0].startswith('"') else "", text))


def _items(document: Any) -> Iterator[dict[str, Any]]:
    """The top-level objects, the members of an @graph and a page's mainEntity: the places a
    story's own item sits. Objects nested deeper (related stories, list members) are not it."""
    count = 0
    for top in document if isinstance(document, list) else [document]:
        graph = top.get("@graph") if isinstance(top, dict) else None
        for item in [top, *(graph if isinstance(graph, list) else [graph])]:
            if not isinstance(item, dict):
                continue
            main = item.get("mainEntity")
            for found in (item, main) if isinstance(main, dict) else (item,):
                count += 1
                if count > _MAX_ITEMS:
                    return
                yield found


def _ld_field(items: list[dict[str, Any]], keys: tuple[str, ...]) -> Field[str] | None:
    for item in items:
        for key in keys:
            value = _ld_text(item.get(key))
            if value:
                return Field(value, "json-ld")
    return None


def _ld_text(value: Any) -> str:
    """A string, a {"@value": ...} object, or the first of a list of those; one level only."""
    for candidate in value[:_MAX_ITEMS] if isinstance(value, list) else [value]:
        if isinstance(candidate, dict):
            candidate = candidate.get("@value")
        if isinstance(candidate, str) and candidate.strip():
            return _clean(candidate)
    return ""


def _ld_authors(value: Any) -> tuple[str, ...]:
    """People when any are named, else organisations: a desk or the outlet is an author only
    when no person signs the story."""
    people: dict[str, None] = {}
    bodies: dict[str, None] = {}
    for author in value[:_MAX_AUTHORS] if isinstance(value, list) else [value]:
        name = _ld_text(author.get("name")) if isinstance(author, dict) else _ld_text(author)
        if not name or _is_url(name):
            continue
        is_body = isinstance(author, dict) and _type_names(author.get("@type")) & _ORGANIZATION_TYPES
        (bodies if is_body else people).setdefault(name, None)
    return tuple(people or bodies)


# --- microdata -------------------------------------------------------------------------------------

# "//*[@itemprop]" in the form libxml2 walks twice as fast: the attributes, then their elements
_ITEMS = "/descendant::*/@itemscope/parent::*[@itemtype]"
_PROPS = "/descendant::*/@itemprop/.."
_WANTED = frozenset({"headline", "datePublished", "dateModified", "author", "description"})


def _microdata(root: HtmlElement) -> Structured:
    """The properties of the article's own item: items that are nobody's property (a related
    story in a list is one) and articles before pages. Properties left loose, outside any item,
    count last: sloppy markup puts a story's datePublished on a bare <time>."""
    owned: dict[HtmlElement | None, list[HtmlElement]] = {}  # one pass: each property has one owner
    for element in page.select(root, _PROPS):
        if isinstance(element, HtmlElement) and _WANTED.intersection(element.get("itemprop", "").split()):
            owned.setdefault(_owner(element), []).append(element)
    items: list[tuple[int, int, HtmlElement]] = []
    for element in page.select(root, _ITEMS):
        if isinstance(element, HtmlElement) and element in owned:
            rank = _rank(_type_names(element.get("itemtype", "").split()))
            if rank is not None and (rank == 1 or element.get("itemprop") is None):
                items.append((rank, len(items), element))
    owners: list[HtmlElement | None] = [e for _, _, e in sorted(items, key=lambda i: i[:2])]
    props = [_properties(owned.get(owner, []), loose=owner is None) for owner in [*owners, None]]

    def first(name: str) -> Field[str] | None:
        value = next((v for p in props for v in p.get(name, []) if v), None)
        return Field(value, "microdata") if value else None

    named = ([a for a in p.get("author", []) if a and not _is_url(a)] for p in props)
    authors = next((tuple(dict.fromkeys(a)) for a in named if a), ())
    return Structured(
        title=first("headline"),
        published=first("datePublished"),
        modified=first("dateModified"),
        authors=Field(authors, "microdata") if authors else None,
        lead=first("description"),
    )


def _properties(elements: list[HtmlElement], loose: bool) -> dict[str, list[str]]:
    """Values by property name. A loose <meta> itemprop is left to the meta tags' reading."""
    found: dict[str, list[str]] = {}
    for element in elements:
        if loose and element.tag == "meta":
            continue
        value = _property_value(element)
        for name in element.get("itemprop", "").split():
            found.setdefault(name, []).append(value)
    return found


def _owner(element: HtmlElement) -> HtmlElement | None:
    return next((a for a in element.iterancestors() if a.get("itemscope") is not None), None)


def _property_value(element: HtmlElement) -> str:
    if element.get("itemscope") is not None:  # an item as the value: a Person, say, by its name
        names = [e for e in page.select(element, ".//*[@itemprop='name']") if isinstance(e, HtmlElement)]
        return next((v for e in names if _owner(e) is element and (v := _plain_value(e))), "")
    return _plain_value(element)


def _plain_value(element: HtmlElement) -> str:
    for attribute in ("content", "datetime"):
        if element.get(attribute) is not None:
            return _clean(element.get(attribute, ""))
    return "" if element.tag in ("meta", "link") else _clean(page.text_of(element))


# --- meta tags -------------------------------------------------------------------------------------

# A field's meta tags: the @content of those keyed by property or name (sites mix them up: "og:title"
# as a name), in the order of the keys, then that of a loose meta itemprop (one inside an item belongs
# to that item, a photo say).
_META_TITLE = (("og:title",), "headline")
_META_PUBLISHED = (("article:published_time", "pubdate", "date"), "datePublished")
_META_MODIFIED = (("article:modified_time", "og:updated_time"), "dateModified")
_META_AUTHORS = (("article:author",), "author")
_META_LEAD = (("og:description", "description"), "description")


@dataclass(frozen=True, slots=True)
class _MetaTag:
    keys: tuple[str | None, str | None]  # property, name
    loose_itemprop: str | None  # its itemprop, when no ancestor is an item
    content: str  # whitespace collapsed, as page.text_of gives an attribute


def _meta_tags(root: HtmlElement) -> list[_MetaTag]:
    """Every meta tag with content, in document order: one pass for all fields (a page has dozens
    of them, and an XPath per key and field scanned the whole page each time)."""
    tags = []
    for element in page.select(root, "//meta[@content]"):
        if not isinstance(element, HtmlElement):
            continue
        itemprop = element.get("itemprop")
        if itemprop is not None and any(a.get("itemscope") is not None for a in element.iterancestors()):
            itemprop = None
        content = page.text_of(element.get("content", ""))
        tags.append(_MetaTag((element.get("property"), element.get("name")), itemprop, content))
    return tags


def _meta(root: HtmlElement) -> Structured:
    tags = _meta_tags(root)

    def values(field: tuple[tuple[str, ...], str]) -> Iterator[str]:
        keys, itemprop = field
        for key in keys:
            yield from (t.content for t in tags if key in t.keys and t.content)
        yield from (t.content for t in tags if t.loose_itemprop == itemprop and t.content)

    def first(field: tuple[tuple[str, ...], str]) -> Field[str] | None:
        value = next(values(field), None)
        return Field(_clean(value), "meta") if value else None

    # article:author is often the author's profile URL, which names nobody
    authors = tuple(dict.fromkeys(_clean(a) for a in dict.fromkeys(values(_META_AUTHORS)) if not _is_url(a)))
    return Structured(
        title=first(_META_TITLE),
        published=first(_META_PUBLISHED),
        modified=first(_META_MODIFIED),
        authors=Field(authors, "meta") if authors else None,
        lead=first(_META_LEAD),
    )


_READERS = (("json-ld", _json_ld), ("microdata", _microdata), ("meta", _meta))


# --- the URL and a printed time --------------------------------------------------------------------

_YEARS = range(1990, 2100)  # a numeric id that happens to read as a date falls outside the web's years


def url_date(url: str, patterns: tuple[str, ...]) -> date | None:
    """The date in a story's URL. Each pattern names its groups ``y``, ``m`` and ``d``; the first
    that matches with a real calendar date wins (31/02 does not)."""
    for pattern in patterns:
        found = re.search(pattern, url)
        if found is None:
            continue
        try:
            day = date(int(found["y"]), int(found["m"]), int(found["d"]))
        except ValueError:
            continue
        if day.year in _YEARS:
            return day
    return None


_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?")


def time_only(value: str) -> time | None:
    """A printed value that is a time of day and nothing else ("14:31", "9:05", "14:31:05"), for
    pages that print the time and leave the date to the URL."""
    found = _TIME.fullmatch(value.strip())
    if found is None:
        return None
    hour, minute, second = found.groups()
    return time(int(hour), int(minute), int(second or 0))
