"""Bytes to text: the HTTP header's charset, then the page's own ``<meta charset>``, then detection.

A declared charset is only trusted when the bytes decode under it; a page that is valid UTF-8
but declares a single-byte charset is read as UTF-8, because real windows-1251 Russian text is
never valid UTF-8 while a mislabelled UTF-8 page would otherwise turn into mojibake.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_SNIFF_BYTES = 4096
_DETECT_BYTES = 200_000


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type, re.I)
    return match.group(1) if match else None


def meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:_SNIFF_BYTES])
    return match.group(1).decode("ascii") if match else None


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(body: bytes, content_type: str | None = None) -> str:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, errors="replace")
    declared = [c for c in (_codec(charset_from_content_type(content_type)), _codec(meta_charset(body))) if c]
    as_utf8 = _strict(body, "utf-8")
    if as_utf8 is not None and (not declared or not as_utf8.isascii()):
        return as_utf8
    for codec in declared:
        text = _strict(body, codec)
        if text is not None:
            return text
    best = from_bytes(body[:_DETECT_BYTES]).best()
    codec = _codec(best.encoding if best else None) or (declared[0] if declared else "utf-8")
    return body.decode(codec, errors="replace")
