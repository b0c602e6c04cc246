"""Content-Encoding undone, bounded: the one decoder of response bodies, for fetching and for
reading an archive back, so that both give the same body or the same reason for none.

Decoded: gzip (x-gzip), deflate (zlib-wrapped, or raw as some servers send it), br, identity, and
a stack of them ("gzip, br": br was applied last, so it is undone first). Every step streams and
stops once its output passes the cap: a bomb costs the cap and a chunk, never its inflated size.

What cannot be undone gives a reason and no body: a coding not listed, a body larger than the cap
as sent or once decoded, a body that does not decompress or ends before its compressed stream.
One exception: a body that does not decompress but is plainly markup (it begins with "<" and has
no control bytes in its first 256, which compressed data all but always has) is a page its server
labelled wrongly; it is taken as sent.

brotlicffi is imported here only: its 1.2 releases bound the output of each step (the
``brotli`` module name is taken by brotlipy, which pywb, the replay extra, depends on).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import brotlicffi

_CHUNK = 1 << 16  # compressed bytes fed, and decompressed bytes asked for, at a time
_MAX_CODINGS = 5  # as curl: more stacked codings than this is no real server's doing
_GZIP_MAGIC = b"\x1f\x8b"
# markup first, and no C0 control byte other than whitespace in the first 256 bytes
_MARKUP = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*<[^\x00-\x08\x0b\x0e-\x1f]*")


@dataclass(frozen=True, slots=True)
class Decoded:
    """A response body with its Content-Encoding undone, or why it could not be."""

    body: bytes  # empty when ``problem`` says why there is no body
    problem: str | None = None


class _Overflow(Exception):
    """The decoded body passes the cap."""


class _Undecodable(Exception):
    """The body does not decompress in the coding it is labelled with."""


def content_encoding(headers: Iterable[tuple[str, str]]) -> str:
    """The Content-Encoding of a response: several header lines are one list (RFC 9110, 5.3)."""
    return ", ".join(value for name, value in headers if name.lower() == "content-encoding")


def decode_body(raw: bytes, headers: Iterable[tuple[str, str]], cap: int) -> Decoded:
    """The body of a response with headers ``headers``, at most ``cap`` bytes, or why there is none."""
    label = content_encoding(headers)
    codings = [c for c in (part.strip().lower() for part in label.split(",")) if c and c != "identity"]
    if len(raw) > cap:
        return Decoded(b"", f"body larger than {cap} bytes as sent: not extracted")
    if not raw:  # a redirect or a 204, whatever its label: there is nothing to undo
        return Decoded(b"")
    if unknown := next((c for c in codings if c not in _DECODERS), None):
        return Decoded(b"", f"Content-Encoding {unknown[:40]} is not one this tool decodes")
    if len(codings) > _MAX_CODINGS:
        return Decoded(b"", f"Content-Encoding {label[:100]!r} stacks more than {_MAX_CODINGS} codings")
    body = raw
    for coding in reversed(codings):
        out = bytearray()
        try:
            _DECODERS[coding](body, cap, out)
        except _Overflow:
            return Decoded(b"", f"body larger than {cap} bytes once decompressed: archived as sent, not extracted")
        except _Undecodable as exc:
            if _MARKUP.fullmatch(body, 0, 256) is None:
                return Decoded(b"", f"Content-Encoding {coding}, {exc}")
            continue  # plain markup under a wrong label: the page as sent
        body = bytes(out)
    return Decoded(body)


def _gunzip(data: bytes, cap: int, out: bytearray) -> None:
    """gzip members one after another (RFC 1952 allows several); bytes after the last that are
    no gzip member are ignored, as zlib and browsers do."""
    end = _inflate(data, 0, 31, cap, out)
    while data.startswith(_GZIP_MAGIC, end):
        end = _inflate(data, end, 31, cap, out)


def _undeflate(data: bytes, cap: int, out: bytearray) -> None:
    try:
        _inflate(data, 0, 47, cap, out)  # 47: a zlib (or gzip) header
    except _Undecodable:
        out.clear()
        _inflate(data, 0, -15, cap, out)  # raw deflate, as some servers send it


def _inflate(data: bytes, start: int, wbits: int, cap: int, out: bytearray) -> int:
    """The zlib stream that begins at ``start`` inflated onto ``out`` (which stays within ``cap``);
    returns where the stream ends."""
    inflater = zlib.decompressobj(wbits)
    fed = start
    while not inflater.eof:
        chunk = inflater.unconsumed_tail  # input held back while the output was full
        if not chunk:
            chunk = data[fed : fed + _CHUNK]
            fed += len(chunk)
        try:
            piece = inflater.decompress(chunk, min(_CHUNK, cap + 1 - len(out)))
        except zlib.error as exc:
            raise _Undecodable(f"but the body does not decompress: {exc}") from None
        if not chunk and not piece and not inflater.eof:
            raise _Undecodable("but the body ends before its compressed stream does")
        out += piece
        if len(out) > cap:
            raise _Overflow
    return fed - len(inflater.unused_data)


def _unbrotli(data: bytes, cap: int, out: bytearray) -> None:
    decoder = brotlicffi.Decompressor()
    fed = 0
    while not decoder.is_finished():
        chunk = b""
        if decoder.can_accept_more_data():  # else only empty input, until it has given what it holds
            chunk = data[fed : fed + _CHUNK]
            fed += len(chunk)
        try:
            piece = decoder.process(chunk, output_buffer_limit=_CHUNK)
        except brotlicffi.error as exc:
            raise _Undecodable(f"but the body does not decompress: {exc}") from None
        if not chunk and not piece and not decoder.is_finished():
            raise _Undecodable("but the body ends before its compressed stream does")
        out += piece
        if len(out) > cap:
            raise _Overflow


_DECODERS = {"gzip": _gunzip, "x-gzip": _gunzip, "deflate": _undeflate, "br": _unbrotli}
