"""The archive folder: the one owner of its paths, and the one reader of a text/JSON pair.

    <root>/
      catalog.sqlite                     what scheduled runs saw, fetched, archived and extracted
      .scraper.lock                      held by the run that writes the archive
      warc/<name>.warc.gz                the captures, exactly as served (``<name>.warc.gz.open``
                                         while a run writes it, ``<name>.warc.gz.cdxj`` its index)
      text/<site>/<YYYY-MM-DD>/NNN_<hash>.txt|.json
                                         texts of scheduled runs: UTC day and order of capture
      text/<warc name>/NNN_<hash>.txt|.json
                                         texts of a ``scraper fetch`` batch: NNN is the URL's place

Every capture's metadata record names its text's stem (``text/.../NNN_<hash>``, relative to the
root), so a re-clean writes each text back where it was, and a later capture of the same article
gets a stem of its own: an article can have several captures and several texts.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from datetime import date
from itertools import accumulate
from pathlib import Path
from typing import Any

from scraper.archive.inside import read_regular
from scraper.errors import ArchiveError, CatalogError
from scraper.urls import url_hash

WARC_SUFFIXES = (".warc", ".warc.gz")
_SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file
# a stem a metadata record may name: under text/, NNN_<16 hex> (never taken from page content)
_SAFE_STEM = re.compile(r"text(?:/[A-Za-z0-9][A-Za-z0-9._-]*)+/\d{3,}_[0-9a-f]{16}")


def stem_name(seq: int, url: str) -> str:
    """``NNN_<hash>``: the place in its folder, and the first 16 hex digits of the URL's SHA-256."""
    return f"{seq:03d}_{url_hash(url)}"


def warc_name(warc: Path) -> str:
    """A WARC file's name without its suffix."""
    name = warc.name
    for suffix in WARC_SUFFIXES[::-1]:
        name = name.removesuffix(suffix)
    return name


