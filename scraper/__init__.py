"""News scraper and archiver: every response kept in WARC, clean article text beside it.

The public API is small: ``process`` turns one captured response into an ``Article`` (or a
``Rejected`` with its reason), and ``sites.site_for`` picks the adapter for a URL.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("scraper")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scraper.extract.process import process
    from scraper.models import Article, Capture, Rejected

__all__ = ["Article", "Capture", "Rejected", "__version__", "process"]


def __getattr__(name: str) -> Any:
    """The API is imported when first asked for: the command line's entry point, which imports this
    package first, must be able to take Ctrl-C before lxml and trafilatura load."""
    if name == "process":
        from scraper.extract.process import process

        return process
    if name in ("Article", "Capture", "Rejected"):
        from scraper import models

        return getattr(models, name)
    raise AttributeError(f"module 'scraper' has no attribute {name!r}")
