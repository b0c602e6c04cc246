"""Re-clean on a Dask cluster: the only module that imports dask (optional extra ``scraper[dask]``).

Each WARC file is one task. A worker re-cleans it with the same code as a local run and writes the
text files itself, so the same files come out byte for byte; the workers must therefore see the
archive under the same path (a shared filesystem). A file's records stay in one task because
texts of WARCs from other tools are numbered in file order; size-rotated WARC files
(``warc_max_bytes``) keep the tasks small.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from dask.distributed import Client, as_completed

from scraper.config import Settings
from scraper.errors import UsageError
from scraper.models import Outcome
from scraper.pipeline.reclean_work import reclean_file


def reclean_on_cluster(warcs: list[Path], settings: Settings, scheduler: str) -> Iterator[Outcome]:
    """The outcomes as the cluster's tasks end; the caller records them as a local re-clean does."""
    warcs = [w.resolve() for w in warcs]
    shared = replace(settings, out=settings.out.resolve())  # workers do not share our working folder
    try:
        client = Client(scheduler, timeout="15s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"{scheduler}: cannot reach the Dask scheduler: {exc}") from None
    with client:
        futures = client.map(reclean_file, warcs, settings=shared, pure=False)
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            yield from future.result()
