"""Text and JSON files beside the archive, written atomically (temp file + rename).

``NNN_<hash>.txt``: the title, a blank line, then one paragraph per line.
``NNN_<hash>.json``: the article's metadata and where its bytes are in the WARC.
Nothing here reads a clock: the same article and record give the same bytes on every re-clean.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

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


def write_article(text_stem: Path, article: Article, capture: Capture, ref: RecordRef) -> Written:
    """Write ``<text_stem>.txt`` and ``<text_stem>.json``."""
    text = render_text(article)
    meta = render_meta(article, capture, ref, text)
    text_path = text_file(text_stem)
    changed_text = atomic_write(text_path, text.encode("utf-8"))
    changed_meta = atomic_write(json_file(text_stem), meta.encode("utf-8"))
    return Written(text_path, changed_text or changed_meta, hashlib.sha256(text.encode("utf-8")).hexdigest())


def atomic_write(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` unless it already holds exactly that; True when it changed. Only
    a regular file is read or replaced: a symlink, a FIFO or a device there is refused."""
    try:
        found = path.lstat()
        if not stat.S_ISREG(found.st_mode):
            raise StoreError(f"{path}: not a regular file; left as it is")
        if found.st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise StoreError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # No fsync: a text is derived from WARC records that are fsynced, and after a crash it can at
        # worst be stale or empty, which `scraper verify` reports and a re-clean rewrites. (An fsync
        # per file cost more than the extraction itself.)
        with open(temp, "wb") as fh:
            fh.write(data)
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise StoreError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    return True
