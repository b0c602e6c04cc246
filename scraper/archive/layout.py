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
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from scraper.errors import ArchiveError
from scraper.urls import url_hash

WARC_SUFFIXES = (".warc", ".warc.gz")
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
        return self.catalog.is_file()

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
        """The stem, refused when its folder leads out of the archive (a symlinked folder)."""
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

    def read_meta(self, json_relative: str) -> dict[str, Any]:
        """A text's JSON (named relative to the root), which must be an object."""
        try:
            meta = json.loads(self.inside(json_relative).read_text(encoding="utf-8"))
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
            text = text_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ArchiveError(
                f"{self.relative(text_path)}: cannot read: {getattr(exc, 'strerror', None) or exc}"
            ) from exc
        return TextPair(text, meta)


def open_marker(warc: Path) -> Path:
    """Beside a WARC while it is written; one left behind names a file a killed run left open."""
    return warc.with_name(warc.name + ".open")


def text_file(stem: Path) -> Path:
    return stem.with_name(stem.name + ".txt")


def json_file(stem: Path) -> Path:
    return stem.with_name(stem.name + ".json")
