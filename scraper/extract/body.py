"""Body extraction: the only module that imports trafilatura."""

from __future__ import annotations

from dataclasses import dataclass

import trafilatura
from trafilatura.settings import Document, Extractor

from scraper.extract.page import HtmlElement

TRAFILATURA_VERSION: str = trafilatura.__version__


# recall: the adapters already cut the boilerplate away, so a lost paragraph is the worse error;
# fast: the fallback extractors would only second-guess a container chosen on purpose.
def _options(url: str | None = None, with_metadata: bool = False) -> Extractor:
    return Extractor(
        output_format="python" if with_metadata else "txt",  # bare_extraction fills .text only for "python"
        fast=True,
        recall=True,
        comments=False,
        tables=True,
        images=False,
        links=False,
        dedup=False,
        url=url,
        with_metadata=with_metadata,
    )


_BODY_OPTIONS = _options()


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str
    title: str | None = None
    date: str | None = None
    authors: tuple[str, ...] = ()


def body_text(document: HtmlElement) -> str:
    """Text of an already narrowed document, one paragraph per line."""
    return trafilatura.extract(document, options=_BODY_OPTIONS) or ""


def whole_page(document: HtmlElement, url: str | None) -> Extracted:
    """Text and metadata of a page trafilatura has to read whole (no adapter or no container)."""
    result = trafilatura.bare_extraction(document, options=_options(url, with_metadata=True))
    if not isinstance(result, Document):
        return Extracted(text="")
    authors = tuple(a.strip() for a in (result.author or "").split(";") if a.strip())
    return Extracted(text=result.text or "", title=result.title, date=result.date, authors=authors)
