"""What outside WARC tools say of a WARC file, record by record (issue 16): warcio with its digest
check, FastWARC with its block and payload digest checks, and the rules of WARC 1.1 and of this
project's README that neither library enforces (warc-fields syntax, no payload digest on metadata,
a stored HTTP header that matches the stored body).

``read_warcio`` gives every record as warcio reads it (``Seen``) and what warcio found wrong;
``fastwarc_problems`` reads the same file with FastWARC (imported there only, so a CI without it
skips the FastWARC part alone); ``record_problems`` judges one record by the rules; ``traits``
names the kinds of record a file holds, so a test can tell that every kind was judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

REVISIT_PROFILES = (
    "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
    "http://netpreserve.org/warc/1.1/revisit/server-not-modified",
)
_FIELD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[ \t]*[^\r\n]*")  # RFC 7230 token, ":", value
_FIELDS_TYPE = "application/warc-fields"
_CHUNK = 1 << 16
_TOLD = ("content-encoding", "x-archive-orig-transfer-encoding")  # HTTP headers ``traits`` names with their value


@dataclass(frozen=True, slots=True)
class Seen:
    """One record as warcio read it."""

    file: str
    offset: int
    rec_type: str
    warc: dict[str, str]  # the WARC headers (none repeats in this project's records)
    http: tuple[tuple[str, str], ...]  # a response's or revisit's HTTP headers
    status: str  # a response's or revisit's HTTP status line
    payload: int  # bytes of payload stored after the HTTP headers
    fields: bytes  # the block of an application/warc-fields record (warcinfo, metadata), else b""

    @property
    def where(self) -> str:
        return f"{self.file} at {self.offset}: {self.rec_type} {self.warc.get('WARC-Record-ID')}"

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.http if k.lower() == name.lower()), None)


def read_warcio(path: Path) -> tuple[list[Seen], list[str]]:
    """Every record read to its end with warcio's digest check on, and what warcio found wrong."""
    seen: list[Seen] = []
    problems: list[str] = []
    with open(path, "rb") as fh:
        records = ArchiveIterator(fh, check_digests=True)
        try:
            for record in records:
                fields, payload = _read(record)
                seen.append(_seen(path, records.get_record_offset(), record, fields, payload))
                problems += _digest_problems(seen[-1], record.digest_checker)
        except Exception as exc:
            problems.append(f"{path.name}: warcio stops after {len(seen)} records: {type(exc).__name__}: {exc}")
    return seen, problems


def _read(record: Any) -> tuple[bytes, int]:
    """The raw stream read to its end (that is what runs warcio's digest check), its length, and
    the block itself if it is warc-fields; never the decoded content, which a cut body may not be."""
    if record.rec_headers.get_header("Content-Type") == _FIELDS_TYPE:
        block = record.raw_stream.read()
        return block, len(block)
    size = 0
    while piece := record.raw_stream.read(_CHUNK):
        size += len(piece)
    return b"", size


def _seen(path: Path, offset: int, record: Any, fields: bytes, payload: int) -> Seen:
    http = record.http_headers if record.rec_type in ("response", "revisit") else None
    return Seen(
        file=path.name,
        offset=offset,
        rec_type=record.rec_type or "",
        warc=dict(record.rec_headers.headers),
        http=tuple(http.headers) if http is not None else (),
        status=http.statusline if http is not None else "",
        payload=payload,
        fields=fields,
    )


def _digest_problems(seen: Seen, checker: Any) -> list[str]:
    if checker.passed is False:
        return [f"{seen.where}: warcio: {problem}" for problem in checker.problems]
    digests = "WARC-Block-Digest" in seen.warc or "WARC-Payload-Digest" in seen.warc
    if checker.passed is None and digests and seen.rec_type != "revisit":  # a revisit's digest is the original's
        return [f"{seen.where}: warcio did not check its digests"]
    return []


def fastwarc_problems(path: Path, seen: list[Seen]) -> list[str]:
    """FastWARC reads the same records, in the same order, and their digests verify: the block
    digest of every record, the payload digest of every record but a revisit (whose payload digest
    is its original's)."""
    from fastwarc.warc import ArchiveIterator as FastIterator
    from fastwarc.warc import WarcRecordType

    problems, ids = [], []
    with open(path, "rb") as fh:
        # HTTP headers are parsed after the block digest is checked: the block includes them
        for record in FastIterator(fh, parse_http=False):
            ids.append(record.record_id)
            where = f"{path.name} at {record.stream_pos}: {record.record_type} {record.record_id}"
            if "WARC-Block-Digest" in record.headers and not record.verify_block_digest(consume=False):
                problems.append(f"{where}: FastWARC: block digest does not verify")
            if record.is_http:
                record.parse_http()
            checked = "WARC-Payload-Digest" in record.headers and record.record_type != WarcRecordType.revisit
            if checked and not record.verify_payload_digest(consume=False):
                problems.append(f"{where}: FastWARC: payload digest does not verify")
    expected = [s.warc.get("WARC-Record-ID") for s in seen]
    if ids != expected:
        problems.append(f"{path.name}: FastWARC reads {len(ids)} records, warcio {len(expected)}, or in another order")
    return problems


