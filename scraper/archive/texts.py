"""Text and JSON files beside the archive, written atomically (temp file + rename).

``NNN_<hash>.txt``: the title, a blank line, then one paragraph per line.
``NNN_<hash>.json``: the article's metadata and where its bytes are in the WARC.
Nothing here reads a clock: the same article and record give the same bytes on every re-clean.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from scraper.archive.inside import folder_inside, read_regular
from scraper.archive.layout import json_file, text_file
from scraper.errors import StoreError
from scraper.extract.body import TRAFILATURA_VERSION
from scraper.models import Article, Capture, RecordRef


@dataclass(frozen=True, slots=True)
class Written:
    text_path: Path
    changed: bool  # False when both files already held exactly these bytes
    text_sha256: str


def render_text(article: Article) -> str:
    return f"{article.title}\n\n{article.text}\n"


def article_fields(article: Article) -> dict[str, object]:
    """The article's own fields, as the JSON files and ``scraper parse --json`` show them."""
    return {
        "url": article.url,
        "site": article.site,
        "title": article.title,
        "published": article.published.isoformat() if article.published else None,
        "authors": list(article.authors),
        "language": article.language,
        "tags": list(article.tags),
        "lead": article.lead,
        "adapter": article.adapter,
        "adapter_version": article.adapter_version,
        "adapter_fallback": article.fallback,
        "headline_only": article.headline_only,
        "sources": dict(article.sources),
        "new_inside": [{"signature": s, "count": n, "kept": kept} for s, n, kept in article.new_inside],
    }


def render_meta(article: Article, capture: Capture, ref: RecordRef, text: str) -> str:
    meta = article_fields(article) | {
        "fetched_at": capture.fetched_at.isoformat(),
        "http_status": capture.status,
        "warc_file": ref.warc_file,
        "warc_record_id": ref.record_id,
        "warc_offset": ref.offset,
        "payload_digest": ref.payload_digest,
        "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "trafilatura_version": TRAFILATURA_VERSION,
    }
    return json.dumps(meta, ensure_ascii=False, indent=2) + "\n"


def write_article(root: Path, text_stem: Path, article: Article, capture: Capture, ref: RecordRef) -> Written:
    """Write ``<text_stem>.txt`` and ``<text_stem>.json``, in a folder inside the archive at ``root``."""
    text = render_text(article)
    meta = render_meta(article, capture, ref, text)
    with folder_inside(root, text_stem.parent, StoreError) as folder:
        changed_text = _replace(folder, text_file(text_stem), text.encode("utf-8"))
        changed_meta = _replace(folder, json_file(text_stem), meta.encode("utf-8"))
    return Written(text_file(text_stem), changed_text or changed_meta, hashlib.sha256(text.encode("utf-8")).hexdigest())


def _replace(folder: int, path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` (in the open ``folder``) unless it already holds exactly that;
    True when it changed. Only a regular file is read or replaced: a symlink, a FIFO or a device
    there is refused. Temp file and rename: a reader sees the old file or the new one."""
    # a new name each time, made anew (O_EXCL): nothing already there, a hard link to a file
    # outside say, is ever written through
    name, temp = path.name, f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        found = os.stat(name, dir_fd=folder, follow_symlinks=False)
        if not stat.S_ISREG(found.st_mode):
            raise StoreError(f"{path}: not a regular file; left as it is")
        if found.st_size == len(data) and read_regular(path, folder) == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise StoreError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        # No fsync: a text is derived from WARC records that are fsynced, and after a crash it can at
        # worst be stale or empty, which `scraper verify` reports and a re-clean rewrites. (An fsync
        # per file cost more than the extraction itself.)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666, dir_fd=folder)
        with open(fd, "wb") as fh:
            fh.write(data)
        os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError as exc:
        with suppress(OSError):
            os.unlink(temp, dir_fd=folder)
        raise StoreError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    return True
