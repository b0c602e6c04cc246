"""The records that travel between stages. All frozen; all datetimes timezone-aware."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Capture:
    """One HTTP response, live or read back from a WARC."""

    url: str
    fetched_at: datetime  # UTC, the WARC-Date of the response record
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes  # as served, after undoing any Content-Encoding; never re-encoded
    record_id: str | None = None

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP request and what came back, as it went over the wire."""

    url: str
    started_at: datetime
    method: str
    request_headers: tuple[tuple[str, str], ...]
    http_version: str
    status: int
    reason: str
    response_headers: tuple[tuple[str, str], ...]
    raw_body: bytes  # the bytes as served, Content-Encoding still applied
    truncated: str | None = None  # WARC-Truncated reason: "length", "time", "disconnect"
    peer_ip: str | None = None

    def header(self, name: str) -> str | None:
        return _header(self.response_headers, name)


@dataclass(frozen=True, slots=True)
class Article:
    """The clean result of one page. ``text`` holds the body, one paragraph per line."""

    url: str
    site: str
    title: str
    text: str
    published: datetime | None
    language: str
    adapter: str
    adapter_version: str
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    lead: str | None = None
    # True when the adapter's body container was missing and the whole page was extracted:
    # a sign that the site's layout changed and the adapter needs a new version.
    fallback: bool = False
    headline_only: bool = False  # a news item with a title and a date and no text (the body is empty)
    sources: tuple[tuple[str, str], ...] = ()  # (field, which link of the chain gave it)
    # the markup sentinel: (signature, count, kept) of elements inside the body the layout does not know
    new_inside: tuple[tuple[str, int, bool], ...] = ()

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(self.text.split("\n")) if self.text else ()


@dataclass(frozen=True, slots=True)
class Rejected:
    """A capture that yields no article, and why (HTTP error, not HTML, empty body...)."""

    url: str
    reason: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A capture that is no page to extract: a redirect, an error status, a feed, robots.txt."""

    url: str
    reason: str


@dataclass(frozen=True, slots=True)
class RecordRef:
    """Where a response record sits in a WARC: enough to prove where a text came from."""

    warc_file: str  # relative to the output folder
    record_id: str
    offset: int
    payload_digest: str | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one URL in a run."""

    url: str
    ok: bool
    reason: str = ""
    text_file: str | None = None
    text_sha256: str | None = None
    changed: bool | None = None  # did the text or metadata files change
    skipped: bool = False  # not a page to extract (a redirect, an error status, a feed)
    record_id: str | None = None  # the response record the text came from
    adapter: str | None = None  # "<site>/<layout version>" that extracted it


@dataclass(frozen=True, slots=True)
class RunReport:
    outcomes: tuple[Outcome, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    @property
    def succeeded(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.ok)


def _header(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None