def record_problems(seen: Seen) -> list[str]:
    """What WARC 1.1, or this project's README, says is wrong with the record."""
    problems = [f"{seen.where}: {p}" for p in field_problems(seen.fields)] if seen.fields else []
    if seen.rec_type in ("warcinfo", "metadata") and seen.warc.get("Content-Type") != _FIELDS_TYPE:
        problems.append(f"{seen.where}: Content-Type {seen.warc.get('Content-Type')}, not {_FIELDS_TYPE}")
    if seen.rec_type == "warcinfo" and seen.warc.get("WARC-Filename") != seen.file:
        problems.append(f"{seen.where}: WARC-Filename {seen.warc.get('WARC-Filename')!r} is not the file's name")
    if seen.rec_type == "metadata" and "WARC-Payload-Digest" in seen.warc:  # WARC 1.1, 5.9: no payload there
        problems.append(f"{seen.where}: a metadata record with a WARC-Payload-Digest")
    if seen.rec_type == "response":
        problems += [f"{seen.where}: {p}" for p in _framing_problems(seen)]
    if seen.rec_type == "revisit":
        problems += [f"{seen.where}: {p}" for p in _revisit_problems(seen)]
    return problems


def field_problems(block: bytes) -> list[str]:
    """A warc-fields block: UTF-8 lines ``Name: value``, each ended by CRLF, the name a token."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [f"warc-fields not UTF-8: {exc}"]
    if text and not text.endswith("\r\n"):
        return [f"warc-fields do not end with CRLF: {text[-40:]!r}"]
    return [
        f"not a 'Name: value' field line: {line!r}" for line in text.split("\r\n")[:-1] if not _FIELD.fullmatch(line)
    ]


def parse_fields(block: bytes) -> dict[str, str]:
    pairs = (line.split(":", 1) for line in block.decode("utf-8").split("\r\n") if line)
    return {name: value.strip() for name, value in pairs}


def _framing_problems(seen: Seen) -> list[str]:
    """The stored body is de-chunked and, when cut, shorter than the server said: the HTTP headers
    kept must not tell a replay tool otherwise (README, "Truncated responses" in issue 16)."""
    problems = []
    if seen.header("Transfer-Encoding") is not None:
        problems.append("a Transfer-Encoding header over a stored body that is not framed so")
    length = seen.header("Content-Length")
    if length is not None and length.strip() != str(seen.payload):
        cut = f" (WARC-Truncated: {seen.warc['WARC-Truncated']})" if "WARC-Truncated" in seen.warc else ""
        problems.append(f"HTTP Content-Length {length} over a stored payload of {seen.payload} bytes{cut}")
    return problems


def _revisit_problems(seen: Seen) -> list[str]:
    profile = seen.warc.get("WARC-Profile")
    problems = [] if profile in REVISIT_PROFILES else [f"WARC-Profile {profile!r} is not a WARC 1.1 revisit profile"]
    problems += [f"no {name}" for name in ("WARC-Refers-To", "WARC-Refers-To-Target-URI") if name not in seen.warc]
    if profile == REVISIT_PROFILES[0] and "WARC-Payload-Digest" not in seen.warc:
        problems.append("an identical-payload-digest revisit with no WARC-Payload-Digest")
    return problems


def traits(records: list[Seen]) -> set[str]:
    """What kinds of record a file holds, in words a test can ask for."""
    found = {"continued"} if sum(r.rec_type == "warcinfo" for r in records) > 1 else set()
    for r in records:
        found |= {r.rec_type, f"status {r.status.split(' ')[0]}"} if r.status else {r.rec_type}
        found |= {f"{k.lower()} {v}" for k, v in r.http if k.lower() in _TOLD}
        if "WARC-Truncated" in r.warc:
            found.add(f"truncated {r.warc['WARC-Truncated']}")
        if r.rec_type == "revisit":
            found.add(f"revisit {r.warc.get('WARC-Profile', '').rpartition('/')[2]}")
        if r.header("X-Archive-Orig-Content-Length"):
            found.add("x-archive-orig-content-length")
        if r.warc.get("WARC-Target-URI", "").endswith("/robots.txt"):
            found.add("robots.txt")
    return found
