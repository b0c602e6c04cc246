"""The explicit registry of site adapters. Add a site by importing its module and listing it."""

from __future__ import annotations

from urllib.parse import urlsplit

from scraper.sites import generic, interfax, kremlin, rbc, sputnik, znua
from scraper.sites.base import Layout, Site

SITES: tuple[Site, ...] = (interfax.SITE, kremlin.SITE, sputnik.SITE, znua.SITE, rbc.SITE)
GENERIC: Site = generic.SITE


def site_for(url: str) -> Site:
    """The adapter for a URL's host, or the generic one."""
    host = urlsplit(url).hostname or ""
    for site in SITES:
        if site.serves(host):
            return site
    return GENERIC


def by_name(name: str) -> Site:
    for site in (*SITES, GENERIC):
        if site.name == name:
            return site
    known = ", ".join(s.name for s in SITES)
    raise KeyError(f"unknown site {name!r} (known: {known})")


__all__ = ["GENERIC", "SITES", "Layout", "Site", "by_name", "site_for"]
