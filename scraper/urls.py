"""URL checks and normalisation: the only module that imports courlan."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit

from courlan import normalize_url

from scraper.errors import UsageError

if TYPE_CHECKING:
    from scraper.sites.base import Site


MAX_URL = 8192  # characters: servers refuse a longer request line (Apache: 8190), so nobody links one
_LABEL = re.compile(r"[a-z0-9_-]+")  # a DNS label once IDNA-encoded (the underscore: some CDN hosts)


def check_http(url: str) -> str:
    """The URL stripped, or a UsageError when it is not an absolute http(s) URL that can be fetched."""
    url = url.strip()
    if problem := url_problem(url):
        raise UsageError(f"{url[:200]!r}: {problem}")
    return url


def url_problem(url: str) -> str | None:
    """Why ``url`` is no absolute http(s) URL a request can be made to, or None. Never raises:
    a redirect's Location or a feed link is hostile input like a command-line argument."""
    if len(url) > MAX_URL:
        return f"not an http(s) URL: longer than {MAX_URL} characters"
    if any(c < " " or c == "\x7f" or "\ud800" <= c <= "\udfff" for c in url):
        return "not an http(s) URL: it holds a control character or an undecodable byte"
    try:  # urlsplit raises on an unbalanced bracket, .port on a port that is no number or too big
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        return f"not an http(s) URL: {exc}"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    return _host_problem(parts)


def _host_problem(parts: SplitResult) -> str | None:
    host = parts.netloc.rpartition("@")[2]
    if host.startswith("["):  # an IPv6 literal, and nothing else, goes in brackets
        try:
            ipaddress.IPv6Address(str(parts.hostname))
        except ValueError:
            return f"not an http(s) URL: {host[:80]!r} is no IPv6 address"
        return None if re.fullmatch(r"\[[^\]]*\](?::\d*)?", host) else f"not an http(s) URL: bad host {host[:80]!r}"
    name = str(parts.hostname).removesuffix(".")  # one final dot: the fully qualified spelling
    labels = []
    for label in name.split("."):
        if not label or len(label) > 63:
            return f"bad host name: a label of {len(label)} characters (1 to 63 allowed)"
        try:  # the same letters the resolver gets: xn--... for a non-ASCII label, which must decode
            ascii_label = label.encode("idna").decode("ascii")
            if ascii_label.startswith("xn--"):
                ascii_label.encode("ascii").decode("idna")
        except UnicodeError:
            return f"bad host name: {label[:63]!r} is not a valid international domain label"
        if not _LABEL.fullmatch(ascii_label) or len(ascii_label) > 63:
            return f"bad host name: {label[:63]!r} (letters, digits and hyphens, at most 63 once encoded)"
        labels.append(ascii_label)
    if len(".".join(labels)) > 253:
        return f"bad host name: {len('.'.join(labels))} characters long (at most 253)"
    return None


def normalise(url: str) -> str:
    """The same article under different spellings (case of host, default port, fragment,
    tracking parameters) normalises to one string. Never raises: an address courlan cannot
    normalise (a bad bracket, port or IDNA host, from a hostile link) is returned as it is."""
    try:
        return str(normalize_url(url, strict=True))
    except ValueError:  # UnicodeError too
        return url


def canonical(url: str, site: Site) -> str:
    """One string for one article of ``site``: the generic normalisation (lower-case host, no
    default port, no fragment, no tracking parameters such as utm_*, from= or fbclid), then the
    site's own rewrites (``Site.url_rewrites``, in order: mobile host, AMP, print and text
    versions), then the normalisation again. Normalising first lets each rewrite be written
    against one spelling of the address. Never raises, whatever the string (a redirect's
    Location or a feed's link is network data): a broken address comes back barely changed, and
    fails when it is fetched, as that URL's failure."""
    url = normalise(url)
    for pattern, replacement in site.url_rewrites:
        url = re.sub(pattern, replacement, url)
    return normalise(url)


def url_hash(url: str) -> str:
    """First 16 hex digits of SHA-256 of the normalised URL: stable across re-cleans."""
    # surrogatepass: a lone surrogate (an undecodable byte of a command-line argument) hashes
    # instead of raising; every other string encodes as plain UTF-8, so no hash changes
    return hashlib.sha256(normalise(url).encode("utf-8", "surrogatepass")).hexdigest()[:16]
