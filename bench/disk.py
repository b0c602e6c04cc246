"""Waiting out the disk between figures.

On this project's machine (ext4 mounted with ``discard``), removing a few thousand files makes file
creation slow for many seconds afterwards: from ~30 us to ~500-900 us a file, while the discards
are sent. A figure measured in that time would be charged for an earlier figure's clean-up, so the
benchmarks flush, then wait until creating files is back to its normal speed before each figure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

NORMAL_CREATE_US = 100.0  # a file created and written faster than this: the disk has settled
_PROBE_FILES = 100


def create_us(folder: Path) -> float:
    """Median microseconds to create, write and close a small file in ``folder``."""
    probe = Path(tempfile.mkdtemp(prefix=".disk-probe-", dir=folder))
    times = []
    try:
        for n in range(_PROBE_FILES):
            started = time.perf_counter()
            with open(probe / f"{n}", "wb") as fh:
                fh.write(b"x" * 3000)
            times.append(time.perf_counter() - started)
    finally:
        shutil.rmtree(probe)
    return sorted(times)[len(times) // 2] * 1e6


def settle(folder: Path, patience: float = 90.0) -> float:
    """Flush to disk, then wait (up to ``patience`` seconds) until file creation in ``folder`` is
    back to normal speed; returns the last median creation time in microseconds."""
    os.sync()
    deadline = time.monotonic() + patience
    while True:
        took = create_us(folder)
        if took < NORMAL_CREATE_US or time.monotonic() > deadline:
            return took
        time.sleep(2)
