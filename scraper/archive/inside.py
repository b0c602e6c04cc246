"""Folders opened inside the archive: what is written through the descriptor stays inside it, even
if a folder on the way is swapped for a symlink after the check (the texts, the WARC files)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from scraper.errors import ArchiveError

_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


@contextmanager
def folder_inside(root: Path, folder: Path, error: type[ArchiveError] = ArchiveError) -> Iterator[int]:
    """``folder`` open, once the kernel has said that what was opened is inside ``root``: files are
    then made and written through the descriptor. A folder not there yet is made one level at a
    time, each in the one before it once that is seen to be inside: none is made outside either.
    What goes wrong is an ``error`` (the caller's kind: a text's, a WARC file's)."""
    inside = os.path.realpath(root)
    try:
        fd = os.open(folder, _FOLDER)
    except FileNotFoundError:
        fd = _made(root, folder, inside, error)
    except OSError as exc:
        raise error(f"{folder}: cannot write: {exc.strerror or exc}") from exc
    try:
        _refuse_outside(fd, folder, inside, error)
        yield fd
    finally:
        os.close(fd)


def _made(root: Path, folder: Path, inside: str, error: type[ArchiveError]) -> int:
    if not folder.is_relative_to(root):
        raise error(f"{folder}: not in the archive {root}: nothing written there")
    try:
        root.mkdir(parents=True, exist_ok=True)  # the root is the user's choice: trusted, symlink or not
        fd = os.open(root, _FOLDER)
    except OSError as exc:
        raise error(f"{folder}: cannot write: {exc.strerror or exc}") from exc
    try:
        for part in folder.relative_to(root).parts:
            with suppress(FileExistsError):
                os.mkdir(part, dir_fd=fd)
            fd, above = os.open(part, _FOLDER, dir_fd=fd), fd
            os.close(above)
            _refuse_outside(fd, folder, inside, error)
    except OSError as exc:
        os.close(fd)
        raise error(f"{folder}: cannot write: {exc.strerror or exc}") from exc
    except BaseException:
        os.close(fd)
        raise
    return fd


def _refuse_outside(fd: int, folder: Path, inside: str, error: type[ArchiveError]) -> None:
    try:
        opened = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # no /proc: the path is resolved instead, as the reading side does
        opened = os.path.realpath(folder)
    if os.path.commonpath((inside, opened)) != inside:
        raise error(f"{folder}: leads out of the archive ({opened}): nothing written there")
