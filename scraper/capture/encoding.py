"""Content-Encoding undone, bounded: the one decoder of response bodies, for fetching and for
reading an archive back, so that both give the same body or the same reason for none.

Decoded: gzip (x-gzip), deflate (zlib-wrapped, or raw as some servers send it), br, identity, and
a stack of them ("gzip, br": br was applied last, so it is undone first). Every step streams and
stops once its output passes the cap: a bomb costs the cap and a chunk, never its inflated size.

gzip members, and zlib streams under deflate, may follow one another: all are decoded, as gzip
readers do, up to 1000 (a server sends one; a million empty ones would cost seconds for nothing).

What cannot be undone gives a reason and no body: a coding not listed, a body larger than the cap
as sent or once decoded, a body that does not decompress, ends before its compressed stream, or goes
on after it. Bytes after the data are refused in every coding alike rather than dropped: the page
is whole without them, but nothing says what they are, and a text must account for what was sent.
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
_MAX_STREAMS = 1000  # gzip members or zlib streams in one body: some milliseconds at most
_GZIP_MAGIC = b"\x1f\x8b"
_AFTER = "but the body goes on after its compressed stream ends"
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
    _inflate_all(data, _inflate(data, 0, 31, cap, out), 31, cap, out)


def _undeflate(data: bytes, cap: int, out: bytearray) -> None:
    try:
        end = _inflate(data, 0, 47, cap, out)  # 47: a zlib (or gzip) header
    except _Undecodable:
        out.clear()
        # raw deflate, as some servers send it: with no header, a second stream is not told from junk
        _ends_at(data, _inflate(data, 0, -15, cap, out))
    else:
        _inflate_all(data, end, 47, cap, out)


def _inflate_all(data: bytes, end: int, wbits: int, cap: int, out: bytearray) -> None:
    """The streams that follow the first one (which ends at ``end``), while the next bytes begin one."""
    streams = 1
    while _begins_stream(data[end : end + 2], wbits):
        if streams == _MAX_STREAMS:
            raise _Undecodable(f"but the body holds more than {_MAX_STREAMS} compressed streams (a server sends one)")
        end = _inflate(data, end, wbits, cap, out)
        streams += 1
    _ends_at(data, end)


def _begins_stream(head: bytes, wbits: int) -> bool:
    if head == _GZIP_MAGIC:
        return True
    # a zlib header (RFC 1950): method 8, a window of at most 32 KiB, the two bytes a multiple of 31
    return wbits == 47 and len(head) == 2 and head[0] & 0x8F == 8 and int.from_bytes(head, "big") % 31 == 0


def _ends_at(data: bytes, end: int) -> None:
    if end < len(data):
        raise _Undecodable(_AFTER)


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
            # a decoder that fails once its stream is finished fails on the bytes after it
            why = _AFTER if decoder.is_finished() else f"but the body does not decompress: {exc}"
            raise _Undecodable(why) from None
        if not chunk and not piece and not decoder.is_finished():
            raise _Undecodable("but the body ends before its compressed stream does")
        out += piece
        if len(out) > cap:
            raise _Overflow
    _ends_at(data, fed)


_DECODERS = {"gzip": _gunzip, "x-gzip": _gunzip, "deflate": _undeflate, "br": _unbrotli}
