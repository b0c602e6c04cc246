"""Parsed documents: the only module that imports lxml. An HTML page is parsed once, its metadata
read with XPath, what a site marks as boilerplate dropped, and the body container narrowed to;
a sitemap's XML is read element by element, safely, for discovery."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from lxml import etree, html
from lxml.html import HtmlElement as HtmlElement  # the element type, for the modules that take one

from scraper.extract.xpath import faster

# lxml refuses text that carries its own encoding declaration, and NUL or other C0 controls.
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SPACE = re.compile(r"\s+")


def parse(text: str) -> HtmlElement | None:
    text = _CONTROL.sub("", _XML_DECL.sub("", text, count=1))
    if not text.strip():
        return None
    try:
        root = html.document_fromstring(text, parser=_parser())
    except (etree.ParserError, ValueError):
        return None
    if not isinstance(root, HtmlElement):
        return None
    _reparse_swallowed(root)
    return root


# a tag inside the raw text of a <title> or <textarea>
_TAG_IN_RAW_TEXT = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*[\s/>]")


_REPARSE_ROUNDS = 3  # each round parses the rest of the page again: bounded, for a page of nested titles


def _reparse_swallowed(root: HtmlElement) -> None:
    """A <title> or <textarea> left unclosed (or written ``<title/``) makes the rest of the page
    its raw text, markup and all: parse that text again, in the element's place. That text can
    hold another such element, so again, a few times; what still swallows markup then is dropped
    (its tail kept), never read as text."""
    for round_ in range(_REPARSE_ROUNDS + 1):
        swallowed = [e for e in root.iter("title", "textarea") if _TAG_IN_RAW_TEXT.search(e.text or "")]
        if not swallowed:
            return
        for element in swallowed:
            holder = _fragment(element.text or "") if round_ < _REPARSE_ROUNDS else None
            if holder is None:
                element.drop_tree()
            else:
                holder.tail = element.tail
                element.getparent().replace(element, holder)


def _fragment(text: str) -> HtmlElement | None:
    try:
        return html.fragment_fromstring(text, create_parent="div", parser=_parser())
    except (etree.ParserError, ValueError):
        return None


@lru_cache(maxsize=1)
def _parser() -> html.HTMLParser:
    # huge_tree: long pages are legal; deep nesting is bounded by libxml2 itself.
    parser = html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)
    # lxml.html picks each element's class in Python, for every element any code touches (ours, and
    # trafilatura's on copies of the tree: a tenth of the time); the same classes chosen in C. Only
    # form, input, select, textarea and label lose their form-filling helpers, which nothing here uses.
    classes = etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=html.HtmlComment, pi=html.HtmlProcessingInstruction, entity=html.HtmlEntity
    )
    parser.set_element_class_lookup(classes)
    return parser


@lru_cache(maxsize=2048)
def _compiled(expression: str) -> etree.XPath:
    return etree.XPath(faster(expression))


def select(root: HtmlElement, expression: str) -> list[object]:
    result = _compiled(expression)(root)
    return list(result) if isinstance(result, list) else [result]


def text_of(node: object) -> str:
    if isinstance(node, etree._Element):
        raw = node.text_content() if isinstance(node, HtmlElement) else "".join(node.itertext())
    else:
        raw = str(node)
    return _SPACE.sub(" ", raw).strip()


def values(root: HtmlElement, expressions: tuple[str, ...]) -> list[str]:
    """Every non-empty value the expressions select, in order, without repeats."""
    return list(each_value(root, expressions))


def each_value(root: HtmlElement, expressions: tuple[str, ...]) -> Iterator[str]:
    """The values of ``values``, each expression evaluated only when the ones before are used up."""
    seen: set[str] = set()
    for expression in expressions:
        for node in select(root, expression):
            value = text_of(node)
            if value and value not in seen:
                seen.add(value)
                yield value


def first(root: HtmlElement, expressions: tuple[str, ...]) -> str | None:
    for expression in expressions:
        for node in select(root, expression):
            value = text_of(node)
            if value:
                return value
    return None


_BARE_TAG = re.compile(r"//([A-Za-z][\w-]*)")


def drop(root: HtmlElement, expressions: tuple[str, ...]) -> None:
    """What each expression selects, in turn. A run of bare "//tag" expressions (the common drops) is
    one walk over the tree: whether an element has a tag does not change as others go."""
    tags: list[str] = []
    for expression in (*expressions, ""):
        if bare := _BARE_TAG.fullmatch(expression):
            tags.append(bare[1])
            continue
        if tags:
            _drop_all(list(root.iter(*tags)))
            tags = []
        if expression:
            _drop_all(select(root, expression))


def _drop_all(nodes: list[object]) -> None:
    for node in nodes:
        if isinstance(node, HtmlElement) and node.getparent() is not None:
            node.drop_tree()  # keeps the tail text, which belongs to the parent


def containers(root: HtmlElement, expressions: tuple[str, ...]) -> list[HtmlElement]:
    """The elements of the first expression that matches, outermost only, in document order."""
    for expression in expressions:
        found = [n for n in select(root, expression) if isinstance(n, HtmlElement)]
        if found:
            return _outermost(found)
    return []


def _outermost(elements: list[HtmlElement]) -> list[HtmlElement]:
    chosen = set(elements)
    return [e for e in elements if not any(a in chosen for a in e.iterancestors())]


# tags that make a block: an element holding none of these holds one paragraph of inline text
_BLOCKS = frozenset(
    ("p", "div", "ul", "ol", "li", "dl", "table", "tr", "td", "th", "tbody", "thead", "blockquote", "pre", "section",
     "article", "aside", "figure", "header", "footer", "main", "nav", "h1", "h2", "h3", "h4", "h5", "h6")
)  # fmt: skip


def document_of(elements: list[HtmlElement]) -> HtmlElement:
    """A fresh document holding the elements, moved out of their page, shaped so trafilatura
    reads all of it and only it.

    The elements go into one wrapper that matches trafilatura's first body rule, so it takes the
    wrapper whole instead of hunting for a container of its own (which would keep one element and
    lose the rest) or falling back to loose-text recovery (which drops short repeated lines).
    Headings become paragraphs (they are subheads of the text; trafilatura keeps no headings
    here), and so do divs holding only inline text (a lead in a bare ``span``/``div`` is text).
    """
    wrapper = _parser().makeelement("div", {"class": "article-body"})  # in a document of our parser's classes
    for element in elements:
        element.tail = None
        wrapper.append(element)
    for element in list(wrapper.iterdescendants()):
        if element.tag in ("h1", "h2", "h3", "h4", "h5", "h6") or (
            element.tag == "div" and _inline_only(element) and text_of(element)
        ):
            element.tag = "p"
    document = _parser().makeelement("html")
    etree.SubElement(document, "body").append(wrapper)
    return document


def _inline_only(element: HtmlElement) -> bool:
    return not any(isinstance(d.tag, str) and d.tag in _BLOCKS for d in element.iterdescendants())


def canonical_url(root: HtmlElement) -> str | None:
    return first(root, ("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content"))


def entries(pieces: Iterable[bytes], names: tuple[str, ...], most: int) -> Iterator[Any]:
    """The elements named ``names`` (a sitemap's <url> and <sitemap>) whose end tag was read, in
    document order, parsed as a stream of ``pieces``. Recovery keeps the entries before any damage;
    a torn last one, which recovery would close with half its text, is never given. Each entry is
    dropped from the tree once the caller is done with it, and everything outside the entries as it
    ends: the tree holds one entry at a time. An entry of more than ``most`` elements is no sitemap
    entry: dropped as it is read, never given."""
    parser = etree.XMLPullParser(
        events=("start", "end"), resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        recover=True, remove_comments=True, remove_pis=True, collect_ids=False,
    )  # fmt: skip
    entry, size = None, 0  # the entry being read, and how many elements it holds so far
    for piece in pieces:
        with contextlib.suppress(etree.XMLSyntaxError):
            parser.feed(piece)
        for event, element in parser.read_events():
            if event == "start":
                if entry is None and local_name(element) in names:
                    entry, size = element, 0
                elif entry is not None:
                    size += 1
            elif element is entry:
                if size <= most:
                    yield element
                _drop(element)
                entry = None
            elif entry is None:
                _drop(element)
            elif size > most:
                element.getparent().remove(element)


def _drop(element: Any) -> None:
    """An ended element's content, and its earlier siblings, out of the tree (the iterparse idiom)."""
    element.clear()
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        del parent[0]


def local_name(element: Any) -> str:
    tag = getattr(element, "tag", None)  # None for no element; a function for comments and entities
    return etree.QName(tag).localname if isinstance(tag, str) else ""
