"""Content-Encoding undone, bounded: the one decoder of response bodies, for fetching and for
reading an archive back."""

from __future__ import annotations

import zlib


def decode_content(raw: bytes, encoding: str, cap: int) -> tuple[bytes, bool]:
    """The body with gzip/deflate undone, at most ``cap`` bytes (a gzip bomb stays small).
    A body that does not decompress is kept as it came, as WARC readers do."""
    encoding = encoding.strip().lower()
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return raw, False
    for wbits in (47, -15) if encoding == "deflate" else (47,):  # 47: gzip or zlib header
        try:
            inflater = zlib.decompressobj(wbits)
            body = inflater.decompress(raw, cap)
            return body, bool(inflater.unconsumed_tail)
        except zlib.error:
            continue
    return raw, False
