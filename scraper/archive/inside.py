"""Folders opened inside the archive: what is written through the descriptor stays inside it, even
if a folder on the way is swapped for a symlink after the check (the texts, the WARC files); and
files read only when they are regular files, never through a symlink."""

from __future__ import annotations

import errno
import os
import stat
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


def read_regular(path: Path, folder: int | None = None) -> bytes:
    """A text's or JSON's bytes (``path``'s name in the open ``folder``, when given): a regular
    file's only, never read through a symlink, which may lead out of the archive, nor from a FIFO or
    a device, which the writer never makes."""
    where = path if folder is None else path.name
    try:
        fd = os.open(where, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(exc.errno, "a symbolic link, not read") from exc
        raise
    with open(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file, not read")
        return fh.read()
