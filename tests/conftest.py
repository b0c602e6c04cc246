import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# the helpers under tests/ (textmatch, servers) import as plain modules
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Any]:
    """An archive the quality tests write articles into (``test_quality.Archive``)."""
    from test_quality import Archive

    from scraper.archive.catalog import Catalog

    root = tmp_path / "archives"
    with Catalog(root / "catalog.sqlite") as catalog:
        built = Archive(root, catalog)
        yield built
        built.close()


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of one's own, no config.toml and no SCRAPER_* variable from the outside."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("SCRAPER_")]:
        monkeypatch.delenv(name)
    return tmp_path
