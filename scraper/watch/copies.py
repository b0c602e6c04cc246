"""Independent copies of an article's text, and how our text agrees with one (for ``scraper check``).

- ``find_copies``: copies of the articles' texts in the WARC files that hold them: the JSON-LD
  ``articleBody`` of the page, the item of a full-text feed archived beside it, or a print version
  of the page (read whole by trafilatura, not by the adapter). Feeds are parsed with the standard
  library's ElementTree: expat loads no external entity and (2.4 and later) stops entity expansion
  bombs.
- ``compare``: our text against a copy, by word 3-grams, so that markup, quotes and line breaks
  that differ between copies do not count: what the copy has and we lack (truncated), what we have
  and it lacks (leaked).

Every WARC is read through ``scraper.capture.warc``'s public API; no third-party library is imported here.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol
from xml.etree import ElementTree

from scraper.archive.layout import Archive
from scraper.capture.warc import Stored, read_responses
from scraper.errors import ArchiveError
from scraper.extract import page
from scraper.extract.body import whole_page
from scraper.extract.decode import decode_html
from scraper.models import Capture
from scraper.sites import Site
from scraper.urls import canonical

# a script's text ends at the first "</script" (HTML parsing rules), so a pattern finds them all
# without parsing the whole page
_LD_JSON = re.compile(r"<script\b[^>]*\btype\s*=\s*[\"']?application/ld\+json[^>]*>(.*?)</script", re.I | re.S)
_FULL_TEXT = ("full-text", "fulltext", "encoded")  # rbc_news:/yandex:full-text, content:encoded
_PRINT = re.compile(r"[/_.-]print(?:\.html?)?/?(?:$|[?#])|[?&]print=", re.I)
_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:p|br|div|li|h[1-6]|blockquote|tr)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"»”]?\s+")
_MIN_WORDS = 4  # shorter sentences and lines (a dateline, a byline) prove nothing either way
_GRAM = 3  # word 3-grams: a sentence is "in" a text when most of its 3-grams are


@dataclass(frozen=True, slots=True)
class Copy:
    """The article's text as another part of the site gives it."""

    source: str  # json-ld, feed or print
    paragraphs: tuple[str, ...]
    extras: tuple[str, ...] = ()  # headline, description: lines of ours they hold are no leak


class Placed(Protocol):
    """An archived article as ``find_copies`` needs it: its key and where its response record is."""

    @property
    def canonical(self) -> str: ...
    @property
    def warc_file(self) -> str | None: ...
    @property
    def warc_offset(self) -> int | None: ...


def find_copies(
    root: Path, site: Site, articles: Sequence[Placed], also: Iterable[str], max_body: int
) -> dict[str, list[Copy]]:
    """Independent copies of the articles' texts, by canonical URL, from the WARC files that hold
    the articles and the files named in ``also`` (e.g. those of the site's latest feed responses)."""
    at = {(a.warc_file, a.warc_offset): a.canonical for a in articles if a.warc_file}
    wanted = {a.canonical for a in articles}
    feeds = set(site.feeds)
    found: dict[str, list[Copy]] = {}
    in_feeds: dict[str, Copy] = {}
    for name in dict.fromkeys([*(a.warc_file for a in articles if a.warc_file), *also]):
        for stored in archived_responses(root, name, max_body):
            capture = stored.capture
            key = at.get((name, stored.ref.offset))
            if key is not None:
                found.setdefault(key, []).extend(json_ld_copies(capture))
            elif capture.url in feeds:
                in_feeds.update(feed_copies(capture.body, site))
            elif _PRINT.search(capture.url) and (printed := canonical(capture.url, site)) in wanted:
                found.setdefault(printed, []).extend(print_copies(capture))
    for key, copy in in_feeds.items():
        if key in wanted:
            found.setdefault(key, []).append(copy)
    return found


def archived_responses(root: Path, name: str, max_body: int) -> Iterator[Stored]:
    """The readable response records of the archive's WARC file ``name`` (relative to ``root``)."""
    try:
        path = Archive(root).warc_file(name)
    except ArchiveError:  # a file moved away leaves its articles uncompared (``missing_warcs``), not the check failed
        return
    yield from (item for item in read_responses(path, name, max_body) if isinstance(item, Stored))


def missing_warcs(root: Path, names: Iterable[str]) -> dict[str, str]:
    """Those of the WARC files ``names`` that are not in the archive, each with why, in one line."""
    found = {}
    for name in dict.fromkeys(names):
        try:
            Archive(root).warc_file(name)
        except ArchiveError as exc:
            found[name] = f"{exc}: the articles it holds are not compared with their copies"
    return found


def json_ld_copies(capture: Capture) -> list[Copy]:
    """The first JSON-LD ``articleBody`` of the page, if any."""
    if not 200 <= capture.status < 300:
        return []
    for script in _LD_JSON.findall(decode_html(capture.body, capture.header("Content-Type"))):
        try:  # not strict: raw line breaks in strings do occur; RecursionError: nested past any real page
            found = _article_body(json.loads(script, strict=False))
        except (ValueError, RecursionError):
            continue
        if found is not None:
            return [found]
    return []


def _article_body(data: Any) -> Copy | None:
    for item in _objects(data):
        body = item.get("articleBody")
        if isinstance(body, str) and body.strip():
            extras = tuple(str(item[k]) for k in ("headline", "description") if isinstance(item.get(k), str))
            return Copy("json-ld", paragraphs(body), extras)
    return None