@dataclass(frozen=True, slots=True)
class TextPair:
    """A text file and its JSON, as written beside the archive."""

    text: str
    meta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Archive:
    root: Path

    @classmethod
    def at(cls, root: Path) -> Archive:
        """The archive in the folder ``root`` (--out, ``[output] dir``), which need not exist yet;
        anything there that is not a folder is refused before a command reads or writes under it."""
        try:
            mode = os.stat(root).st_mode
        except FileNotFoundError:
            if os.path.islink(root):
                raise ArchiveError(f"{root}: a symlink to nothing: the archive must be a folder") from None
            return cls(root)
        except OSError as exc:
            raise ArchiveError(f"{root}: cannot use as the archive: {exc.strerror or exc}") from None
        if not stat.S_ISDIR(mode):
            kind = "a file" if stat.S_ISREG(mode) else "not a folder"
            raise ArchiveError(f"{root}: {kind}: the archive (--out, [output] dir) must be a folder")
        archive = cls(root)
        archive.refuse_leaving_folders()
        return archive

    def refuse_leaving_folders(self) -> None:
        """warc/ and text/ must lead to folders inside the root: nothing is read or written through a
        symlink out of the archive. Said before a command begins, not once per page."""
        root = os.path.realpath(self.root)
        for folder in (self.warcs, self.texts):
            real = os.path.realpath(folder)
            if os.path.lexists(folder) and os.path.commonpath((root, real)) != root:
                raise ArchiveError(f"{folder}: leads out of the archive (to {real}): refused")

    @property
    def catalog(self) -> Path:
        return self.root / "catalog.sqlite"

    @property
    def warcs(self) -> Path:
        return self.root / "warc"

    @property
    def texts(self) -> Path:
        return self.root / "text"

    @property
    def lock(self) -> Path:
        return self.root / ".scraper.lock"

    def has_catalog(self) -> bool:
        """Something is at the catalog's path: ``Catalog`` opens it, or says why it is no catalog."""
        return os.path.lexists(self.catalog)

    def read_only(self) -> str | None:
        """Why this process cannot write the archive, naming the path; None: it can. The root, the
        catalog, warc/ and text/ are asked, those that exist."""
        for path in (self.root, self.catalog, self.warcs, self.texts):
            if why := read_only_reason(path):
                return f"{path}: read-only ({why})"
        return None

    def refuse_read_only(self, command: str) -> None:
        """For a command that writes to the archive, before it changes anything."""
        if why := self.read_only():
            raise ArchiveError(f"{why}: scraper {command} writes to the archive; nothing done")

    def relative(self, path: Path) -> str:
        # the path as the caller names it: resolving symlinks would cost a stat per folder on every
        # page, and a symlinked folder would turn into a path outside the root
        return Path(os.path.relpath(path, self.root)).as_posix()

    def inside(self, relative: str) -> Path:
        """A path the catalog or a record names, refused when it would lead out of the root."""
        parts = Path(relative).parts
        if not relative or Path(relative).is_absolute() or ".." in parts:
            raise ArchiveError(f"{relative!r}: a path outside the archive {self.root}")
        return self.root / relative

    def run_stem(self, site: str, day: date, serial: int, url: str) -> Path:
        return self.confined(self.texts / site / day.isoformat() / stem_name(serial, url))

    def batch_stem(self, warc: Path, seq: int, url: str) -> Path:
        return self.confined(self.batch_folder(warc) / stem_name(seq, url))

    def confined(self, stem: Path) -> Path:
        """The stem, refused when its folder leads out of the archive (a symlinked folder). The
        folders below the root are looked at first, one lstat each: where none is a symlink, the
        folder is inside. (Resolving both paths whole cost a re-clean a tenth of its reading.)"""
        below = stem.parent.parts[len(self.root.parts) :] if stem.parent.is_relative_to(self.root) else ("..",)
        if ".." not in below and not any(
            os.path.islink(self.root.joinpath(*below[: n + 1])) for n in range(len(below))
        ):
            return stem
        root = os.path.realpath(self.root)
        folder = os.path.realpath(stem.parent)
        if os.path.commonpath((root, folder)) != root:
            raise ArchiveError(f"{self.relative(stem.parent)}: leads out of the archive ({folder})")
        return stem

    def batch_folder(self, warc: Path) -> Path:
        return self.texts / warc_name(warc)

    def said_stem(self, said: str | None, url: str) -> Path | None:
        """The stem a metadata record names, when it is one this tool writes for this URL; a name
        of another shape, of another URL's hash, or leading out of the archive is refused."""
        if said is None:
            return None
        if _SAFE_STEM.fullmatch(said) is None or not said.endswith("_" + url_hash(url)):
            raise ArchiveError(f"the metadata record names {said!r}, which is no text path of {url}")
        return self.confined(self.root / said)

    def warc_file(self, relative: str) -> Path:
        """The WARC file a catalog row or a JSON names, refused when it is not in the archive: when
        the same WARC is there under its other suffix (gunzipped, or gzipped), the message says so,
        and it is not read, since the offsets recorded are those of the file named."""
        path = self.inside(relative)
        if not path.is_file():
            raise ArchiveError(_missing(path, relative))
        real, root = os.path.realpath(path), os.path.realpath(self.root)
        if os.path.commonpath((root, real)) != root:
            raise ArchiveError(f"{relative}: leads out of the archive ({real})")
        return path

    def read_meta(self, json_relative: str) -> dict[str, Any]:
        """A text's JSON (named relative to the root), which must be an object."""
        try:
            meta = json.loads(read_regular(self.inside(json_relative)).decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            why = getattr(exc, "strerror", None) or exc
            raise ArchiveError(f"{json_relative}: cannot read: {why}") from exc
        if not isinstance(meta, dict):
            raise ArchiveError(f"{json_relative}: not a JSON object")
        return meta

    def read_pair(self, json_relative: str) -> TextPair:
        """The one reader of a text and its JSON: the JSON named (relative to the root), and the
        text file beside it."""
        meta = self.read_meta(json_relative)
        text_path = text_file(self.inside(json_relative).with_suffix(""))
        try:
            text = read_regular(text_path).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ArchiveError(
                f"{self.relative(text_path)}: cannot read: {getattr(exc, 'strerror', None) or exc}"
            ) from exc
        return TextPair(text, meta)


def _missing(path: Path, relative: str) -> str:
    for suffix in WARC_SUFFIXES:
        other = path.with_name(warc_name(path) + suffix)
        if other != path and other.is_file():
            return (
                f"{relative} is missing; {other.name} beside it is the same WARC under another suffix, "
                f"but the offsets recorded are {path.name}'s, so it is not read at them"
            )
    return f"{relative} is missing from the archive"


def read_only_reason(path: Path) -> str | None:
    """Why this process cannot write ``path`` (a read-only mount, no permission); None when it can,
    or when nothing is there. As root only a read-only mount stops a write, and so it is here."""
    if not os.path.exists(path) or os.access(path, os.W_OK):
        return None
    try:
        mounted = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        mounted = False
    return "a read-only mount" if mounted else "no write permission"


def open_marker(warc: Path) -> Path:
    """Beside a WARC while it is written; one left behind names a file a killed run left open."""
    return warc.with_name(warc.name + ".open")


def text_file(stem: Path) -> Path:
    return stem.with_name(stem.name + ".txt")


def json_file(stem: Path) -> Path:
    return stem.with_name(stem.name + ".json")


def catalog_present(path: Path) -> bool:
    """Whether a catalog file is at ``path`` (False: nothing is). Anything else there is refused, never
    replaced or read: a folder, an empty file, one that is not SQLite, a symlink out of the archive."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(info.st_mode):
        info = _followed(path)
    if stat.S_ISDIR(info.st_mode):
        raise CatalogError(f"{path}: a folder, not a catalog file")
    if not stat.S_ISREG(info.st_mode):
        raise CatalogError(f"{path}: not a regular file, so not a catalog")
    if info.st_size == 0:
        raise CatalogError(
            f"{path}: empty file (0 bytes): not a catalog; refused rather than a new catalog started over it: "
            "restore it from a backup, or move it away to start a new one"
        )
    with open(path, "rb") as fh:
        if fh.read(len(_SQLITE_HEADER)) != _SQLITE_HEADER:
            raise CatalogError(f"{path}: not a database ({info.st_size} bytes, not an SQLite database): not a catalog")
    return True


def _followed(link: Path) -> os.stat_result:
    """What a symlinked catalog leads to, which must be inside the archive (the link's folder)."""
    target, root = os.path.realpath(link), os.path.realpath(link.parent)
    if os.path.commonpath((root, target)) != root:
        raise CatalogError(f"{link}: a symlink to {target}, outside the archive: refused")
    try:
        return os.stat(target)
    except FileNotFoundError:
        raise CatalogError(f"{link}: a symlink to {target}, which does not exist") from None


@dataclass(frozen=True, slots=True)
class Sizes:
    """The WARC files end to end, in the order they are read: how far a re-clean or a verify is, in
    bytes. Known at once, where a count of records would read an archive of years twice before the
    first record."""

    starts: dict[Path, int]
    total: int

    @classmethod
    def of(cls, warcs: list[Path]) -> Sizes:
        unique = list(dict.fromkeys(warcs))
        ends = list(accumulate(map(_size, unique)))
        return cls(dict(zip(unique, [0, *ends], strict=False)), ends[-1] if ends else 0)

    def at(self, warc: Path, offset: int) -> int:
        """The bytes before the record at ``offset`` in ``warc``; a file passed over counts as read."""
        return min(self.starts[warc] + offset, self.total)


def _size(warc: Path) -> int:
    try:
        return warc.stat().st_size
    except OSError:  # reading it says what is wrong with it
        return 0
