"""URL checks and normalisation: the only module that imports courlan."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from courlan import normalize_url

from scraper.errors import UsageError

if TYPE_CHECKING:
    from scraper.sites.base import Site


def check_http(url: str) -> str:
    """The URL stripped, or a UsageError when it is not an absolute http(s) URL."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{url!r}: not an http(s) URL")
    return url


def normalise(url: str) -> str:
    """The same article under different spellings (case of host, default port, fragment,
    tracking parameters) normalises to one string."""
    try:
        return str(normalize_url(url, strict=True))
    except ValueError:
        return url


def canonical(url: str, site: Site) -> str:
    """One string for one article of ``site``: the generic normalisation (lower-case host, no
    default port, no fragment, no tracking parameters such as utm_*, from= or fbclid), then the
    site's own rewrites (``Site.url_rewrites``, in order: mobile host, AMP, print and text
    versions), then the normalisation again. Normalising first lets each rewrite be written
    against one spelling of the address."""
    url = normalise(url)
    for pattern, replacement in site.url_rewrites:
        url = re.sub(pattern, replacement, url)
    return normalise(url)


def url_hash(url: str) -> str:
    """First 16 hex digits of SHA-256 of the normalised URL: stable across re-cleans."""
    return hashlib.sha256(normalise(url).encode("utf-8")).hexdigest()[:16]