def _objects(data: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in a JSON-LD value: top level, lists and ``@graph`` alike."""
    if isinstance(data, dict):
        yield data
        for value in data.values():
            if isinstance(value, dict | list):
                yield from _objects(value)
    elif isinstance(data, list):
        for value in data:
            yield from _objects(value)


def feed_copies(body: bytes, site: Site) -> dict[str, Copy]:
    """Full-text items of an RSS or Atom feed, by the canonical URL of their link."""
    if b"<!ENTITY" in body:  # no feed needs its own entities; expat's amplification limit is the second guard
        return {}
    try:
        root = ElementTree.fromstring(body)  # bytes: expat reads the declared encoding itself
    except (ElementTree.ParseError, ValueError, LookupError):
        return {}
    found = {}
    for item in root.iter():
        if _local(item.tag) not in ("item", "entry"):
            continue
        children = {_local(child.tag): child for child in reversed(list(item))}  # the first of each name wins
        link = children.get("link")
        url = (link.text or link.get("href") or "").strip() if link is not None else ""
        full = next((children[n] for n in _FULL_TEXT if n in children), children.get("content"))
        text = "".join(full.itertext()) if full is not None else ""
        if url and text.strip():
            extras = tuple("".join(children[k].itertext()) for k in ("title", "description") if k in children)
            found[canonical(url, site)] = Copy("feed", paragraphs(text), extras)
    return found


def _local(tag: object) -> str:
    return str(tag).rpartition("}")[2].lower()


def print_copies(capture: Capture) -> list[Copy]:
    """The print version read whole by trafilatura: not through the adapter, so independent of it."""
    root = page.parse(decode_html(capture.body, capture.header("Content-Type")))
    if root is None or not 200 <= capture.status < 300:
        return []
    text = whole_page(root, capture.url).text
    return [Copy("print", paragraphs(text))] if text.strip() else []


def paragraphs(text: str) -> tuple[str, ...]:
    """Plain paragraphs of a copy that may hold HTML (block tags break lines, entities decoded)."""
    if "<" in text:
        text = _TAG.sub("", _BLOCK_TAG.sub("\n", text))
    return tuple(line.strip() for line in html.unescape(text).splitlines() if line.strip())


# --- how our text agrees with a copy ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Agreement:
    """Our text against one independent copy of it."""

    source: str  # json-ld, feed or print
    missing: tuple[str, ...]  # sentences of the copy that our text lacks
    missing_share: float  # their share of the copy's words
    leaked: tuple[str, ...]  # lines of ours that a complete copy lacks
    truncated: bool


def words(text: str) -> list[str]:
    """Lower-case words: quotes, dashes and spaces, which vary between copies, are no part of them."""
    return _WORD.findall(unicodedata.normalize("NFC", text).casefold().replace("ё", "е"))


def _grams(tokens: Sequence[str]) -> set[tuple[str, ...]]:
    if len(tokens) < _GRAM:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + _GRAM]) for i in range(len(tokens) - _GRAM + 1)}


def _found(tokens: Sequence[str], grams: set[tuple[str, ...]]) -> bool:
    own = _grams(tokens)
    return len(own & grams) >= 0.5 * len(own)


def sentences(paragraph: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(paragraph) if s.strip()]


def compare(lines: Sequence[str], copy: Copy, truncated_at: float = 0.1, title: str = "") -> Agreement:
    """Our body lines against a copy: truncated when the sentences of the copy that our text (or
    its title) lacks hold ``truncated_at`` of its words. Lines of ours that the copy (or its
    headline, description or the article's lead, given in ``copy.extras``) lacks have leaked in."""
    ours = [words(line) for line in lines]
    our_grams = set().union(_grams(words(title)), *(_grams(t) for t in ours))
    texts = [s for paragraph in copy.paragraphs for s in sentences(paragraph)]
    pieces = [words(s) for s in texts]
    missing = [i for i, t in enumerate(pieces) if len(t) >= _MIN_WORDS and not _found(t, our_grams)]
    total = sum(len(t) for t in pieces) or 1
    share = sum(len(pieces[i]) for i in missing) / total
    leaked: tuple[str, ...] = ()
    # only a copy about as long as our text is the whole article; a lead or a summary says nothing of leaks
    if total >= 0.5 * sum(len(t) for t in ours):
        theirs = set().union(*(_grams(words(t)) for t in (*copy.paragraphs, *copy.extras)))
        leaked = tuple(
            line for line, t in zip(lines, ours, strict=True) if len(t) >= _MIN_WORDS and not _found(t, theirs)
        )
    return Agreement(copy.source, tuple(texts[i] for i in missing), round(share, 3), leaked, share >= truncated_at)


def encode_agreements(agreements: Sequence[Agreement]) -> str:
    """JSON for the catalog; a few examples are enough to show, all of a long text would swell it."""
    short = [replace(a, missing=a.missing[:3], leaked=a.leaked[:3]) for a in agreements]
    return json.dumps([asdict(a) for a in short], ensure_ascii=False)


def decode_agreements(text: str) -> tuple[Agreement, ...]:
    return tuple(
        Agreement(**{**item, "missing": tuple(item["missing"]), "leaked": tuple(item["leaked"])})
        for item in json.loads(text)
    )
