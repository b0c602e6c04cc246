"""Any site without an adapter: plain trafilatura over the whole page."""

from scraper.sites.base import Site

SITE = Site(name="generic", language="", timezone="UTC")
