"""Body extraction: the only module that imports trafilatura."""

from __future__ import annotations

from dataclasses import dataclass

import trafilatura
from lxml.html import HtmlElement

TRAFILATURA_VERSION: str = trafilatura.__version__

# favor_recall: the adapters already cut the boilerplate away, so a lost paragraph is the worse
# error; fast: the fallback extractors would only second-guess a container we chose on purpose.
_OPTIONS = {
    "fast": True,
    "favor_recall": True,
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "deduplicate": False,
}


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str
    title: str | None = None
    date: str | None = None
    authors: tuple[str, ...] = ()


def body_text(document: HtmlElement) -> str:
    """Text of an already narrowed document, one paragraph per line."""
    return trafilatura.extract(document, output_format="txt", **_OPTIONS) or ""


def whole_page(document: HtmlElement, url: str | None) -> Extracted:
    """Text and metadata of a page trafilatura has to read whole (no adapter or no container)."""
    result = trafilatura.bare_extraction(document, url=url, with_metadata=True, **_OPTIONS)
    if result is None:
        return Extracted(text="")
    authors = tuple(a.strip() for a in (result.author or "").split(";") if a.strip())
    return Extracted(text=result.text or "", title=result.title, date=result.date, authors=authors)
