"""The parsed page: the only module that touches lxml. Parse once, read metadata with XPath,
drop what a site marks as boilerplate, and narrow to the body container."""

from __future__ import annotations

import re
from functools import lru_cache

from lxml import etree, html
from lxml.html import HtmlElement

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
    return root if isinstance(root, HtmlElement) else None


@lru_cache(maxsize=1)
def _parser() -> html.HTMLParser:
    # huge_tree: long pages are legal; deep nesting is bounded by libxml2 itself.
    return html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)


@lru_cache(maxsize=2048)
def _compiled(expression: str) -> etree.XPath:
    return etree.XPath(expression)


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
    seen: dict[str, None] = {}
    for expression in expressions:
        for node in select(root, expression):
            value = text_of(node)
            if value:
                seen.setdefault(value, None)
    return list(seen)


def first(root: HtmlElement, expressions: tuple[str, ...]) -> str | None:
    for expression in expressions:
        for node in select(root, expression):
            value = text_of(node)
            if value:
                return value
    return None


def drop(root: HtmlElement, expressions: tuple[str, ...]) -> None:
    for expression in expressions:
        for node in select(root, expression):
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


def document_of(elements: list[HtmlElement]) -> HtmlElement:
    """A fresh ``<html><body>`` holding the elements, moved out of their page."""
    body = html.Element("body")
    for element in elements:
        element.tail = None
        body.append(element)
    document = html.Element("html")
    document.append(body)
    # Headings inside the chosen container are the text's subheads, but trafilatura drops h1-h6
    # when it reads a bare <body> it has no container rule for: hand them over as paragraphs.
    # (A headline inside the container is removed later as a repeat of the title.)
    for heading in document.iter("h1", "h2", "h3", "h4", "h5", "h6"):
        heading.tag = "p"
    return document


def canonical_url(root: HtmlElement) -> str | None:
    return first(root, ("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content"))
