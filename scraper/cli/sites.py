"""The adapters: sites."""

from __future__ import annotations

import re

import typer

from scraper.cli.common import out
from scraper.sites import GENERIC, SITES


def register(app: typer.Typer) -> None:
    app.command()(sites)


def sites() -> None:
    """List the site adapters: hosts, layout versions and feeds."""
    for site in (*SITES, GENERIC):
        layouts = ", ".join(
            f"{lay.version} (until {lay.valid_until:%Y-%m-%d})" if lay.valid_until else f"{lay.version} (current)"
            for lay in site.layouts
        )
        lines = [
            site.name,
            f"  hosts:     {', '.join(site.hosts + tuple(map(_readable, site.host_patterns))) or 'any other'}",
            f"  layouts:   {layouts}",
            f"  language:  {', '.join([site.language or 'any', *(lang for _, lang in site.languages)])}",
            f"  time zone: {site.timezone}",
            *(f"  feed:      {feed}" for feed in site.feeds),
            *(f"  sitemap:   {sitemap}" for sitemap in site.sitemaps),
        ]
        out.print("\n".join(lines), markup=False)


def _readable(pattern: str) -> str:
    """A host pattern as a person reads it: ``interfax\\.ru`` is the host interfax.ru."""
    plain = re.sub(r"\\(.)", r"\1", pattern)
    return plain if re.escape(plain) == pattern else f"any host matching {pattern}"
