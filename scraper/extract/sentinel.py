"""What is inside the body container: typed blocks kept by kind (an allow-list), and the markup
sentinel, which reports every element signature the layout does not know.

A signature is ``tag[data-type=kind]`` for a typed block, ``tag.first-class`` for an element with
a class, and the bare tag for other elements, except the plain text markup any article holds
(paragraphs, links, emphasis, lists, headings, tables). A site that adds a box inside its article
body shows up as a new signature in every article that has it, whether the drops remove it
(``kept`` False: maybe text we now miss) or not (``kept`` True: maybe a leak).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from scraper.extract.page import HtmlElement
from scraper.sites.base import Layout

_PLAIN = frozenset(
    ("p", "br", "a", "b", "strong", "i", "em", "u", "s", "sub", "sup", "span", "small", "mark", "abbr", "cite", "q",
     "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "table", "thead", "tbody",
     "tfoot", "tr", "td", "th", "caption", "col", "colgroup", "wbr", "nobr", "font")
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Unknown:
    signature: str
    count: int
    kept: bool  # some of them are still in the body after the layout's drops


def signature(element: HtmlElement, attribute: str | None) -> str | None:
    tag = element.tag
    if not isinstance(tag, str):
        return None  # a comment or a processing instruction
    kind = element.get(attribute) if attribute else None
    if kind:
        return f"{tag}[{attribute}={kind}]"
    classes = (element.get("class") or "").split()
    if classes:
        return f"{tag}.{classes[0]}"
    return None if tag in _PLAIN else tag


class Watch:
    """The unknown elements of the containers, noted before the drops, judged after them."""

    def __init__(self, containers: list[HtmlElement], layout: Layout) -> None:
        known = set(layout.known_inside)
        self._seen: list[tuple[str, HtmlElement]] = []
        for container in containers:
            for element in (container, *container.iterdescendants()):
                sign = signature(element, layout.block_attribute)
                if sign is not None and sign not in known:
                    self._seen.append((sign, element))

    def unknown(self, body: list[HtmlElement]) -> tuple[Unknown, ...]:
        """What was met, and whether it is still in ``body``, the containers after the drops."""
        final = set(body)
        counts: Counter[str] = Counter()
        kept: set[str] = set()
        for sign, element in self._seen:
            counts[sign] += 1
            if element in final or any(a in final for a in element.iterancestors()):
                kept.add(sign)
        return tuple(Unknown(sign, n, sign in kept) for sign, n in sorted(counts.items()))


def keep_known_blocks(containers: list[HtmlElement], layout: Layout) -> list[HtmlElement]:
    """Typed blocks of a kind the layout does not list go, wherever they are in the body: an
    allow-list, so a kind the CMS adds tomorrow cannot leak line by line."""
    attribute = layout.block_attribute
    if attribute is None:
        return containers
    allowed = set(layout.block_kinds)
    kept = [c for c in containers if c.get(attribute) is None or c.get(attribute) in allowed]
    for container in kept:
        for element in list(container.iterdescendants()):
            kind = element.get(attribute) if isinstance(element.tag, str) else None
            if kind is not None and kind not in allowed and element.getparent() is not None:
                element.drop_tree()
    return kept
