"""News scraper and archiver: every response kept in WARC, clean article text beside it.

The public API is small: ``process`` turns one captured response into an ``Article`` (or a
``Rejected`` with its reason), and ``sites.site_for`` picks the adapter for a URL.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("scraper")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

from scraper.extract.process import process
from scraper.models import Article, Capture, Rejected

__all__ = ["Article", "Capture", "Rejected", "__version__", "process"]
